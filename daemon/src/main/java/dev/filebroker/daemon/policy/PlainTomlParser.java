package dev.filebroker.daemon.policy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.List;
import java.util.Optional;
import java.util.stream.Stream;

/**
 * Parses the plain TOML that policies are written in straight into the tree Jackson's TOML parser
 * builds, several times faster, and declines everything else.
 *
 * <p>Exists because Jackson's parser, then the copy of its tree, were most of the time of loading a
 * large policy. It reads {@code [[allow]]} and {@code [[deny]]} headers (names bare or quoted),
 * comments, blank lines, and {@code key = value} lines with bare or quoted keys (no dotted keys)
 * whose values are basic strings without escapes, literal strings, decimal integers without sign,
 * underscores or leading zero (at most 18 digits), {@code true}, {@code false}, or arrays of those
 * (across lines, with comments and a trailing comma). It returns empty, and {@link FastTomlParser}
 * asks Jackson, for anything else: a key before the first header, multi-line strings, escapes,
 * control characters, floats, dates, signs, inline tables, nested arrays, a repeated key, a lone
 * carriage return, or any syntax error. What it accepts is valid TOML with exactly the tree it
 * returns; PlainTomlParserTest checks that against Jackson and tomlj.
 */
final class PlainTomlParser {
  private static final JsonNodeFactory NODES = JsonNodeFactory.instance;
  private static final int MAX_DIGITS = 18; // every 18-digit number fits in a long

  /** Thrown on anything outside the plain subset; never leaves this class. */
  private static final class Declined extends RuntimeException {
    private static final long serialVersionUID = 1L;

    Declined() {
      super(null, null, false, false);
    }
  }

  private static final Declined DECLINED = new Declined();
  private static final List<String> KNOWN_KEYS =
      Stream.concat(RuleReader.ALLOW_KEYS.stream(), Stream.of("allow", "deny")).toList();

  private final String text;
  private final int end;
  private int index;

  private PlainTomlParser(String text, int start, int end) {
    this.text = text;
    this.index = start;
    this.end = end;
  }

  /** The tree of {@code text}, or empty when it is not plain TOML (or not TOML at all). */
  static Optional<ObjectNode> parse(String text) {
    return parse(text, 0, text.length());
  }

  /** The tree of {@code text} from {@code start} to {@code end}, as if that were the whole text. */
  static Optional<ObjectNode> parse(String text, int start, int end) {
    try {
      return Optional.of(new PlainTomlParser(text, start, end).document());
    } catch (Declined e) {
      return Optional.empty();
    }
  }

  private ObjectNode document() {
    ObjectNode root = NODES.objectNode();
    ObjectNode table = null; // no table before the first header: a top-level key is declined
    while (true) {
      skipBlanks();
      if (index >= end) {
        return root;
      }
      char c = text.charAt(index);
      if (c == '\n' || c == '\r') {
        newline();
      } else if (c == '#') {
        comment();
      } else if (c == '[') {
        table = header(root);
        endOfLine();
      } else if (table == null) {
        throw DECLINED;
      } else {
        keyValue(table);
        endOfLine();
      }
    }
  }

  /** {@code [[allow]]} or {@code [[deny]]}: appends a table to that array and returns it. */
  private ObjectNode header(ObjectNode root) {
    expect("[[");
    skipBlanks();
    String name = key();
    skipBlanks();
    expect("]]");
    if (!name.equals("allow") && !name.equals("deny")) {
      throw DECLINED;
    }
    JsonNode array = root.get(name);
    return (array == null ? root.putArray(name) : (ArrayNode) array).addObject();
  }

  private void keyValue(ObjectNode table) {
    String key = key();
    skipBlanks();
    expect("=");
    skipBlanks();
    JsonNode value = value();
    if (table.has(key)) {
      throw DECLINED; // a repeated key is an error: Jackson and tomlj report it
    }
    table.set(key, value);
  }

  /** A bare key, or a non-empty quoted one without escapes. */
  private String key() {
    if (index < end && (text.charAt(index) == '"' || text.charAt(index) == '\'')) {
      String key = string();
      if (key.isEmpty()) {
        throw DECLINED;
      }
      return key;
    }
    int start = index;
    while (index < end && bareKeyChar(text.charAt(index))) {
      index++;
    }
    if (index == start) {
      throw DECLINED;
    }
    for (String known : KNOWN_KEYS) {
      if (known.length() == index - start && text.startsWith(known, start)) {
        return known; // the same key in every rule: no new string
      }
    }
    return text.substring(start, index);
  }

