package dev.filebroker.daemon.fs;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.regex.Pattern;

/**
 * What a peer process runs (its executable) and where systemd put it (its unit), read from {@code
 * /proc/<pid>} and confirmed against a pidfd afterwards so that a recycled pid cannot lend another
 * process's identity.
 *
 * <p>The executable is a path, in the daemon's own view of the file system, that names the very
 * file the process runs: {@code /proc/<pid>/exe} is opened {@code O_PATH} (which reaches the inode
 * the process runs, whatever the link text says), the path the kernel reports for that descriptor
 * is opened in the daemon's view, and both must be the same file (device and inode number). The
 * link text alone proves nothing: inside its own user and mount namespace ({@code unshare -Urm})
 * any user can bind-mount another program over an allowed path, and the link then shows the allowed
 * path for a different inode. A process whose program is not the file its path names here (a bind
 * mount in another namespace, a program replaced or deleted since it started, a container's own
 * {@code /usr}) has no known executable. The comparison is made at each connection, against the
 * file the path names then: after a package upgrade replaced a program, processes started since
 * match at once, and processes still running the old file do not.
 *
 * <p>The unit is the one the system manager assigned: the first systemd unit (.service, .scope,
 * .socket, .mount, .swap) below the slices of the cgroup v2 path, with a user manager's own unit
 * after it (see {@link #unitOfCgroupPath}).
 *
 * <p>Reading another user's {@code exe} link needs ptrace-read access, that is CAP_SYS_PTRACE: a
 * daemon without it (the shipped unit, as {@code _filebroker} or as root) gets no executable for
 * other users' processes, which an allow rule's executables then do not match.
 */
public final class PeerProcess {
  private static final List<String> UNIT_SUFFIXES =
      List.of(".service", ".scope", ".socket", ".mount", ".swap");

  /** A systemd unit name's characters (unit_name_is_valid), at most 255 of them. */
  private static final Pattern UNIT_NAME = Pattern.compile("[A-Za-z0-9:_.\\\\@-]{1,255}");

  /** The unit of a user's service manager. */
  private static final Pattern USER_MANAGER = Pattern.compile("user@[0-9]+\\.service");

