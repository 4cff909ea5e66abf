package dev.filebroker.daemon.policy;

/** The kinds of file a rule may allow, as named in policy files. */
public enum FileType {
  REGULAR("regular"),
  DIRECTORY("directory"),
  CHAR_DEVICE("char-device"),
  BLOCK_DEVICE("block-device"),
  FIFO("fifo"),
  SOCKET("socket"),
  SYMLINK("symlink"),
  UNKNOWN("unknown");

  private final String policyName;

  FileType(String policyName) {
    this.policyName = policyName;
  }

  /** The name policy files use for this type. */
  public String policyName() {
    return policyName;
  }

  /** The type encoded in an {@code st_mode} value. */
  public static FileType ofMode(int stMode) {
    return switch (stMode & 0170000) {
      case 0100000 -> REGULAR;
      case 0040000 -> DIRECTORY;
      case 0020000 -> CHAR_DEVICE;
      case 0060000 -> BLOCK_DEVICE;
      case 0010000 -> FIFO;
      case 0140000 -> SOCKET;
      case 0120000 -> SYMLINK;
      default -> UNKNOWN;
    };
  }
}
