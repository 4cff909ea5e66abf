package dev.filebroker.daemon.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.filebroker.protocol.ErrorCode;
import dev.filebroker.protocol.ErrorReply;
import dev.filebroker.protocol.OpenFlags;
import dev.filebroker.protocol.OpenedReply;
import java.io.FileInputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.newsclub.net.unix.AFUNIXSocket;
import org.newsclub.net.unix.AFUNIXSocketAddress;

/**
 * The whole path, for real: a daemon process, a policy on disk, clients running as another uid over
 * the real socket. Needs root (to run the daemon and to switch users with setpriv).
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class BrokerEndToEndIT {
  private static final int NOBODY = 65534;
  private static final String SECRET = "root-only secret\n";

  private TestTree tree;
  private DaemonProcess daemon;
  private Path client;
  private Path javaClient;

  /** Copies the built jar and its libraries where an unprivileged user can read them. */
  private static Path copyDaemonJar(Path target) throws Exception {
    Path jar = DaemonProcess.jar();
    Files.copy(jar, target.resolve(jar.getFileName()));
    Path lib = Files.createDirectories(target.resolve("lib"));
    try (var libs = Files.list(jar.resolveSibling("lib"))) {
      for (Path l : libs.toList()) {
        Files.copy(l, lib.resolve(l.getFileName()));
      }
    }
    new ProcessBuilder("chmod", "-R", "a+rX", target.toString()).start().waitFor();
    return target.resolve(jar.getFileName());
  }

  private Command javaClientAsNobody(String input, String... args) throws Exception {
    List<String> cmd =
        new ArrayList<>(
            List.of(
                DaemonProcess.java(),
                "--enable-native-access=ALL-UNNAMED",
                "-jar",
                javaClient.toString(),
                "open",
                "--socket",
                daemon.socket().toString()));
    cmd.addAll(List.of(args));
    return Command.asUserWithInput(NOBODY, NOBODY, input, cmd.toArray(String[]::new));
  }

  @Test
  void openCommandAsOtherUserCopiesGrantedFileToStdout() throws Exception {
    Command r = javaClientAsNobody("", path("secret.txt"));
    assertEquals(0, r.exitCode(), r.stderr());
    assertEquals(SECRET, r.stdout());
  }

  @Test
  void openCommandAsOtherUserCreatesAndWritesFile() throws Exception {
    Command r =
        javaClientAsNobody(
            "written by nobody\n",
            "--access",
            "write",
            "--create",
            "--mode",
            "0644",
            "--truncate",
            path("out/new.txt"));
    assertEquals(0, r.exitCode(), r.stderr());
    Path created = tree.root().resolve("out/new.txt");
    assertEquals("written by nobody\n", Files.readString(created));
    assertEquals(
        "rw-r-----",
        java.nio.file.attribute.PosixFilePermissions.toString(
            Files.getPosixFilePermissions(created)));
  }

  @Test
  void openCommandTakesAccessWordsAndTruncatesLikeTheShell() throws Exception {
    Path file = tree.root().resolve("out/words.txt");
    Files.writeString(file, "a longer old content than the new one\n");
    Command r = javaClientAsNobody("NEW\n", "--access", "write,create,truncate", file.toString());
    assertEquals(0, r.exitCode(), r.stderr());
    assertEquals("NEW\n", Files.readString(file));
  }

  @Test
  void openCommandExclusiveCreatesOnlyAFileThatDoesNotExist() throws Exception {
    Path fresh = tree.root().resolve("out/exclusive.txt");
    Command made = javaClientAsNobody("fresh\n", "--access", "write,exclusive", fresh.toString());
    assertEquals(0, made.exitCode(), made.stderr());
    assertEquals("fresh\n", Files.readString(fresh));
    Command again =
        javaClientAsNobody("lost\n", "--access", "write", "--exclusive", fresh.toString());
    assertEquals(2, again.exitCode(), again.stderr());
    assertTrue(
        again
            .stderr()
            .startsWith("filebroker: " + fresh + ": ALREADY_EXISTS: the file already exists ("),
        again.stderr());
    assertEquals("fresh\n", Files.readString(fresh), "an exclusive create never opens a file");
  }

  @Test
  void openCommandRefusesAnUnknownAccessWordByName() throws Exception {
    Command r = javaClientAsNobody("", "--access", "rw", path("secret.txt"));
    assertEquals(2, r.exitCode(), r.stderr());
    assertTrue(
        r.stderr()
            .contains(
                "unknown access 'rw'; expected one of read, write, read-write, append, create,"
                    + " truncate, exclusive"),
        r.stderr());
  }

  @Test
  void openCommandReportsDenialWithExitStatusTwo() throws Exception {
    Command r = javaClientAsNobody("", "--access", "write", path("secret.txt"));
    assertEquals(2, r.exitCode(), r.stderr());
    assertTrue(
        r.stderr()
            .startsWith("filebroker: " + path("secret.txt") + ": DENIED: no allow rule grants"),
        r.stderr());
  }

  @Test
  void openCommandNamesTheErrorCodeAndSaysInWordsWhatFailed() throws Exception {
    Command missing = javaClientAsNobody("", path("data/no-such-file.txt"));
    assertEquals(2, missing.exitCode(), missing.stderr());
    assertEquals(
        "filebroker: "
            + path("data/no-such-file.txt")
            + ": NOT_FOUND: no such file or directory (openat2: ENOENT)\n",
        missing.stderr());
    Command link = javaClientAsNobody("", path("data/link.txt"));
    assertEquals(2, link.exitCode(), link.stderr());
    assertTrue(
        link.stderr()
            .startsWith(
                "filebroker: "
                    + path("data/link.txt")
                    + ": SYMLINK_IN_PATH: a component of the path is a symbolic link"),
        link.stderr());
  }

  @Test
  void openCommandExitsOneWhenTheDaemonCannotBeReached() throws Exception {
    List<String> cmd =
        List.of(
            DaemonProcess.java(),
            "--enable-native-access=ALL-UNNAMED",
            "-jar",
            javaClient.toString(),
            "open",
            "--socket",
            tree.root().resolve("no-daemon.sock").toString(),
            path("secret.txt"));
    Command r = Command.asUser(NOBODY, NOBODY, cmd.toArray(String[]::new));
    assertEquals(1, r.exitCode(), r.stderr());
    assertTrue(r.stderr().contains("no-daemon.sock"), r.stderr());
  }

  @BeforeAll
  void startDaemon() throws Exception {
    tree = new TestTree("filebroker-e2e-");
    Path root = tree.root();
    tree.file("secret.txt", SECRET, "rw-------");
    tree.file("not-granted.txt", "nobody may have this\n", "rw-------");
    tree.file("data/plain.txt", "plain\n", "rw-------");
    tree.dir("data/subdir");
    Files.createSymbolicLink(root.resolve("data/link.txt"), root.resolve("secret.txt"));
    Files.createSymbolicLink(root.resolve("data/dirlink"), Path.of("/etc"));
    new ProcessBuilder("mkfifo", root.resolve("data/fifo").toString()).start().waitFor();
    Path policy = tree.dir("policy");
    Files.writeString(
        policy.resolve("10-test.toml"),
        """
        [[allow]]
        name = "nobody-reads-secret"
        users = [65534, 0]
        paths = ["%1$s/secret.txt", "%1$s/data/**"]
        access = ["read"]

        [[allow]]
        name = "nobody-writes-out"
        users = [65534]
        paths = ["%1$s/out/*.txt"]
        access = ["write", "create", "truncate"]
        create_mode = "0640"
        """
            .formatted(root));
    tree.dir("out");
    javaClient = copyDaemonJar(tree.dir("jar"));
    client = tree.executable(DaemonProcess.home().resolve("examples/python/fbopen.py"));
    Path config = root.resolve("filebroker.toml");
    // The idle-connection test holds 10,000 connections from one uid, and the descriptor-count
    // test sends 10,000 requests back to back, faster than the default rate of one uid allows
    // (the rate itself is LimitsIT's subject).
    Files.writeString(
        config,
        "[limits]\nmax_connections_per_uid = 20000\n"
            + "requests_per_second_per_uid = 10000000\nrequest_burst_per_uid = 100000\n");
    daemon =
        DaemonProcess.start(
            root,
            root.resolve("broker.sock"),
            "--config",
            config.toString(),
            "--policy",
            policy.toString());
  }

  @AfterAll
  void stopDaemon() throws Exception {
    Daemons.stop(daemon, tree);
  }

  private Command openAsNobody(String... args) throws Exception {
    List<String> cmd = new ArrayList<>(List.of("/usr/bin/python3", client.toString(), "--socket"));
    cmd.add(daemon.socket().toString());
    cmd.addAll(List.of(args));
    return Command.asUser(NOBODY, NOBODY, cmd.toArray(String[]::new));
  }

  private String path(String relative) {
    return tree.root().resolve(relative).toString();
  }

  @Test
  void grantsRootOnlyFileToOtherUser() throws Exception {
    Command direct = Command.asUser(NOBODY, NOBODY, "cat", path("secret.txt"));
    assertNotEquals(0, direct.exitCode(), "nobody must not be able to read the file directly");

    Command brokered = openAsNobody(path("secret.txt"));
    assertEquals(0, brokered.exitCode(), brokered.stderr());
    assertEquals(SECRET, brokered.stdout());
  }

  @Test
  void deniesFileNoRuleGrants() throws Exception {
    assertRefused(openAsNobody(path("not-granted.txt")), ErrorCode.DENIED);
  }

  @Test
  void deniesWriteOnReadOnlyRule() throws Exception {
    assertRefused(openAsNobody("--access", "write", path("secret.txt")), ErrorCode.DENIED);
  }

  @Test
  void refusesSymlinkedFile() throws Exception {
    assertRefused(openAsNobody(path("data/link.txt")), ErrorCode.SYMLINK_IN_PATH);
  }

  @Test
  void refusesPathThroughSymlinkedDirectory() throws Exception {
    assertRefused(openAsNobody(path("data/dirlink/hostname")), ErrorCode.SYMLINK_IN_PATH);
  }

  @Test
  void refusesDotDot() throws Exception {
    assertRefused(openAsNobody(path("data") + "/../secret.txt"), ErrorCode.INVALID_PATH);
  }

  @Test
  void refusesRelativePath() throws Exception {
    assertRefused(openAsNobody("secret.txt"), ErrorCode.INVALID_PATH);
  }

  @Test
  void refusesDirectoryUnderRegularFileRule() throws Exception {
    assertRefused(openAsNobody(path("data/subdir")), ErrorCode.WRONG_FILE_TYPE);
  }

  @Test
  void refusesFifoWithoutStallingOthers() throws Exception {
    assertTimeoutPreemptively(
        Duration.ofSeconds(20),
        () -> {
          CompletableFuture<Command> fifo =
              CompletableFuture.supplyAsync(
                  () -> {
                    try {
                      return openAsNobody(path("data/fifo"));
                    } catch (Exception e) {
                      throw new IllegalStateException(e);
                    }
                  });
          Command other = openAsNobody(path("secret.txt"));
          assertEquals(0, other.exitCode(), other.stderr());
          assertRefused(fifo.join(), ErrorCode.WRONG_FILE_TYPE);
        });
  }

  @Test
  void deniedRequestKeepsConnectionOpen() throws Exception {
    assertTimeoutPreemptively(
        Duration.ofSeconds(10),
        () -> {
          try (RawClient c = new RawClient(daemon.socket())) {
            var denied = c.open(7, OpenFlags.O_RDONLY, path("not-granted.txt"));
            assertEquals(7, denied.reply().requestId());
            assertEquals(
                ErrorCode.DENIED.code(), assertInstanceOf(ErrorReply.class, denied.reply()).code());
            var granted = c.open(8, OpenFlags.O_RDONLY, path("secret.txt"));
            assertInstanceOf(OpenedReply.class, granted.reply());
            assertEquals(8, granted.reply().requestId());
            try (FileInputStream f = new FileInputStream(granted.descriptors().get(0))) {
              assertEquals(SECRET, new String(f.readAllBytes(), StandardCharsets.UTF_8));
            }
          }
        });
  }

  @Test
  void malformedFrameGetsProtocolErrorThenClose() throws Exception {
    assertTimeoutPreemptively(
        Duration.ofSeconds(10),
        () -> {
          try (RawClient c = new RawClient(daemon.socket())) {
            // Length 8, version 9: a well-sized header with an unsupported version.
            c.send(new byte[] {8, 0, 0, 0, 9, 1, 0, 0, 5, 0, 0, 0});
            var reply = c.receive().orElseThrow();
            ErrorReply error = assertInstanceOf(ErrorReply.class, reply.reply());
            assertEquals(ErrorCode.UNSUPPORTED_VERSION.code(), error.code());
            assertTrue(c.receive().isEmpty(), "connection must be closed after a protocol error");
          }
        });
  }

  @Test
  void descriptorCountUnchangedAfterTenThousandGrants() throws Exception {
    assertTimeoutPreemptively(
        Duration.ofSeconds(120),
        () -> {
          // Warm up so lazily opened descriptors (log files, jars) exist before the baseline.
          try (RawClient c = new RawClient(daemon.socket())) {
            RawClient.close(c.open(1, OpenFlags.O_RDONLY, path("secret.txt")).descriptors());
          }
          Thread.sleep(200);
          int before = daemon.descriptorCount();
          try (RawClient c = new RawClient(daemon.socket())) {
            for (int i = 1; i <= 10_000; i++) {
              var r =
                  c.open(i, OpenFlags.O_RDONLY, path(i % 2 == 0 ? "secret.txt" : "data/plain.txt"));
              assertInstanceOf(OpenedReply.class, r.reply(), () -> "request " + r);
              RawClient.close(r.descriptors());
            }
            for (int i = 0; i < 100; i++) {
              var r = c.open(i + 1, OpenFlags.O_RDONLY, path("not-granted.txt"));
              assertInstanceOf(ErrorReply.class, r.reply());
            }
            assertEquals(0, c.strayDescriptors());
          }
          Thread.sleep(500);
          assertEquals(before, daemon.descriptorCount(), "daemon descriptors after 10,000 grants");
        });
  }

  @Test
  void tenThousandIdleConnectionsDoNotDelayAnActiveClient() throws Exception {
    assertTimeoutPreemptively(
        Duration.ofSeconds(120),
        () -> {
          List<AFUNIXSocket> idle = new ArrayList<>();
          try {
            for (int i = 0; i < 10_000; i++) {
              idle.add(AFUNIXSocket.connectTo(AFUNIXSocketAddress.of(daemon.socket())));
            }
            long[] nanos = new long[200];
            long first;
            try (RawClient c = new RawClient(daemon.socket())) {
              // The first request also waits for the daemon to accept the connects queued ahead of
              // it.
              long t0 = System.nanoTime();
              RawClient.close(c.open(1, OpenFlags.O_RDONLY, path("secret.txt")).descriptors());
              first = System.nanoTime() - t0;
              for (int i = 0; i < nanos.length; i++) {
                t0 = System.nanoTime();
                var r = c.open(i + 2, OpenFlags.O_RDONLY, path("secret.txt"));
                nanos[i] = System.nanoTime() - t0;
                assertInstanceOf(OpenedReply.class, r.reply());
                RawClient.close(r.descriptors());
              }
            }
            java.util.Arrays.sort(nanos);
            System.out.printf(
                "10,000 idle connections: first request %.2f ms; next 200: p50 %.3f ms, p99 %.3f"
                    + " ms, max %.3f ms%n",
                first / 1e6, nanos[100] / 1e6, nanos[197] / 1e6, nanos[199] / 1e6);
          } finally {
            for (AFUNIXSocket s : idle) {
              s.close();
            }
          }
        });
  }

  private static void assertRefused(Command result, ErrorCode expected) {
    assertEquals(2, result.exitCode(), "exit status; stderr: " + result.stderr());
    assertTrue(
        result.stderr().startsWith(expected.name() + " "),
        "expected " + expected + ", got: " + result.stderr());
  }
}
