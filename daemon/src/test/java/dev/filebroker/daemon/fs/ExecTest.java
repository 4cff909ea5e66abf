package dev.filebroker.daemon.fs;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.FileDescriptor;
import java.io.FileInputStream;
import java.io.FileOutputStream;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Real processes started with posix_spawn; each test has a timeout in case a child hangs. */
class ExecTest {
  private static final Duration TIMEOUT = Duration.ofSeconds(30);

  @TempDir Path temp;

  private ExitStatus run(String command, List<String> args, Map<Integer, FileDescriptor> fds) {
    return assertTimeoutPreemptively(
        TIMEOUT,
        () -> {
          SpawnOutcome outcome = Exec.spawn(command, args, fds);
          SpawnOutcome.Started started =
              assertInstanceOf(SpawnOutcome.Started.class, outcome, outcome.toString());
          try (Child child = started.child()) {
            return child.waitFor();
          }
        });
  }

  private Path file(String name, String content) throws IOException {
    return Files.writeString(temp.resolve(name), content);
  }

  @Test
  void childReadsDescriptorsPlacedAtThreeAndZero() throws IOException {
    Path out = file("out", "");
    try (FileInputStream three = new FileInputStream(file("three", "at three,").toFile());
        FileInputStream zero = new FileInputStream(file("zero", "at zero").toFile());
        FileOutputStream one = new FileOutputStream(out.toFile())) {
      ExitStatus status =
          run(
              "/bin/sh",
              List.of("-c", "cat <&3; cat"),
              Map.of(3, three.getFD(), 0, zero.getFD(), 1, one.getFD()));
      assertEquals(new ExitStatus.Exited(0), status);
    }
    assertEquals("at three,at zero", Files.readString(out));
  }

  @Test
  void targetsThatAreSourceNumbersAreNotOverwrittenBeforeTheyAreCopied() throws IOException {
    Path out = file("out", "");
    try (FileInputStream a = new FileInputStream(file("a", "A").toFile());
        FileInputStream b = new FileInputStream(file("b", "B").toFile());
        FileOutputStream one = new FileOutputStream(out.toFile())) {
      int fdA = Descriptors.fdOf(a.getFD());
      int fdB = Descriptors.fdOf(b.getFD());
      // Swapped: A goes to B's number and B to A's.
      ExitStatus status =
          run(
              "cat",
              List.of("/proc/self/fd/" + fdA, "/proc/self/fd/" + fdB),
              Map.of(fdB, a.getFD(), fdA, b.getFD(), 1, one.getFD()));
      assertEquals(new ExitStatus.Exited(0), status);
    }
    assertEquals("BA", Files.readString(out));
  }

  @Test
  void onlyTargetsAndStandardDescriptorsReachTheChild() throws IOException {
    Path out = file("out", "");
    try (FileInputStream a = new FileInputStream(file("a", "A").toFile());
        FileOutputStream one = new FileOutputStream(out.toFile())) {
      // 900 leaves hundreds of numbers below it that are not open, which the child closes too.
      ExitStatus status =
          run(
              "ls",
              List.of("/proc/self/fd"),
              Map.of(3, a.getFD(), 7, a.getFD(), 900, a.getFD(), 1, one.getFD()));
      assertEquals(new ExitStatus.Exited(0), status);
    }
    Set<String> fds = new TreeSet<>(Files.readString(out).lines().toList());
    assertTrue(fds.containsAll(Set.of("0", "1", "2", "3", "7", "900")), fds.toString());
    fds.removeAll(Set.of("0", "1", "2", "3", "7", "900"));
    assertTrue(fds.size() <= 1, "only ls's own directory descriptor may remain: " + fds);
  }

  @Test
  void childStartsWithNoSignalBlockedOrIgnoredButThoseTheJvmWasToldToIgnore() throws IOException {
    Path out = file("out", "");
    try (FileOutputStream one = new FileOutputStream(out.toFile())) {
      ExitStatus status =
          run("grep", List.of("-E", "^Sig(Blk|Ign)", "/proc/self/status"), Map.of(1, one.getFD()));
      assertEquals(new ExitStatus.Exited(0), status);
    }
    // SIGHUP, SIGINT, SIGQUIT, SIGTERM: ignored in the child only when the JVM ignores them
    // (when the build runs under nohup, for example).
    long kept = sigIgn(Files.readString(Path.of("/proc/self/status"))) & 0x4007L;
    String child = Files.readString(out);
    assertEquals(0L, sigBlk(child), "the JVM blocks SIGQUIT in its threads: " + child);
    assertEquals(kept, sigIgn(child), child);
  }

  private static long sigIgn(String status) {
    return field(status, "SigIgn:");
  }

  private static long sigBlk(String status) {
    return field(status, "SigBlk:");
  }

  private static long field(String status, String name) {
    return status
        .lines()
        .filter(l -> l.startsWith(name))
        .map(l -> Long.parseUnsignedLong(l.substring(name.length()).strip(), 16))
        .findFirst()
        .orElseThrow();
  }

