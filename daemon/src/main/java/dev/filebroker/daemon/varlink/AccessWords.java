package dev.filebroker.daemon.varlink;

import com.fasterxml.jackson.databind.JsonNode;
import dev.filebroker.protocol.OpenFlags;

/**
 * The interface's access words as open(2) flags, the form the binary protocol carries and the
 * request validator and policy read: read, write, append and directory choose the access mode;
 * create, truncate and the exclusive option add O_CREAT, O_TRUNC and O_EXCL. Which combinations are
 * valid is left to the same validator the binary protocol uses.
 */
final class AccessWords {
  private AccessWords() {}

  /** The flags for {@code access} (an array of {@code Access} names, already validated). */
  static int flags(JsonNode access, boolean exclusive) {
    boolean read = false;
    boolean write = false;
    boolean append = false;
    int flags = 0;
    for (JsonNode w : access) {
      switch (w.textValue()) {
        case "read" -> read = true;
        case "write" -> write = true;
        case "append" -> append = true;
        case "create" -> flags |= OpenFlags.O_CREAT;
        case "truncate" -> flags |= OpenFlags.O_TRUNC;
        case "directory" -> flags |= OpenFlags.O_DIRECTORY;
        default -> throw new IllegalArgumentException("not an Access word: " + w);
      }
    }
    boolean writes = write || append;
    int accmode =
        read && writes ? OpenFlags.O_RDWR : writes ? OpenFlags.O_WRONLY : OpenFlags.O_RDONLY;
    if (append) {
      flags |= OpenFlags.O_APPEND;
    }
    if (exclusive) {
      flags |= OpenFlags.O_EXCL;
    }
    return flags | accmode;
  }
}
