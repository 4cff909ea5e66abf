package dev.filebroker.daemon.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.filebroker.protocol.ErrorCode;
import dev.filebroker.protocol.ErrorReply;
import dev.filebroker.protocol.FrameCodec;
import dev.filebroker.protocol.OpenFlags;
import dev.filebroker.protocol.OpenManyRequest;
import dev.filebroker.protocol.OpenRequest;
import dev.filebroker.protocol.OpenedManyReply;
import dev.filebroker.protocol.OpenedReply;
import dev.filebroker.protocol.Protocol;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * Each configurable limit, set small, holds and answers as documented: LIMIT_EXCEEDED for
 * connection and rate limits, backpressure for a client that never reads, FRAME_TOO_LARGE, and
 * TIMEOUT for idle and stalled connections. One daemon per test. Needs root (runs the daemon; a
 * second uid through setpriv).
 */
class LimitsIT {
  private TestTree tree;
  private DaemonProcess daemon;
  private Path granted;

  private void start(String limits) throws Exception {
    tree = new TestTree("filebroker-limits-");
    granted = tree.file("granted.txt", "granted\n", "rw-r--r--");
    daemon =
        Daemons.start(
            tree,
            """
            [[allow]]
            name = "reads"
            users = [0, 65534]
            paths = ["%s"]
            access = ["read"]
            """
                .formatted(granted),
            "[limits]\n" + limits);
  }

  @AfterEach
  void stop() throws Exception {
    try {
      if (daemon != null) {
        daemon.close();
      }
    } finally {
      if (tree != null) {
        tree.close();
      }
    }
  }

  private void assertServes(RawClient c, int id) throws Exception {
    var r = c.open(id, OpenFlags.O_RDONLY, granted.toString());
    assertInstanceOf(OpenedReply.class, r.reply(), () -> "expected a grant: " + r);
    RawClient.close(r.descriptors());
  }

  private static void assertRefusedAndClosed(RawClient c, ErrorCode code) throws Exception {
    var r = c.receive().orElseThrow(() -> new AssertionError("closed without an error frame"));
    ErrorReply e = assertInstanceOf(ErrorReply.class, r.reply());
    assertEquals(code.code(), e.code(), e.toString());
    assertTrue(c.receive().isEmpty(), "the daemon must close after " + code);
  }

  @Test
  void connectionsPerUidOverTheLimitGetLimitExceededThenClose() throws Exception {
    start("max_connections_per_uid = 3\n");
    assertTimeoutPreemptively(
        Duration.ofSeconds(20),
        () -> {
          List<RawClient> held = new ArrayList<>();
          try {
            for (int i = 0; i < 3; i++) {
              RawClient c = new RawClient(daemon.socket());
              held.add(c);
              assertServes(c, i + 1);
            }
            try (RawClient fourth = new RawClient(daemon.socket())) {
              assertRefusedAndClosed(fourth, ErrorCode.LIMIT_EXCEEDED);
            }
            // Every refusal is answered, but a burst of them is one log line, not one each.
            for (int i = 0; i < 200; i++) {
              try (RawClient over = new RawClient(daemon.socket())) {
                assertRefusedAndClosed(over, ErrorCode.LIMIT_EXCEEDED);
              }
            }
            long lines =
                daemon
                    .output()
                    .lines()
                    .filter(l -> l.contains("Could not admit a connection"))
                    .count();
            assertEquals(1, lines, "201 refusals within seconds log one line:\n" + daemon.output());
            // Another uid has its own budget.
            assertEquals("OPENED", openAsNobody(), "uid 65534 is not limited by uid 0's count");
            held.remove(0).close();
            Thread.sleep(300); // the daemon notices the hang-up on its next select
            try (RawClient again = new RawClient(daemon.socket())) {
              assertServes(again, 9);
            }
          } finally {
            for (RawClient c : held) {
              c.close();
            }
          }
        });
  }

  @Test
  void totalConnectionsOverTheLimitGetLimitExceededWhateverTheUid() throws Exception {
    start("max_connections = 4\n");
    assertTimeoutPreemptively(
        Duration.ofSeconds(20),
        () -> {
          List<RawClient> held = new ArrayList<>();
          try {
            for (int i = 0; i < 4; i++) {
              RawClient c = new RawClient(daemon.socket());
              held.add(c);
              assertServes(c, i + 1);
            }
            try (RawClient fifth = new RawClient(daemon.socket())) {
              assertRefusedAndClosed(fifth, ErrorCode.LIMIT_EXCEEDED);
            }
            assertEquals("LIMIT_EXCEEDED", openAsNobody(), "the total counts every uid");
          } finally {
            for (RawClient c : held) {
              c.close();
            }
          }
        });
  }

