package dev.filebroker.daemon.control;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.filebroker.daemon.policy.PolicyLoad;
import dev.filebroker.daemon.policy.PolicyLoader;
import dev.filebroker.daemon.server.PolicyHolder;
import dev.filebroker.daemon.server.Statistics;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.newsclub.net.unix.AFUNIXServerSocketChannel;
import org.newsclub.net.unix.AFUNIXSocket;
import org.newsclub.net.unix.AFUNIXSocketAddress;

/**
 * The control socket over a real AF_UNIX socket in this process. Runs as root (CI does): the uid
 * check refuses everyone else; ControlIT covers a non-root caller.
 */
class ControlServerTest {
  private static final Duration TIMEOUT = Duration.ofSeconds(20);

  @TempDir Path temp;
  private ControlHandler handler;

  @BeforeEach
  void handler() throws IOException {
    Path policyFile = temp.resolve("policy.toml");
    Files.writeString(
        policyFile, "[[allow]]\nany = true\npaths = [\"/etc/hostname\"]\naccess = [\"read\"]\n");
    PolicyLoad.Valid loaded =
        assertInstanceOf(PolicyLoad.Valid.class, PolicyLoader.load(policyFile));
    PolicyHolder.Loaded policy =
        new PolicyHolder.Loaded(loaded.policy(), policyFile, Instant.now());
    handler =
        new ControlHandler() {
          @Override
          public ReloadOutcome reload() {
            return new ReloadOutcome.Reloaded(policyFile, 1);
          }

          @Override
          public StatusReport status() {
            return StatusReport.of(new Statistics(), policy, Instant.now());
          }

          @Override
          public Explanation explain(ExplainQuery query) {
            return Explanation.evaluate(policy, query);
          }
        };
  }

