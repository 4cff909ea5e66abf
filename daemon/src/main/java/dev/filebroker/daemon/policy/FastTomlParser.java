package dev.filebroker.daemon.policy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectReader;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.dataformat.toml.TomlMapper;
import com.fasterxml.jackson.dataformat.toml.TomlReadFeature;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.tomlj.TomlPosition;
import org.tomlj.TomlTable;

/**
 * Parses a policy file with Jackson's TOML parser, an order of magnitude faster than tomlj on large
 * files, and gives each rule the position of its header.
 *
 * <p>Answers only when it is sure: the file must parse, every value must have a tomlj type, and
 * {@link RuleHeaderScanner} must find exactly as many {@code [[allow]]} and {@code [[deny]]}
 * headers as the tree has elements in {@code allow} and {@code deny}. Otherwise it returns empty
 * and the caller parses the file with tomlj, which knows every position.
 *
 * <p>A large file is cut into {@linkplain Section sections} of whole rules, which parse
 * independently (and so in parallel, each into a small tree that dies young). That reads the same
 * rules as one parse of the whole file when the file holds nothing but {@code [[allow]]} and {@code
 * [[deny]]} tables (and comments before them): each header starts a new table, keys and duplicate
 * keys belong to one table, and the scanner cuts only where a statement starts, never inside a
 * string, array or inline table. A file with top-level keys is parsed whole.
 */
final class FastTomlParser {
  private static final TomlPosition START = TomlPosition.positionAt(1, 1);

  /** Jackson's reader, built on first use: a policy of plain TOML never needs it. */
  private static final class Jackson {
    // Dates and times as java.time values, as tomlj gives them (not strings, which could pass
    // for names); thread-safe once built.
    static final ObjectReader READER =
        TomlMapper.builder().enable(TomlReadFeature.PARSE_JAVA_TIME).build().reader();
  }

  /** Rules per section: small trees, and enough sections to keep every processor busy. */
  static final int RULES_PER_SECTION = 32;

  /**
   * A run of whole rules of a file, to be parsed on its own.
   *
   * @param file the text of the whole file
   * @param start where the section starts in it (for the first section, 0: with the comments before
   *     the first rule)
   * @param end where the section ends
   * @param headers the positions of the section's headers in the whole file
   */
  record Section(String file, int start, int end, RuleHeaderScanner.Headers headers) {
    /** The text of the section. */
    String text() {
      return file.substring(start, end);
    }
  }

  private FastTomlParser() {}

  /** The top-level table of {@code text}, or empty when the exact parser must read it. */
  static Optional<TomlTable> parse(String text) {
    return RuleHeaderScanner.scan(text)
        .flatMap(headers -> parse(new Section(text, 0, text.length(), headers)));
  }

  /**
   * {@code text} cut into sections of at most {@code rulesPerSection} rules, or one section when it
   * has top-level keys; empty when the exact parser must read it.
   */
  static Optional<List<Section>> sections(String text, int rulesPerSection) {
    Optional<RuleHeaderScanner.Layout> scanned = RuleHeaderScanner.layout(text);
    if (scanned.isEmpty()) {
      return Optional.empty();
    }
    RuleHeaderScanner.Layout layout = scanned.get();
    List<RuleHeaderScanner.Header> headers = layout.headers();
    if (layout.topLevelKeys() || headers.size() <= rulesPerSection) {
      return Optional.of(List.of(new Section(text, 0, text.length(), layout.positions())));
    }
    List<Section> sections = new ArrayList<>();
    for (int first = 0; first < headers.size(); first += rulesPerSection) {
      int end = Math.min(first + rulesPerSection, headers.size());
      int from = first == 0 ? 0 : headers.get(first).offset();
      int to = end == headers.size() ? text.length() : headers.get(end).offset();
      List<RuleHeaderScanner.Header> part = headers.subList(first, end);
      sections.add(
          new Section(text, from, to, new RuleHeaderScanner.Layout(part, false).positions()));
    }
    return Optional.of(sections);
  }

  /** The top-level table of {@code section}, or empty when the exact parser must read the file. */
  static Optional<TomlTable> parse(Section section) {
    Optional<ObjectNode> plain =
        PlainTomlParser.parse(section.file(), section.start(), section.end());
    JsonNode tree;
    try {
      tree = plain.isPresent() ? plain.get() : Jackson.READER.readTree(section.text());
    } catch (IOException | RuntimeException e) {
      // Syntax errors, and any parser failure: tomlj will report it with its position.
      return Optional.empty();
    }
    // A plain tree holds only strings, booleans and long-sized integers.
    if (!(tree instanceof ObjectNode top) || (plain.isEmpty() && !JsonTomlTable.convertible(top))) {
      return Optional.empty();
    }
    RuleHeaderScanner.Headers headers = section.headers();
    if (!sameCount(top.get("allow"), headers.allow())
        || !sameCount(top.get("deny"), headers.deny())) {
      return Optional.empty();
    }
    TomlPosition first =
        headers.allow().isEmpty()
            ? headers.deny().isEmpty() ? START : headers.deny().get(0)
            : headers.allow().get(0);
    return Optional.of(
        new JsonTomlTable(top, first, Map.of("allow", headers.allow(), "deny", headers.deny())));
  }

  private static boolean sameCount(JsonNode value, List<TomlPosition> headers) {
    return value instanceof ArrayNode array ? array.size() == headers.size() : headers.isEmpty();
  }
}