  @Test
  void requestRateOverTheLimitGetsLimitExceededAndTheConnectionStays() throws Exception {
    start("requests_per_second_per_uid = 20\nrequest_burst_per_uid = 10\n");
    assertTimeoutPreemptively(
        Duration.ofSeconds(20),
        () -> {
          try (RawClient c = new RawClient(daemon.socket())) {
            for (int i = 1; i <= 100; i++) {
              c.send(new OpenRequest(i, OpenFlags.O_RDONLY, 0, granted.toString()));
            }
            int opened = 0;
            int limited = 0;
            for (int i = 0; i < 100; i++) {
              var r = c.receive().orElseThrow();
              switch (r.reply()) {
                case OpenedReply o -> opened++;
                case ErrorReply e -> {
                  assertEquals(ErrorCode.LIMIT_EXCEEDED.code(), e.code(), e.toString());
                  limited++;
                }
                case OpenedManyReply m -> throw new AssertionError("OPENED_MANY for OPEN: " + m);
              }
              RawClient.close(r.descriptors());
            }
            System.out.printf(
                "LimitsIT rate: %d granted, %d LIMIT_EXCEEDED of 100%n", opened, limited);
            assertTrue(
                opened >= 10 && opened <= 20, "burst of 10 plus what 20/s refills: " + opened);
            assertEquals(100, opened + limited);
            Thread.sleep(600);
            assertServes(c, 500); // the budget refills; the connection stayed open
          }
        });
  }

  @Test
  void clientThatNeverReadsIsNoLongerReadFromWhileOthersAreServed() throws Exception {
    start("max_requests_in_flight = 4\n");
    int total = 20_000;
    assertTimeoutPreemptively(
        Duration.ofSeconds(60),
        () -> {
          try (RawClient greedy = new RawClient(daemon.socket());
              RawClient other = new RawClient(daemon.socket())) {
            AtomicInteger written = new AtomicInteger();
            CompletableFuture<Void> writer =
                CompletableFuture.runAsync(
                    () -> {
                      try {
                        ByteBuffer b = ByteBuffer.allocate(Protocol.MAX_FRAME_SIZE);
                        for (int i = 1; i <= total; i++) {
                          b.clear();
                          FrameCodec.encode(new OpenRequest(i, 0, 0, granted.toString()), b);
                          b.flip();
                          while (b.hasRemaining()) {
                            greedy.channel().write(b);
                          }
                          written.incrementAndGet();
                        }
                      } catch (Exception e) {
                        throw new IllegalStateException(e);
                      }
                    });
            Thread.sleep(2000);
            int stalledAt = written.get();
            assertTrue(
                stalledAt < total && !writer.isDone(),
                "the daemon must stop reading from a client that does not read: " + stalledAt);
            long t0 = System.nanoTime();
            for (int i = 1; i <= 50; i++) {
              assertServes(other, i);
            }
            double ms = (System.nanoTime() - t0) / 1e6;
            System.out.printf(
                "LimitsIT in-flight: writer stalled after %d requests; 50 other requests in %.1f"
                    + " ms%n",
                stalledAt, ms);
            assertTrue(ms < 5000, "others are served meanwhile: " + ms + " ms");
            // Now read: every request is answered exactly once, none dropped.
            for (int i = 0; i < total; i++) {
              var r = greedy.receive().orElseThrow();
              assertEquals(i + 1, r.reply().requestId(), "replies in order, none dropped");
              RawClient.close(r.descriptors());
            }
            writer.join();
          }
        });
  }

  @Test
  void oversizeFrameGetsFrameTooLargeThenClose() throws Exception {
    start("");
    assertTimeoutPreemptively(
        Duration.ofSeconds(10),
        () -> {
          try (RawClient c = new RawClient(daemon.socket())) {
            c.send(MalformedInputIT.header(Protocol.MAX_FRAME_SIZE - 3, 1, 1, 0, 1));
            assertRefusedAndClosed(c, ErrorCode.FRAME_TOO_LARGE);
          }
        });
  }

  @Test
  void idleConnectionGetsTimeoutThenClose() throws Exception {
    start("idle_timeout_seconds = 1\n");
    assertTimeoutPreemptively(
        Duration.ofSeconds(10),
        () -> {
          try (RawClient c = new RawClient(daemon.socket())) {
            assertServes(c, 1);
            long t0 = System.nanoTime();
            assertRefusedAndClosed(c, ErrorCode.TIMEOUT);
            double s = (System.nanoTime() - t0) / 1e9;
            assertTrue(s >= 0.9 && s < 4, "idle timeout of 1 s took " + s + " s");
          }
        });
  }

