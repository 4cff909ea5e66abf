package dev.filebroker.daemon.fs;

import java.util.Map;

/**
 * Linux errno numbers (the same on x86-64, arm64 and riscv64) and names for the ones the daemon
 * reports, so logs and audit lines say "ELOOP" rather than "40".
 */
public final class Errno {
  public static final int EPERM = 1;
  public static final int ENOENT = 2;
  public static final int ESRCH = 3;
  public static final int EINTR = 4;
  public static final int EIO = 5;
  public static final int ENXIO = 6;
  public static final int E2BIG = 7;
  public static final int EBADF = 9;
  public static final int EAGAIN = 11;

  /** The same number as {@link #EAGAIN} on Linux. */
  public static final int EWOULDBLOCK = EAGAIN;

  public static final int ENOMEM = 12;
  public static final int EACCES = 13;
  public static final int EFAULT = 14;
  public static final int EBUSY = 16;
  public static final int EEXIST = 17;
  public static final int EXDEV = 18;
  public static final int ENODEV = 19;
  public static final int ENOTDIR = 20;
  public static final int EISDIR = 21;
  public static final int EINVAL = 22;
  public static final int ENFILE = 23;
  public static final int EMFILE = 24;
  public static final int ENOTTY = 25;
  public static final int ETXTBSY = 26;
  public static final int EFBIG = 27;
  public static final int ENOSPC = 28;
  public static final int EROFS = 30;
  public static final int EMLINK = 31;
  public static final int ERANGE = 34;
  public static final int ENAMETOOLONG = 36;
  public static final int ENOSYS = 38;
  public static final int ENOTEMPTY = 39;
  public static final int ELOOP = 40;
  public static final int ENOPROTOOPT = 92;
  public static final int EOPNOTSUPP = 95;
  public static final int ENOTSUP = EOPNOTSUPP;
  public static final int EOVERFLOW = 75;
  public static final int ESTALE = 116;
  public static final int EDQUOT = 122;

  /**
   * Wrong file type for the operation: openat2 with OPENAT2_REGULAR on a non-regular file (7.2+).
   */
  public static final int EFTYPE = 134;

  private static final Map<Integer, String> NAMES =
      Map.ofEntries(
          Map.entry(EPERM, "EPERM"),
          Map.entry(ENOENT, "ENOENT"),
          Map.entry(ESRCH, "ESRCH"),
          Map.entry(EINTR, "EINTR"),
          Map.entry(EIO, "EIO"),
          Map.entry(ENXIO, "ENXIO"),
          Map.entry(E2BIG, "E2BIG"),
          Map.entry(EBADF, "EBADF"),
          Map.entry(EAGAIN, "EAGAIN"),
          Map.entry(ENOMEM, "ENOMEM"),
          Map.entry(EACCES, "EACCES"),
          Map.entry(EFAULT, "EFAULT"),
          Map.entry(EBUSY, "EBUSY"),
          Map.entry(EEXIST, "EEXIST"),
          Map.entry(EXDEV, "EXDEV"),
          Map.entry(ENODEV, "ENODEV"),
          Map.entry(ENOTDIR, "ENOTDIR"),
          Map.entry(EISDIR, "EISDIR"),
          Map.entry(EINVAL, "EINVAL"),
          Map.entry(ENFILE, "ENFILE"),
          Map.entry(EMFILE, "EMFILE"),
          Map.entry(ENOTTY, "ENOTTY"),
          Map.entry(ETXTBSY, "ETXTBSY"),
          Map.entry(EFBIG, "EFBIG"),
          Map.entry(ENOSPC, "ENOSPC"),
          Map.entry(EROFS, "EROFS"),
          Map.entry(EMLINK, "EMLINK"),
          Map.entry(ERANGE, "ERANGE"),
          Map.entry(ENAMETOOLONG, "ENAMETOOLONG"),
          Map.entry(ENOSYS, "ENOSYS"),
          Map.entry(ENOTEMPTY, "ENOTEMPTY"),
          Map.entry(ELOOP, "ELOOP"),
          Map.entry(ENOPROTOOPT, "ENOPROTOOPT"),
          Map.entry(EOPNOTSUPP, "EOPNOTSUPP"),
          Map.entry(EOVERFLOW, "EOVERFLOW"),
          Map.entry(ESTALE, "ESTALE"),
          Map.entry(EDQUOT, "EDQUOT"),
          Map.entry(EFTYPE, "EFTYPE"));

  private Errno() {}

  /**
   * The symbolic name ("ENOENT") of an errno, or "errno N". Where Linux gives two names one number
   * (EAGAIN/EWOULDBLOCK, EOPNOTSUPP/ENOTSUP) the first is returned.
   */
  public static String name(int errno) {
    String name = NAMES.get(errno);
    return name != null ? name : "errno " + errno;
  }
}
