package dev.filebroker.daemon.it;

import static dev.filebroker.daemon.it.VarlinkMessages.GET_INFO;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.json.JsonMapper;
import dev.filebroker.protocol.OpenFlags;
import dev.filebroker.protocol.OpenRequest;
import java.io.IOException;
import java.net.StandardSocketOptions;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.TestMethodOrder;
import org.newsclub.net.unix.AFUNIXSocketAddress;
import org.newsclub.net.unix.AFUNIXSocketChannel;

/**
 * The Varlink socket under the daemon's {@code [limits]}: its connections count together with the
 * binary protocol's, its calls against the same request rate, an over-limit connection or call is
 * answered with the named error {@code io.filebroker.Broker.LimitExceeded}, and a stopping daemon
 * answers the calls it received before the stop. Needs root (daemon, setpriv) and python3.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class VarlinkLimitsIT {
  private static final int NOBODY = 65534;
  private static final Duration TIMEOUT = Duration.ofSeconds(60);
  private static final JsonMapper JSON = new JsonMapper();
  private TestTree tree;
  private DaemonProcess daemon;
  private Path client;
  private Path varlinkSocket;

  @BeforeAll
  void start() throws Exception {
    tree = new TestTree("filebroker-varlink-limits-");
    Path root = tree.root();
    tree.file("secret.txt", "for nobody\n", "rw-------");
    varlinkSocket = root.resolve("io.filebroker.Broker");
    client = tree.executable(DaemonProcess.home().resolve("examples/python/fbvarlink.py"));
    daemon =
        Daemons.start(
            tree,
            """
            [[allow]]
            name = "nobody-reads-secret"
            users = [65534]
            paths = ["%s/secret.txt"]
            access = ["read"]
            """
                .formatted(root),
            """
            varlink_socket = "%s"

            [limits]
            max_connections_per_uid = 3
            requests_per_second_per_uid = 1
            request_burst_per_uid = 2
            """
                .formatted(varlinkSocket));
  }

  @AfterAll
  void stop() throws Exception {
    Daemons.stop(daemon, tree);
  }

  @Test
  @Order(1)
  void varlinkAndBinaryConnectionsShareTheUidsLimitAndTheNextIsAnsweredLimitExceeded()
      throws Exception {
    awaitNoConnections();
    assertTimeoutPreemptively(
        TIMEOUT,
        () -> {
          List<AutoCloseable> held = new ArrayList<>();
          try {
            for (int i = 0; i < 2; i++) {
              RawClient binary = new RawClient(daemon.socket());
              held.add(binary);
              // Any reply shows that the daemon admitted the connection.
              binary.send(new OpenRequest(1, OpenFlags.O_RDONLY, 0, "relative"));
              assertTrue(binary.receive().isPresent(), "binary connection " + i + " admitted");
            }
            AFUNIXSocketChannel third = varlink();
            held.add(third);
            JsonNode info = call(third, GET_INFO);
            assertFalse(info.has("error"), "the third connection is served: " + info);

            AFUNIXSocketChannel fourth = varlink();
            held.add(fourth);
            // Answered before any call is read: the reply to the first call the client makes.
            JsonNode refused = reply(fourth);
            assertEquals(
                "io.filebroker.Broker.LimitExceeded",
                refused.path("error").textValue(),
                "" + refused);
            assertTrue(
                refused.path("parameters").path("message").textValue().contains("uid 0"),
                refused.toString());
            assertEquals(-1, fourth.read(ByteBuffer.allocate(16)), "then the connection ends");
            daemon.awaitLine(
                "Could not admit a connection: Varlink: uid 0 has 3 connections open",
                Duration.ofSeconds(10));
          } finally {
            for (AutoCloseable c : held) {
              c.close();
            }
          }
        });
  }

  /**
   * An unprivileged user's fourth Varlink connection under {@code max_connections_per_uid = 3},
   * from a client written from the Varlink specification: it calls, and reads LimitExceeded.
   */
  @Test
  @Order(2)
  void anUnprivilegedUsersConnectionOverItsLimitGetsTheNamedError() throws Exception {
    awaitNoConnections();
    String python =
        """
        import json, socket, sys
        def call(s):
            try:
                s.sendall(b'{"method":"org.varlink.service.GetInfo"}\\0')
            except BrokenPipeError:
                pass  # answered and closed before the call was written
            data = b""
            while b"\\0" not in data:
                chunk = s.recv(65536)
                if not chunk:
                    return "closed"
                data += chunk
            return json.loads(data.split(b"\\0")[0]).get("error", "ok")
        held = []
        for i in range(4):
            s = socket.socket(socket.AF_UNIX)
            s.connect(sys.argv[1])
            held.append(s)
            print(call(s), flush=True)
        """;
    Command r =
        assertTimeoutPreemptively(
            TIMEOUT,
            () ->
                Command.asUser(
                    NOBODY, NOBODY, "/usr/bin/python3", "-c", python, varlinkSocket.toString()));
    assertEquals(0, r.exitCode(), r.stderr());
    assertEquals("ok\nok\nok\nio.filebroker.Broker.LimitExceeded\n", r.stdout(), r.stderr());
  }

  @Test
  @Order(3)
  void callsOverTheUidsRequestRateAreAnsweredLimitExceeded() throws Exception {
    awaitNoConnections();
    // A burst of 2 at 1 per second: five calls in a row cannot all be admitted.
    Command r =
        assertTimeoutPreemptively(
            TIMEOUT,
            () ->
                Command.asUser(
                    NOBODY,
                    NOBODY,
                    "/usr/bin/python3",
                    client.toString(),
                    "--socket",
                    varlinkSocket.toString(),
                    "--count",
                    "5",
                    "io.filebroker.Broker.Open",
                    "{\"path\":\""
                        + tree.root().resolve("secret.txt")
                        + "\",\"access\":[\"read\"]}"));
    assertEquals(2, r.exitCode(), r.stdout() + r.stderr());
    assertTrue(r.stderr().contains("io.filebroker.Broker.LimitExceeded"), r.stderr());
    assertTrue(r.stdout().contains("over the request rate of this uid"), r.stdout());
  }

  /**
   * The client sends calls without reading a reply until both directions are full, then the daemon
   * gets SIGTERM: every call that reached it whole before the stop is answered before the end.
   */
  @Test
  @Order(4)
  void aStoppingDaemonAnswersEveryCallItReceivedBeforeTheStop() throws Exception {
    assertTimeoutPreemptively(
        TIMEOUT,
        () -> {
          try (AFUNIXSocketChannel c = admitted()) {
            c.setOption(StandardSocketOptions.SO_SNDBUF, 4096);
            c.configureBlocking(false);
            ByteBuffer calls = ByteBuffer.allocate(GET_INFO.length * 100_000);
            while (calls.hasRemaining()) {
              calls.put(GET_INFO);
            }
            calls.flip();
            long idle = 0;
            // Until the daemon has stopped reading (its replies fill the socket) for a while.
            while (idle < 50 && calls.hasRemaining()) {
              if (c.write(calls) == 0) {
                idle++;
                Thread.sleep(20);
              } else {
                idle = 0;
              }
            }
            assertTrue(calls.hasRemaining(), "the daemon stopped reading at some point");
            long whole = calls.position() / GET_INFO.length;
            daemon.signal("TERM");
            c.configureBlocking(true);
            ByteBuffer in = ByteBuffer.allocate(1 << 16);
            long replies = 0;
            while (c.read(in.clear()) > 0) {
              in.flip();
              while (in.hasRemaining()) {
                if (in.get() == 0) {
                  replies++;
                }
              }
            }
            assertEquals(whole, replies, "calls sent whole before the stop, and replies");
          }
          assertEquals(0, daemon.awaitExit(Duration.ofSeconds(20)), daemon.output());
          assertFalse(Files.exists(varlinkSocket), "the Varlink socket is removed");
        });
  }

  /**
   * A Varlink connection that was served a call; retried while the connections an earlier test
   * closed still count (the daemon sees their end a moment later).
   */
  private AFUNIXSocketChannel admitted() throws Exception {
    for (int i = 0; ; i++) {
      AFUNIXSocketChannel c = varlink();
      JsonNode r = call(c, GET_INFO);
      if (!r.has("error")) {
        return c;
      }
      c.close();
      assertTrue(i < 100, "never admitted: " + r);
      Thread.sleep(50);
    }
  }

  private AFUNIXSocketChannel varlink() throws IOException {
    return AFUNIXSocketChannel.open(AFUNIXSocketAddress.of(varlinkSocket));
  }

  /** Sends one call and reads its reply. */
  private static JsonNode call(AFUNIXSocketChannel c, byte[] message) throws Exception {
    ByteBuffer out = ByteBuffer.wrap(message);
    while (out.hasRemaining()) {
      c.write(out);
    }
    return reply(c);
  }

  /** Reads one reply. */
  private static JsonNode reply(AFUNIXSocketChannel c) throws Exception {
    return JSON.readTree(VarlinkMessages.readReply(c));
  }

  /**
   * Waits until the daemon counts no connection open (those earlier tests closed end a moment after
   * their clients hang up), so that a test's own connections are the only ones counted.
   */
  private void awaitNoConnections() throws Exception {
    for (int i = 0; ; i++) {
      Command r =
          DaemonProcess.command(
              "status", "--format=json", "--control-socket", daemon.controlSocket().toString());
      assertEquals(0, r.exitCode(), r.stderr());
      long open = JSON.readTree(r.stdout()).get("connections_open").asLong();
      if (open == 0) {
        return;
      }
      assertTrue(i < 50, "connections still open: " + open);
      Thread.sleep(100);
    }
  }
}
