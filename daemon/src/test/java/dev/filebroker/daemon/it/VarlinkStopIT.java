package dev.filebroker.daemon.it;

import static dev.filebroker.daemon.it.VarlinkMessages.GET_INFO;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.newsclub.net.unix.AFUNIXSocketAddress;
import org.newsclub.net.unix.AFUNIXSocketChannel;

/**
 * A daemon stopping with Varlink connections open: it answers what each client sent before the
 * SIGTERM, including connections still waiting in the backlog, and exits with its clean status
 * without waiting out its stop deadlines. One daemon per test, each ended by the test. Needs root.
 */
class VarlinkStopIT {
  private static final Duration TIMEOUT = Duration.ofSeconds(60);
  private TestTree tree;
  private DaemonProcess daemon;
  private Path varlinkSocket;

  private void start() throws Exception {
    tree = new TestTree("filebroker-varlink-stop-");
    varlinkSocket = tree.root().resolve("io.filebroker.Broker");
    daemon =
        Daemons.start(
            tree,
            """
            [[allow]]
            name = "nobody-reads-nothing-here"
            users = [65534]
            paths = ["%s/none"]
            access = ["read"]
            """
                .formatted(tree.root()),
            """
            varlink_socket = "%s"

            [limits]
            requests_per_second_per_uid = 10000000
            request_burst_per_uid = 10000000
            """
                .formatted(varlinkSocket));
  }

  @AfterEach
  void stop() throws Exception {
    if (daemon != null) {
      // A test that failed while the daemon was stopped; one that exited has nothing to resume.
      new ProcessBuilder("kill", "-CONT", Long.toString(daemon.pid())).start().waitFor();
    }
    Daemons.stop(daemon, tree);
  }

  /**
   * The client writes a long run of calls while a thread of its own reads every reply, so the
   * daemon's connection is answering, not waiting to write, when SIGTERM lands right after the last
   * call went out; every call gets its reply before the connection ends. Before, the drain could
   * take the stop's wake-up for "nothing to read" and drop the calls still waiting in the socket.
   */
  @Test
  void aClientReadingThroughoutGetsAReplyToEveryCallSentBeforeTheStop() {
    assertTimeoutPreemptively(
        TIMEOUT,
        () -> {
          start();
          try (AFUNIXSocketChannel c = varlink()) {
            AtomicLong replies = new AtomicLong();
            CompletableFuture<Void> reader =
                CompletableFuture.runAsync(
                    () -> {
                      ByteBuffer in = ByteBuffer.allocate(1 << 16);
                      try {
                        while (c.read(in.clear()) > 0) {
                          in.flip();
                          while (in.hasRemaining()) {
                            if (in.get() == 0) {
                              replies.incrementAndGet();
                            }
                          }
                        }
                      } catch (IOException e) {
                        throw new IllegalStateException(e);
                      }
                    });
            int calls = 20_000;
            ByteBuffer out = ByteBuffer.allocate(GET_INFO.length * calls);
            while (out.hasRemaining()) {
              out.put(GET_INFO);
            }
            out.flip();
            while (out.hasRemaining()) {
              c.write(out);
            }
            daemon.signal("TERM");
            reader.join();
            assertEquals(calls, replies.get(), "calls sent before the stop, and replies");
          }
          assertEquals(0, daemon.awaitExit(Duration.ofSeconds(20)), daemon.output());
          assertFalse(Files.exists(varlinkSocket), "the Varlink socket is removed");
        });
  }

  /**
   * One connection open and idle, and clients that connected and called while the daemon was
   * stopped (SIGSTOP), so that they wait in the backlog when SIGTERM lands: each backlog client is
   * answered, the idle connection is closed, and the daemon exits 0 without saying that its
   * acceptor or a connection did not stop in time. Before, the stop held the lock the acceptor and
   * every closing connection needed, so it waited out both of its deadlines.
   */
  @Test
  void aStopWithAnOpenConnectionAndABacklogAnswersTheBacklogAndEndsCleanly() {
    assertTimeoutPreemptively(
        TIMEOUT,
        () -> {
          start();
          List<AFUNIXSocketChannel> backlog = new ArrayList<>();
          try (AFUNIXSocketChannel idle = varlink()) {
            assertEquals(0, call(idle), "the idle connection was served");
            daemon.signal("STOP");
            for (int i = 0; i < 20; i++) {
              AFUNIXSocketChannel c = varlink();
              backlog.add(c);
              c.write(ByteBuffer.wrap(GET_INFO));
            }
            daemon.signal("TERM");
            daemon.signal("CONT");
            for (int i = 0; i < backlog.size(); i++) {
              assertEquals(1, replies(backlog.get(i)), "backlog client " + i + " is answered");
            }
            assertEquals(-1, idle.read(ByteBuffer.allocate(16)), "the idle connection is closed");
          } finally {
            for (AFUNIXSocketChannel c : backlog) {
              c.close();
            }
          }
          assertEquals(0, daemon.awaitExit(Duration.ofSeconds(20)), daemon.output());
          String output = daemon.output();
          assertFalse(output.contains("did not stop in time"), output);
          assertFalse(output.contains("did not close in time"), output);
        });
  }

  private AFUNIXSocketChannel varlink() throws IOException {
    return AFUNIXSocketChannel.open(AFUNIXSocketAddress.of(varlinkSocket));
  }

  /** Sends one call and reads up to its reply; how many replies were errors (0 or 1). */
  private static int call(AFUNIXSocketChannel c) throws IOException {
    c.write(ByteBuffer.wrap(GET_INFO));
    return VarlinkMessages.readReply(c).contains("\"error\"") ? 1 : 0;
  }

  /** Reads until the end of the stream; how many replies without an error came. */
  private static int replies(AFUNIXSocketChannel c) throws IOException {
    ByteBuffer in = ByteBuffer.allocate(1 << 16);
    while (c.read(in) >= 0) {
      if (!in.hasRemaining()) {
        throw new IOException("more than expected");
      }
    }
    String text = new String(in.array(), 0, in.position(), StandardCharsets.UTF_8);
    assertFalse(text.contains("\"error\""), text);
    int n = 0;
    for (int i = 0; i < in.position(); i++) {
      if (in.get(i) == 0) {
        n++;
      }
    }
    assertTrue(n > 0 || text.isEmpty(), text);
    return n;
  }
}
