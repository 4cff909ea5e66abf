package dev.filebroker.daemon.toml;

/**
 * A place in a TOML text: 1-based line and column (a column counts characters, a tab as one).
 *
 * @param line 1-based line
 * @param column 1-based column
 */
public record Position(int line, int column) {
  public Position {
    if (line < 1 || column < 1) {
      throw new IllegalArgumentException("line and column start at 1: " + line + ":" + column);
    }
  }

  /** The start of the text, for problems the parser gives no place for. */
  public static final Position START = new Position(1, 1);
}
