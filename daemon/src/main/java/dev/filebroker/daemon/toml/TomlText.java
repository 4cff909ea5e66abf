package dev.filebroker.daemon.toml;

import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import org.tomlj.Toml;
import org.tomlj.TomlParseError;
import org.tomlj.TomlParseResult;
import org.tomlj.TomlPosition;

/**
 * A TOML text parsed by tomlj, or every syntax error in it with its position: the one way the
 * daemon configuration, policy files and policy test files are parsed when an exact error is
 * wanted.
 *
 * <p>Exists because tomlj reports syntax errors two ways: it records most in the result, but throws
 * a {@link TomlParseError} for some malformed escapes (a short {@code \\u}, for one). Each reader
 * handled both on its own; here both become one list of {@link Problem}s.
 */
public final class TomlText {
  private TomlText() {}

  /**
   * One syntax error: where (line 1, column 1 in the rare case that tomlj gives no position) and
   * what, in tomlj's words.
   */
  public record Problem(TomlPosition position, String message) {
    public Problem {
      Objects.requireNonNull(position, "position == null");
      Objects.requireNonNull(message, "message == null");
    }

    private static Problem of(TomlParseError error) {
      TomlPosition position = error.position();
      return new Problem(
          position != null ? position : TomlPosition.positionAt(1, 1), error.getMessage());
    }
  }

  /** What parsing gave. */
  public sealed interface Parsed {
    /** The text is TOML: its tables. */
    record Valid(TomlParseResult toml) implements Parsed {
      public Valid {
        Objects.requireNonNull(toml, "toml == null");
      }
    }

    /** The text is not TOML: every syntax error tomlj found, in order; never empty. */
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
    TomlParseResult toml;
    try {
      toml = Toml.parse(text);
    } catch (TomlParseError e) {
      return new Parsed.Invalid(List.of(Problem.of(e)));
    }
    if (toml.errors().isEmpty()) {
      return new Parsed.Valid(toml);
    }
    List<Problem> problems = new ArrayList<>(toml.errors().size());
    for (TomlParseError error : toml.errors()) {
      problems.add(Problem.of(error));
    }
    return new Parsed.Invalid(problems);
  }
}
