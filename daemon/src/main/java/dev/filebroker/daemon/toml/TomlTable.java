package dev.filebroker.daemon.toml;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;
import java.util.Set;

/**
 * A TOML table: its keys in the order the parser gives them, each with its value and the position
 * of the key (of the header, for a table of an array of tables).
 *
 * <p>Values are {@code String}, {@code Long}, {@code Double}, {@code Boolean}, a {@code java.time}
 * date or time, a {@link TomlArray} or a nested {@code TomlTable}: nothing of the parser library,
 * so that the readers of policies and configuration do not depend on it.
 */
public final class TomlTable {
  /**
   * One key's value.
   *
   * @param value the value
   * @param position where the key is
   * @param radix for an integer, the base it was written in (2, 8, 10 or 16); 10 for other values
   */
  public record Entry(Object value, Position position, int radix) {
    public Entry {
      Objects.requireNonNull(value, "value == null");
      Objects.requireNonNull(position, "position == null");
    }
  }

  private final Map<String, Entry> entries;

  TomlTable(Map<String, Entry> entries) {
    this.entries = Collections.unmodifiableMap(new LinkedHashMap<>(entries));
  }

  /** The keys, in parser order. */
  public Set<String> keySet() {
    return entries.keySet();
  }

  public boolean isEmpty() {
    return entries.isEmpty();
  }

  public boolean contains(String key) {
    return entries.containsKey(key);
  }

  /** The value of {@code key}, or null when there is none. */
  public Object get(String key) {
    Entry entry = entries.get(key);
    return entry == null ? null : entry.value();
  }

  /** Where {@code key} is, or null when there is no such key. */
  public Position positionOf(String key) {
    Entry entry = entries.get(key);
    return entry == null ? null : entry.position();
  }

  /** The base {@code key}'s integer was written in; 10 for a missing key or another value. */
  public int radixOf(String key) {
    Entry entry = entries.get(key);
    return entry == null ? 10 : entry.radix();
  }

  public boolean isString(String key) {
    return get(key) instanceof String;
  }

  /** The string value of {@code key}, or null when it is missing or not a string. */
  public String getString(String key) {
    return get(key) instanceof String text ? text : null;
  }

  public boolean isLong(String key) {
    return get(key) instanceof Long;
  }

  /** The integer value of {@code key}, or null when it is missing or not an integer. */
  public Long getLong(String key) {
    return get(key) instanceof Long number ? number : null;
  }

  public boolean isArray(String key) {
    return get(key) instanceof TomlArray;
  }

  /** The array value of {@code key}, or null when it is missing or not an array. */
  public TomlArray getArray(String key) {
    return get(key) instanceof TomlArray array ? array : null;
  }

  public boolean isTable(String key) {
    return get(key) instanceof TomlTable;
  }

  /** The table value of {@code key}, or null when it is missing or not a table. */
  public TomlTable getTable(String key) {
    return get(key) instanceof TomlTable table ? table : null;
  }

  public boolean isBoolean(String key) {
    return get(key) instanceof Boolean;
  }

  /** The boolean value of {@code key}, or null when it is missing or not a boolean. */
  public Boolean getBoolean(String key) {
    return get(key) instanceof Boolean flag ? flag : null;
  }
}
