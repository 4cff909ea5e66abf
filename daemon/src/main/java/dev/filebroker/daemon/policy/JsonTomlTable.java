package dev.filebroker.daemon.policy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.databind.node.POJONode;
import java.time.LocalDate;
import java.time.LocalDateTime;
import java.time.LocalTime;
import java.time.OffsetDateTime;
import java.util.AbstractMap;
import java.util.AbstractSet;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import org.tomlj.TomlPosition;
import org.tomlj.TomlTable;

/**
 * A tomlj table view of a Jackson TOML tree, so that {@link RuleReader} reads a file parsed by the
 * fast parser with the same code as one parsed by tomlj.
 *
 * <p>Values have tomlj's types: strings, {@code Long} integers, {@code Double} floats, {@code
 * Boolean}, java.time values, and nested {@link JsonTomlTable} and {@link JsonTomlArray} views.
 * Jackson keeps no positions, so every key of a table reports the table's own position (for a rule,
 * its header); only the top-level arrays of tables know each element's header position. Such
 * positions are good enough for a rule's source, not for error messages: errors are always reported
 * from a tomlj parse.
 */
final class JsonTomlTable implements TomlTable {
  private final ObjectNode node;
  private final TomlPosition position;
  private final Map<String, List<TomlPosition>> elementPositions;

  /**
   * A view of {@code node} whose keys are all at {@code position}, except that the elements of the
   * arrays named in {@code elementPositions} are at the positions listed there.
   */
  JsonTomlTable(
      ObjectNode node, TomlPosition position, Map<String, List<TomlPosition>> elementPositions) {
    this.node = Objects.requireNonNull(node, "node == null");
    this.position = Objects.requireNonNull(position, "position == null");
    this.elementPositions = Map.copyOf(elementPositions);
  }

  /**
   * Whether every value in {@code node} has a tomlj equivalent (a {@code long}-sized integer...).
   */
  static boolean convertible(JsonNode node) {
    return switch (node.getNodeType()) {
      case STRING, BOOLEAN -> true;
      case NUMBER -> !node.isIntegralNumber() || node.canConvertToLong();
      case POJO -> {
        Object pojo = ((POJONode) node).getPojo();
        yield pojo instanceof OffsetDateTime
            || pojo instanceof LocalDateTime
            || pojo instanceof LocalDate
            || pojo instanceof LocalTime;
      }
      case ARRAY, OBJECT -> {
        for (JsonNode child : node) {
          if (!convertible(child)) {
            yield false;
          }
        }
        yield true;
      }
      default -> false;
    };
  }

  /** The tomlj value of {@code node}, whose nested values report {@code at} as their position. */
  static Object value(JsonNode node, TomlPosition at) {
    return switch (node.getNodeType()) {
      case STRING -> node.textValue();
      case BOOLEAN -> node.booleanValue();
      case NUMBER -> node.isIntegralNumber() ? (Object) node.longValue() : node.doubleValue();
      case POJO -> ((POJONode) node).getPojo();
      case ARRAY -> new JsonTomlArray((ArrayNode) node, Collections.nCopies(node.size(), at));
      case OBJECT -> new JsonTomlTable((ObjectNode) node, at, Map.of());
      default -> throw new IllegalStateException("no TOML value for " + node.getNodeType());
    };
  }

  @Override
  public int size() {
    return node.size();
  }

  @Override
  public boolean isEmpty() {
    return node.isEmpty();
  }

  /** The keys in text order: a read-only view, made for every rule, so not a copy. */
  @Override
  public Set<String> keySet() {
    return new AbstractSet<>() {
      @Override
      public Iterator<String> iterator() {
        Iterator<Map.Entry<String, JsonNode>> entries = node.properties().iterator();
        return new Iterator<>() {
          @Override
          public boolean hasNext() {
            return entries.hasNext();
          }

          @Override
          public String next() {
            return entries.next().getKey();
          }
        };
      }

      @Override
      public int size() {
        return node.size();
      }

      @Override
      public boolean contains(Object key) {
        return key instanceof String name && node.has(name);
      }
    };
  }

  @Override
  public Set<List<String>> keyPathSet(boolean includeTables) {
    Set<List<String>> paths = new LinkedHashSet<>();
    for (Map.Entry<List<String>, Object> entry : entryPathSet(includeTables)) {
      paths.add(entry.getKey());
    }
    return Collections.unmodifiableSet(paths);
  }

  @Override
  public Set<Map.Entry<String, Object>> entrySet() {
    Set<Map.Entry<String, Object>> entries = new LinkedHashSet<>();
    for (String key : keySet()) {
      entries.add(new AbstractMap.SimpleImmutableEntry<>(key, get(List.of(key))));
    }
    return Collections.unmodifiableSet(entries);
  }

  @Override
  public Set<Map.Entry<List<String>, Object>> entryPathSet(boolean includeTables) {
    Set<Map.Entry<List<String>, Object>> entries = new LinkedHashSet<>();
    for (Map.Entry<String, Object> entry : entrySet()) {
      List<String> path = List.of(entry.getKey());
      if (entry.getValue() instanceof TomlTable table) {
        if (includeTables) {
          entries.add(new AbstractMap.SimpleImmutableEntry<>(path, table));
        }
        for (Map.Entry<List<String>, Object> nested : table.entryPathSet(includeTables)) {
          List<String> longer = new ArrayList<>(path);
          longer.addAll(nested.getKey());
          entries.add(
              new AbstractMap.SimpleImmutableEntry<>(List.copyOf(longer), nested.getValue()));
        }
      } else {
        entries.add(new AbstractMap.SimpleImmutableEntry<>(path, entry.getValue()));
      }
    }
    return Collections.unmodifiableSet(entries);
  }

  /** The value at {@code path}, or null when there is none (as tomlj answers). */
  @Override
  public Object get(List<String> path) {
    JsonNode current = find(path);
    if (current == null) {
      return null;
    }
    if (path.size() == 1 && current instanceof ArrayNode array) {
      List<TomlPosition> positions = elementPositions.get(path.get(0));
      if (positions != null && positions.size() == array.size()) {
        return new JsonTomlArray(array, positions);
      }
    }
    return value(current, position);
  }

  /** The table's own position for any key it has, null otherwise (as tomlj answers). */
  @Override
  public TomlPosition inputPositionOf(List<String> path) {
    return find(path) == null ? null : position;
  }

  /** The node at {@code path}, or null. */
  private JsonNode find(List<String> path) {
    JsonNode current = node;
    for (int i = 0; i < path.size(); i++) {
      if (!(current instanceof ObjectNode object)) {
        return null;
      }
      current = object.get(path.get(i));
      if (current == null) {
        return null;
      }
    }
    return current;
  }

  @Override
  public Map<String, Object> toMap() {
    Map<String, Object> map = new LinkedHashMap<>();
    for (Map.Entry<String, Object> entry : entrySet()) {
      map.put(entry.getKey(), entry.getValue());
    }
    return Collections.unmodifiableMap(map);
  }
}
