package dev.filebroker.daemon.endpoint;

import dev.filebroker.protocol.OpenFlags;
import java.util.Arrays;
import java.util.Optional;

/**
 * The one access mode a fixed endpoint opens its file with, as named in the configuration. Fixed
 * endpoints never create or truncate: the file must exist.
 */
public enum EndpointAccess {
  /** {@code O_RDONLY}. */
  READ("read", OpenFlags.O_RDONLY),
  /** {@code O_WRONLY}. */
  WRITE("write", OpenFlags.O_WRONLY),
  /** {@code O_WRONLY|O_APPEND}; binding only on files with the append-only inode attribute. */
  APPEND("append", OpenFlags.O_WRONLY | OpenFlags.O_APPEND),
  /** {@code O_RDWR}. */
  READ_WRITE("read-write", OpenFlags.O_RDWR);

  private final String configName;
  private final int wireFlags;

  EndpointAccess(String configName, int wireFlags) {
    this.configName = configName;
    this.wireFlags = wireFlags;
  }

  /** The name the configuration uses ("read-write"). */
  public String configName() {
    return configName;
  }

  /** The open flags in wire numbering ({@link OpenFlags}). */
  public int wireFlags() {
    return wireFlags;
  }

  /** The access named {@code name} in the configuration, if any. */
  public static Optional<EndpointAccess> ofConfigName(String name) {
    return Arrays.stream(values()).filter(a -> a.configName.equals(name)).findFirst();
  }

  /** Every configuration name, for error messages. */
  static String names() {
    return String.join(", ", Arrays.stream(values()).map(a -> "\"" + a.configName + "\"").toList());
  }
}
