package dev.filebroker.daemon.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.filebroker.protocol.ErrorCode;
import dev.filebroker.protocol.ErrorReply;
import dev.filebroker.protocol.OpenFlags;
import dev.filebroker.protocol.OpenedReply;
import java.io.FileDescriptor;
import java.io.FileInputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.newsclub.net.unix.AFUNIXSocketAddress;
import org.newsclub.net.unix.AFUNIXSocketChannel;

/**
 * Every grant is in the audit record: when the audit writer cannot keep up (here, a FIFO whose
 * reader stops reading, and a small {@code queue_lines}), a grant whose line finds no room is
 * refused with LIMIT_EXCEEDED and its file is not sent, on the main socket and on a fixed endpoint
 * alike; denials that find no room are counted in a {@code "dropped"} line. Needs root (mkfifo, the
 * daemon).
 */
class AuditIT {
  private static final String ENDPOINT = "root-gets-granted";

  /** What one grant attempt gave: whether a file was handed out, and whether it was refused. */
  private enum Attempt {
    HANDED_OUT,
    REFUSED
  }

  /** One grant attempt on the daemon; the file, if any, is closed again. */
  private interface Granting {
    Attempt attempt(DaemonProcess daemon, TestTree tree, int n) throws Exception;
  }

  @Test
  void grantThatCannotBeRecordedIsRefusedNotHandedOutUnrecorded() throws Exception {
    assertTimeoutPreemptively(
        Duration.ofSeconds(120), () -> fillTheAuditQueue(AuditIT::grantOnTheMainSocket));
  }

  @Test
  void endpointGrantThatCannotBeRecordedIsRefusedNotHandedOutUnrecorded() throws Exception {
    assertTimeoutPreemptively(
        Duration.ofSeconds(120), () -> fillTheAuditQueue(AuditIT::grantOnTheEndpoint));
  }

  /**
   * With {@code [audit] reasons_to_clients = false}, a refused client learns its error code and a
   * generic reason, not the rule that refused it nor where the policy says so; the audit line keeps
   * both.
   */
  @Test
  void reasonsStayInTheAuditLogWhenClientsAreNotToBeTold() throws Exception {
    assertTimeoutPreemptively(Duration.ofSeconds(60), this::reasonsInTheAuditLogOnly);
  }

  private void reasonsInTheAuditLogOnly() throws Exception {
    try (TestTree tree = new TestTree("filebroker-audit-reasons-")) {
      Path secret = tree.file("secret.txt", "s\n", "rw-------");
      Path policy = tree.dir("policy.d");
      Files.writeString(
          policy.resolve("10-test.toml"),
          """
          [[allow]]
          name = "root-reads-the-tree"
          users = [0]
          paths = ["%1$s/**"]
          access = ["read"]

          [[deny]]
          name = "never-the-secret"
          users = [0]
          paths = ["%2$s"]
          access = ["read"]
          """
              .formatted(tree.root(), secret));
      Path config =
          tree.file("filebroker.toml", "[audit]\nreasons_to_clients = false\n", "rw-r--r--");
      DaemonProcess daemon =
          DaemonProcess.start(
              tree.root(),
              tree.root().resolve("broker.sock"),
              "--config",
              config.toString(),
              "--policy",
              policy.toString());
      try (RawClient c = new RawClient(daemon.socket())) {
        ErrorReply denied =
            assertInstanceOf(
                ErrorReply.class, c.open(1, OpenFlags.O_RDONLY, secret.toString()).reply());
        assertEquals(ErrorCode.DENIED.code(), denied.code());
        assertEquals("denied by the policy", denied.message());
        daemon.awaitLine("\"rule\":\"never-the-secret\"", Duration.ofSeconds(20));
        String line =
            daemon.output().lines().filter(l -> l.contains("never-the-secret")).findFirst().get();
        assertTrue(line.contains("\"source\":\"" + policy), "the audit line keeps where: " + line);
        assertTrue(line.contains("\"reason\":"), "and why: " + line);
      } finally {
        Daemons.stop(daemon, null);
      }
    }
  }

