package dev.filebroker.daemon.fs;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Inspects real child processes. Reading another process's exe link needs root (CI runs as root).
 */
class PeerProcessTest {
  @TempDir Path temp;

  private static int pidfdOf(Process process) {
    int pidfd = LibC.pidfdOpen((int) process.pid());
    assertTrue(pidfd >= 0, "pidfd_open: " + Errno.name(-pidfd));
    return pidfd;
  }

  @Test
  void readsExecutableOfLiveChild() throws IOException, InterruptedException {
    Process sleep = new ProcessBuilder("sleep", "30").start();
    int pidfd = pidfdOf(sleep);
    try {
      Optional<PeerProcess> process = PeerProcess.inspect((int) sleep.pid(), pidfd);
      assertTrue(process.isPresent(), "a live child must be inspectable");
      String expected = Path.of("/usr/bin/sleep").toRealPath().toString();
      assertEquals(Optional.of(expected), process.get().executable());
      assertEquals(sleep.pid(), process.get().pid());
    } finally {
      sleep.destroyForcibly();
      sleep.waitFor(10, TimeUnit.SECONDS);
      Descriptors.close(pidfd);
    }
  }

  @Test
  void returnsEmptyAfterChildIsReaped() throws IOException, InterruptedException {
    Process sleep = new ProcessBuilder("sleep", "30").start();
    int pidfd = pidfdOf(sleep);
    try {
      sleep.destroyForcibly();
      assertTrue(sleep.waitFor(10, TimeUnit.SECONDS), "child must exit");
      assertEquals(Optional.empty(), PeerProcess.inspect((int) sleep.pid(), pidfd));
    } finally {
      Descriptors.close(pidfd);
    }
  }

  @Test
  void refusesPidfdOfAnotherProcess() throws IOException, InterruptedException {
    Process first = new ProcessBuilder("sleep", "30").start();
    Process second = new ProcessBuilder("sleep", "30").start();
    int pidfd = pidfdOf(second);
    try {
      assertEquals(Optional.empty(), PeerProcess.inspect((int) first.pid(), pidfd));
    } finally {
      first.destroyForcibly();
      second.destroyForcibly();
      first.waitFor(10, TimeUnit.SECONDS);
      second.waitFor(10, TimeUnit.SECONDS);
      Descriptors.close(pidfd);
    }
  }

  @Test
  void readsOwnUnitWhenInOne() throws IOException {
    int self = (int) ProcessHandle.current().pid();
    int pidfd = LibC.pidfdOpen(self);
    try {
      PeerProcess process = PeerProcess.inspect(self, pidfd).orElseThrow();
      assertEquals(
          PeerProcess.unitOfCgroupFile(Files.readString(Path.of("/proc/self/cgroup"))),
          process.unit());
    } finally {
      Descriptors.close(pidfd);
    }
  }

  @Test
  void findsServiceUnitInSystemSlice() {
    assertEquals(
        Optional.of("foo.service"), PeerProcess.unitOfCgroupFile("0::/system.slice/foo.service\n"));
  }

  @Test
  void findsUserUnitBehindItsManager() {
    assertEquals(
        Optional.of("user@1000.service/x.service"),
        PeerProcess.unitOfCgroupPath(
            "/user.slice/user-1000.slice/user@1000.service/app.slice/x.service"));
    assertEquals(
        Optional.of("user@1000.service/init.scope"),
        PeerProcess.unitOfCgroupPath("/user.slice/user-1000.slice/user@1000.service/init.scope"));
    assertEquals(
        Optional.of("user@1000.service"),
        PeerProcess.unitOfCgroupPath("/user.slice/user-1000.slice/user@1000.service/app.slice"));
    assertEquals(
        Optional.of("session-2.scope"),
        PeerProcess.unitOfCgroupPath("/user.slice/user-1000.slice/session-2.scope"));
  }

  @Test
  void unitNameMadeInsideADelegatedSubtreeIsNotTheSystemsUnit() {
    // A user may create "backup.service" below its own manager and move itself there: it is
    // still in user@1000.service as far as the system manager is concerned.
    assertEquals(
        Optional.of("user@1000.service/backup.service"),
        PeerProcess.unitOfCgroupPath(
            "/user.slice/user-1000.slice/user@1000.service/app.slice/backup.service"));
    assertEquals(
        Optional.of("user@1000.service/x.service"),
        PeerProcess.unitOfCgroupPath(
            "/user.slice/user-1000.slice/user@1000.service/app.slice/x.service/backup.service"));
    // Delegate=yes: whatever the service names its subgroups, the unit is the service.
    assertEquals(
        Optional.of("builder.service"),
        PeerProcess.unitOfCgroupPath("/system.slice/builder.service/payload/backup.service"));
    assertEquals(
        Optional.empty(), PeerProcess.unitOfCgroupPath("/system.slice/not-a-unit/backup.service"));
  }

  @Test
  void unescapesCgroupNamesAsSystemdEscapesThem() {
    assertEquals(
        Optional.of("tasks.service"), PeerProcess.unitOfCgroupPath("/system.slice/_tasks.service"));
  }

  @Test
  void findsNoUnitOutsideUnits() {
    assertEquals(Optional.empty(), PeerProcess.unitOfCgroupFile("0::/\n"));
    assertEquals(Optional.empty(), PeerProcess.unitOfCgroupPath("/user.slice/user-1000.slice"));
    assertEquals(Optional.empty(), PeerProcess.unitOfCgroupFile("1:name=systemd:/foo.service\n"));
  }

  @Test
  void readsAProcFileWholeAsFilesReadsIt() throws IOException {
    Path cgroup = Path.of("/proc/self/cgroup");
    assertEquals(Files.readString(cgroup), PeerProcess.readProcFile(cgroup));
    // Longer than the first buffer, with a character of two bytes across its end.
    String text = "a".repeat(4095) + "\u00e9" + "b".repeat(9000);
    Path file = Files.writeString(temp.resolve("long"), text);
    assertEquals(text, PeerProcess.readProcFile(file));
  }

  @Test
  void aProcFileThatIsNotUtf8OrTooLongIsAnError() throws IOException {
    Path malformed = Files.write(temp.resolve("malformed"), new byte[] {'0', ':', ':', '/', -1});
    assertThrows(IOException.class, () -> PeerProcess.readProcFile(malformed));
    Path huge = Files.write(temp.resolve("huge"), new byte[PeerProcess.PROC_FILE_LIMIT]);
    assertThrows(IOException.class, () -> PeerProcess.readProcFile(huge));
    Path atLimit = Files.write(temp.resolve("at-limit"), new byte[PeerProcess.PROC_FILE_LIMIT - 1]);
    assertEquals(PeerProcess.PROC_FILE_LIMIT - 1, PeerProcess.readProcFile(atLimit).length());
  }
}
