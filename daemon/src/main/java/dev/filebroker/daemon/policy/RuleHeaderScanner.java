package dev.filebroker.daemon.policy;

import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.stream.IntStream;
import org.tomlj.TomlPosition;

/**
 * Finds the line and column of every {@code [[allow]]} and {@code [[deny]]} header of a policy
 * file, without parsing values.
 *
 * <p>Exists because the fast TOML parser keeps no source positions, while every rule must know its
 * {@code file:line}. TOML appends one element to an array of tables per header, in text order, so
 * the i-th {@code [[allow]]} header is the i-th element of {@code allow}.
 *
 * <p>The scanner is a small lexer: it skips comments and strings (basic, literal, and their
 * multi-line forms, which may hold text that looks like a header) and tracks the bracket depth of
 * values, so a header is only recognised where a TOML statement starts. It answers only for the
 * simple shape of a policy: it returns empty (inconclusive) on any other table header ({@code [x]},
 * {@code [[x.y]]}, quoted names with escapes), on a lone carriage return, or on text it cannot
 * follow. The caller then reads the file the exact, slower way.
 */
final class RuleHeaderScanner {
  /**
   * Header positions of one file.
   *
   * @param allow positions of the {@code [[allow]]} headers, in text order
   * @param deny positions of the {@code [[deny]]} headers, in text order
   */
  record Headers(List<TomlPosition> allow, List<TomlPosition> deny) {
    Headers {
      allow = List.copyOf(allow);
      deny = List.copyOf(deny);
    }
  }

  /**
   * One {@code [[allow]]} or {@code [[deny]]} header.
   *
   * @param offset the index of its first {@code [} in the text
   * @param line the line of that {@code [}, from 1
   * @param column the column of that {@code [}, from 1
   * @param deny whether it is a {@code [[deny]]} header
   */
  record Header(int offset, int line, int column, boolean deny) {
    /** The line and column of the header. */
    TomlPosition position() {
      return TomlPosition.positionAt(line, column);
    }
  }

  /**
   * Every header of one file in text order, and whether keys precede the first one.
   *
   * @param headers the headers, in text order
   * @param topLevelKeys whether a {@code key = value} statement comes before the first header (a
   *     top-level key, which is either an error or an inline {@code allow = [...]})
   */
  record Layout(List<Header> headers, boolean topLevelKeys) {
    Layout {
      headers = List.copyOf(headers);
    }

    /** The positions of the headers, by name. */
    Headers positions() {
      List<TomlPosition> allow = new ArrayList<>(headers.size());
      List<TomlPosition> deny = new ArrayList<>(headers.size());
      for (Header header : headers) {
        (header.deny() ? deny : allow).add(header.position());
      }
      return new Headers(allow, deny);
    }
  }

  /** Characters per piece of a large file, scanned in parallel. */
  static final int PIECE_SIZE = 1 << 20;

  private final String text;
  private final int end; // the scanner reads text up to here, never beyond
  private final List<Header> headers = new ArrayList<>();
  private boolean topLevelKeys;
  private int index;
  private int line = 1;
  private int lineStart;

  private RuleHeaderScanner(String text, int start, int end) {
    this.text = text;
    this.end = end;
    this.index = start;
    this.lineStart = start;
  }

  /** The header positions of {@code text}, or empty when the file has another shape. */
  static Optional<Headers> scan(String text) {
    return layout(text).map(Layout::positions);
  }

  /** Every header of {@code text} in text order, or empty when the file has another shape. */
  static Optional<Layout> layout(String text) {
    return layout(text, PIECE_SIZE);
  }

