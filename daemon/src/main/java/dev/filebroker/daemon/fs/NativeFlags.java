package dev.filebroker.daemon.fs;

import dev.filebroker.protocol.OpenFlags;

/**
 * The host's {@code open(2)} flag values and the one translation from wire flags to them.
 *
 * <p>The wire uses x86-64 numbering. x86-64 and riscv64 (asm-generic) use the same values; arm64
 * keeps 32-bit ARM's values for {@code O_DIRECTORY} and {@code O_NOFOLLOW} (and {@code O_DIRECT},
 * {@code O_LARGEFILE}), so those two bits move there. Other architectures are refused at startup
 * rather than guessed.
 */
final class NativeFlags {
  static final int O_RDONLY = 00;
  static final int O_WRONLY = 01;
  static final int O_RDWR = 02;
  static final int O_ACCMODE = 03;
  static final int O_CREAT = 0100;
  static final int O_EXCL = 0200;
  static final int O_NOCTTY = 0400;
  static final int O_TRUNC = 01000;
  static final int O_APPEND = 02000;
  static final int O_NONBLOCK = 04000;
  static final int O_CLOEXEC = 02000000;
  static final int O_PATH = 010000000;

  /** __O_TMPFILE (the same on x86-64, arm64 and riscv64); O_TMPFILE is this with O_DIRECTORY. */
  static final int O_TMPFILE_BIT = 020000000;

  /** O_DIRECTORY on this host. */
  final int directory;

  /** O_NOFOLLOW on this host. */
  final int noFollow;

  private NativeFlags(int directory, int noFollow) {
    this.directory = directory;
    this.noFollow = noFollow;
  }

  /**
   * The flags of the architecture named by {@code os.arch}.
   *
   * @throws UnsupportedOperationException on an architecture whose numbering is not known here
   */
  static NativeFlags forArchitecture(String osArch) {
    return switch (osArch) {
      case "amd64", "x86_64", "riscv64" -> new NativeFlags(0200000, 0400000);
      case "aarch64", "arm64" -> new NativeFlags(040000, 0100000);
      default ->
          throw new UnsupportedOperationException(
              "open(2) flag values are not known for architecture "
                  + osArch
                  + "; add them to NativeFlags before running the daemon there");
    };
  }

  /** The flags of the running JVM's architecture. */
  static NativeFlags host() {
    return forArchitecture(System.getProperty("os.arch"));
  }

  /**
   * The host flags for the bits of a validated request that reach the final open: access mode,
   * O_APPEND, O_TRUNC, O_DIRECTORY, O_CREAT, O_EXCL. O_NOFOLLOW, O_NOCTTY, O_CLOEXEC and O_NONBLOCK
   * are dropped here; the opener sets its own.
   */
  int fromWire(int wire) {
    int host = wire & OpenFlags.O_ACCMODE; // access modes are numbered alike everywhere
    if ((wire & OpenFlags.O_CREAT) != 0) {
      host |= O_CREAT;
    }
    if ((wire & OpenFlags.O_EXCL) != 0) {
      host |= O_EXCL;
    }
    if ((wire & OpenFlags.O_TRUNC) != 0) {
      host |= O_TRUNC;
    }
    if ((wire & OpenFlags.O_APPEND) != 0) {
      host |= O_APPEND;
    }
    if ((wire & OpenFlags.O_DIRECTORY) != 0) {
      host |= directory;
    }
    return host;
  }
}