  @Test
  void clientStalledMidFrameGetsTimeoutThenClose() throws Exception {
    start("partial_frame_timeout_seconds = 1\n");
    assertTimeoutPreemptively(
        Duration.ofSeconds(10),
        () -> {
          try (RawClient c = new RawClient(daemon.socket())) {
            byte[] frame = MalformedInputIT.open(1, 0, 0, granted.toString());
            long t0 = System.nanoTime();
            c.send(java.util.Arrays.copyOf(frame, 5));
            assertRefusedAndClosed(c, ErrorCode.TIMEOUT);
            double s = (System.nanoTime() - t0) / 1e9;
            assertTrue(s >= 0.9 && s < 4, "partial-frame timeout of 1 s took " + s + " s");
          }
        });
  }

  @Test
  void clientThatNeverReadsIsDisconnectedAndItsDescriptorsReleased() throws Exception {
    start("partial_frame_timeout_seconds = 1\n");
    assertTimeoutPreemptively(
        Duration.ofSeconds(60),
        () -> {
          try (RawClient warm = new RawClient(daemon.socket())) {
            assertServes(warm, 1);
          }
          Thread.sleep(200);
          int before = daemon.descriptorCount();
          try (RawClient greedy = new RawClient(daemon.socket())) {
            List<OpenManyRequest.Entry> entries = new ArrayList<>();
            for (int i = 0; i < Protocol.MAX_PATHS_PER_REQUEST; i++) {
              entries.add(new OpenManyRequest.Entry(OpenFlags.O_RDONLY, 0, granted.toString()));
            }
            // Writes until the daemon stops reading, then until it hangs up (EPIPE, reset).
            CompletableFuture<Void> writer =
                CompletableFuture.runAsync(
                    () -> {
                      try {
                        for (int id = 1; ; id++) {
                          greedy.send(new OpenManyRequest(id, entries));
                        }
                      } catch (IOException hungUp) {
                        // what must happen
                      }
                    });
            writer.join();
            // The daemon hung up on a client that read nothing: what it held for it is closed.
            long deadline = System.nanoTime() + Duration.ofSeconds(20).toNanos();
            while (daemon.descriptorCount() > before && System.nanoTime() < deadline) {
              Thread.sleep(50);
            }
            assertEquals(before, daemon.descriptorCount(), "its descriptors are released");
          }
          try (RawClient other = new RawClient(daemon.socket())) {
            assertServes(other, 2);
          }
        });
  }

  @Test
  void clientDrippingAFrameIsCutOffAfterThePartialFrameTimeout() throws Exception {
    start("partial_frame_timeout_seconds = 2\n");
    assertTimeoutPreemptively(
        Duration.ofSeconds(60),
        () -> {
          try (RawClient c = new RawClient(daemon.socket())) {
            byte[] frame = MalformedInputIT.open(1, 0, 0, granted.toString());
            // One byte every 0.5 s: never silent for the timeout, yet the frame would take
            // many times the timeout in total.
            CompletableFuture<Void> drip =
                CompletableFuture.runAsync(
                    () -> {
                      try {
                        for (byte b : frame) {
                          c.send(new byte[] {b});
                          Thread.sleep(500);
                        }
                      } catch (IOException | InterruptedException cutOff) {
                        // the daemon hung up
                      }
                    });
            assertTrue(frame.length * 0.5 > 3 * 2, "the frame outlasts the timeout");
            assertRefusedAndClosed(c, ErrorCode.TIMEOUT);
            drip.cancel(true);
          }
        });
  }

  /** One request as uid 65534 on a fresh connection: "OPENED" or the error code's name. */
  private String openAsNobody() throws Exception {
    String script =
        """
        import socket, struct, sys
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.connect(sys.argv[1])
        p = sys.argv[2].encode()
        try:
            s.sendall(struct.pack('<IBBHIIHH', 16 + len(p), 1, 1, 0, 1, 0, 0, len(p)) + p)
        except BrokenPipeError:
            pass  # refused connections are answered and closed before the request is read
        msg, anc, flags, _ = s.recvmsg(4096, socket.CMSG_SPACE(8 * 4))
        if msg[5] == 0x81:
            print('OPENED')
        else:
            code = struct.unpack_from('<H', msg, 12)[0]
            print({10: 'LIMIT_EXCEEDED', 1: 'DENIED'}.get(code, str(code)))
        """;
    Command r =
        Command.asUser(
            65534,
            65534,
            "/usr/bin/python3",
            "-c",
            script,
            daemon.socket().toString(),
            granted.toString());
    assertEquals(0, r.exitCode(), r.stderr());
    return r.stdout().strip();
  }
}
