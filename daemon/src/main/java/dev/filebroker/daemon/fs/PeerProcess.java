package dev.filebroker.daemon.fs;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Objects;
import java.util.Optional;

/**
 * What a peer process runs (its executable) and where systemd put it (its unit), read from {@code
 * /proc/<pid>} and confirmed against a pidfd afterwards so that a recycled pid cannot lend another
 * process's identity.
 *
 * <p>The executable is the path {@code /proc/<pid>/exe} links to, as the kernel reports it (it may
 * end in " (deleted)" if the file was replaced). The unit is the last systemd unit-like component
 * (.service, .scope, .socket, .mount, .swap) of the cgroup v2 path.
 *
 * <p>Reading another user's {@code exe} link needs ptrace-read access (root has it; a daemon
 * without CAP_SYS_PTRACE gets nothing for other users' processes).
 */
public final class PeerProcess {
  private static final List<String> UNIT_SUFFIXES =
      List.of(".service", ".scope", ".socket", ".mount", ".swap");

  private final int pid;
  private final Optional<String> executable;
  private final Optional<String> unit;

  private PeerProcess(int pid, Optional<String> executable, Optional<String> unit) {
    this.pid = pid;
    this.executable = Objects.requireNonNull(executable, "executable == null");
    this.unit = Objects.requireNonNull(unit, "unit == null");
  }

  /**
   * Reads the executable and unit of {@code pid}, then checks that {@code pidfd} names that pid and
   * that the process is still alive, so what was read belongs to the process {@code pidfd} refers
   * to.
   *
   * @param pid the peer's pid (SO_PEERCRED), in the daemon's pid namespace
   * @param pidfd a pidfd for the same process (SO_PEERPIDFD); not closed here
   * @return the process, or empty when it has exited, is a zombie, or {@code pidfd} names another
   */
  public static Optional<PeerProcess> inspect(int pid, int pidfd) {
    if (pid <= 0 || pidfd < 0) {
      return Optional.empty();
    }
    Path proc = Path.of("/proc", Integer.toString(pid));
    Optional<String> executable;
    try {
      executable = Optional.of(Files.readSymbolicLink(proc.resolve("exe")).toString());
    } catch (IOException | UnsupportedOperationException e) {
      // A zombie or a vanished process has no exe link; so has a kernel thread.
      return Optional.empty();
    }
    Optional<String> unit;
    try {
      unit = unitOfCgroupFile(Files.readString(proc.resolve("cgroup"), StandardCharsets.UTF_8));
    } catch (IOException e) {
      return Optional.empty();
    }
    // Only now confirm: the pidfd still names this pid and the process is alive.
    if (pidOfPidfd(pidfd) != pid || LibC.pidfdSendSignal(pidfd, 0) != 0) {
      return Optional.empty();
    }
    return Optional.of(new PeerProcess(pid, executable, unit));
  }

  /** The pid a pidfd refers to, from /proc/self/fdinfo ("Pid:" line), or -1. */
  static int pidOfPidfd(int pidfd) {
    try {
      for (String line :
          Files.readAllLines(Path.of("/proc/self/fdinfo", Integer.toString(pidfd)))) {
        if (line.startsWith("Pid:")) {
          return Integer.parseInt(line.substring("Pid:".length()).trim());
        }
      }
    } catch (IOException | NumberFormatException e) {
      return -1;
    }
    return -1;
  }

  /**
   * The unit named by a {@code /proc/<pid>/cgroup} file's cgroup v2 line ("0::/path"), or empty
   * when there is no v2 line or no unit-like component.
   */
  static Optional<String> unitOfCgroupFile(String content) {
    for (String line : content.split("\n")) {
      if (line.startsWith("0::")) {
        return unitOfCgroupPath(line.substring(3));
      }
    }
    return Optional.empty();
  }

  /** The last unit-like component of a cgroup path, or empty. */
  static Optional<String> unitOfCgroupPath(String path) {
    String[] components = path.split("/");
    for (int i = components.length - 1; i >= 0; i--) {
      String component = components[i];
      for (String suffix : UNIT_SUFFIXES) {
        if (component.length() > suffix.length() && component.endsWith(suffix)) {
          return Optional.of(component);
        }
      }
    }
    return Optional.empty();
  }

  /** The pid this was read for. */
  public int pid() {
    return pid;
  }

  /** The path of the running executable, or empty when the kernel reports none. */
  public Optional<String> executable() {
    return executable;
  }

  /** The systemd unit ("foo.service", "session-2.scope"), or empty outside any unit. */
  public Optional<String> unit() {
    return unit;
  }

  @Override
  public String toString() {
    return "PeerProcess[pid=" + pid + ", executable=" + executable + ", unit=" + unit + "]";
  }
}
