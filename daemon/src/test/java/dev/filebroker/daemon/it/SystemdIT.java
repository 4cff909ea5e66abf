package dev.filebroker.daemon.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.filebroker.protocol.ErrorReply;
import dev.filebroker.protocol.OpenFlags;
import dev.filebroker.protocol.OpenedReply;
import java.io.IOException;
import java.net.SocketTimeoutException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.newsclub.net.unix.AFUNIXDatagramChannel;
import org.newsclub.net.unix.AFUNIXSocketAddress;

/**
 * The daemon under the systemd protocols, without systemd as PID 1: the test is the service
 * manager. It listens on its own NOTIFY_SOCKET and asserts the exact notification sequence, and
 * starts the daemon through systemd-socket-activate. Needs root.
 */
class SystemdIT {
  private TestTree tree;
  private Path policyDir;
  private String target;

  @BeforeEach
  void setUp() throws IOException {
    tree = new TestTree("filebroker-systemd-");
    target = tree.file("granted.txt", "granted\n", "rw-------").toString();
    policyDir = tree.dir("policy");
    writePolicy(
        """
        [[allow]]
        name = "root-reads"
        users = [0]
        paths = ["%s"]
        access = ["read"]
        """
            .formatted(target));
  }

  @AfterEach
  void tearDown() throws IOException {
    tree.close();
  }

  private void writePolicy(String text) throws IOException {
    Files.writeString(policyDir.resolve("10-test.toml"), text);
  }

  /** Notification datagrams, one per receive; each is a list of assignments. */
  private static List<String> next(AFUNIXDatagramChannel notify) throws IOException {
    ByteBuffer b = ByteBuffer.allocate(4096);
    notify.receive(b);
    b.flip();
    return List.of(StandardCharsets.UTF_8.decode(b).toString().split("\n"));
  }

  /** A NOTIFY_SOCKET for one daemon: the test plays the service manager. */
  private AFUNIXDatagramChannel notifySocket(Path path) throws IOException {
    AFUNIXDatagramChannel notify = AFUNIXDatagramChannel.open();
    notify.bind(AFUNIXSocketAddress.of(path));
    notify.socket().setSoTimeout(20_000);
    return notify;
  }

  private DaemonProcess startNotifying(Path notifyPath) throws IOException {
    return DaemonProcess.start(
        tree.root(),
        tree.root().resolve("broker.sock"),
        Map.of("NOTIFY_SOCKET", notifyPath.toString()),
        List.of(),
        "--policy",
        policyDir.toString());
  }

  @Test
  void notifiesReadyReloadingAndStoppingInOrder() {
    assertTimeoutPreemptively(
        Duration.ofSeconds(60),
        () -> {
          Path notifyPath = tree.root().resolve("notify.sock");
          try (AFUNIXDatagramChannel notify = notifySocket(notifyPath);
              DaemonProcess daemon = startNotifying(notifyPath)) {
            List<String> ready = next(notify);
            assertEquals("READY=1", ready.get(0), ready.toString());
            assertTrue(ready.get(1).startsWith("STATUS="), ready.toString());

            // The daemon answers requests once READY=1 has been sent.
            try (RawClient c = new RawClient(daemon.socket())) {
              var r = c.open(1, OpenFlags.O_RDONLY, target);
              assertInstanceOf(OpenedReply.class, r.reply());
              RawClient.close(r.descriptors());
            }

            daemon.signal("HUP");
            List<String> reloading = next(notify);
            assertEquals("RELOADING=1", reloading.get(0), reloading.toString());
            assertTrue(reloading.get(1).startsWith("MONOTONIC_USEC="), reloading.toString());
            long usec = Long.parseLong(reloading.get(1).substring("MONOTONIC_USEC=".length()));
            assertTrue(usec > 0, "MONOTONIC_USEC must be a CLOCK_MONOTONIC time");
            List<String> readyAgain = next(notify);
            assertEquals("READY=1", readyAgain.get(0), readyAgain.toString());

            assertEquals(0, daemon.stop(), "exit status after SIGTERM");
            List<String> stopping = next(notify);
            assertEquals(List.of("STOPPING=1"), stopping.subList(0, 1), stopping.toString());
          }
        });
  }

