package dev.filebroker.daemon.config;

import java.util.AbstractMap;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import org.tomlj.TomlPosition;
import org.tomlj.TomlTable;

/**
 * A table of the plain TOML a daemon configuration is written in, read without tomlj.
 *
 * <p>Exists because tomlj's ANTLR parser (about 200 classes, and a grammar it deserialises at first
 * use) cost the daemon a tenth of its start-up to read a dozen lines. This reader knows only what
 * the shipped file uses: blank lines, comments, {@code [table]} headers and {@code key = value}
 * lines with bare keys, where a value is a string without escapes, a decimal integer or a boolean.
 * For anything else (another kind of value or key, a repeated key or table, a control character) it
 * answers empty, and the caller reads the file with tomlj, which knows all of TOML and reports
 * errors with their positions.
 *
 * <p>The table's keys are in file order; values are {@code String}, {@code Long}, {@code Boolean}
 * or a nested {@code PlainToml}, as tomlj gives them. The key methods that take a dotted key string
 * are overridden to look the name up directly (tomlj's own parse the key with ANTLR), so a name
 * with a dot in it is simply absent.
 */
final class PlainToml implements TomlTable {
  private final Map<String, Object> values = new LinkedHashMap<>();
  private final Map<String, TomlPosition> positions = new LinkedHashMap<>();

  private PlainToml() {}

  /** The top-level table of {@code text}, or empty when tomlj must read it. */
  static Optional<PlainToml> parse(String text) {
    PlainToml top = new PlainToml();
    PlainToml current = top;
    int lineNumber = 0;
    int start = 0;
    while (start < text.length()) {
      lineNumber++;
      int end = text.indexOf('\n', start);
      if (end < 0) {
        end = text.length();
      }
      int next = end + 1;
      if (end > start && text.charAt(end - 1) == '\r') {
        end--;
      }
      String line = text.substring(start, end);
      start = next;
      if (!plainCharacters(line)) {
        return Optional.empty();
      }
      int i = skipBlanks(line, 0);
      if (i == line.length() || line.charAt(i) == '#') {
        continue;
      }
      if (line.charAt(i) == '[') {
        int nameStart = i + 1;
        int nameEnd = bareKeyEnd(line, nameStart);
        if (nameEnd == nameStart || nameEnd == line.length() || line.charAt(nameEnd) != ']') {
          return Optional.empty();
        }
        if (!restIsComment(line, nameEnd + 1)) {
          return Optional.empty();
        }
        String name = line.substring(nameStart, nameEnd);
        if (top.values.containsKey(name)) {
          return Optional.empty();
        }
        current = new PlainToml();
        top.values.put(name, current);
        top.positions.put(name, TomlPosition.positionAt(lineNumber, i + 1));
        continue;
      }
      int keyEnd = bareKeyEnd(line, i);
      if (keyEnd == i) {
        return Optional.empty();
      }
      String key = line.substring(i, keyEnd);
      int equals = skipBlanks(line, keyEnd);
      if (equals == line.length() || line.charAt(equals) != '=') {
        return Optional.empty();
      }
      int valueStart = skipBlanks(line, equals + 1);
      int valueEnd;
      Object value;
      if (valueStart < line.length() && line.charAt(valueStart) == '"') {
        int close = line.indexOf('"', valueStart + 1);
        if (close < 0) {
          return Optional.empty();
        }
        String content = line.substring(valueStart + 1, close);
        if (content.indexOf('\\') >= 0) {
          return Optional.empty();
        }
        value = content;
        valueEnd = close + 1;
      } else {
        valueEnd = valueStart;
        while (valueEnd < line.length()
            && line.charAt(valueEnd) != ' '
            && line.charAt(valueEnd) != '\t'
            && line.charAt(valueEnd) != '#') {
          valueEnd++;
        }
        value = scalar(line.substring(valueStart, valueEnd));
        if (value == null) {
          return Optional.empty();
        }
      }
      if (!restIsComment(line, valueEnd) || current.values.containsKey(key)) {
        return Optional.empty();
      }
      current.values.put(key, value);
      current.positions.put(key, TomlPosition.positionAt(lineNumber, i + 1));
    }
    return Optional.of(top);
  }

  /** A boolean or decimal integer that fits a {@code long}, else {@code null}. */
  private static Object scalar(String text) {
    if (text.equals("true")) {
      return Boolean.TRUE;
    }
    if (text.equals("false")) {
      return Boolean.FALSE;
    }
    int digits = text.startsWith("-") ? 1 : 0;
    if (text.length() == digits || text.length() - digits > 18) {
      return null;
    }
    if (text.charAt(digits) == '0' && text.length() > digits + 1) {
      return null;
    }
    for (int i = digits; i < text.length(); i++) {
      if (text.charAt(i) < '0' || text.charAt(i) > '9') {
        return null;
      }
    }
    return Long.valueOf(text);
  }

