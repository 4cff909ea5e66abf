package dev.filebroker.daemon.policy;

import java.nio.file.Path;
import java.util.Objects;

/**
 * A place in a policy file: 1-based line and column, or the whole file (or directory) when both are
 * 0.
 *
 * @param file the policy file
 * @param line 1-based line, or 0 for the whole file
 * @param column 1-based column, or 0 for the whole line or file
 */
public record SourceLocation(Path file, int line, int column) {
  public SourceLocation {
    Objects.requireNonNull(file, "file == null");
  }

  /**
   * The whole of {@code file}, for problems that have no line (unreadable file, empty directory).
   */
  public static SourceLocation wholeFile(Path file) {
    return new SourceLocation(file, 0, 0);
  }

  /** {@code file:line}, as audit lines and explain output show a rule's origin. */
  public String fileAndLine() {
    return file + ":" + line;
  }

  /** {@code file:line:column}, or just {@code file} for a whole file. */
  @Override
  public String toString() {
    return line == 0 ? file.toString() : file + ":" + line + ":" + column;
  }
}
