package dev.filebroker.daemon.toml;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The one TOML reader: our own tables with positions, every syntax error with its position, and a
 * small set of cases from the TOML 1.0.0 specification that it must refuse (the toml-test suite is
 * not available to the build; docs/decisions/0016 gives its results).
 */
class TomlTextTest {
  private static TomlTable valid(String text) {
    return assertInstanceOf(TomlText.Parsed.Valid.class, TomlText.parse(text)).toml();
  }

  private static List<TomlText.Problem> invalid(String text) {
    return assertInstanceOf(TomlText.Parsed.Invalid.class, TomlText.parse(text)).problems();
  }

  @Test
  void validTextGivesOurTablesWithTheKeysPositions() {
    TomlTable toml = valid("# c\n[limits]\n  max_connections = 5\n");
    TomlTable limits = toml.getTable("limits");
    assertEquals(5L, limits.getLong("max_connections"));
    assertEquals(new Position(3, 3), limits.positionOf("max_connections"));
    assertEquals(new Position(2, 1), toml.positionOf("limits"));
  }

  @Test
  void arrayElementsArePlacedAtTheirFirstCharacter() {
    TomlTable toml = valid("paths = [\n  # comment\n    \"/a\",\n\t\"/b\" ]\n");
    TomlArray paths = toml.getArray("paths");
    assertEquals(List.of("/a", "/b"), paths.values());
    assertEquals(new Position(3, 5), paths.positionOf(0));
    assertEquals(new Position(4, 2), paths.positionOf(1));
  }

  @Test
  void eachTableOfAnArrayOfTablesIsPlacedAtItsHeader() {
    TomlArray rules = valid("\n[[allow]]\nx = 1\n\n  [[allow]]\n").getArray("allow");
    assertEquals(new Position(2, 1), rules.positionOf(0));
    assertEquals(new Position(5, 3), rules.positionOf(1));
  }

  @Test
  void anIntegerKeepsTheBaseItWasWrittenIn() {
    TomlTable toml = valid("a = 0o640\nb = 640\nc = 0x1F\nd = 0b1\ne = \"0o640\"\n");
    assertEquals(416L, toml.getLong("a"));
    assertEquals(8, toml.radixOf("a"));
    assertEquals(10, toml.radixOf("b"));
    assertEquals(16, toml.radixOf("c"));
    assertEquals(2, toml.radixOf("d"));
    assertEquals(10, toml.radixOf("e"));
  }

  @Test
  void everyRecordedErrorIsAProblemWithItsPosition() {
    List<TomlText.Problem> problems = invalid("[x\n[y\n");
    assertEquals(List.of(1, 2), problems.stream().map(p -> p.position().line()).toList());
    assertTrue(problems.stream().allMatch(p -> !p.message().isEmpty()));
  }

  @Test
  void anErrorTheLibraryThrowsIsAProblemToo() {
    // A short unicode escape in a table header, for which tomlj throws instead of recording.
    List<TomlText.Problem> problems = invalid("[\"\\u12\"]\n");
    assertEquals(1, problems.size());
    assertEquals(1, problems.get(0).position().line());
  }

  /** TOML allows only Unicode scalar values in escapes: no surrogate, paired or not. */
  @ParameterizedTest
  @ValueSource(
      strings = {
        "a = \"\\uD83D\\uDE00\"",
        "a = \"\\uDFFF\"",
        "a = \"\\uD800\"",
        "a = \"\\U0000D800\"",
        "a = \"\\U00110000\"",
        "a = \"\"\"\\uDFFF\"\"\"",
        "[\"\\uDFFF\"]"
      })
  void surrogateAndOutOfRangeEscapesAreRefusedWithTheirPosition(String line) {
    List<TomlText.Problem> problems = invalid("# first\n" + line + "\n");
    assertEquals(2, problems.get(0).position().line(), problems.toString());
    assertTrue(problems.get(0).position().column() > 1, problems.toString());
  }

  /** Cases of the TOML 1.0.0 specification that a lenient parser lets through. */
  @ParameterizedTest
  @ValueSource(
      strings = {
        "a = 1\na = 2",
        "[t]\n[t]",
        "a = [1,,2]",
        "a = 01",
        "a = 1__0",
        "a = \"\\x41\"",
        "a = \"\u0001\"",
        "a = \"x\ry\"",
        "a = 1\rb = 2",
        "a = {x = 1,}",
        "a = {x = 1}\na.y = 2",
        "a = [1]\n[[a]]",
        "[[a]]\n[a]",
        "a.b = 1\n[a]\nb = 2",
        "a = 9223372036854775808",
        "a = 2023-02-30",
        "a = 1979-05-27T25:00:00",
        "a = nan_",
        "= 1",
        "a = \"unterminated",
        "a = '''x",
        "\"\"\"key\"\"\" = 1"
      })
  void textThatIsNotTomlIsRefused(String text) {
    assertTrue(!invalid(text).isEmpty());
  }

  @Test
  void aTextLongerThanTheLimitIsRefusedUnparsed() {
    String text = "# " + "x".repeat(TomlText.MAX_CHARS) + "\n";
    TomlText.Problem problem = invalid(text).get(0);
    assertEquals(Position.START, problem.position());
    assertTrue(problem.message().contains("split it into smaller files"), problem.message());
  }

  @Test
  void anInvalidResultNeedsAtLeastOneProblem() {
    IllegalArgumentException e =
        assertThrows(IllegalArgumentException.class, () -> new TomlText.Parsed.Invalid(List.of()));
    assertEquals("problems must not be empty", e.getMessage());
  }
}