  private static final int EXE_FLAGS = NativeFlags.O_PATH | NativeFlags.O_CLOEXEC;

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
    int image = LibC.openat2(LibC.AT_FDCWD, proc.resolve("exe").toString(), EXE_FLAGS, 0, 0);
    if (image < 0) {
      // A zombie or a vanished process has no exe link; so has a kernel thread.
      return Optional.empty();
    }
    Optional<String> executable;
    try {
      executable = verifiedPath(image);
    } finally {
      Descriptors.close(image);
    }
    Optional<String> unit;
    try {
      unit = unitOfCgroupFile(readProcFile(proc.resolve("cgroup")));
    } catch (IOException e) {
      return Optional.empty();
    }
    // Only now confirm: the pidfd still names this pid and the process is alive.
    if (pidOfPidfd(pidfd) != pid || LibC.pidfdSendSignal(pidfd, 0) != 0) {
      return Optional.empty();
    }
    return Optional.of(new PeerProcess(pid, executable, unit));
  }

  /**
   * The path the kernel reports for {@code image} (an O_PATH descriptor of a process's program),
   * when that path, opened in the daemon's view, is the same file; empty otherwise.
   */
  private static Optional<String> verifiedPath(int image) {
    String reported;
    try {
      // The descriptor's own link, not /proc/<pid>/exe again: the text and the inode compared
      // below are then of one file even if the process execs meanwhile.
      reported =
          Files.readSymbolicLink(Path.of("/proc/self/fd", Integer.toString(image))).toString();
    } catch (IOException | UnsupportedOperationException e) {
      return Optional.empty();
    }
    if (!reported.startsWith("/")) {
      // Unreachable from the daemon's root: the kernel names it relative to something else.
      return Optional.empty();
    }
    if (!(LibC.fstat(image) instanceof LibC.StatResult.Stat(FileStat running))) {
      return Optional.empty();
    }
    int named = LibC.openat2(LibC.AT_FDCWD, reported, EXE_FLAGS, 0, LibC.RESOLVE_NO_MAGICLINKS);
    if (named < 0) {
      // "/usr/bin/app (deleted)", or a path that exists only in the process's mount namespace.
      return Optional.empty();
    }
    try {
      if (LibC.fstat(named) instanceof LibC.StatResult.Stat(FileStat configured)
          && configured.device() == running.device()
          && configured.inode() == running.inode()) {
        return Optional.of(reported);
      }
      return Optional.empty();
    } finally {
      Descriptors.close(named);
    }
  }

  /** The pid a pidfd refers to, from /proc/self/fdinfo ("Pid:" line), or -1. */
  static int pidOfPidfd(int pidfd) {
    try {
      for (String line :
          readProcFile(Path.of("/proc/self/fdinfo", Integer.toString(pidfd))).split("\n")) {
        if (line.startsWith("Pid:")) {
          return Integer.parseInt(line.substring("Pid:".length()).trim());
        }
      }
    } catch (IOException | NumberFormatException e) {
      return -1;
    }
    return -1;
  }

  /** The size from which {@link #readProcFile} refuses a file. */
  static final int PROC_FILE_LIMIT = 1 << 20;

  /**
   * The text of a /proc file, strictly UTF-8 (a malformed byte fails the read, as with {@link
   * Files#readString}). An open, reads until the end, a close: four system calls for a short file,
   * where {@code Files.readString} and {@code readAllLines} take six and seven (an fstat, a read of
   * one byte, seeks). Two such files are read for every connection accepted.
   *
   * @throws IOException when the file cannot be read, is not UTF-8, or has {@link #PROC_FILE_LIMIT}
   *     bytes or more
   */
  static String readProcFile(Path file) throws IOException {
    try (FileChannel channel = FileChannel.open(file, StandardOpenOption.READ)) {
      ByteBuffer bytes = ByteBuffer.allocate(4096);
      while (channel.read(bytes) >= 0) {
        if (!bytes.hasRemaining()) {
          if (bytes.capacity() >= PROC_FILE_LIMIT) {
            throw new IOException(file + " has " + PROC_FILE_LIMIT + " bytes or more");
          }
          bytes = ByteBuffer.allocate(bytes.capacity() * 2).put(bytes.flip());
        }
      }
      return StandardCharsets.UTF_8.newDecoder().decode(bytes.flip()).toString();
    }
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

  /**
   * The unit the system manager put a process in, read from its cgroup path as {@code
   * sd_pid_get_unit(3)} reads it: the first component below the slices. When that unit is a user's
   * manager ({@code user@UID.service}), the unit that manager put the process in (again the first
   * component below its slices) follows after a '/': {@code user@1000.service/app.service}, or
   * {@code user@1000.service} alone when there is none. Empty when the path holds no unit there.
   *
   * <p>Only the first component is the system manager's word: a user owns the cgroup subtree of its
   * manager (and any unit with {@code Delegate=yes} owns its own), may create directories named
   * {@code backup.service} in it and move its processes there. Such deeper names are never taken
   * for a system unit.
   */
  static Optional<String> unitOfCgroupPath(String path) {
    List<String> components = new ArrayList<>();
    for (String component : path.split("/")) {
      if (!component.isEmpty()) {
        components.add(component);
      }
    }
    int system = firstBelowSlices(components, 0);
    Optional<String> unit = unitName(components, system);
    if (unit.isEmpty() || !USER_MANAGER.matcher(unit.get()).matches()) {
      return unit;
    }
    Optional<String> userUnit = unitName(components, firstBelowSlices(components, system + 1));
    return Optional.of(userUnit.map(u -> unit.get() + "/" + u).orElse(unit.get()));
  }

  private static int firstBelowSlices(List<String> components, int from) {
    int i = from;
    while (i < components.size() && components.get(i).endsWith(".slice")) {
      i++;
    }
    return i;
  }

  /** The unit named by {@code components[index]}, unescaped as systemd escapes cgroup names. */
  private static Optional<String> unitName(List<String> components, int index) {
    if (index >= components.size()) {
      return Optional.empty();
    }
    String component = components.get(index);
    // systemd prefixes a cgroup name with '_' when it could clash with a kernel file name.
    String name = component.startsWith("_") ? component.substring(1) : component;
    if (!UNIT_NAME.matcher(name).matches()) {
      return Optional.empty();
    }
    for (String suffix : UNIT_SUFFIXES) {
      if (name.length() > suffix.length() && name.endsWith(suffix)) {
        return Optional.of(name);
      }
    }
    return Optional.empty();
  }

  /** The pid this was read for. */
  public int pid() {
    return pid;
  }

  /**
   * The path, in the daemon's view, of the file the process runs; empty when no path there names
   * that very file (see the class comment).
   */
  public Optional<String> executable() {
    return executable;
  }

  /**
   * The systemd unit the system manager assigned ("foo.service", "session-2.scope"), followed by
   * '/' and the user unit inside a user's manager ("user@1000.service/app.service"); empty outside
   * any unit.
   */
  public Optional<String> unit() {
    return unit;
  }

  @Override
  public String toString() {
    return "PeerProcess[pid=" + pid + ", executable=" + executable + ", unit=" + unit + "]";
  }
}