  /**
   * As {@link #layout(String)}, scanning pieces of about {@code pieceSize} characters in parallel;
   * the result does not depend on the piece size.
   *
   * <p>A large file is cut before lines that start with {@code [[}, and each piece is scanned on
   * its own as if a statement started there. That is what a scan of the whole file would see
   * exactly when every piece but the last ends where a statement ends (the scanner returns true
   * only then): if a cut fell inside a multi-line string or array, the piece before it fails, and
   * the whole file is scanned in one piece, as before.
   */
  static Optional<Layout> layout(String text, int pieceSize) {
    List<Integer> cuts = new ArrayList<>();
    cuts.add(0);
    int from = pieceSize;
    while (from < text.length()) {
      int newline = text.indexOf("\n[[", from - 1);
      if (newline < 0) {
        break;
      }
      cuts.add(newline + 1);
      from = newline + 1 + pieceSize;
    }
    cuts.add(text.length());
    if (cuts.size() > 2) {
      List<Optional<RuleHeaderScanner>> pieces =
          IntStream.range(0, cuts.size() - 1)
              .parallel()
              .mapToObj(i -> scanned(text, cuts.get(i), cuts.get(i + 1)))
              .toList();
      if (pieces.stream().allMatch(Optional::isPresent)) {
        List<Header> headers = new ArrayList<>();
        int linesBefore = 0;
        for (int i = 0; i < pieces.size(); i++) {
          RuleHeaderScanner piece = pieces.get(i).get();
          for (Header header : piece.headers) {
            headers.add(
                new Header(
                    header.offset(), header.line() + linesBefore, header.column(), header.deny()));
          }
          linesBefore += piece.line - 1; // a piece starts a line: columns stay as they are
        }
        return Optional.of(new Layout(headers, pieces.get(0).get().topLevelKeys));
      }
    }
    return scanned(text, 0, text.length())
        .map(scanner -> new Layout(scanner.headers, scanner.topLevelKeys));
  }

  /**
   * The scanner after reading {@code text} from {@code start} (a line start) to {@code end}, or
   * empty when that is inconclusive. Lines count from 1 at {@code start}; offsets are in {@code
   * text}.
   */
  private static Optional<RuleHeaderScanner> scanned(String text, int start, int end) {
    RuleHeaderScanner scanner = new RuleHeaderScanner(text, start, end);
    return scanner.statements() ? Optional.of(scanner) : Optional.empty();
  }

  /** Reads statement after statement; false when inconclusive. */
  private boolean statements() {
    while (true) {
      skipBlanks();
      if (index >= end) {
        return true;
      }
      char c = text.charAt(index);
      boolean fine =
          switch (c) {
            case '\n', '\r' -> newline();
            case '#' -> comment();
            case '[' -> header();
            default -> {
              topLevelKeys |= headers.isEmpty();
              yield keyValue();
            }
          };
      if (!fine) {
        return false;
      }
    }
  }

  /** A header such as {@code [[allow]]}, {@code [[ "deny" ]]}, then an optional comment. */
  private boolean header() {
    int offset = index;
    int column = index - lineStart + 1;
    if (!startsHere("[[")) {
      return false; // a plain [table]: not a policy shape the scanner vouches for
    }
    index += 2;
    skipBlanks();
    Optional<String> name = headerName();
    if (name.isEmpty()) {
      return false;
    }
    skipBlanks();
    if (!startsHere("]]")) {
      return false; // dotted names ([[allow.x]]) and anything else
    }
    index += 2;
    switch (name.get()) {
      case "allow" -> headers.add(new Header(offset, line, column, false));
      case "deny" -> headers.add(new Header(offset, line, column, true));
      default -> {
        return false;
      }
    }
    skipBlanks();
    if (index >= end) {
      return true;
    }
    return switch (text.charAt(index)) {
      case '#' -> comment();
      case '\n', '\r' -> newline();
      default -> false; // [[allow]] x = 1 is not TOML
    };
  }

  /** A bare key, or a quoted one without escapes; empty for anything else. */
  private Optional<String> headerName() {
    if (index >= end) {
      return Optional.empty();
    }
    char quote = text.charAt(index);
    if (quote == '"' || quote == '\'') {
      int close = text.indexOf(quote, index + 1);
      if (close < 0 || close >= end) {
        return Optional.empty();
      }
      String name = text.substring(index + 1, close);
      if (name.indexOf('\\') >= 0 || name.indexOf('\n') >= 0) {
        return Optional.empty();
      }
      index = close + 1;
      return Optional.of(name);
    }
    int start = index;
    while (index < end && bareKeyChar(text.charAt(index))) {
      index++;
    }
    return index == start ? Optional.empty() : Optional.of(text.substring(start, index));
  }

