package dev.filebroker.daemon.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.filebroker.protocol.ErrorReply;
import dev.filebroker.protocol.OpenFlags;
import dev.filebroker.protocol.OpenRequest;
import dev.filebroker.protocol.OpenedManyReply;
import dev.filebroker.protocol.OpenedReply;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/**
 * An unprivileged attacker (uid 65534) that owns a directory below an allowed prefix swaps path
 * components between real directories and symlinks to a root-only tree (renameat2 RENAME_EXCHANGE
 * on a directory and on the last component, and a plain rename(2) shuffle) while a client asks for
 * files under it 100,000 times, pipelined over four connections. Every descriptor handed out must
 * be one of the inodes the policy grants, checked with fstat.
 *
 * <p>Needs root (chown, setpriv, the daemon) and gcc.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class RenameRaceIT {
  private static final int NOBODY = 65534;
  private static final int REQUESTS = 100_000;
  private static final int CONNECTIONS = 4;
  private static final int BATCH = 64;

  private TestTree tree;
  private DaemonProcess daemon;
  private Path attacker;
  private Path attackerDir;
  private Set<Fds.Inode> allowed;
  private Fds.Inode protectedFile;

  @BeforeAll
  void setUp() throws Exception {
    tree = new TestTree("filebroker-race-");
    Path root = tree.root();
    Path prot = root.resolve("protected");
    tree.file("protected/f", "PROTECTED\n", "rw-------");
    tree.file("protected/g", "PROTECTED\n", "rw-------");
    Files.setPosixFilePermissions(
        prot, java.nio.file.attribute.PosixFilePermissions.fromString("rwx------"));
    attackerDir = tree.dir("att");
    tree.file("att/d/f", "allowed d/f\n", "rw-r--r--");
    tree.file("att/e/g", "allowed e/g\n", "rw-r--r--");
    tree.file("att/r/f", "allowed r/f\n", "rw-r--r--");
    Files.createSymbolicLink(attackerDir.resolve("d.evil"), prot);
    Files.createSymbolicLink(attackerDir.resolve("e/g.evil"), prot.resolve("g"));
    Files.createSymbolicLink(attackerDir.resolve("r.evil"), prot);
    run("chown", "-hR", NOBODY + ":" + NOBODY, attackerDir.toString());
    allowed =
        Set.of(
            Fds.Inode.of(attackerDir.resolve("d/f")),
            Fds.Inode.of(attackerDir.resolve("e/g")),
            Fds.Inode.of(attackerDir.resolve("r/f")));
    protectedFile = Fds.Inode.of(prot.resolve("f"));

    Path source = Path.of(RenameRaceIT.class.getResource("rename_attacker.c").toURI());
    attacker = root.resolve("rename_attacker");
    run("gcc", "-O2", "-Wall", "-Wextra", "-Werror", "-o", attacker.toString(), source.toString());

    daemon =
        Daemons.start(
            tree,
            """
            [[allow]]
            name = "attacker-tree"
            users = [0]
            paths = ["%s/**"]
            access = ["read"]
            """
                .formatted(attackerDir),
            """
            [limits]
            requests_per_second_per_uid = 10000000
            request_burst_per_uid = 1000000
            """);
  }

  @AfterAll
  void tearDown() throws Exception {
    Daemons.stop(daemon, tree);
  }

  private static void run(String... command) throws Exception {
    Command r = Command.run(List.of(command), "");
    assertEquals(0, r.exitCode(), String.join(" ", command) + ": " + r.stdout() + r.stderr());
  }

  @Test
  void noDescriptorOutsideTheGrantWhileComponentsAreSwapped() throws Exception {
    assertTimeoutPreemptively(Duration.ofSeconds(240), this::race);
  }

  private void race() throws Exception {
    Process attack =
        new ProcessBuilder(
                "setpriv",
                "--reuid=" + NOBODY,
                "--regid=" + NOBODY,
                "--clear-groups",
                "--",
                attacker.toString(),
                attackerDir.toString(),
                "200")
            .redirectErrorStream(true)
            .start();
    List<String> paths =
        List.of(
            attackerDir.resolve("d/f").toString(),
            attackerDir.resolve("e/g").toString(),
            attackerDir.resolve("r/f").toString());
    Map<String, AtomicLong> outcomes = new ConcurrentHashMap<>();
    List<String> violations = java.util.Collections.synchronizedList(new ArrayList<>());
    long t0 = System.nanoTime();
    ExecutorService pool = Executors.newFixedThreadPool(CONNECTIONS);
    try {
      List<Future<?>> clients = new ArrayList<>();
      for (int k = 0; k < CONNECTIONS; k++) {
        int connection = k;
        clients.add(
            pool.submit(
                () -> {
                  client(connection, paths, outcomes, violations);
                  return null;
                }));
      }
      for (Future<?> f : clients) {
        f.get();
      }
    } finally {
      pool.shutdownNow();
      // SIGTERM (destroy() would close our end of its output): it prints its count and exits.
      new ProcessBuilder("kill", "-TERM", Long.toString(attack.pid())).start().waitFor();
      if (!attack.waitFor(10, TimeUnit.SECONDS)) {
        attack.destroyForcibly();
      }
    }
    double seconds = (System.nanoTime() - t0) / 1e9;
    String attackerReport =
        new String(attack.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    Map<String, Long> counts = new TreeMap<>();
    outcomes.forEach((k, v) -> counts.put(k, v.get()));
    System.out.printf(
        "RenameRaceIT: %d requests in %.1f s over %d connections: %s; attacker: %s%n",
        REQUESTS, seconds, CONNECTIONS, counts, attackerReport.strip());
    assertEquals(
        List.of(),
        violations.subList(0, Math.min(10, violations.size())),
        "descriptors outside the grant");
    assertEquals(REQUESTS, counts.values().stream().mapToLong(Long::longValue).sum(), "replies");
    assertTrue(attackerReport.contains("swaps"), "the attacker ran: " + attackerReport);
    assertTrue(
        counts.getOrDefault("SYMLINK_IN_PATH", 0L) > 0,
        "the race must actually have been on (some requests met a symlink): " + counts);
  }

  private void client(
      int connection, List<String> paths, Map<String, AtomicLong> outcomes, List<String> violations)
      throws Exception {
    int perConnection = REQUESTS / CONNECTIONS;
    try (RawClient c = new RawClient(daemon.socket())) {
      int sent = 0;
      while (sent < perConnection) {
        int n = Math.min(BATCH, perConnection - sent);
        for (int i = 0; i < n; i++) {
          int id = sent + i + 1;
          c.send(
              new OpenRequest(
                  id, OpenFlags.O_RDONLY, 0, paths.get((id + connection) % paths.size())));
        }
        for (int i = 0; i < n; i++) {
          var r = c.receive().orElseThrow(() -> new AssertionError("daemon closed the connection"));
          String outcome =
              switch (r.reply()) {
                case OpenedReply o -> "OPENED";
                case ErrorReply e -> e.codeName();
                case OpenedManyReply m -> "OPENED_MANY";
              };
          outcomes.computeIfAbsent(outcome, k -> new AtomicLong()).incrementAndGet();
          for (var fd : r.descriptors()) {
            Fds.Inode inode = Fds.inode(fd);
            if (!allowed.contains(inode)) {
              violations.add(
                  "request "
                      + r.reply().requestId()
                      + " got "
                      + inode
                      + (inode.equals(protectedFile) ? " (the protected file)" : ""));
            }
            Fds.close(fd);
          }
        }
        sent += n;
      }
      assertEquals(0, c.strayDescriptors());
    }
  }
}
