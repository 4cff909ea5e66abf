package dev.filebroker.daemon.it;

import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.filebroker.protocol.OpenFlags;
import dev.filebroker.protocol.OpenedReply;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;
import org.newsclub.net.unix.AFUNIXSocket;
import org.newsclub.net.unix.AFUNIXSocketAddress;

/**
 * Resident memory of a daemon started by the build-tree launcher (so with the JVM settings it
 * ships): with no client, before and after 1,000 active connections come and go, and with 10,000
 * idle connections. Memory bounds are asserted; times are not (the steps wait for the serving
 * threads to end, however long that takes). Needs root (the daemon runs as root).
 */
class MemoryIT {
  // The goal is 64 MiB with no clients: measured 61.9-62.7 MiB on Temurin 25 (see
  // docs/performance.md, "Memory"). The bound leaves a few MiB for other machines' JVM builds and
  // scheduling, so that a regression shows without the test failing on noise.
  private static final long NO_CLIENTS_LIMIT_KIB = 68 * 1024;
  private static final long IDLE_CONNECTIONS_LIMIT_KIB = 128 * 1024;

  // After 1,000 active connections have come and gone, within 10 % of before (measured +7 %; +9
  // to +18 % while the stacks of ended threads stayed cached and the heap a single uid's burst
  // grew was kept).
  private static final double AFTER_ACTIVE_LIMIT = 1.10;
  private static final int ACTIVE_CONNECTIONS = 1_000;
  private static final int REQUESTS_PER_CONNECTION = 20;

  @Test
  void staysWithinItsMemoryBoundsIdleAfterActiveConnectionsAndWithTenThousandIdleConnections() {
    assertTimeoutPreemptively(
        Duration.ofSeconds(300),
        () -> {
          try (TestTree tree = new TestTree("filebroker-memory-")) {
            tree.file("data/a.txt", "a\n", "rw-------");
            Path policy = tree.dir("policy");
            Files.writeString(
                policy.resolve("10-test.toml"),
                """
                [[allow]]
                name = "root-reads-data"
                users = [0]
                paths = ["%s/data/*"]
                access = ["read"]
                """
                    .formatted(tree.root()));
            Path config = tree.root().resolve("filebroker.toml");
            Files.writeString(
                config,
                """
                [limits]
                max_connections_per_uid = 20000
                requests_per_second_per_uid = 1000000
                request_burst_per_uid = 100000
                """);
            Path socket = tree.root().resolve("fb.sock");
            Path log = tree.root().resolve("daemon.log");
            List<String> serve =
                List.of(
                    DaemonProcess.home().resolve("filebroker").toString(),
                    "serve",
                    "--config",
                    config.toString(),
                    "--policy",
                    policy.toString(),
                    "--socket",
                    socket.toString());
            // Every start but the first after a build (or an install) maps the class data the
            // first one recorded: start and stop once, as a host does once, then measure.
            Process first =
                new ProcessBuilder(serve)
                    .redirectErrorStream(true)
                    .redirectOutput(log.toFile())
                    .start();
            try {
              awaitListening(first, log);
            } finally {
              first.destroy();
              first.waitFor();
            }
            Files.delete(log);
            Process daemon =
                new ProcessBuilder(serve)
                    .redirectErrorStream(true)
                    .redirectOutput(log.toFile())
                    .start();
            try {
              awaitListening(daemon, log);
              Thread.sleep(2000);
              long idle = rssKib(daemon.pid());
              String file = tree.root().resolve("data/a.txt").toString();
              // Warm, as a host is: a few thousand requests, then the serving threads end.
              activeConnections(socket, file, 2, 2_000);
              awaitNoServingThreads(daemon.pid());
              long before = rssKib(daemon.pid());
              activeConnections(socket, file, ACTIVE_CONNECTIONS, REQUESTS_PER_CONNECTION);
              awaitNoServingThreads(daemon.pid());
              long after = rssKib(daemon.pid());
              List<AFUNIXSocket> connections = new ArrayList<>();
              long loaded;
              try {
                for (int i = 0; i < 10_000; i++) {
                  connections.add(AFUNIXSocket.connectTo(AFUNIXSocketAddress.of(socket)));
                }
                // A request on a fresh connection: it is answered once the others are accepted.
                try (RawClient c = new RawClient(socket)) {
                  var r = c.open(1, OpenFlags.O_RDONLY, file);
                  assertInstanceOf(OpenedReply.class, r.reply());
                  RawClient.close(r.descriptors());
                }
                Thread.sleep(2000);
                loaded = rssKib(daemon.pid());
              } finally {
                for (AFUNIXSocket s : connections) {
                  s.close();
                }
              }
              System.out.printf(
                  "daemon RSS: %d KiB (%.1f MiB) with no clients, %d KiB before and %d KiB after"
                      + " 1,000 active connections (%+.1f %%), %d KiB (%.1f MiB) with 10,000"
                      + " idle connections%n",
                  idle,
                  idle / 1024.0,
                  before,
                  after,
                  (after - before) * 100.0 / before,
                  loaded,
                  loaded / 1024.0);
              assertTrue(
                  idle <= NO_CLIENTS_LIMIT_KIB,
                  "RSS with no clients must be at most 68 MiB, was " + idle + " KiB");
              assertTrue(
                  after <= before * AFTER_ACTIVE_LIMIT,
                  "RSS after 1,000 active connections must be within 10 % of before: "
                      + before
                      + " KiB before, "
                      + after
                      + " KiB after");
              assertTrue(
                  loaded <= IDLE_CONNECTIONS_LIMIT_KIB,
                  "RSS with 10,000 idle connections must be at most 128 MiB, was "
                      + loaded
                      + " KiB");
            } finally {
              daemon.destroy();
              daemon.waitFor();
            }
          }
        });
  }

