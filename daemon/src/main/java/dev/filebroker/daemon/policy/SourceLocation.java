package dev.filebroker.daemon.policy;

import java.nio.file.Path;
import java.util.Objects;

/**
 * A place in a policy file: 1-based line and column.
 *
 * @param file the policy file
 * @param line 1-based line
 * @param column 1-based column
 */
public record SourceLocation(Path file, int line, int column) {
  public SourceLocation {
    Objects.requireNonNull(file, "file == null");
  }

  /** {@code file:line}, as audit lines and explain output show a rule's origin. */
  public String fileAndLine() {
    return file + ":" + line;
  }

  @Override
  public String toString() {
    return file + ":" + line + ":" + column;
  }
}
