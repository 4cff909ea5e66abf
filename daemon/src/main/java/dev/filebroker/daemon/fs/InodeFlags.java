package dev.filebroker.daemon.fs;

import com.sun.jna.Memory;
import com.sun.jna.Native;
import com.sun.jna.Pointer;
import java.util.OptionalInt;

/**
 * Inode flags (FS_IOC_GETFLAGS) of descriptors the daemon holds. The append-only attribute, which
 * is what actually enforces an "append" grant, is read from statx ({@link FileStat#appendOnly()}),
 * which works on O_PATH handles too; the ioctl needs a descriptor opened for I/O.
 */
public final class InodeFlags {
  /** FS_IOC_GETFLAGS: _IOR('f', 1, long) on 64-bit Linux. */
  private static final long FS_IOC_GETFLAGS = 0x80086601L;

  /** FS_APPEND_FL: writes only at the end; O_APPEND cannot be cleared, ftruncate fails. */
  public static final int FS_APPEND_FL = 0x00000020;

  /** FS_IMMUTABLE_FL: no change at all. */
  public static final int FS_IMMUTABLE_FL = 0x00000010;

  static {
    Native.register(InodeFlags.class, CLibrary.INSTANCE);
  }

  private static native int ioctl(int fd, long request, Pointer argument);

  private InodeFlags() {}

  /**
   * The inode flags of {@code fd} (FS_IOC_GETFLAGS), or empty when the file system does not support
   * them (ENOTTY, EOPNOTSUPP) or the call failed.
   */
  public static OptionalInt of(OpenedFile file) {
    return of(file.fd());
  }

  /** The inode flags of the descriptor {@code fd}, opened for I/O (not O_PATH). */
  static OptionalInt of(int fd) {
    try (Memory flags = new Memory(8)) {
      flags.setLong(0, 0);
      if (ioctl(fd, FS_IOC_GETFLAGS, flags) != 0) {
        return OptionalInt.empty();
      }
      return OptionalInt.of(flags.getInt(0));
    }
  }
}