  /**
   * {@code connections} clients connect, then all at once send {@code requests} opens each, one at
   * a time, and close their connections.
   */
  private static void activeConnections(Path socket, String file, int connections, int requests)
      throws Exception {
    CountDownLatch connected = new CountDownLatch(connections);
    CountDownLatch go = new CountDownLatch(1);
    AtomicReference<Throwable> failure = new AtomicReference<>();
    List<Thread> clients = new ArrayList<>();
    for (int i = 0; i < connections; i++) {
      clients.add(
          Thread.ofPlatform()
              .start(
                  () -> {
                    try (RawClient c = new RawClient(socket)) {
                      connected.countDown();
                      go.await();
                      for (int r = 1; r <= requests; r++) {
                        var reply = c.open(r, OpenFlags.O_RDONLY, file);
                        RawClient.close(reply.descriptors());
                        assertInstanceOf(OpenedReply.class, reply.reply());
                      }
                    } catch (Throwable t) {
                      failure.compareAndSet(null, t);
                      connected.countDown();
                    }
                  }));
    }
    connected.await();
    go.countDown();
    for (Thread t : clients) {
      t.join();
    }
    if (failure.get() != null) {
      throw new AssertionError("a client failed", failure.get());
    }
  }

  /**
   * Waits until the daemon's serving threads have ended (an idle one ends after 10 s; the last one
   * gives back the heap the burst grew), then for its native heap to be trimmed (every second).
   */
  private static void awaitNoServingThreads(long pid) throws Exception {
    Path tasks = Path.of("/proc", Long.toString(pid), "task");
    while (true) {
      boolean serving = false;
      try (var threads = Files.list(tasks)) {
        for (Path t : (Iterable<Path>) threads::iterator) {
          try {
            if (Files.readString(t.resolve("comm")).startsWith("filebroker-serv")) {
              serving = true;
              break;
            }
          } catch (IOException ended) {
            // The thread ended while being looked at.
          }
        }
      }
      if (!serving) {
        break;
      }
      Thread.sleep(200);
    }
    Thread.sleep(2500);
  }

  private static void awaitListening(Process daemon, Path log) throws Exception {
    long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
    while (System.nanoTime() < deadline) {
      if (Files.exists(log)
          && Files.readString(log, StandardCharsets.UTF_8).contains("listening on")) {
        return;
      }
      if (!daemon.isAlive()) {
        throw new IllegalStateException("daemon exited:\n" + Files.readString(log));
      }
      Thread.sleep(20);
    }
    throw new IllegalStateException("daemon did not listen in time:\n" + Files.readString(log));
  }

  /** VmRSS of a process from /proc/PID/status, in KiB. */
  private static long rssKib(long pid) throws IOException {
    for (String line : Files.readAllLines(Path.of("/proc", Long.toString(pid), "status"))) {
      if (line.startsWith("VmRSS:")) {
        return Long.parseLong(line.replaceAll("[^0-9]", ""));
      }
    }
    throw new IOException("no VmRSS in /proc/" + pid + "/status");
  }
}
