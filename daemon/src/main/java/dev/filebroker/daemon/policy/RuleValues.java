package dev.filebroker.daemon.policy;

import dev.filebroker.daemon.toml.KeyNames;
import dev.filebroker.daemon.toml.Position;
import dev.filebroker.daemon.toml.TomlArray;
import dev.filebroker.daemon.toml.TomlTable;
import java.nio.file.Path;
import java.time.LocalDate;
import java.time.LocalDateTime;
import java.time.LocalTime;
import java.time.OffsetDateTime;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.function.Consumer;

/**
 * The problems found in one policy file, and the readers every key of a rule shares: a list of
 * values (missing, not an array, empty, then each element), a flag, and how a value is named in a
 * message.
 *
 * <p>Exists so that the "missing / not an array / empty / per element" shape is written once, and
 * each key's reader says only what its elements are.
 */
final class RuleValues {
  /** Reads one element of a list at its position: its value, or empty after reporting why not. */
  @FunctionalInterface
  interface Element<T> {
    Optional<T> read(Object value, Position at);
  }

  private final Path file;
  private final List<PolicyError> errors = new ArrayList<>();
  private final Consumer<PolicyError> listener;

  RuleValues(Path file) {
    this(file, error -> {});
  }

  /** Also hands every problem to {@code listener} as it is found. */
  RuleValues(Path file, Consumer<PolicyError> listener) {
    this.file = file;
    this.listener = listener;
  }

  /** Every problem so far, in the order found. */
  List<PolicyError> errors() {
    return errors;
  }

  void error(Position position, String message) {
    PolicyError error = new PolicyError(location(position), message);
    errors.add(error);
    listener.accept(error);
  }

  SourceLocation location(Position position) {
    return new SourceLocation(file, position.line(), position.column());
  }

  /**
   * The elements of the array {@code key}, each read by {@code element}; empty when the key is
   * absent. When the value is not an array or is empty, reports "'key' must be an array such as
   * {@code example}" or "'key' is empty; {@code emptyAdvice}" and gives an empty list.
   */
  <T> Optional<List<T>> list(
      TomlTable table, String key, String example, String emptyAdvice, Element<T> element) {
    Object value = table.get(key);
    if (value == null) {
      return Optional.empty();
    }
    Position at = table.positionOf(key);
    if (!(value instanceof TomlArray array)) {
      error(at, "'" + key + "' must be an array such as " + example + "; found " + kind(value));
      return Optional.of(List.of());
    }
    if (array.isEmpty()) {
      error(at, "'" + key + "' is empty; " + emptyAdvice);
      return Optional.of(List.of());
    }
    List<T> values = new ArrayList<>(array.size());
    for (int i = 0; i < array.size(); i++) {
      element.read(array.get(i), array.positionOf(i)).ifPresent(values::add);
    }
    return Optional.of(values);
  }

  /** The boolean {@code key}, false when absent; an error when it is not a boolean. */
  boolean flag(TomlTable table, String key) {
    Object value = table.get(key);
    if (value == null) {
      return false;
    }
    if (value instanceof Boolean flag) {
      return flag;
    }
    error(table.positionOf(key), "'" + key + "' must be true or false; found " + kind(value));
    return false;
  }

  /** Whether every character of {@code text} is a digit from '0' to {@code highest}. */
  static boolean digits(String text, char highest) {
    for (int i = 0; i < text.length(); i++) {
      if (text.charAt(i) < '0' || text.charAt(i) > highest) {
        return false;
      }
    }
    return true;
  }

  static String kind(Object value) {
    return switch (value) {
      case String s -> "a string";
      case Long l -> "an integer";
      case Double d -> "a float";
      case Boolean b -> "a boolean";
      case TomlArray a -> "an array";
      case TomlTable t -> "a table";
      case OffsetDateTime t -> "a date-time";
      case LocalDateTime t -> "a date-time";
      case LocalDate d -> "a date";
      case LocalTime t -> "a time";
      default -> "a " + value.getClass().getSimpleName();
    };
  }

  /** {@code " (did you mean 'access'?)"} when one expected key is close to {@code key}. */
  static String suggestion(String key, List<String> keys) {
    return KeyNames.closest(key, keys).map(k -> " (did you mean '" + k + "'?)").orElse("");
  }

  static Optional<String> closest(String key, List<String> keys) {
    return KeyNames.closest(key, keys);
  }
}
