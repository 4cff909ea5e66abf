package dev.filebroker.daemon.fs;

/** STUB. Linux errno numbers and names the daemon handles by name. */
public final class Errno {
  public static final int EPERM = 1;
  public static final int ENOENT = 2;
  public static final int EACCES = 13;
  public static final int EEXIST = 17;
  public static final int EXDEV = 18;
  public static final int ENOTDIR = 20;
  public static final int EISDIR = 21;
  public static final int EINVAL = 22;
  public static final int ENFILE = 23;
  public static final int EMFILE = 24;
  public static final int ENXIO = 6;
  public static final int ENOMEM = 12;
  public static final int ELOOP = 40;
  public static final int EAGAIN = 11;

  private Errno() {}

  /** The symbolic name ("ENOENT") of an errno, or "errno N". */
  public static String name(int errno) {
    throw new UnsupportedOperationException("stub");
  }
}