  /** No control characters but tab (TOML forbids them in comments and strings alike). */
  private static boolean plainCharacters(String line) {
    for (int i = 0; i < line.length(); i++) {
      char c = line.charAt(i);
      if ((c < 0x20 && c != '\t') || c == 0x7f || c == '\ufeff') {
        return false;
      }
    }
    return true;
  }

  private static int skipBlanks(String line, int i) {
    while (i < line.length() && (line.charAt(i) == ' ' || line.charAt(i) == '\t')) {
      i++;
    }
    return i;
  }

  private static int bareKeyEnd(String line, int i) {
    while (i < line.length()) {
      char c = line.charAt(i);
      if ((c >= 'A' && c <= 'Z')
          || (c >= 'a' && c <= 'z')
          || (c >= '0' && c <= '9')
          || c == '_'
          || c == '-') {
        i++;
      } else {
        break;
      }
    }
    return i;
  }

  private static boolean restIsComment(String line, int i) {
    int j = skipBlanks(line, i);
    return j == line.length() || line.charAt(j) == '#';
  }

  @Override
  public int size() {
    return values.size();
  }

  @Override
  public boolean isEmpty() {
    return values.isEmpty();
  }

  @Override
  public Set<String> keySet() {
    return Collections.unmodifiableSet(values.keySet());
  }

  @Override
  public Set<List<String>> keyPathSet(boolean includeTables) {
    Set<List<String>> paths = new LinkedHashSet<>();
    for (Map.Entry<List<String>, Object> e : entryPathSet(includeTables)) {
      paths.add(e.getKey());
    }
    return paths;
  }

  @Override
  public Set<Map.Entry<String, Object>> entrySet() {
    return Collections.unmodifiableSet(values.entrySet());
  }

  @Override
  public Set<Map.Entry<List<String>, Object>> entryPathSet(boolean includeTables) {
    Set<Map.Entry<List<String>, Object>> entries = new LinkedHashSet<>();
    for (Map.Entry<String, Object> e : values.entrySet()) {
      if (e.getValue() instanceof PlainToml table) {
        if (includeTables) {
          entries.add(new AbstractMap.SimpleImmutableEntry<>(List.of(e.getKey()), table));
        }
        for (Map.Entry<List<String>, Object> inner : table.entryPathSet(includeTables)) {
          entries.add(
              new AbstractMap.SimpleImmutableEntry<>(
                  List.of(e.getKey(), inner.getKey().get(0)), inner.getValue()));
        }
      } else {
        entries.add(new AbstractMap.SimpleImmutableEntry<>(List.of(e.getKey()), e.getValue()));
      }
    }
    return entries;
  }

  @Override
  public Object get(List<String> path) {
    Object value = this;
    for (String key : path) {
      if (!(value instanceof PlainToml table)) {
        return null;
      }
      value = table.values.get(key);
    }
    return value;
  }

  @Override
  public TomlPosition inputPositionOf(List<String> path) {
    if (path.isEmpty()) {
      return null;
    }
    Object parent = get(path.subList(0, path.size() - 1));
    return parent instanceof PlainToml table ? table.positions.get(path.getLast()) : null;
  }

  @Override
  public Map<String, Object> toMap() {
    return new LinkedHashMap<>(values);
  }

  // tomlj's defaults for the methods below parse the key with ANTLR.

  @Override
  public Object get(String key) {
    return values.get(key);
  }

  @Override
  public boolean contains(String key) {
    return values.containsKey(key);
  }

  @Override
  public TomlPosition inputPositionOf(String key) {
    return positions.get(key);
  }

  @Override
  public boolean isString(String key) {
    return values.get(key) instanceof String;
  }

  @Override
  public String getString(String key) {
    return values.get(key) instanceof String s ? s : null;
  }

  @Override
  public boolean isLong(String key) {
    return values.get(key) instanceof Long;
  }

  @Override
  public Long getLong(String key) {
    return values.get(key) instanceof Long l ? l : null;
  }

  @Override
  public boolean isBoolean(String key) {
    return values.get(key) instanceof Boolean;
  }

  @Override
  public Boolean getBoolean(String key) {
    return values.get(key) instanceof Boolean b ? b : null;
  }

  @Override
  public boolean isTable(String key) {
    return values.get(key) instanceof PlainToml;
  }

  @Override
  public TomlTable getTable(String key) {
    return values.get(key) instanceof PlainToml t ? t : null;
  }
}