  private JsonNode value() {
    if (index >= end) {
      throw DECLINED;
    }
    char c = text.charAt(index);
    if (c == '"' || c == '\'') {
      return NODES.textNode(string());
    }
    if (c == '[') {
      return array();
    }
    if (c >= '0' && c <= '9') {
      return integer();
    }
    if (startsHere("true")) {
      index += 4;
      delimiter();
      return NODES.booleanNode(true);
    }
    if (startsHere("false")) {
      index += 5;
      delimiter();
      return NODES.booleanNode(false);
    }
    throw DECLINED; // floats, dates, signs, inf, nan, inline tables
  }

  /** {@code "..."} without escapes or {@code '...'}, on one line, no control characters. */
  private String string() {
    char quote = text.charAt(index);
    if (startsHere(quote == '"' ? "\"\"\"" : "'''")) {
      throw DECLINED; // multi-line strings
    }
    int start = ++index;
    while (index < end) {
      char c = text.charAt(index);
      if (c == quote) {
        return text.substring(start, index++);
      }
      if (c == '\\' && quote == '"' || control(c)) {
        throw DECLINED; // escapes; newlines and other control characters
      }
      index++;
    }
    throw DECLINED;
  }

  private JsonNode integer() {
    int start = index;
    while (index < end && text.charAt(index) >= '0' && text.charAt(index) <= '9') {
      index++;
    }
    int digits = index - start;
    if (digits > MAX_DIGITS || (digits > 1 && text.charAt(start) == '0')) {
      throw DECLINED;
    }
    delimiter(); // 1979-05-27, 1.5, 1e3, 1_000, 0o640 are not plain
    return NODES.numberNode(Long.parseLong(text, start, start + digits, 10));
  }

  /** {@code [a, b, ...]} of plain values, across lines, with comments and a trailing comma. */
  private ArrayNode array() {
    ArrayNode array = NODES.arrayNode();
    index++;
    while (true) {
      skipSpace();
      if (index < end && text.charAt(index) == ']') {
        index++;
        return array;
      }
      if (index < end && text.charAt(index) == '[') {
        throw DECLINED; // nested arrays
      }
      array.add(value());
      skipSpace();
      if (index < end && text.charAt(index) == ',') {
        index++;
      } else if (index < end && text.charAt(index) == ']') {
        index++;
        return array;
      } else {
        throw DECLINED;
      }
    }
  }

  /** What may follow a number or boolean: a blank, comma, bracket, comment or line end. */
  private void delimiter() {
    if (index < end) {
      char c = text.charAt(index);
      if (c != ' ' && c != '\t' && c != ',' && c != ']' && c != '#' && c != '\n' && c != '\r') {
        throw DECLINED;
      }
    }
  }

  /** Blanks, an optional comment, then a newline or the end of the text. */
  private void endOfLine() {
    skipBlanks();
    if (index < end && text.charAt(index) == '#') {
      comment();
      return;
    }
    if (index < end) {
      newline();
    }
  }

  /** Blanks, newlines and comments between array elements. */
  private void skipSpace() {
    while (index < end) {
      char c = text.charAt(index);
      if (c == ' ' || c == '\t') {
        index++;
      } else if (c == '\n' || c == '\r') {
        newline();
      } else if (c == '#') {
        comment();
      } else {
        return;
      }
    }
  }

  /** From {@code #} through the newline (or the end); no control characters but tab. */
  private void comment() {
    index++;
    while (index < end) {
      char c = text.charAt(index);
      if (c == '\n' || c == '\r') {
        newline();
        return;
      }
      if (control(c)) {
        throw DECLINED;
      }
      index++;
    }
  }

  /** {@code \n} or {@code \r\n}. */
  private void newline() {
    if (startsHere("\n")) {
      index++;
    } else if (startsHere("\r\n")) {
      index += 2;
    } else {
      throw DECLINED; // a lone carriage return, or anything else where a line must end
    }
  }

  private void expect(String token) {
    if (!startsHere(token)) {
      throw DECLINED;
    }
    index += token.length();
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

  /** Control characters TOML forbids in strings and comments (tab is allowed). */
  private static boolean control(char c) {
    return (c < 0x20 && c != '\t') || c == 0x7f;
  }

  private static boolean bareKeyChar(char c) {
    return (c >= 'A' && c <= 'Z')
        || (c >= 'a' && c <= 'z')
        || (c >= '0' && c <= '9')
        || c == '_'
        || c == '-';
  }
}
