package dev.filebroker.daemon.policy;

import java.util.List;
import org.tomlj.TomlPosition;

/**
 * The text of one policy file, to refine the positions tomlj reports.
 *
 * <p>tomlj places an array element at the start of the whitespace, newline or comment before it;
 * admins want the column of the value itself. It also does not say how an integer was written,
 * which matters for {@code create_mode = 0o640} versus an ambiguous {@code 640}.
 */
final class TomlSource {
  /**
   * No text: positions stay as they are, and no value text is found (so an integer {@code
   * create_mode} is taken as decimal, an error). For trees from {@link FastTomlParser}, whose
   * positions are only the rules' headers.
   */
  static final TomlSource NONE = new TomlSource("");

  private final List<String> lines;

  TomlSource(String text) {
    this.lines = text.lines().toList();
  }

  /** The position of the first value character at or after {@code position}. */
  TomlPosition valueAt(TomlPosition position) {
    int line = position.line();
    int column = position.column();
    while (line >= 1 && line <= lines.size()) {
      String text = lines.get(line - 1);
      int index = column - 1;
      while (index < text.length() && (text.charAt(index) == ' ' || text.charAt(index) == '\t')) {
        index++;
      }
      if (index < text.length() && text.charAt(index) != '#') {
        return TomlPosition.positionAt(line, index + 1);
      }
      line++; // the rest of the line is blank or a comment: the value starts on a later line
      column = 1;
    }
    return position;
  }

  /**
   * The text of the value assigned at a key's position ({@code key = value}), up to the end of the
   * line; empty when the line does not have that shape.
   */
  String valueTextAfterKey(TomlPosition keyPosition) {
    int line = keyPosition.line();
    if (line < 1 || line > lines.size()) {
      return "";
    }
    String text = lines.get(line - 1);
    int equals = text.indexOf('=', Math.max(0, keyPosition.column() - 1));
    return equals < 0 ? "" : text.substring(equals + 1).strip();
  }
}
