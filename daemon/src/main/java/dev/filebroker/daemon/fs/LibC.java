package dev.filebroker.daemon.fs;

import com.sun.jna.Library;
import com.sun.jna.Memory;
import com.sun.jna.Native;
import com.sun.jna.Pointer;
import com.sun.jna.ptr.IntByReference;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;

/**
 * The C library and system calls the daemon needs, bound with JNA. This is the only place native
 * code is declared; every other class in the package goes through the small wrappers here, which
 * return {@code -errno} instead of throwing so that a failed call is a value.
 *
 * <p>JNA unpacks its native stub (libjnidispatch) into {@code -Djna.tmpdir} when that is set;
 * otherwise into {@code $XDG_CACHE_HOME} or {@code ~/.cache/JNA}, which a hardened unit
 * (ProtectHome, read-only file systems) may not allow, so the launcher should set it (for example
 * to the unit's RuntimeDirectory). Nothing in this package names a directory.
 */
final class LibC {
  /** The raw binding; varargs where the C function is variadic, so the ABI is right. */
  interface Binding extends Library {
    long syscall(long number, Object... args);

    int statx(int dirfd, byte[] path, int flags, int mask, Pointer buffer);

    int fcntl(int fd, int command, Object... args);

    int close(int fd);

    int fchmod(int fd, int mode);

    int fchown(int fd, int uid, int gid);

    int getsockopt(int fd, int level, int option, Pointer value, IntByReference length);
  }

  private static final Binding C = Native.load("c", Binding.class);

  /**
   * The calls every request makes, direct-mapped: no proxy, no varargs array, no boxing. {@code
   * syscall} is variadic in C; on the supported architectures (x86-64, arm64, riscv64 Linux)
   * integer and pointer arguments travel in the same registers either way.
   */
  private static final class Direct {
    static {
      Native.register(Direct.class, "c");
    }

    static native long syscall(long number, long dirfd, byte[] path, Pointer how, long size);

    static native int statx(int dirfd, byte[] path, int flags, int mask, Pointer buffer);

    static native int fcntl(int fd, int command, int arg);

    static native int close(int fd);

    private Direct() {}
  }

  /**
   * Native buffers of one thread, reused by every call it makes, with ByteBuffer views so that
   * reading and writing fields is plain memory access rather than a JNI call per field.
   */
  private static final class Scratch {
    final Memory how = new Memory(OPEN_HOW_SIZEOF);
    final ByteBuffer howView = how.getByteBuffer(0, OPEN_HOW_SIZEOF).order(ByteOrder.nativeOrder());
    final Memory statx = new Memory(STATX_SIZEOF);
    final ByteBuffer statxView =
        statx.getByteBuffer(0, STATX_SIZEOF).order(ByteOrder.nativeOrder());
  }

  private static final ThreadLocal<Scratch> SCRATCH = ThreadLocal.withInitial(Scratch::new);
  private static final byte[] EMPTY_PATH = {0};

  // System call numbers shared by every architecture since the 5.1 unification (x86-64, arm64,
  // riscv64).
  static final long SYS_PIDFD_SEND_SIGNAL = 424;
  static final long SYS_PIDFD_OPEN = 434;
  static final long SYS_OPENAT2 = 437;

  static final int AT_FDCWD = -100;
  static final int AT_EMPTY_PATH = 0x1000;
  static final int AT_SYMLINK_NOFOLLOW = 0x100;

  static final int RESOLVE_NO_XDEV = 0x01;
  static final int RESOLVE_NO_MAGICLINKS = 0x02;
  static final int RESOLVE_NO_SYMLINKS = 0x04;
  static final int RESOLVE_BENEATH = 0x08;

  static final int F_DUPFD_CLOEXEC = 1030;
  static final int F_GETFL = 3;
  static final int F_SETFL = 4;

  static final int SOL_SOCKET = 1;
  static final int SO_PEERGROUPS = 59;
  static final int SO_PEERPIDFD = 77;

  /** STATX_TYPE | STATX_MODE | STATX_NLINK | STATX_UID | STATX_GID | STATX_INO | STATX_SIZE. */
  private static final int STATX_BASIC = 0x1 | 0x2 | 0x4 | 0x8 | 0x10 | 0x100 | 0x200;

  private static final int STATX_SIZEOF = 256;
  private static final int OPEN_HOW_SIZEOF = 24;

  private LibC() {}

  /** NUL-terminated UTF-8 bytes of a path, as the kernel reads it. */
  static byte[] cString(String path) {
    byte[] utf8 = path.getBytes(StandardCharsets.UTF_8);
    byte[] terminated = new byte[utf8.length + 1];
    System.arraycopy(utf8, 0, terminated, 0, utf8.length);
    return terminated;
  }

  /** openat2(2): a new descriptor, or {@code -errno}. */
  static int openat2(int dirfd, String path, long flags, long mode, long resolve) {
    return openat2(dirfd, cString(path), flags, mode, resolve);
  }

