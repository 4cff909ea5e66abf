package dev.filebroker.daemon.policy;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.tomlj.TomlPosition;

class RuleHeaderScannerTest {
  private static TomlPosition at(int line, int column) {
    return TomlPosition.positionAt(line, column);
  }

  private static Optional<RuleHeaderScanner.Headers> scan(String text) {
    return RuleHeaderScanner.scan(text);
  }

  @Test
  void findsHeadersWithSpacesQuotesIndentAndComments() {
    String text =
        "# [[deny]] in a comment\n"
            + "  [[allow]] # first\n"
            + "name = \"a\"\n"
            + "\n"
            + "[[ \"deny\" ]]\n"
            + "[['allow']]\r\n"
            + "\t[[allow]]";
    assertEquals(
        Optional.of(
            new RuleHeaderScanner.Headers(
                List.of(at(2, 3), at(6, 1), at(7, 2)), List.of(at(5, 1)))),
        scan(text));
  }

  @Test
  void skipsHeaderLookalikesInStringsAndMultiLineValues() {
    String text =
        "[[allow]]\n"
            + "a = \"\"\"\n[[allow]]\n\\\"\"\"\n[[deny]]\n\"\"\"\"\"\n"
            + "b = '''\n[[deny]]\n'''\n"
            + "c = [\n  [[\"allow\"]],\n  \"]\", # ]\n]\n"
            + "d = { e = \"[[allow]]\" }\n"
            + "[[deny]]\n";
    assertEquals(
        Optional.of(new RuleHeaderScanner.Headers(List.of(at(1, 1)), List.of(at(15, 1)))),
        scan(text));
  }

  @Test
  void declinesOtherTablesDottedNamesEscapesAndLoneCarriageReturns() {
    for (String text :
        List.of(
            "[allow]\n",
            "[[allow.x]]\n",
            "[[rules]]\n",
            "[[\"al\\u006cow\"]]\n",
            "[[allow]] x = 1\n",
            "[[allow]]\rname = \"a\"\n",
            "a = \"unterminated\n",
            "a = [1, 2\n")) {
      assertEquals(Optional.empty(), scan(text), text);
    }
  }

  @Test
  void scansPiecesOfAFileInParallelWithTheSameResult() {
    String rules =
        "[[allow]]\n"
            + "a = \"\"\"\n[[allow]]\n[[deny]]\n\"\"\"\n"
            + "b = '''\n[[deny]]\n'''\n"
            + "c = [\n[[1]],\n[[2]]\n]\n"
            + "[[deny]] # x\r\n"
            + "d = 1\r\n"
            + "  [[allow]]\n";
    for (String text :
        List.of(
            "# head\n" + rules.repeat(5),
            "x = 1\n" + rules.repeat(3),
            rules + "[[x]]\n" + rules,
            rules + "a = \"\"\"\n" + rules)) {
      Optional<RuleHeaderScanner.Layout> whole = RuleHeaderScanner.layout(text, text.length());
      for (int pieceSize = 1; pieceSize < 80; pieceSize += 7) {
        assertEquals(whole, RuleHeaderScanner.layout(text, pieceSize), text + " / " + pieceSize);
      }
    }
    assertEquals(
        15,
        RuleHeaderScanner.layout("# head\n" + rules.repeat(5), 10).orElseThrow().headers().size());
  }
}
