package dev.filebroker.daemon.fs;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.OptionalLong;

/** The capabilities this process holds in its effective set, as the kernel reports them. */
public final class OwnCapabilities {
  /** Reading another user's {@code /proc/<pid>/exe} (ptrace-read access). */
  public static final int CAP_SYS_PTRACE = 19;

  private OwnCapabilities() {}

  /**
   * Whether capability {@code number} is effective; false when it cannot be told (no /proc), as a
   * capability that cannot be seen cannot be relied on.
   */
  public static boolean effective(int number) {
    try {
      OptionalLong set = effectiveSet(Files.readString(Path.of("/proc/self/status")));
      return set.isPresent() && (set.getAsLong() & (1L << number)) != 0;
    } catch (IOException e) {
      return false;
    }
  }

  /** The {@code CapEff:} mask of a {@code /proc/<pid>/status} text, if it has a well-formed one. */
  static OptionalLong effectiveSet(String status) {
    for (String line : status.split("\n")) {
      if (line.startsWith("CapEff:")) {
        String hex = line.substring("CapEff:".length()).strip();
        if (!hex.matches("[0-9a-f]{1,16}")) {
          return OptionalLong.empty();
        }
        return OptionalLong.of(Long.parseUnsignedLong(hex, 16));
      }
    }
    return OptionalLong.empty();
  }
}