  private static boolean bareKeyChar(char c) {
    return (c >= 'A' && c <= 'Z')
        || (c >= 'a' && c <= 'z')
        || (c >= '0' && c <= '9')
        || c == '_'
        || c == '-';
  }

  /**
   * A {@code key = value} statement, to the newline that ends it: values may span lines inside
   * brackets, braces or multi-line strings.
   */
  private boolean keyValue() {
    int depth = 0;
    while (index < end) {
      char c = text.charAt(index);
      switch (c) {
        case '"' -> {
          if (!(startsHere("\"\"\"") ? multiLineString('"') : basicString())) {
            return false;
          }
        }
        case '\'' -> {
          if (!(startsHere("'''") ? multiLineString('\'') : literalString())) {
            return false;
          }
        }
        case '#' -> {
          if (!comment()) {
            return false;
          }
          if (depth == 0) {
            return true;
          }
        }
        case '[', '{' -> {
          depth++;
          index++;
        }
        case ']', '}' -> {
          depth--;
          index++;
          if (depth < 0) {
            return false;
          }
        }
        case '\n', '\r' -> {
          if (!newline()) {
            return false;
          }
          if (depth == 0) {
            return true;
          }
        }
        default -> index++;
      }
    }
    return depth == 0;
  }

  /** {@code "..."} on one line, with backslash escapes. */
  private boolean basicString() {
    index++;
    while (index < end) {
      char c = text.charAt(index);
      if (c == '\n' || c == '\r') {
        return false;
      }
      index += c == '\\' ? 2 : 1;
      if (c == '"') {
        return true;
      }
    }
    return false;
  }

  /** {@code '...'} on one line, no escapes. */
  private boolean literalString() {
    int close = text.indexOf('\'', index + 1);
    if (close < 0 || close >= end) {
      return false;
    }
    for (int i = index + 1; i < close; i++) {
      if (text.charAt(i) == '\n' || text.charAt(i) == '\r') {
        return false;
      }
    }
    index = close + 1;
    return true;
  }

  /**
   * {@code """..."""} (escapes apply) or {@code '''...'''} (none), counting the newlines inside. Up
   * to two quotes may directly precede the closing three.
   */
  private boolean multiLineString(char quote) {
    String delimiter = String.valueOf(quote).repeat(3);
    index += 3;
    while (index < end) {
      char c = text.charAt(index);
      if (c == '\n' || c == '\r') {
        if (!newline()) {
          return false;
        }
      } else if (c == '\\' && quote == '"') {
        index++; // past the backslash; a newline after it is counted on the next turn
        if (index < end && text.charAt(index) != '\n' && text.charAt(index) != '\r') {
          index++; // the escaped character, which cannot close the string
        }
      } else if (startsHere(delimiter)) {
        index += 3;
        for (int extra = 0; extra < 2 && index < end && text.charAt(index) == quote; extra++) {
          index++;
        }
        return true;
      } else {
        index++;
      }
    }
    return false;
  }

  /** From {@code #} to the end of the line, and the newline. */
  private boolean comment() {
    while (index < end && text.charAt(index) != '\n' && text.charAt(index) != '\r') {
      index++;
    }
    return index >= end || newline();
  }

  /** Consumes {@code \n} or {@code \r\n}; a lone carriage return is inconclusive. */
  private boolean newline() {
    if (text.charAt(index) == '\r') {
      if (!startsHere("\r\n")) {
        return false;
      }
      index++;
    }
    index++;
    line++;
    lineStart = index;
    return true;
  }

  /** Whether {@code token} starts at the current index and ends by {@code end}. */
  private boolean startsHere(String token) {
    return index + token.length() <= end && text.startsWith(token, index);
  }

  private void skipBlanks() {
    while (index < end && (text.charAt(index) == ' ' || text.charAt(index) == '\t')) {
      index++;
    }
  }
}
