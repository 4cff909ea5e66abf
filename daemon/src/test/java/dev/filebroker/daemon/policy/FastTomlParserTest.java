package dev.filebroker.daemon.policy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.tomlj.TomlPosition;

/**
 * Sections are cut only where a rule's header starts, and keep the header positions of the file.
 */
class FastTomlParserTest {
  private static TomlPosition at(int line, int column) {
    return TomlPosition.positionAt(line, column);
  }

  @Test
  void cutsOnlyBeforeRealHeadersNeverInsideStringsOrArrays() {
    String first =
        "# [[deny]] before the first rule\n"
            + "[[allow]]\n"
            + "a = \"\"\"\n[[allow]]\n\"\"\"\n"
            + "b = '''\n[[deny]]\n'''\n";
    String second = "[[deny]] # [[allow]]\nc = [\n[[1]],\n]\n  ";
    String third = "[[ 'allow' ]]\r\nd = \"[[deny]]\"\r\n";
    List<FastTomlParser.Section> sections =
        FastTomlParser.sections(first + second + third, 1).orElseThrow();
    assertEquals(List.of(first, second, third), sections.stream().map(s -> s.text()).toList());
    assertEquals(
        List.of(
            new RuleHeaderScanner.Headers(List.of(at(2, 1)), List.of()),
            new RuleHeaderScanner.Headers(List.of(), List.of(at(9, 1))),
            new RuleHeaderScanner.Headers(List.of(at(13, 3)), List.of())),
        sections.stream().map(s -> s.headers()).toList());
  }

  @Test
  void groupsRulesIntoSectionsOfTheGivenSize() {
    String text = "[[allow]]\n".repeat(5) + "[[deny]]\n".repeat(2);
    List<FastTomlParser.Section> sections = FastTomlParser.sections(text, 3).orElseThrow();
    assertEquals(
        List.of("[[allow]]\n".repeat(3), "[[allow]]\n".repeat(2) + "[[deny]]\n", "[[deny]]\n"),
        sections.stream().map(s -> s.text()).toList());
    assertEquals(
        new RuleHeaderScanner.Headers(List.of(at(4, 1), at(5, 1)), List.of(at(6, 1))),
        sections.get(1).headers());
  }

  @Test
  void keepsAFileWithTopLevelKeysWhole() {
    // A top-level key (an error, or an inline allow = [...]) must meet the rules it conflicts with.
    String text = "allow = []\n" + "[[allow]]\n".repeat(3);
    List<FastTomlParser.Section> sections = FastTomlParser.sections(text, 1).orElseThrow();
    assertEquals(1, sections.size());
    assertEquals(text, sections.get(0).text());
    assertTrue(FastTomlParser.parse(sections.get(0)).isEmpty(), "Jackson rejects the file");
  }

  @Test
  void declinesWhatTheHeaderScannerDeclines() {
    assertEquals(Optional.empty(), FastTomlParser.sections("[[allow]]\n[allow.x]\n", 1));
    assertEquals(Optional.empty(), FastTomlParser.sections("[[allow]]\na = '''\n", 1));
  }
}
