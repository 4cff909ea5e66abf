package dev.filebroker.daemon.it;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/**
 * A client written the way docs/protocol.md describes (a control buffer for eight descriptors,
 * MSG_CTRUNC checked) pipelines 200 requests: every descriptor must arrive alone, attached to its
 * own frame, and none may be truncated away by the kernel. Needs root (runs the daemon).
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class DescriptorPassingIT {
  private TestTree tree;
  private DaemonProcess daemon;
  private Path granted;

  @BeforeAll
  void startDaemon() throws Exception {
    tree = new TestTree("filebroker-fdpass-");
    granted = tree.file("granted.txt", "granted\n", "rw-------");
    daemon =
        Daemons.start(
            tree,
            """
            [[allow]]
            name = "root-reads"
            users = [0]
            paths = ["%s"]
            access = ["read"]
            """
                .formatted(granted),
            "");
  }

  @AfterAll
  void stopDaemon() throws Exception {
    Daemons.stop(daemon, tree);
  }

  @Test
  void pipelinedRepliesCarryOneDescriptorPerSendmsgAndNoneIsTruncated() throws Exception {
    String script =
        """
        import socket, struct, sys
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.connect(sys.argv[1])
        p = sys.argv[2].encode()
        n = 200
        s.sendall(b''.join(struct.pack('<IBBHIIHH', 16 + len(p), 1, 1, 0, i + 1, 0, 0, len(p)) + p
                           for i in range(n)))
        data = b''; fds = 0; most = 0; truncated = 0
        while len(data) < 16 * n:
            msg, anc, flags, _ = s.recvmsg(65536, socket.CMSG_SPACE(8 * 4))
            if not msg:
                break
            data += msg
            k = sum(len(a[2]) // 4 for a in anc if a[1] == socket.SCM_RIGHTS)
            for a in anc:
                for j in range(len(a[2]) // 4):
                    import os; os.close(struct.unpack_from('i', a[2], 4 * j)[0])
            fds += k; most = max(most, k)
            truncated += 1 if flags & socket.MSG_CTRUNC else 0
        print(len(data) // 16, fds, most, truncated)
        """;
    Command r =
        Command.run(
            List.of(
                "/usr/bin/python3", "-c", script, daemon.socket().toString(), granted.toString()),
            "");
    assertEquals(0, r.exitCode(), r.stderr());
    // replies, descriptors, most descriptors in one recvmsg, truncated recvmsg calls
    assertEquals(
        "200 200 1 0", r.stdout().strip(), "replies, descriptors, max per recvmsg, MSG_CTRUNC");
  }
}