  @Test
  void badReloadKeepsTheOldPolicyAndStillSignalsReady() {
    assertTimeoutPreemptively(
        Duration.ofSeconds(60),
        () -> {
          Path notifyPath = tree.root().resolve("notify.sock");
          try (AFUNIXDatagramChannel notify = notifySocket(notifyPath);
              DaemonProcess daemon = startNotifying(notifyPath)) {
            next(notify);
            writePolicy("[[allow]]\nusers = [0]\npaths = [\"relative\"]\naccess = [\"read\"]\n");
            daemon.signal("HUP");
            assertEquals("RELOADING=1", next(notify).get(0));
            assertEquals("READY=1", next(notify).get(0));
            daemon.awaitLine("the previous policy stays in force", Duration.ofSeconds(10));
            try (RawClient c = new RawClient(daemon.socket())) {
              var r = c.open(1, OpenFlags.O_RDONLY, target);
              assertInstanceOf(OpenedReply.class, r.reply(), "the old policy still grants");
              RawClient.close(r.descriptors());
            }
            assertEquals(0, daemon.stop());
          }
        });
  }

  @Test
  void servesAnInheritedSocketUnderSocketActivation() {
    assertTimeoutPreemptively(
        Duration.ofSeconds(60),
        () -> {
          Path socket = tree.root().resolve("activated.sock");
          try (DaemonProcess daemon =
              DaemonProcess.launch(
                  tree.root(),
                  socket,
                  Map.of(),
                  List.of(
                      "systemd-socket-activate", "-l", socket.toString(), "--fdname=filebroker"),
                  "--policy",
                  policyDir.toString())) {
            // systemd-socket-activate starts the service on the first connection, as systemd does.
            while (!Files.exists(socket)) {
              Thread.sleep(20);
            }
            try (RawClient c = new RawClient(socket)) {
              daemon.awaitLine("socket-activated filebroker", Duration.ofSeconds(30));
              var r = c.open(1, OpenFlags.O_RDONLY, target);
              assertInstanceOf(OpenedReply.class, r.reply());
              RawClient.close(r.descriptors());
              var denied = c.open(2, OpenFlags.O_RDONLY, "/etc/shadow");
              assertInstanceOf(ErrorReply.class, denied.reply());
            }
            assertEquals(0, daemon.stop());
            assertTrue(
                Files.exists(socket), "an inherited socket belongs to the manager, not the daemon");
          }
        });
  }

  @Test
  void sigtermAnswersRequestsInFlightAndExitsWithinFiveSeconds() {
    assertTimeoutPreemptively(
        Duration.ofSeconds(60),
        () -> {
          try (DaemonProcess daemon =
              DaemonProcess.start(
                  tree.root(),
                  tree.root().resolve("broker.sock"),
                  "--policy",
                  policyDir.toString())) {
            List<RawClient> clients = new ArrayList<>();
            try {
              for (int i = 0; i < 8; i++) {
                RawClient c = new RawClient(daemon.socket());
                clients.add(c);
                for (int id = 1; id <= 50; id++) {
                  c.send(
                      new dev.filebroker.protocol.OpenRequest(id, OpenFlags.O_RDONLY, 0, target));
                }
              }
              long t0 = System.nanoTime();
              daemon.signal("TERM");
              // Every request written before SIGTERM is answered, then the connection ends.
              for (RawClient c : clients) {
                int answered = 0;
                try {
                  while (true) {
                    var r = c.receive();
                    if (r.isEmpty()) {
                      break;
                    }
                    answered++;
                    RawClient.close(r.get().descriptors());
                  }
                } catch (SocketTimeoutException e) {
                  throw new AssertionError("connection not closed after SIGTERM", e);
                }
                assertEquals(50, answered, "requests answered on one connection");
              }
              assertEquals(0, daemon.stop(), "exit status");
              long millis = (System.nanoTime() - t0) / 1_000_000;
              assertTrue(millis < 5000, "stopped in " + millis + " ms");
            } finally {
              for (RawClient c : clients) {
                c.close();
              }
            }
          }
        });
  }
}