  /** openat2(2) of a NUL-terminated path: a new descriptor, or {@code -errno}. */
  static int openat2(int dirfd, byte[] path, long flags, long mode, long resolve) {
    Scratch scratch = SCRATCH.get();
    ByteBuffer how = scratch.howView;
    how.putLong(0, flags);
    how.putLong(8, mode);
    how.putLong(16, resolve);
    long result = Direct.syscall(SYS_OPENAT2, dirfd, path, scratch.how, OPEN_HOW_SIZEOF);
    return result < 0 ? -Native.getLastError() : (int) result;
  }

  /**
   * statx(2) of an open descriptor (AT_EMPTY_PATH), which has the same layout on every
   * architecture, unlike {@code struct stat}.
   *
   * @return the stat, or a {@link StatResult.Failed} with the errno
   */
  static StatResult fstat(int fd) {
    Scratch scratch = SCRATCH.get();
    // No clearing needed: statx copies the whole struct out, zeroing what the mask left unset.
    if (Direct.statx(
            fd, EMPTY_PATH, AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW, STATX_BASIC, scratch.statx)
        != 0) {
      return new StatResult.Failed(Native.getLastError());
    }
    ByteBuffer buffer = scratch.statxView;
    int nlink = buffer.getInt(16);
    int uid = buffer.getInt(20);
    int gid = buffer.getInt(24);
    int mode = Short.toUnsignedInt(buffer.getShort(28));
    long ino = buffer.getLong(32);
    long size = buffer.getLong(40);
    int devMajor = buffer.getInt(136);
    int devMinor = buffer.getInt(140);
    return new StatResult.Stat(
        new FileStat(
            makedev(devMajor, devMinor), ino, mode, uid, gid, Integer.toUnsignedLong(nlink), size));
  }

  /** The outcome of {@link #fstat}. */
  sealed interface StatResult {
    /** fstat succeeded. */
    record Stat(FileStat stat) implements StatResult {}

    /** fstat failed with {@code errno}. */
    record Failed(int errno) implements StatResult {}
  }

  /** glibc's encoding of a device number, so values match what stat(2) reports as st_dev. */
  static long makedev(int major, int minor) {
    long maj = Integer.toUnsignedLong(major);
    long min = Integer.toUnsignedLong(minor);
    return ((maj & 0xfffff000L) << 32)
        | ((maj & 0x00000fffL) << 8)
        | ((min & 0xffffff00L) << 12)
        | (min & 0x000000ffL);
  }

  /** fcntl(F_GETFL): the status flags, or {@code -errno}. */
  static int getStatusFlags(int fd) {
    int flags = Direct.fcntl(fd, F_GETFL, 0);
    return flags < 0 ? -Native.getLastError() : flags;
  }

  /** fcntl(F_SETFL): 0, or {@code -errno}. */
  static int setStatusFlags(int fd, int flags) {
    return Direct.fcntl(fd, F_SETFL, flags) < 0 ? -Native.getLastError() : 0;
  }

  /** fcntl(F_DUPFD_CLOEXEC): a new descriptor, or {@code -errno}. */
  static int dup(int fd) {
    int copy = C.fcntl(fd, F_DUPFD_CLOEXEC, 0);
    return copy < 0 ? -Native.getLastError() : copy;
  }

  /** close(2): 0, or {@code -errno}. EINTR still closes the descriptor on Linux: never retry. */
  static int close(int fd) {
    return Direct.close(fd) != 0 ? -Native.getLastError() : 0;
  }

  /** fchmod(2): 0, or {@code -errno}. */
  static int fchmod(int fd, int mode) {
    return C.fchmod(fd, mode) != 0 ? -Native.getLastError() : 0;
  }

  /** fchown(2): 0, or {@code -errno}. */
  static int fchown(int fd, int uid, int gid) {
    return C.fchown(fd, uid, gid) != 0 ? -Native.getLastError() : 0;
  }

  /**
   * getsockopt(2) into {@code value}; {@code length} is in/out as in C.
   *
   * @return 0, or {@code -errno}
   */
  static int getsockopt(int fd, int level, int option, Pointer value, IntByReference length) {
    return C.getsockopt(fd, level, option, value, length) != 0 ? -Native.getLastError() : 0;
  }

  /** pidfd_open(2): a pidfd (close-on-exec), or {@code -errno}. */
  static int pidfdOpen(int pid) {
    long result = C.syscall(SYS_PIDFD_OPEN, (long) pid, 0L);
    return result < 0 ? -Native.getLastError() : (int) result;
  }

  /** pidfd_send_signal(2): 0, or {@code -errno}. Signal 0 only checks the process is alive. */
  static int pidfdSendSignal(int pidfd, int signal) {
    long result = C.syscall(SYS_PIDFD_SEND_SIGNAL, (long) pidfd, (long) signal, 0L, 0L);
    return result < 0 ? -Native.getLastError() : 0;
  }

  /** fcntl(F_DUPFD_CLOEXEC) at or above {@code floor}: a new descriptor, or {@code -errno}. */
  static int dupAtLeast(int fd, int floor) {
    int copy = C.fcntl(fd, F_DUPFD_CLOEXEC, floor);
    return copy < 0 ? -Native.getLastError() : copy;
  }
}
