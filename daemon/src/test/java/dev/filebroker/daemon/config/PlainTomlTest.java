package dev.filebroker.daemon.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.filebroker.daemon.testing.TomlMutations;
import java.io.IOException;
import java.nio.file.Files;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.tomlj.Toml;
import org.tomlj.TomlParseResult;
import org.tomlj.TomlPosition;
import org.tomlj.TomlTable;

class PlainTomlTest {
  /** tomlj's reading of {@code text}, which must have no errors. */
  private static Map<String, Object> tomlj(String text) {
    TomlParseResult result = Toml.parse(text);
    assertEquals(List.of(), result.errors(), "tomlj reads " + text);
    return deep(result);
  }

  /** The table as nested maps, whatever table classes it is made of. */
  private static Map<String, Object> deep(TomlTable table) {
    Map<String, Object> map = new LinkedHashMap<>();
    for (Map.Entry<String, Object> e : table.entrySet()) {
      map.put(e.getKey(), e.getValue() instanceof TomlTable t ? deep(t) : e.getValue());
    }
    return map;
  }

  private static void readsLikeTomlj(String text) {
    PlainToml plain = PlainToml.parse(text).orElseThrow(() -> new AssertionError("read " + text));
    assertEquals(tomlj(text), deep(plain), text);
  }

  @Test
  void readsTheShippedConfigurationAsTomljDoes() throws IOException {
    readsLikeTomlj(
        Files.readString(
            DaemonConfigLoaderTest.repositoryRoot().resolve("config/filebroker.toml")));
  }

  @Test
  void readsPlainStringsIntegersBooleansAndTablesAsTomljDoes() {
    for (String text :
        List.of(
            "",
            "\n\n# only a comment\n",
            "a = \"x\"",
            "a=\"x y\" # trailing comment\r\nb = -12\n",
            "a = 0\nb = -0\nc = 123456789012345678\n",
            "t = true\nf = false\n",
            "\ta-b_c = \"\tcaf\u00e9\"\n",
            "top = 1\n[limits]\nx = 2\n[audit] # comment\ndestination = \"stdout\"\n",
            "[empty]\n")) {
      readsLikeTomlj(text);
    }
  }

  @Test
  void givesEachKeyItsLineAndColumn() {
    PlainToml plain = PlainToml.parse("# c\n  a = 1\n[limits]\nb = 2\n").orElseThrow();
    assertEquals(TomlPosition.positionAt(2, 3), plain.inputPositionOf("a"));
    assertEquals(TomlPosition.positionAt(3, 1), plain.inputPositionOf("limits"));
    assertEquals(TomlPosition.positionAt(4, 1), plain.getTable("limits").inputPositionOf("b"));
  }

  @Test
  void leavesEverythingElseToTomlj() {
    for (String text :
        List.of(
            "a = \"esc\\\"aped\"",
            "a = 'literal'",
            "a = \"\"\"multi\nline\"\"\"",
            "a = [1, 2]",
            "a = { b = 1 }",
            "a = 1_000",
            "a = +1",
            "a = 012",
            "a = 0x1f",
            "a = 1.5",
            "a = 1234567890123456789",
            "a = 1979-05-27",
            "a.b = 1",
            "\"a\" = 1",
            "a = 1\na = 2",
            "[t]\n[t]",
            "t = 1\n[t]",
            "[[endpoint]]\nname = \"e\"",
            "[ t ]",
            "[a.b]",
            "a = \"x\" y",
            "a =",
            "a",
            "a = \"unterminated",
            "a = 1 # bell \u0007",
            "\ufeffa = 1",
            "a = 1\rb = 2")) {
      assertTrue(PlainToml.parse(text).isEmpty(), "left to tomlj: " + text);
    }
  }

  @Test
  void everyMutationOfTheShippedFileThatItAcceptsTomljReadsAlike() throws IOException {
    // Single-character edits with characters that matter to TOML: whatever the reader accepts must
    // be valid TOML that tomlj reads to the same values; everything else it must decline.
    String shipped =
        Files.readString(DaemonConfigLoaderTest.repositoryRoot().resolve("config/filebroker.toml"));
    int accepted = 0;
    for (String text : TomlMutations.of(shipped, 20261125, 8_000)) {
      var plain = PlainToml.parse(text);
      if (plain.isPresent()) {
        TomlParseResult tomlj = Toml.parse(text);
        assertEquals(List.of(), tomlj.errors(), "accepted what tomlj rejects:\n" + text);
        assertEquals(deep(tomlj), deep(plain.get()), text);
        accepted++;
      }
    }
    assertTrue(accepted > 400, "enough mutations stay plain to mean something: " + accepted);
  }
}
