package dev.filebroker.daemon.fs;

import com.sun.jna.Memory;
import com.sun.jna.Native;
import com.sun.jna.Pointer;
import com.sun.jna.ptr.IntByReference;
import java.lang.ref.Reference;
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
  /**
   * Every C function this class calls, direct-mapped with primitive arguments only: no proxy, no
   * varargs array, no boxing, and no {@code Pointer} or array argument, each of which costs JNA a
   * JNI call (or a copy) per call. Addresses are those of {@link Scratch}'s native buffers or of
   * buffers the caller keeps reachable until the call returns. {@code syscall} and {@code fcntl}
   * are variadic in C; on the supported architectures (x86-64, arm64, riscv64 Linux) integer and
   * pointer arguments travel in the same registers either way, and a system call ignores the
   * registers beyond its own arguments.
   */
  private static final class Direct {
    static {
      Native.register(Direct.class, CLibrary.INSTANCE);
    }

    static native long syscall(long number, long dirfd, long path, long how, long size);

    static native int statx(int dirfd, long path, int flags, int mask, long buffer);

    static native int fcntl(int fd, int command, int arg);

    static native int close(int fd);

    static native int fchmod(int fd, int mode);

    static native int fchown(int fd, int uid, int gid);

    static native int ftruncate(int fd, long length);

    static native int linkat(int olddirfd, String oldpath, int newdirfd, String newpath, int flags);

    static native int getsockopt(int fd, int level, int option, long value, long length);

    static native int fstatfs(int fd, long buffer);

    private Direct() {}
  }

  /**
   * Native buffers of one thread, reused by every call it makes, with ByteBuffer views so that
   * reading and writing fields is plain memory access rather than a JNI call per field. The path
   * buffer holds the NUL-terminated path of the current call.
   */
  private static final class Scratch {
    final Memory memory = new Memory(PATH_OFFSET + PATH_CAPACITY);
    final long address = Pointer.nativeValue(memory);
    final ByteBuffer view =
        memory.getByteBuffer(0, PATH_OFFSET + PATH_CAPACITY).order(ByteOrder.nativeOrder());

    Scratch() {
      memory.clear(); // among others, the empty path statx of a descriptor passes
    }

    /**
     * Copies {@code path} from index {@code from} into the path buffer as NUL-terminated UTF-8.
     * Returns false when it does not fit (the kernel would refuse it with ENAMETOOLONG anyway).
     */
    boolean putPath(String path, int from) {
      int length = path.length() - from;
      if (length >= PATH_CAPACITY) {
        return false;
      }
      ByteBuffer b = view;
      for (int i = 0; i < length; i++) {
        char c = path.charAt(from + i);
        if (c >= 0x80) {
          return putUtf8(path.substring(from));
        }
        b.put(PATH_OFFSET + i, (byte) c);
      }
      b.put(PATH_OFFSET + length, (byte) 0);
      return true;
    }

    private boolean putUtf8(String path) {
      byte[] utf8 = path.getBytes(StandardCharsets.UTF_8);
      if (utf8.length >= PATH_CAPACITY) {
        return false;
      }
      view.put(PATH_OFFSET, utf8).put(PATH_OFFSET + utf8.length, (byte) 0);
      return true;
    }

    /** Writes the decimal digits of {@code n} (at least 0), NUL-terminated, as the path. */
    void putNumber(int n) {
      int digits = 1;
      for (int m = n; m >= 10; m /= 10) {
        digits++;
      }
      ByteBuffer b = view;
      b.put(PATH_OFFSET + digits, (byte) 0);
      for (int m = n, i = PATH_OFFSET + digits - 1; i >= PATH_OFFSET; m /= 10, i--) {
        b.put(i, (byte) ('0' + m % 10));
      }
    }
  }

  private static final ThreadLocal<Scratch> SCRATCH = ThreadLocal.withInitial(Scratch::new);

  // System call numbers shared by every architecture since the 5.1 unification (x86-64, arm64,
  // riscv64).
  static final long SYS_PIDFD_SEND_SIGNAL = 424;
  static final long SYS_PIDFD_OPEN = 434;
  static final long SYS_OPENAT2 = 437;
  static final long SYS_STATMOUNT = 457;

  static final int AT_FDCWD = -100;
  static final int AT_EMPTY_PATH = 0x1000;
  static final int AT_SYMLINK_NOFOLLOW = 0x100;
  static final int AT_SYMLINK_FOLLOW = 0x400;

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

  /**
   * STATX_TYPE | STATX_MODE | STATX_NLINK | STATX_UID | STATX_GID | STATX_INO | STATX_SIZE |
   * STATX_MNT_ID | STATX_MNT_ID_UNIQUE. {@code stx_attributes} and its mask come with every statx,
   * whatever the mask. A kernel that knows STATX_MNT_ID_UNIQUE (6.8+) fills {@code stx_mnt_id} with
   * the unique id and says so in {@code stx_mask}; an older one ignores the bit and gives the old
   * id.
   */
  private static final int STATX_BASIC =
      0x1 | 0x2 | 0x4 | 0x8 | 0x10 | 0x100 | 0x200 | 0x1000 | 0x4000;

  /** STATX_MNT_ID in {@code stx_mask}: the kernel filled {@code stx_mnt_id} with the old id. */
  private static final int STATX_MNT_ID = 0x1000;

  /** STATX_MNT_ID_UNIQUE in {@code stx_mask}: {@code stx_mnt_id} is the never-reused id. */
  private static final int STATX_MNT_ID_UNIQUE = 0x4000;

  private static final int STATX_SIZEOF = 256;
  private static final int OPEN_HOW_SIZEOF = 24;

  /** Layout of a thread's {@link Scratch} buffer: statx result, open_how, an empty path, a path. */
  private static final int STATX_OFFSET = 0;

  private static final int HOW_OFFSET = STATX_OFFSET + STATX_SIZEOF;
  private static final int EMPTY_PATH_OFFSET = HOW_OFFSET + OPEN_HOW_SIZEOF;
  private static final int PATH_OFFSET = EMPTY_PATH_OFFSET + 8;

  /** PATH_MAX: room for a path of 4095 bytes and its NUL. */
  private static final int PATH_CAPACITY = 4096;

  private static final int ENAMETOOLONG = 36;

  private LibC() {}

  /** openat2(2): a new descriptor, or {@code -errno}. */
  static int openat2(int dirfd, String path, long flags, long mode, long resolve) {
    return openat2(dirfd, path, 0, flags, mode, resolve);
  }

  /**
   * openat2(2) of {@code path} from index {@code from} on (so that a leading "/" need not be cut
   * off into a new String): a new descriptor, or {@code -errno}.
   */
  static int openat2(int dirfd, String path, int from, long flags, long mode, long resolve) {
    Scratch scratch = SCRATCH.get();
    if (!scratch.putPath(path, from)) {
      return -ENAMETOOLONG;
    }
    return openat2(scratch, dirfd, flags, mode, resolve);
  }

  /**
   * openat2(2) of the entry named by the decimal number {@code name} in {@code dirfd}, such as a
   * descriptor's entry in a {@code /proc/PID/fd} directory: a new descriptor, or {@code -errno}.
   */
  static int openat2Numbered(int dirfd, int name, long flags, long mode, long resolve) {
    Scratch scratch = SCRATCH.get();
    scratch.putNumber(name);
    return openat2(scratch, dirfd, flags, mode, resolve);
  }

  private static int openat2(Scratch scratch, int dirfd, long flags, long mode, long resolve) {
    ByteBuffer how = scratch.view;
    how.putLong(HOW_OFFSET, flags);
    how.putLong(HOW_OFFSET + 8, mode);
    how.putLong(HOW_OFFSET + 16, resolve);
    long base = scratch.address;
    long result =
        Direct.syscall(SYS_OPENAT2, dirfd, base + PATH_OFFSET, base + HOW_OFFSET, OPEN_HOW_SIZEOF);
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
    long base = scratch.address;
    // The empty path stays zero: nothing else writes there.
    if (Direct.statx(
            fd,
            base + EMPTY_PATH_OFFSET,
            AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW,
            STATX_BASIC,
            base + STATX_OFFSET)
        != 0) {
      return new StatResult.Failed(Native.getLastError());
    }
    ByteBuffer buffer = scratch.view;
    int mask = buffer.getInt(0);
    long attributes = buffer.getLong(8);
    int nlink = buffer.getInt(16);
    int uid = buffer.getInt(20);
    int gid = buffer.getInt(24);
    int mode = Short.toUnsignedInt(buffer.getShort(28));
    long ino = buffer.getLong(32);
    long size = buffer.getLong(40);
    int devMajor = buffer.getInt(136);
    int devMinor = buffer.getInt(140);
    long attributesMask = buffer.getLong(56);
    boolean unique = (mask & STATX_MNT_ID_UNIQUE) != 0;
    long mountId =
        (mask & (STATX_MNT_ID | STATX_MNT_ID_UNIQUE)) != 0
            ? buffer.getLong(144)
            : FileStat.NO_MOUNT_ID;
    return new StatResult.Stat(
        new FileStat(
            makedev(devMajor, devMinor),
            ino,
            mode,
            uid,
            gid,
            Integer.toUnsignedLong(nlink),
            size,
            attributes,
            attributesMask,
            mountId,
            unique));
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

  /**
   * fstatfs(2): the file system type ({@code f_type}, the first field of {@code struct statfs} on
   * 64-bit Linux) of the file system {@code fd} is on, or {@code -errno}.
   */
  static long fileSystemType(int fd) {
    Scratch scratch = SCRATCH.get();
    // struct statfs (120 bytes) fits in the statx area, which no other call of this one uses.
    if (Direct.fstatfs(fd, scratch.address + STATX_OFFSET) != 0) {
      return -Native.getLastError();
    }
    return scratch.view.getLong(STATX_OFFSET);
  }

  /** statmount(2)'s STATMOUNT_SB_BASIC: the superblock's device, magic and flags. */
  private static final long STATMOUNT_SB_BASIC = 0x1;

  /** struct mnt_id_req, first version: size, namespace fd, mount id, param. */
  private static final int MNT_ID_REQ_SIZE = 24;

  /** Room for struct statmount without strings (its fixed part is 512 bytes or less). */
  private static final int STATMOUNT_BUFFER = 1024;

  /**
   * statmount(2) (Linux 6.8+): the magic number ({@code s_magic}) of the superblock of the mount
   * whose unique id is {@code uniqueMountId}, in the caller's mount namespace, or {@code -errno}.
   * This is the file system the mount is, whatever its statfs answers for one of its files.
   */
  static long superblockMagic(long uniqueMountId) {
    try (Memory memory = new Memory(MNT_ID_REQ_SIZE + STATMOUNT_BUFFER)) {
      memory.clear();
      long base = Pointer.nativeValue(memory);
      memory.setInt(0, MNT_ID_REQ_SIZE);
      memory.setLong(8, uniqueMountId);
      memory.setLong(16, STATMOUNT_SB_BASIC);
      long result =
          Direct.syscall(SYS_STATMOUNT, base, base + MNT_ID_REQ_SIZE, STATMOUNT_BUFFER, 0);
      if (result < 0) {
        return -Native.getLastError();
      }
      // struct statmount: u32 size, u32 mnt_opts, u64 mask, u32 sb_dev_major, u32 sb_dev_minor,
      // u64 sb_magic.
      long mask = memory.getLong(MNT_ID_REQ_SIZE + 8);
      if ((mask & STATMOUNT_SB_BASIC) == 0) {
        return -Errno.EINVAL;
      }
      return memory.getLong(MNT_ID_REQ_SIZE + 24);
    }
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
    return dupAtLeast(fd, 0);
  }

  /** close(2): 0, or {@code -errno}. EINTR still closes the descriptor on Linux: never retry. */
  static int close(int fd) {
    return Direct.close(fd) != 0 ? -Native.getLastError() : 0;
  }

  /** fchmod(2): 0, or {@code -errno}. */
  static int fchmod(int fd, int mode) {
    return Direct.fchmod(fd, mode) != 0 ? -Native.getLastError() : 0;
  }

  /** fchown(2): 0, or {@code -errno}. */
  static int fchown(int fd, int uid, int gid) {
    return Direct.fchown(fd, uid, gid) != 0 ? -Native.getLastError() : 0;
  }

  /** ftruncate(2): 0, or {@code -errno}. */
  static int ftruncate(int fd, long length) {
    return Direct.ftruncate(fd, length) != 0 ? -Native.getLastError() : 0;
  }

  /**
   * linkat(2) of the entry named by the decimal number {@code name} in {@code procFds} (a {@code
   * /proc/self/fd} directory) to {@code newName} in {@code newDirfd}, following that magic link
   * (AT_SYMLINK_FOLLOW): gives a name to an O_TMPFILE file without CAP_DAC_READ_SEARCH. Fails with
   * EEXIST when {@code newName} exists, whatever it is (a symlink there is never followed).
   *
   * @return 0, or {@code -errno}
   */
  static int linkNumbered(int procFds, int name, int newDirfd, String newName) {
    return Direct.linkat(procFds, Integer.toString(name), newDirfd, newName, AT_SYMLINK_FOLLOW) != 0
        ? -Native.getLastError()
        : 0;
  }

  /**
   * getsockopt(2) into {@code value}; {@code length} is in/out as in C.
   *
   * @return 0, or {@code -errno}
   */
  static int getsockopt(int fd, int level, int option, Pointer value, IntByReference length) {
    int result =
        Direct.getsockopt(
            fd,
            level,
            option,
            Pointer.nativeValue(value),
            Pointer.nativeValue(length.getPointer()));
    int errno = result != 0 ? Native.getLastError() : 0;
    // The buffers are freed when unreachable: keep them until the call has returned.
    Reference.reachabilityFence(value);
    Reference.reachabilityFence(length);
    return result != 0 ? -errno : 0;
  }

  /** pidfd_open(2): a pidfd (close-on-exec), or {@code -errno}. */
  static int pidfdOpen(int pid) {
    long result = Direct.syscall(SYS_PIDFD_OPEN, pid, 0, 0, 0);
    return result < 0 ? -Native.getLastError() : (int) result;
  }

  /** pidfd_send_signal(2): 0, or {@code -errno}. Signal 0 only checks the process is alive. */
  static int pidfdSendSignal(int pidfd, int signal) {
    long result = Direct.syscall(SYS_PIDFD_SEND_SIGNAL, pidfd, signal, 0, 0);
    return result < 0 ? -Native.getLastError() : 0;
  }

  /** fcntl(F_DUPFD_CLOEXEC) at or above {@code floor}: a new descriptor, or {@code -errno}. */
  static int dupAtLeast(int fd, int floor) {
    int copy = Direct.fcntl(fd, F_DUPFD_CLOEXEC, floor);
    return copy < 0 ? -Native.getLastError() : copy;
  }
}
