package dev.filebroker.daemon.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.filebroker.client.BrokeredFile;
import dev.filebroker.client.FileBroker;
import dev.filebroker.daemon.control.ControlClient;
import dev.filebroker.daemon.control.ControlRequest;
import dev.filebroker.daemon.control.StatusReport;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import org.junit.jupiter.api.Test;

/**
 * A client library connection left idle past the daemon's {@code idle_timeout_seconds}: the daemon
 * closes it, the library holds no connection while idle and connects again for its next request.
 * Needs root (the daemon runs as root).
 */
class IdleConnectionIT {
  @Test
  void aBrokerIdlePastTheDaemonsIdleTimeoutConnectsAgainForItsNextRequest() throws Exception {
    assertTimeoutPreemptively(
        Duration.ofSeconds(60),
        () -> {
          try (TestTree tree = new TestTree("filebroker-idle-")) {
            Path file = tree.file("data/a.txt", "after the idle timeout\n", "rw-------");
            try (DaemonProcess daemon =
                Daemons.start(
                    tree,
                    """
                    [[allow]]
                    name = "root-reads-data"
                    users = [0]
                    paths = ["%s/data/*"]
                    access = ["read"]
                    """
                        .formatted(tree.root()),
                    "[limits]\nidle_timeout_seconds = 1\n")) {
              try (FileBroker broker = FileBroker.connect(daemon.socket())) {
                assertEquals("after the idle timeout\n", read(broker, file));
                assertEquals(1, status(daemon).connectionsOpen(), "one connection while in use");

                // The daemon checks idle connections about once a second.
                awaitConnectionsOpen(daemon, 0, Duration.ofSeconds(10));
                Thread.sleep(1500);
                assertEquals(
                    0, status(daemon).connectionsOpen(), "an idle broker does not reconnect");
                assertTrue(broker.isOpen(), "the idle timeout does not end the FileBroker");

                assertEquals("after the idle timeout\n", read(broker, file));
                StatusReport after = status(daemon);
                assertEquals(1, after.connectionsOpen());
                assertEquals(2, after.connectionsAccepted(), "one new connection, made on demand");
              }
            }
          }
        });
  }

  private static String read(FileBroker broker, Path file) throws Exception {
    try (BrokeredFile opened = broker.open(file, StandardOpenOption.READ)) {
      return new String(opened.inputStream().readAllBytes(), StandardCharsets.UTF_8);
    }
  }

  private static StatusReport status(DaemonProcess daemon) {
    var reply =
        assertInstanceOf(
            ControlClient.Reply.Answered.class,
            ControlClient.exchange(daemon.controlSocket(), new ControlRequest.Status()));
    return StatusReport.fromJson(reply.body());
  }

  private static void awaitConnectionsOpen(DaemonProcess daemon, long count, Duration within)
      throws InterruptedException {
    long deadline = System.nanoTime() + within.toNanos();
    long open;
    while ((open = status(daemon).connectionsOpen()) != count) {
      if (System.nanoTime() > deadline) {
        throw new AssertionError(
            "connections open: " + open + ", expected " + count + " within " + within);
      }
      Thread.sleep(50);
    }
  }
}
