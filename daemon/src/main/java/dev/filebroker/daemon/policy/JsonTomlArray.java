package dev.filebroker.daemon.policy;

import com.fasterxml.jackson.databind.node.ArrayNode;
import java.time.LocalDate;
import java.time.LocalDateTime;
import java.time.LocalTime;
import java.time.OffsetDateTime;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Objects;
import org.tomlj.TomlArray;
import org.tomlj.TomlPosition;
import org.tomlj.TomlTable;

/**
 * A tomlj array view of a Jackson TOML array; see {@link JsonTomlTable} for types and positions.
 */
final class JsonTomlArray implements TomlArray {
  private final ArrayNode node;
  private final List<TomlPosition> positions;

  /**
   * A view of {@code node} whose i-th element is at {@code positions.get(i)}; {@code positions}
   * must be immutable (it is not copied: views are made on every look-up).
   */
  JsonTomlArray(ArrayNode node, List<TomlPosition> positions) {
    this.node = Objects.requireNonNull(node, "node == null");
    this.positions = Objects.requireNonNull(positions, "positions == null");
    if (this.positions.size() != node.size()) {
      throw new IllegalArgumentException("positions must have one entry per element");
    }
  }

  @Override
  public int size() {
    return node.size();
  }

  @Override
  public boolean isEmpty() {
    return node.isEmpty();
  }

  @Override
  @Deprecated // as in TomlArray: arrays may mix types since TOML 1.0
  public boolean containsStrings() {
    return contains(String.class);
  }

  @Override
  @Deprecated // as in TomlArray: arrays may mix types since TOML 1.0
  public boolean containsLongs() {
    return contains(Long.class);
  }

  @Override
  @Deprecated // as in TomlArray: arrays may mix types since TOML 1.0
  public boolean containsDoubles() {
    return contains(Double.class);
  }

  @Override
  @Deprecated // as in TomlArray: arrays may mix types since TOML 1.0
  public boolean containsBooleans() {
    return contains(Boolean.class);
  }

  @Override
  @Deprecated // as in TomlArray: arrays may mix types since TOML 1.0
  public boolean containsOffsetDateTimes() {
    return contains(OffsetDateTime.class);
  }

  @Override
  @Deprecated // as in TomlArray: arrays may mix types since TOML 1.0
  public boolean containsLocalDateTimes() {
    return contains(LocalDateTime.class);
  }

  @Override
  @Deprecated // as in TomlArray: arrays may mix types since TOML 1.0
  public boolean containsLocalDates() {
    return contains(LocalDate.class);
  }

  @Override
  @Deprecated // as in TomlArray: arrays may mix types since TOML 1.0
  public boolean containsLocalTimes() {
    return contains(LocalTime.class);
  }

  @Override
  @Deprecated // as in TomlArray: arrays may mix types since TOML 1.0
  public boolean containsArrays() {
    return contains(TomlArray.class);
  }

  @Override
  @Deprecated // as in TomlArray: arrays may mix types since TOML 1.0
  public boolean containsTables() {
    return contains(TomlTable.class);
  }

  @Override
  public Object get(int index) {
    return JsonTomlTable.value(
        node.get(Objects.checkIndex(index, node.size())), positions.get(index));
  }

  @Override
  public TomlPosition inputPositionOf(int index) {
    return positions.get(index);
  }

  @Override
  public List<Object> toList() {
    List<Object> list = new ArrayList<>(node.size());
    for (int i = 0; i < node.size(); i++) {
      list.add(get(i));
    }
    return Collections.unmodifiableList(list);
  }

  private boolean contains(Class<?> type) {
    for (int i = 0; i < node.size(); i++) {
      if (type.isInstance(get(i))) {
        return true;
      }
    }
    return false;
  }
}
