package dev.filebroker.daemon.fs;

import dev.filebroker.daemon.policy.FileType;

/**
 * The open flags of newer kernels that {@link FileOpener} can use, each found once at start by what
 * it does, not by a version number or by the kernel merely accepting it: a constant that some
 * kernel gave another meaning, or got wrong here, is never mistaken for the feature.
 *
 * <ul>
 *   <li>{@code OPENAT2_REGULAR} (Linux 7.2, bit 32 of {@code open_how.flags}, an openat2-only
 *       flag): openat2 refuses anything but a regular file with EFTYPE, checked on the inode it
 *       resolved, before opening it. Found when it refuses a directory with EFTYPE and opens a
 *       regular file.
 *   <li>{@code O_EMPTYPATH} (Linux 7.2, {@code 1 << 26} on x86-64, arm64 and riscv64): openat2 of
 *       an empty path reopens the O_PATH descriptor it is given, without procfs. Found when it
 *       reopens an O_PATH handle as the same inode, readable.
 * </ul>
 *
 * Older kernels answer both flags with EINVAL (openat2 refuses unknown bits); then the opener keeps
 * the O_PATH handle, statx and the {@code /proc/self/fd} reopen of docs/decisions/0006.
 *
 * @param regularOnlyFlag OPENAT2_REGULAR when the kernel has it, else 0
 * @param emptyPathFlag O_EMPTYPATH when the kernel has it, else 0
 */
public record KernelFeatures(long regularOnlyFlag, long emptyPathFlag) {
  /** OPENAT2_REGULAR: openat2 opens only regular files (include/uapi/linux/openat2.h, 7.2). */
  static final long OPENAT2_REGULAR = 1L << 32;

  /** O_EMPTYPATH: an empty path reopens the directory descriptor (asm-generic/fcntl.h, 7.2). */
  static final long O_EMPTYPATH = 1L << 26;

  /** Neither feature: the path every kernel since 5.6 supports. */
  public static final KernelFeatures NONE = new KernelFeatures(0, 0);

  /** A regular file every Linux system with /proc mounted has; reading it has no side effect. */
  private static final String REGULAR_PROBE = "/proc/self/status";

  /** Whether openat2 can refuse non-regular files by itself. */
  public boolean regularOnly() {
    return regularOnlyFlag != 0;
  }

  /** Whether an O_PATH handle can be reopened without procfs. */
  public boolean emptyPath() {
    return emptyPathFlag != 0;
  }

  /**
   * The open path these features give, as the daemon logs it at start: whether each flag was found
   * and what it is used for. {@code casefoldCheck}: the opener checks each parent directory for
   * casefolding first (a kernel that can make casefold directories), which the one-call path of
   * OPENAT2_REGULAR would skip, so that path is then not taken.
   */
  public String describe(boolean casefoldCheck) {
    String regular;
    if (!regularOnly()) {
      regular = "OPENAT2_REGULAR absent (regular-only rules: O_PATH handle, statx, reopen)";
    } else if (casefoldCheck) {
      regular =
          "OPENAT2_REGULAR found, not used (casefold directories possible: parent checked first)";
    } else {
      regular = "OPENAT2_REGULAR found (regular-only rules: one openat2)";
    }
    String reopen =
        emptyPath()
            ? "O_EMPTYPATH found (reopen without procfs)"
            : "O_EMPTYPATH absent (reopen through /proc/self/fd)";
    return regular + ", " + reopen;
  }

  /** Probes the running kernel for both flags; {@code root} is a directory handle. */
  static KernelFeatures probe(int root) {
    return new KernelFeatures(
        refusesAllButRegularFiles(root, OPENAT2_REGULAR) ? OPENAT2_REGULAR : 0,
        reopensAnEmptyPath(O_EMPTYPATH) ? O_EMPTYPATH : 0);
  }

  /**
   * Whether openat2 with {@code flag} refuses the directory {@code root} with EFTYPE and opens a
   * regular file as a regular file.
   */
  static boolean refusesAllButRegularFiles(int root, long flag) {
    long flags =
        NativeFlags.O_RDONLY
            | NativeFlags.O_NONBLOCK
            | NativeFlags.O_NOCTTY
            | NativeFlags.O_CLOEXEC;
    int directory = LibC.openat2(root, ".", flags | flag, 0, LibC.RESOLVE_NO_MAGICLINKS);
    if (directory >= 0) {
      Descriptors.close(directory);
      return false; // opened a directory: whatever the flag does, it is not this
    }
    if (-directory != Errno.EFTYPE) {
      return false; // EINVAL: an older kernel
    }
    int file =
        LibC.openat2(LibC.AT_FDCWD, REGULAR_PROBE, flags | flag, 0, LibC.RESOLVE_NO_MAGICLINKS);
    if (file < 0) {
      return false;
    }
    try {
      return LibC.fstat(file) instanceof LibC.StatResult.Stat s
          && s.stat().type() == FileType.REGULAR;
    } finally {
      Descriptors.close(file);
    }
  }

  /**
   * Whether openat2 of an empty path with {@code flag} reopens an O_PATH handle of a regular file
   * as a readable descriptor of the same inode.
   */
  static boolean reopensAnEmptyPath(long flag) {
    int pathFd =
        LibC.openat2(
            LibC.AT_FDCWD,
            REGULAR_PROBE,
            NativeFlags.O_PATH | NativeFlags.O_CLOEXEC,
            0,
            LibC.RESOLVE_NO_MAGICLINKS);
    if (pathFd < 0) {
      return false;
    }
    try {
      int fd =
          LibC.openat2(
              pathFd,
              "",
              NativeFlags.O_RDONLY | NativeFlags.O_NONBLOCK | NativeFlags.O_CLOEXEC | flag,
              0,
              0);
      if (fd < 0) {
        return false; // EINVAL: an older kernel; ENOENT: the flag does not allow an empty path
      }
      try {
        int status = LibC.getStatusFlags(fd);
        return status >= 0
            && (status & NativeFlags.O_PATH) == 0
            && LibC.fstat(pathFd) instanceof LibC.StatResult.Stat a
            && LibC.fstat(fd) instanceof LibC.StatResult.Stat b
            && a.stat().device() == b.stat().device()
            && a.stat().inode() == b.stat().inode();
      } finally {
        Descriptors.close(fd);
      }
    } finally {
      Descriptors.close(pathFd);
    }
  }
}
