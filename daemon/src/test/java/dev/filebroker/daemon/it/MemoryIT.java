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
import org.junit.jupiter.api.Test;
import org.newsclub.net.unix.AFUNIXSocket;
import org.newsclub.net.unix.AFUNIXSocketAddress;

/**
 * Resident memory of a daemon started by the build-tree launcher (so with the JVM settings it
 * ships): with no client, and with 10,000 idle connections. Memory bounds are asserted; times are
 * not. Needs root (the daemon runs as root).
 */
class MemoryIT {
  // The goal is 64 MiB with no clients: measured 61.9-62.7 MiB on Temurin 25 (see
  // docs/performance.md, "Memory"). The bound leaves a few MiB for other machines' JVM builds and
  // scheduling, so that a regression shows without the test failing on noise.
  private static final long NO_CLIENTS_LIMIT_KIB = 68 * 1024;
  private static final long IDLE_CONNECTIONS_LIMIT_KIB = 128 * 1024;

  @Test
  void staysWithinItsMemoryBoundsIdleAndWithTenThousandIdleConnections() {
    assertTimeoutPreemptively(
        Duration.ofSeconds(180),
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
            Files.writeString(config, "[limits]\nmax_connections_per_uid = 20000\n");
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
              List<AFUNIXSocket> connections = new ArrayList<>();
              long loaded;
              try {
                for (int i = 0; i < 10_000; i++) {
                  connections.add(AFUNIXSocket.connectTo(AFUNIXSocketAddress.of(socket)));
                }
                // A request on a fresh connection: it is answered once the others are accepted.
                try (RawClient c = new RawClient(socket)) {
                  var r =
                      c.open(1, OpenFlags.O_RDONLY, tree.root().resolve("data/a.txt").toString());
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
                  "daemon RSS: %d KiB (%.1f MiB) with no clients, %d KiB (%.1f MiB) with 10,000"
                      + " idle connections%n",
                  idle, idle / 1024.0, loaded, loaded / 1024.0);
              assertTrue(
                  idle <= NO_CLIENTS_LIMIT_KIB,
                  "RSS with no clients must be at most 68 MiB, was " + idle + " KiB");
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
