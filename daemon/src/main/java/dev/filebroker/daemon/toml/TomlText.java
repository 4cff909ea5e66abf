package dev.filebroker.daemon.toml;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import org.tomlj.Toml;
import org.tomlj.TomlParseError;
import org.tomlj.TomlParseResult;
import org.tomlj.TomlPosition;

/**
 * A TOML text parsed into filebroker's own {@link TomlTable}s and {@link TomlArray}s, or every
 * syntax error in it with its position: the one way the daemon configuration, policy files and
 * policy test files are parsed.
 *
 * <p>The only class that knows the parser library (tomlj, see docs/decisions/0016): replacing it
 * means rewriting this class alone. Its result is copied once into our records, so the library's
 * tree is garbage as soon as {@link #parse} returns.
 *
 * <p>Two corrections are made to tomlj's positions, from the text at a position tomlj gave (no TOML
 * is lexed here): an array element is placed at its first character rather than at the blank,
 * newline or comment before it, and an integer's base is read from the characters after its key's
 * {@code =} (TOML does not keep it, and {@code create_mode = 640} is not {@code 0o640}).
 */
public final class TomlText {
  /**
   * The longest text parsed, in characters. tomlj builds a syntax tree of about 150 to 250 bytes of
   * heap per character of input before it gives the tables (docs/decisions/0016), so this bounds
   * one parse to some 64 MiB under the launcher's 256 MiB heap.
   */
  public static final int MAX_CHARS = 256 * 1024;

  private TomlText() {}

  /** One syntax error: where (line 1, column 1 when tomlj gives no position) and what. */
  public record Problem(Position position, String message) {
    public Problem {
      Objects.requireNonNull(position, "position == null");
      Objects.requireNonNull(message, "message == null");
    }

    private static Problem of(TomlParseError error) {
      TomlPosition position = error.position();
      return new Problem(
          position != null ? new Position(position.line(), position.column()) : Position.START,
          error.getMessage());
    }
  }

  /** What parsing gave. */
  public sealed interface Parsed {
    /** The text is TOML: its top-level table. */
    record Valid(TomlTable toml) implements Parsed {
      public Valid {
        Objects.requireNonNull(toml, "toml == null");
      }
    }

    /** The text is not TOML: every syntax error found, in order; never empty. */
    record Invalid(List<Problem> problems) implements Parsed {
      public Invalid {
        problems = List.copyOf(problems);
        if (problems.isEmpty()) {
          throw new IllegalArgumentException("problems must not be empty");
        }
      }
    }
  }

  /** Parses {@code text}; never throws for any text. */
  public static Parsed parse(String text) {
    Objects.requireNonNull(text, "text == null");
    if (text.length() > MAX_CHARS) {
      return new Parsed.Invalid(
          List.of(
              new Problem(
                  Position.START,
                  "the text has "
                      + text.length()
                      + " characters, more than the "
                      + MAX_CHARS
                      + " read at once; split it into smaller files")));
    }
    TomlParseResult toml;
    try {
      toml = Toml.parse(text);
    } catch (TomlParseError e) {
      return new Parsed.Invalid(List.of(Problem.of(e)));
    }
    if (!toml.errors().isEmpty()) {
      List<Problem> problems = new ArrayList<>(toml.errors().size());
      for (TomlParseError error : toml.errors()) {
        problems.add(Problem.of(error));
      }
      return new Parsed.Invalid(problems);
    }
    return new Parsed.Valid(new Copier(text).table(toml));
  }

  /** Copies tomlj's tree into ours, correcting positions from the text. */
  private static final class Copier {
    private final List<String> lines;

    Copier(String text) {
      this.lines = text.lines().toList();
    }

    TomlTable table(org.tomlj.TomlTable table) {
      Map<String, TomlTable.Entry> entries = new LinkedHashMap<>();
      for (String key : table.keySet()) {
        List<String> path = List.of(key);
        Object value = value(table.get(path));
        Position position = position(table.inputPositionOf(path));
        int radix = value instanceof Long ? radixAfterKey(position) : 10;
        entries.put(key, new TomlTable.Entry(value, position, radix));
      }
      return new TomlTable(entries);
    }

    private TomlArray array(org.tomlj.TomlArray array) {
      List<TomlArray.Element> elements = new ArrayList<>(array.size());
      for (int i = 0; i < array.size(); i++) {
        elements.add(
            new TomlArray.Element(
                value(array.get(i)), valueAt(position(array.inputPositionOf(i)))));
      }
      return new TomlArray(elements);
    }

    private Object value(Object value) {
      return switch (value) {
        case org.tomlj.TomlTable table -> table(table);
        case org.tomlj.TomlArray array -> array(array);
        default -> value;
      };
    }

    private static Position position(TomlPosition position) {
      return position == null ? Position.START : new Position(position.line(), position.column());
    }

    /** The position of the first value character at or after {@code position}. */
    private Position valueAt(Position position) {
      int line = position.line();
      int column = position.column();
      while (line <= lines.size()) {
        String text = lines.get(line - 1);
        int index = column - 1;
        while (index < text.length() && (text.charAt(index) == ' ' || text.charAt(index) == '\t')) {
          index++;
        }
        if (index < text.length() && text.charAt(index) != '#') {
          return new Position(line, index + 1);
        }
        line++; // the rest of the line is blank or a comment: the value starts on a later line
        column = 1;
      }
      return position;
    }

    /** The base of the integer written after the {@code =} that follows the key at {@code key}. */
    private int radixAfterKey(Position key) {
      if (key.line() > lines.size()) {
        return 10;
      }
      String text = lines.get(key.line() - 1);
      int equals = text.indexOf('=', key.column() - 1);
      if (equals < 0) {
        return 10;
      }
      String written = text.substring(equals + 1).strip().toLowerCase(Locale.ROOT);
      return written.startsWith("0o")
          ? 8
          : written.startsWith("0x") ? 16 : written.startsWith("0b") ? 2 : 10;
    }
  }
}
