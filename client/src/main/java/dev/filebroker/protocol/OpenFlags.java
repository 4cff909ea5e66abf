package dev.filebroker.protocol;

/**
 * The open flags of an OPEN request.
 *
 * <p>The wire values are Linux's {@code open(2)} flags as numbered on x86-64 (and on the
 * asm-generic architectures such as riscv64), whatever the architecture of either peer. A C client
 * on x86-64 may pass its own {@code O_*} constants; on arm64, where O_DIRECTORY and O_NOFOLLOW have
 * other numbers, it must use these values. The daemon translates them for the machine it runs on.
 *
 * <p>Only {@link #ALLOWED} bits are accepted. {@code O_CLOEXEC}, {@code O_NOCTTY} and {@code
 * O_NOFOLLOW} may be set and are ignored: the daemon always opens with them, and whether the
 * received descriptor is close-on-exec is the receiver's choice ({@code MSG_CMSG_CLOEXEC}). {@code
 * O_NONBLOCK} never makes the daemon block or not (it always opens non-blocking); it only decides
 * whether the descriptor handed out stays non-blocking. {@link #O_PATH} and {@link #O_TMPFILE} are
 * refused by name; any other bit is refused as unknown.
 */
public final class OpenFlags {
  /** Mask of the access mode, the low two bits. */
  public static final int O_ACCMODE = 03;

  /** Read only. */
  public static final int O_RDONLY = 00;

  /** Write only. */
  public static final int O_WRONLY = 01;

  /** Read and write. */
  public static final int O_RDWR = 02;

  /** Create the file if it does not exist; the policy must grant {@code create}. */
  public static final int O_CREAT = 0100;

  /** With {@link #O_CREAT}: fail if the file exists. */
  public static final int O_EXCL = 0200;

  /** Ignored: the daemon always opens with O_NOCTTY. */
  public static final int O_NOCTTY = 0400;

  /** Truncate at open; needs write access and a policy that grants {@code truncate}. */
  public static final int O_TRUNC = 01000;

  /** Writes go to the end of the file; see docs/policy.md for what this does not enforce. */
  public static final int O_APPEND = 02000;

  /** Keeps the handed-out descriptor non-blocking; the daemon itself never blocks on an open. */
  public static final int O_NONBLOCK = 04000;

  /** The path must name a directory; read-only, and the policy must allow directories. */
  public static final int O_DIRECTORY = 0200000;

  /** Ignored: no symlink is ever followed. */
  public static final int O_NOFOLLOW = 0400000;

  /** Ignored: the receiver chooses close-on-exec when it receives the descriptor. */
  public static final int O_CLOEXEC = 02000000;

  /** Refused: a path-only descriptor is never handed out. */
  public static final int O_PATH = 010000000;

  /** Refused: anonymous temporary files are not brokered. Includes the O_DIRECTORY bit. */
  public static final int O_TMPFILE = 020000000 | O_DIRECTORY;

  /** Every bit a request may carry. */
  public static final int ALLOWED =
      O_ACCMODE
          | O_CREAT
          | O_EXCL
          | O_NOCTTY
          | O_TRUNC
          | O_APPEND
          | O_NONBLOCK
          | O_DIRECTORY
          | O_NOFOLLOW
          | O_CLOEXEC;

  private OpenFlags() {}
}