  @Test
  void bindsMode0600AndAnswersRoot() throws Exception {
    Path path = temp.resolve("control.sock");
    assertTimeoutPreemptively(
        TIMEOUT,
        () -> {
          try (ControlServer server = ControlServer.bind(path)) {
            server.start(handler);
            assertEquals(
                "rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(path)));
            var reply =
                assertInstanceOf(
                    ControlClient.Reply.Answered.class,
                    ControlClient.exchange(path, new ControlRequest.Status()));
            assertTrue(reply.ok(), reply.body().toString());
            assertEquals(1, StatusReport.fromJson(reply.body()).rules());
          }
          assertFalse(Files.exists(path), "the socket file is removed at close");
        });
  }

  @Test
  void replacesAStaleSocketButNotALiveOne() throws Exception {
    Path path = temp.resolve("control.sock");
    assertTimeoutPreemptively(
        TIMEOUT,
        () -> {
          // A socket file nobody listens on, as a killed daemon leaves it.
          AFUNIXSocket.newInstance().close();
          var stale = org.newsclub.net.unix.AFUNIXServerSocket.newInstance();
          stale.bind(AFUNIXSocketAddress.of(path));
          stale.setDeleteOnClose(false);
          stale.close();
          assertTrue(Files.exists(path));
          try (ControlServer server = ControlServer.bind(path)) {
            server.start(handler);
            IOException e = assertThrows(IOException.class, () -> ControlServer.bind(path));
            assertEquals(
                "another process is listening on "
                    + path
                    + "; stop it or choose another --control-socket",
                e.getMessage());
          }
        });
  }

  @Test
  void oversizedRequestGetsAnErrorLine() throws Exception {
    Path path = temp.resolve("control.sock");
    assertTimeoutPreemptively(
        TIMEOUT,
        () -> {
          try (ControlServer server = ControlServer.bind(path)) {
            server.start(handler);
            try (AFUNIXSocket s = AFUNIXSocket.connectTo(AFUNIXSocketAddress.of(path))) {
              byte[] big = new byte[ControlProtocol.MAX_REQUEST_BYTES + 10];
              java.util.Arrays.fill(big, (byte) 'x');
              try {
                s.getOutputStream().write(big);
              } catch (IOException e) {
                // The daemon may close before taking all of it; its answer is already sent.
              }
              // The daemon answers and closes without reading the rest: a reset may follow the
              // line, so it is read up to its newline only.
              String line = readLine(s.getInputStream());
              Map<String, Object> r = Json.parseObject(line);
              assertEquals(false, r.get("ok"));
              assertEquals("request longer than 65536 bytes", r.get("error"));
            }
          }
        });
  }

  @Test
  void answersBusyBeyondItsConcurrencyAndServesAgainOnceRequestsEnd() throws Exception {
    Path path = temp.resolve("control.sock");
    assertTimeoutPreemptively(
        TIMEOUT,
        () -> {
          try (ControlServer server = ControlServer.bind(path)) {
            server.start(handler);
            List<AFUNIXSocket> silent = new ArrayList<>();
            try {
              for (int i = 0; i < ControlServer.MAX_CONNECTIONS; i++) {
                silent.add(AFUNIXSocket.connectTo(AFUNIXSocketAddress.of(path)));
              }
              var busy =
                  assertInstanceOf(
                      ControlClient.Reply.Answered.class,
                      ControlClient.exchange(path, new ControlRequest.Status()));
              assertFalse(busy.ok(), busy.body().toString());
              assertTrue(busy.error().startsWith("busy: 4 control requests"), busy.error());
            } finally {
              for (AFUNIXSocket s : silent) {
                s.close();
              }
            }
            // Each silent connection ends at its hang-up; then status is answered again.
            while (true) {
              var reply =
                  assertInstanceOf(
                      ControlClient.Reply.Answered.class,
                      ControlClient.exchange(path, new ControlRequest.Status()));
              if (reply.ok()) {
                break;
              }
              assertTrue(reply.error().startsWith("busy: "), reply.error());
              Thread.sleep(20);
            }
          }
        });
  }

  private static String readLine(java.io.InputStream in) throws IOException {
    java.io.ByteArrayOutputStream line = new java.io.ByteArrayOutputStream();
    int b;
    while ((b = in.read()) >= 0 && b != '\n') {
      line.write(b);
    }
    return line.toString(StandardCharsets.UTF_8);
  }

  @Test
  void clientReportsAMissingSocketAsDaemonNotRunning() {
    var failed =
        assertInstanceOf(
            ControlClient.Reply.Failed.class,
            ControlClient.exchange(temp.resolve("none.sock"), new ControlRequest.Reload()));
    assertTrue(failed.message().startsWith("the daemon is not running"), failed.message());
  }

  @Test
  void closingAnInheritedSocketLeavesItListeningForTheNextDaemon() throws Exception {
    Path path = temp.resolve("activated.sock");
    assertTimeoutPreemptively(
        TIMEOUT,
        () -> {
          // Stands in for the descriptor systemd passes: it outlives each daemon that takes it.
          try (AFUNIXServerSocketChannel shared = AFUNIXServerSocketChannel.open()) {
            shared.bind(AFUNIXSocketAddress.of(path));
            for (int daemon = 1; daemon <= 2; daemon++) {
              try (ControlServer server = ControlServer.inherited(shared)) {
                server.start(handler);
                var reply =
                    assertInstanceOf(
                        ControlClient.Reply.Answered.class,
                        ControlClient.exchange(path, new ControlRequest.Status()));
                assertTrue(reply.ok(), "daemon " + daemon + ": " + reply.body());
              }
            }
            assertTrue(Files.exists(path), "an inherited socket belongs to the manager");
            // After the last daemon stopped, a client still connects; it waits in the backlog.
            try (AFUNIXSocket waiting = AFUNIXSocket.connectTo(AFUNIXSocketAddress.of(path))) {
              assertTrue(waiting.isConnected());
            }
          }
        });
  }
}
