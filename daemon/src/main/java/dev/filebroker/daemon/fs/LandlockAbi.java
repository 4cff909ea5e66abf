package dev.filebroker.daemon.fs;

/**
 * What a Landlock ABI version can restrict: the file-system access rights and the scopes a ruleset
 * handles at that version, and the size of {@code struct landlock_ruleset_attr} the kernel expects
 * (a larger struct with fields the kernel does not know is refused with E2BIG).
 *
 * <p>The rights are the values of {@code <linux/landlock.h>}. Rights that a later ABI adds are not
 * handled until they are listed here; what they govern stays as allowed as it was before them.
 *
 * @param version the ABI version, as {@code landlock_create_ruleset(NULL, 0,
 *     LANDLOCK_CREATE_RULESET_VERSION)} reports it (1 or more)
 */
public record LandlockAbi(int version) {
  public static final long EXECUTE = 1L << 0;
  public static final long WRITE_FILE = 1L << 1;
  public static final long READ_FILE = 1L << 2;
  public static final long READ_DIR = 1L << 3;
  public static final long REMOVE_DIR = 1L << 4;
  public static final long REMOVE_FILE = 1L << 5;
  public static final long MAKE_CHAR = 1L << 6;
  public static final long MAKE_DIR = 1L << 7;
  public static final long MAKE_REG = 1L << 8;
  public static final long MAKE_SOCK = 1L << 9;
  public static final long MAKE_FIFO = 1L << 10;
  public static final long MAKE_BLOCK = 1L << 11;
  public static final long MAKE_SYM = 1L << 12;

  /** ABI 2: link or rename a file from or to another directory. */
  public static final long REFER = 1L << 13;

  /** ABI 3: truncate(2), ftruncate(2) of a file opened in the domain, O_TRUNC. */
  public static final long TRUNCATE = 1L << 14;

  /** ABI 5: ioctl(2) on a character or block device opened in the domain. */
  public static final long IOCTL_DEV = 1L << 15;

  /** ABI 9: connect(2) and sendmsg(2) to a Unix socket found by its path name. */
  public static final long RESOLVE_UNIX = 1L << 16;

  /** ABI 6 scope: connect to an abstract Unix socket created outside the domain. */
  public static final long SCOPE_ABSTRACT_UNIX_SOCKET = 1L << 0;

  /** ABI 6 scope: send a signal to a process outside the domain. */
  public static final long SCOPE_SIGNAL = 1L << 1;

  /** Every right of ABI 1. */
  private static final long ABI_1 =
      EXECUTE
          | WRITE_FILE
          | READ_FILE
          | READ_DIR
          | REMOVE_DIR
          | REMOVE_FILE
          | MAKE_CHAR
          | MAKE_DIR
          | MAKE_REG
          | MAKE_SOCK
          | MAKE_FIFO
          | MAKE_BLOCK
          | MAKE_SYM;

  /** The rights a rule on a file, rather than a directory, may carry. */
  public static final long FILE_RIGHTS = EXECUTE | WRITE_FILE | READ_FILE | TRUNCATE | IOCTL_DEV;

  /** Checks the version. */
  public LandlockAbi {
    if (version < 1) {
      throw new IllegalArgumentException("Landlock ABI version must be 1 or more: " + version);
    }
  }

  /** Every file-system access right this ABI knows, as {@code handled_access_fs}. */
  public long handledAccessFs() {
    long rights = ABI_1;
    if (version >= 2) {
      rights |= REFER;
    }
    if (version >= 3) {
      rights |= TRUNCATE;
    }
    if (version >= 5) {
      rights |= IOCTL_DEV;
    }
    if (version >= 9) {
      rights |= RESOLVE_UNIX;
    }
    return rights;
  }

  /** Every scope this ABI knows, as {@code scoped}. */
  public long scoped() {
    return version >= 6 ? SCOPE_ABSTRACT_UNIX_SOCKET | SCOPE_SIGNAL : 0;
  }

  /**
   * The size of {@code struct landlock_ruleset_attr} with the fields this ABI knows: {@code
   * handled_access_fs} (ABI 1), {@code handled_access_net} (ABI 4), {@code scoped} (ABI 6).
   */
  int attrSize() {
    if (version >= 6) {
      return 24;
    }
    return version >= 4 ? 16 : 8;
  }
}