  private static Path granted(TestTree tree) {
    return tree.root().resolve("granted.txt");
  }

  private static Path endpointSocket(TestTree tree) {
    return Path.of("/tmp", tree.root().getFileName() + "-audit.sock");
  }

  private static Attempt grantOnTheMainSocket(DaemonProcess daemon, TestTree tree, int n)
      throws Exception {
    try (RawClient c = new RawClient(daemon.socket())) {
      RawClient.Received r = c.open(n, OpenFlags.O_RDONLY, granted(tree).toString());
      if (r.reply() instanceof ErrorReply refusal) {
        assertEquals(List.of(), r.descriptors(), "no file travels with the refusal");
        assertEquals(ErrorCode.LIMIT_EXCEEDED.code(), refusal.code(), refusal.toString());
        assertTrue(refusal.message().contains("audit log"), refusal.message());
        return Attempt.REFUSED;
      }
      assertInstanceOf(OpenedReply.class, r.reply());
      assertEquals(1, r.descriptors().size());
      RawClient.close(r.descriptors());
      return Attempt.HANDED_OUT;
    }
  }

  /** Connects to the endpoint: one byte with the file, or the end of the stream and nothing. */
  private static Attempt grantOnTheEndpoint(DaemonProcess daemon, TestTree tree, int n)
      throws Exception {
    try (AFUNIXSocketChannel c =
        AFUNIXSocketChannel.open(AFUNIXSocketAddress.of(endpointSocket(tree)))) {
      c.setAncillaryReceiveBufferSize(256);
      ByteBuffer one = ByteBuffer.allocate(1);
      int read = c.read(one);
      FileDescriptor[] fds = c.getReceivedFileDescriptors();
      if (read < 0) {
        assertTrue(fds == null || fds.length == 0, "no file travels with the refusal");
        return Attempt.REFUSED;
      }
      assertEquals(1, read);
      assertEquals(1, fds.length, "the byte carries the file");
      new FileInputStream(fds[0]).close();
      return Attempt.HANDED_OUT;
    }
  }

