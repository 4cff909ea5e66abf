package dev.filebroker.daemon.toml;

import java.util.List;
import java.util.Objects;

/**
 * A TOML array: its elements in order, each with the position of its first character (of the
 * header, for an array of tables). Values are as in {@link TomlTable}.
 */
public final class TomlArray {
  /**
   * One element.
   *
   * @param value the value
   * @param position where it is
   */
  public record Element(Object value, Position position) {
    public Element {
      Objects.requireNonNull(value, "value == null");
      Objects.requireNonNull(position, "position == null");
    }
  }

  private final List<Element> elements;

  TomlArray(List<Element> elements) {
    this.elements = List.copyOf(elements);
  }

  public int size() {
    return elements.size();
  }

  public boolean isEmpty() {
    return elements.isEmpty();
  }

  /** The value of element {@code index}. */
  public Object get(int index) {
    return elements.get(index).value();
  }

  /** Where element {@code index} is. */
  public Position positionOf(int index) {
    return elements.get(index).position();
  }

  /** The values, in order. */
  public List<Object> values() {
    return elements.stream().map(Element::value).toList();
  }
}