  @Test
  void spawnClosesItsCopiesOfTheDescriptors() throws IOException {
    try (FileInputStream a = new FileInputStream(file("a", "A").toFile())) {
      int before = Descriptors.openDescriptorCount();
      assertTimeoutPreemptively(
          TIMEOUT,
          () -> {
            SpawnOutcome.Started started =
                assertInstanceOf(
                    SpawnOutcome.Started.class,
                    Exec.spawn("true", List.of(), Map.of(3, a.getFD(), 4, a.getFD())));
            try (Child child = started.child()) {
              assertEquals(before + 1, Descriptors.openDescriptorCount(), "only the pidfd is new");
              assertEquals(new ExitStatus.Exited(0), child.waitFor());
              assertEquals(before, Descriptors.openDescriptorCount(), "the pidfd is closed");
            }
          });
    }
  }

  @Test
  void reportsTheChildsExitCode() {
    ExitStatus status = run("sh", List.of("-c", "exit 7"), Map.of());
    assertEquals(new ExitStatus.Exited(7), status);
    assertEquals(7, status.shellStatus());
  }

  @Test
  void reportsTheKillingSignalAs128Plus() {
    ExitStatus status = run("sh", List.of("-c", "kill -TERM $$"), Map.of());
    assertEquals(new ExitStatus.Killed(15), status);
    assertEquals(143, status.shellStatus());
  }

  @Test
  void signalReachesTheChildUntilItIsReaped() {
    assertTimeoutPreemptively(
        TIMEOUT,
        () -> {
          SpawnOutcome.Started started =
              assertInstanceOf(
                  SpawnOutcome.Started.class, Exec.spawn("sleep", List.of("30"), Map.of()));
          try (Child child = started.child()) {
            assertTrue(child.signal(2), "SIGINT sent");
            assertEquals(new ExitStatus.Killed(2), child.waitFor());
            assertEquals(false, child.signal(15), "no signal after the child is reaped");
          }
        });
  }

  @Test
  void unknownCommandFailsWithEnoentAnd127() {
    SpawnOutcome outcome = Exec.spawn("no-such-command-here", List.of(), Map.of());
    SpawnOutcome.Failed failed = assertInstanceOf(SpawnOutcome.Failed.class, outcome);
    assertEquals(Errno.ENOENT, failed.errno());
    assertEquals(127, failed.shellStatus());
    assertEquals("Could not execute no-such-command-here: ENOENT", failed.message());
  }

  @Test
  void unexecutableCommandFailsWithEaccesAnd126() throws IOException {
    Path script = file("script", "#!/bin/sh\nexit 0\n");
    Files.setPosixFilePermissions(script, PosixFilePermissions.fromString("rw-r--r--"));
    SpawnOutcome outcome = Exec.spawn(script.toString(), List.of(), Map.of());
    SpawnOutcome.Failed failed = assertInstanceOf(SpawnOutcome.Failed.class, outcome);
    assertEquals(Errno.EACCES, failed.errno());
    assertEquals(126, failed.shellStatus());
  }

  @Test
  void invalidDescriptorIsAFailureNotASpawn() {
    SpawnOutcome outcome = Exec.spawn("true", List.of(), Map.of(3, new FileDescriptor()));
    SpawnOutcome.Failed failed = assertInstanceOf(SpawnOutcome.Failed.class, outcome);
    assertEquals("Could not copy the descriptor for 3: EBADF", failed.message());
    assertEquals(125, failed.shellStatus(), "a failure before the command is filebroker's own");
  }

  @Test
  void refusesTargetOutOfRange() {
    IllegalArgumentException e =
        assertThrows(
            IllegalArgumentException.class,
            () -> Exec.spawn("true", List.of(), Map.of(1024, FileDescriptor.in)));
    assertEquals("descriptor number must be 0 to 1023: 1024", e.getMessage());
  }

  @Test
  void searchSkipsDirectoriesWithoutTheCommandAndFindsTheFirstExecutable() throws IOException {
    Path empty = Files.createDirectory(temp.resolve("empty"));
    Path bin = Files.createDirectory(temp.resolve("bin"));
    Path tool = file("bin/tool", "#!/bin/sh\n");
    Files.setPosixFilePermissions(tool, PosixFilePermissions.fromString("rwxr-xr-x"));
    String path = "/nonexistent:" + empty + ":" + bin;
    assertEquals(Optional.of(bin + "/tool"), Exec.program("tool", Optional.of(path)));
    assertEquals(Optional.empty(), Exec.program("absent", Optional.of(path)));
    assertEquals(Optional.of("./x/tool"), Exec.program("./x/tool", Optional.of(path)));
  }

  @Test
  void emptyPathEntryMeansTheCurrentDirectory() {
    assertEquals(List.of("/a/cmd", "./cmd"), Exec.candidates("cmd", Optional.of("/a:")));
  }
}