  private void fillTheAuditQueue(Granting granting) throws Exception {
    try (TestTree tree = new TestTree("filebroker-audit-")) {
      Path granted = tree.file("granted.txt", "g\n", "rw-------");
      Path fifo = tree.root().resolve("audit.fifo");
      assertEquals(0, Command.run(List.of("mkfifo", fifo.toString()), "").exitCode());
      Path endpoint = endpointSocket(tree);
      // Opens the FIFO for reading, then reads nothing: the audit writer blocks once the pipe is
      // full, and its queue fills behind it.
      Process stalled =
          new ProcessBuilder("sh", "-c", "exec 3<" + fifo + " && exec sleep 600").start();
      Process drain = null;
      DaemonProcess daemon = null;
      try {
        Path policy = tree.dir("policy.d");
        Files.writeString(
            policy.resolve("10-test.toml"),
            """
            [[allow]]
            name = "granted"
            users = [0]
            paths = ["%s"]
            access = ["read"]
            """
                .formatted(granted));
        Path config =
            tree.file(
                "filebroker.toml",
                """
                [audit]
                destination = "%s"
                queue_lines = 16

                [limits]
                requests_per_second_per_uid = 10000000
                request_burst_per_uid = 10000000

                [[endpoint]]
                name = "%s"
                socket = "%s"
                path = "%s"
                access = "read"
                users = [0]
                """
                    .formatted(fifo, ENDPOINT, endpoint, granted),
                "rw-r--r--");
        daemon =
            DaemonProcess.start(
                tree.root(),
                tree.root().resolve("broker.sock"),
                "--config",
                config.toString(),
                "--policy",
                policy.toString());
        int handedOut = 0;
        // A warm-up grant, then the baseline once the daemon's descriptor count has settled (the
        // copy of a file just sent is closed a moment after its reply arrives).
        assertEquals(
            Attempt.HANDED_OUT, granting.attempt(daemon, tree, 1), "a grant before the flood");
        handedOut++;
        int baseline = settledDescriptorCount(daemon);
        try (RawClient c = new RawClient(daemon.socket())) {
          // Distinct denials (identical ones would be collapsed): far more than a pipe's 64 KiB
          // and the queue hold.
          for (int i = 0; i < 3000; i++) {
            RawClient.Received r = c.open(i + 1, OpenFlags.O_RDONLY, "/srv/denied/" + i);
            assertEquals(
                ErrorCode.DENIED.code(), assertInstanceOf(ErrorReply.class, r.reply()).code());
          }
        }
        // Denials cannot take the room kept for grants: the first grant is recorded and sent.
        assertEquals(
            Attempt.HANDED_OUT,
            granting.attempt(daemon, tree, 4000),
            "a grant after a denial flood");
        handedOut++;
        // Grants until the writer's stall has filled their room too: then they are refused.
        boolean refused = false;
        for (int i = 0; i < 100 && !refused; i++) {
          if (granting.attempt(daemon, tree, 5000 + i) == Attempt.REFUSED) {
            refused = true;
          } else {
            handedOut++;
          }
        }
        assertTrue(refused, "a grant that cannot be recorded is refused");
        awaitDescriptorsAtMost(daemon, baseline, "every refused or sent file is closed");

        // The reader catches up: grants go through again, and the record shows the drops.
        Path record = tree.root().resolve("audit.out");
        drain = new ProcessBuilder("cat", fifo.toString()).redirectOutput(record.toFile()).start();
        stalled.destroyForcibly();
        stalled.waitFor(10, TimeUnit.SECONDS);
        boolean grantedAgain = false;
        for (int attempt = 0; attempt < 200 && !grantedAgain; attempt++) {
          grantedAgain = granting.attempt(daemon, tree, 1) == Attempt.HANDED_OUT;
          if (grantedAgain) {
            handedOut++;
          } else {
            Thread.sleep(50);
          }
        }
        assertTrue(grantedAgain, "grants resume once the audit writer can write");
        Daemons.stop(daemon, null);
        daemon = null;
        assertTrue(drain.waitFor(30, TimeUnit.SECONDS), "cat ends when the daemon closes");
        String lines = Files.readString(record);
        assertTrue(lines.contains("\"event\":\"dropped\""), "drops are counted");
        long grants = lines.lines().filter(l -> l.contains("\"result\":\"ok\"")).count();
        assertEquals(handedOut, grants, "every grant handed out, and only those, is recorded");
        assertFalse(lines.contains("\"count\":0"), lines);
      } finally {
        if (daemon != null) {
          daemon.close();
        }
        stalled.destroyForcibly();
        if (drain != null) {
          drain.destroyForcibly();
        }
        Files.deleteIfExists(endpoint);
      }
    }
  }

  /**
   * The daemon's descriptor count once it has stayed the same for five looks 100 ms apart: a file
   * whose reply was just read may still be open in the daemon for a moment.
   */
  private static int settledDescriptorCount(DaemonProcess daemon) throws Exception {
    int last = daemon.descriptorCount();
    int same = 0;
    for (int i = 0; i < 200 && same < 5; i++) {
      Thread.sleep(100);
      int now = daemon.descriptorCount();
      same = now == last ? same + 1 : 0;
      last = now;
    }
    assertEquals(5, same, "the daemon's descriptor count settles");
    return last;
  }

  /** Waits (up to 20 s) for the count to come down to {@code most}; a leak keeps it above. */
  private static void awaitDescriptorsAtMost(DaemonProcess daemon, int most, String why)
      throws IOException, InterruptedException {
    long deadline = System.nanoTime() + Duration.ofSeconds(20).toNanos();
    while (daemon.descriptorCount() > most && System.nanoTime() < deadline) {
      Thread.sleep(50);
    }
    int now = daemon.descriptorCount();
    assertTrue(now <= most, why + ": " + now + " open against a baseline of " + most);
  }
}
