package dev.filebroker.daemon.fs;

import java.io.IOException;

/** The opener's handle on {@code /proc/self/fd}, opened once and checked before it is trusted. */
final class ProcFds {
  private static final int PROC_SUPER_MAGIC = 0x9fa0;

  private ProcFds() {}

  /**
   * Opens {@code /proc/self/fd} ("self" is a plain symlink; magic links are refused) and checks
   * that it is procfs and that its entry for {@code root} reopens the root directory, so that the
   * directory lists this process's own descriptors.
   */
  static int open(int root, int directory) throws IOException {
    int procFds =
        LibC.openat2(LibC.AT_FDCWD, "/proc/self/fd", directory, 0, LibC.RESOLVE_NO_MAGICLINKS);
    if (procFds < 0) {
      throw new IOException(
          "Could not open /proc/self/fd (is /proc mounted?): " + Errno.name(-procFds));
    }
    try {
      long type = LibC.fileSystemType(procFds);
      if (type != PROC_SUPER_MAGIC) {
        throw new IOException(
            "Could not use /proc/self/fd: it is not procfs (file system type 0x"
                + Long.toHexString(type)
                + ")");
      }
      int again = LibC.openat2Numbered(procFds, root, directory, 0, 0);
      if (again < 0) {
        throw new IOException(
            "Could not reopen the root directory through /proc/self/fd: " + Errno.name(-again));
      }
      try {
        if (!sameInode(LibC.fstat(root), LibC.fstat(again))) {
          throw new IOException(
              "Could not use /proc/self/fd: it does not list this process's descriptors");
        }
      } finally {
        Descriptors.close(again);
      }
      return procFds;
    } catch (IOException | RuntimeException e) {
      Descriptors.close(procFds);
      throw e;
    }
  }

  private static boolean sameInode(LibC.StatResult a, LibC.StatResult b) {
    return a instanceof LibC.StatResult.Stat x
        && b instanceof LibC.StatResult.Stat y
        && x.stat().device() == y.stat().device()
        && x.stat().inode() == y.stat().inode();
  }
}
