package dev.filebroker.daemon.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;

import dev.filebroker.protocol.Decoded;
import dev.filebroker.protocol.ErrorCode;
import dev.filebroker.protocol.ErrorReply;
import dev.filebroker.protocol.FrameCodec;
import dev.filebroker.protocol.OpenFlags;
import dev.filebroker.protocol.OpenedReply;
import dev.filebroker.protocol.Reply;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * Descriptors a client attaches to a request. Where the kernel has SO_PASSRIGHTS (Linux 6.16+) the
 * sender's sendmsg fails with EPERM and nothing reaches the daemon; where it does not (simulated
 * with FILEBROKER_KEEP_SO_PASSRIGHTS=1), the daemon answers UNEXPECTED_DESCRIPTOR and closes what
 * arrived on a thread of its own, so a close that blocks for a whole SO_LINGER time stalls no other
 * client. Needs root (the daemon runs as root).
 */
class AttachedDescriptorIT {
  private TestTree tree;
  private DaemonProcess daemon;
  private Process attacher;

  @AfterEach
  void stop() throws Exception {
    try {
      if (attacher != null) {
        attacher.destroyForcibly();
      }
      if (daemon != null) {
        daemon.signal("CONT");
        daemon.close();
      }
    } finally {
      if (tree != null) {
        tree.close();
      }
    }
  }

  private Path start(Map<String, String> environment) throws Exception {
    tree = new TestTree("filebroker-attach-");
    Path granted = tree.file("granted.txt", "granted\n", "rw-------");
    Path policy = tree.dir("policy");
    java.nio.file.Files.writeString(
        policy.resolve("10-test.toml"),
        """
        [[allow]]
        name = "root-reads"
        users = [0]
        paths = ["%s"]
        access = ["read"]
        """
            .formatted(granted));
    Path config = tree.root().resolve("filebroker.toml");
    // One serving thread in the event-loop design: a close on it would stall every client.
    java.nio.file.Files.writeString(config, "[limits]\nevent_loops = 1\n");
    daemon =
        DaemonProcess.start(
            tree.root(),
            tree.root().resolve("broker.sock"),
            environment,
            List.of(),
            "--config",
            config.toString(),
            "--policy",
            policy.toString());
    return granted;
  }

  private BufferedReader attach(Path granted) throws Exception {
    String hex = HexFormat.of().formatHex(MalformedInputIT.open(7, 0, 0, granted.toString()));
    attacher =
        new ProcessBuilder(
                "/usr/bin/python3",
                "-c",
                FloodIT.resource("lingering_attach.py"),
                daemon.socket().toString(),
                hex)
            .redirectError(tree.root().resolve("attacher.err").toFile())
            .start();
    BufferedReader out =
        new BufferedReader(
            new InputStreamReader(attacher.getInputStream(), StandardCharsets.UTF_8));
    assertEquals("ready", out.readLine(), "the attacher set up its lingering socket");
    return out;
  }

  private void tell(String line) throws Exception {
    OutputStream in = attacher.getOutputStream();
    in.write((line + "\n").getBytes(StandardCharsets.UTF_8));
    in.flush();
  }

  private void assertServes(Path granted) throws Exception {
    try (RawClient other = new RawClient(daemon.socket())) {
      RawClient.Received r = other.open(1, OpenFlags.O_RDONLY, granted.toString());
      assertInstanceOf(OpenedReply.class, r.reply(), "another client is served");
      RawClient.close(r.descriptors());
    }
  }

  @Test
  void theKernelRefusesADescriptorAttachedToARequest() {
    assertTimeoutPreemptively(
        Duration.ofSeconds(60),
        () -> {
          Path granted = start(Map.of());
          int before = daemon.descriptorCount();
          BufferedReader out = attach(granted);
          tell("send");
          assertEquals("sent EPERM", out.readLine(), "SO_PASSRIGHTS = 0 refuses SCM_RIGHTS");
          assertServes(granted);
          tell("drain");
          assertEquals("drained", out.readLine());
          awaitDescriptors(before, "nothing reached the daemon");
        });
  }

  @Test
  void aLingeringCloseOfAnAttachedDescriptorStallsNoOtherClient() {
    assertTimeoutPreemptively(
        Duration.ofSeconds(60),
        () -> {
          Path granted = start(Map.of("FILEBROKER_KEEP_SO_PASSRIGHTS", "1"));
          int before = daemon.descriptorCount();
          BufferedReader out = attach(granted);
          // Stopped, the daemon reads the message only after the attacher dropped its own copy:
          // the daemon's descriptor is then the last reference, and its close lingers.
          daemon.signal("STOP");
          tell("send");
          assertEquals("sent OK", out.readLine(), "without SO_PASSRIGHTS the descriptor travels");
          daemon.signal("CONT");
          String answer = out.readLine();
          Reply reply = decode(answer.substring("reply ".length()));
          ErrorReply error = assertInstanceOf(ErrorReply.class, reply, answer);
          assertEquals(ErrorCode.UNEXPECTED_DESCRIPTOR.code(), error.code());
          // The peer has read nothing yet, so the daemon's close of the socket still lingers.
          assertServes(granted);
          assertServes(granted);
          tell("drain");
          assertEquals("drained", out.readLine(), "the lingering close completes");
          awaitDescriptors(before, "the attached descriptor is closed");
        });
  }

  private static Reply decode(String hex) {
    Decoded<Reply> d = FrameCodec.decodeReply(ByteBuffer.wrap(HexFormat.of().parseHex(hex)));
    if (d instanceof Decoded.Frame<Reply> frame) {
      return frame.message();
    }
    throw new AssertionError("not one reply frame: " + hex);
  }

  private void awaitDescriptors(int expected, String why) throws Exception {
    long deadline = System.nanoTime() + Duration.ofSeconds(20).toNanos();
    while (daemon.descriptorCount() > expected && System.nanoTime() < deadline) {
      Thread.sleep(50);
    }
    assertEquals(expected, daemon.descriptorCount(), why);
  }
}
