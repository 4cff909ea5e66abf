package dev.filebroker.daemon.policy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.dataformat.toml.TomlMapper;
import dev.filebroker.daemon.testing.TomlMutations;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.tomlj.Toml;

/**
 * Whatever the plain parser accepts, Jackson and tomlj accept too, with the same values; what it
 * declines is left to them.
 */
class PlainTomlParserTest {
  private static final TomlMapper JACKSON = new TomlMapper();

  private static final String SAMPLE =
      "# generated policy, part 0\n"
          + "[[allow]]\n"
          + "name = \"u0\"\n"
          + "users = [\"root\", 1000]\n"
          + "paths = [\"/srv/users/u0/**\"]\n"
          + "access = [\"read\", \"write\", \"create\"]\n"
          + "create_mode = \"0640\"\n"
          + "\n"
          + "[[ 'deny' ]] # comment\r\n"
          + "\"name\" = 'd9'\n"
          + "users = [\n  1009, # one\n  0,\n]\n"
          + "paths = [\"/srv/users/u9/secret/**\"]\n"
          + "any = false\n"
          + "[[\"allow\"]]\n"
          + "groups = [ \"root\" , 5 ]\t# x\n"
          + "same_mount = true\n"
          + "max_links = 1\n";

  /** The values of a Jackson tree as plain Java values, integers as longs. */
  private static Object plain(JsonNode node) {
    if (node.isObject()) {
      Map<String, Object> map = new LinkedHashMap<>();
      node.properties().forEach(e -> map.put(e.getKey(), plain(e.getValue())));
      return map;
    }
    if (node.isArray()) {
      List<Object> list = new ArrayList<>();
      node.forEach(element -> list.add(plain(element)));
      return list;
    }
    if (node.isIntegralNumber()) {
      return node.longValue();
    }
    return node.isTextual() ? node.textValue() : node.toString();
  }

  /** Asserts that Jackson and tomlj read {@code text} as the plain parser does, if it does. */
  private static boolean agrees(String text) {
    Optional<com.fasterxml.jackson.databind.node.ObjectNode> parsed = PlainTomlParser.parse(text);
    if (parsed.isEmpty()) {
      return false;
    }
    JsonNode jackson;
    try {
      jackson = JACKSON.readTree(text);
    } catch (IOException | RuntimeException e) {
      throw new AssertionError("Jackson rejects what the plain parser accepts: " + text, e);
    }
    assertEquals(plain(jackson), plain(parsed.get()), text);
    assertEquals(List.of(), Toml.parse(text).errors(), () -> "tomlj rejects: " + text);
    return true;
  }

  @Test
  void readsPlainPoliciesAsJacksonDoes() throws IOException {
    assertTrue(agrees(SAMPLE));
    assertTrue(agrees(""));
    assertTrue(agrees("# only a comment"));
    Path generated = Files.createTempDirectory("plain");
    try {
      PolicyLoaderLoadTimeTest.generate(generated, 200, 1);
      for (Path file : Files.list(generated).toList()) {
        assertTrue(agrees(Files.readString(file)), "generated policies are plain");
        Files.delete(file);
      }
    } finally {
      Files.delete(generated);
    }
  }

  @Test
  void readsEveryValidFixtureItAcceptsAsJacksonDoes() throws IOException {
    int plain = 0;
    for (Path file : RuleReaderTest.validFiles()) {
      if (agrees(Files.readString(file))) {
        plain++;
      }
    }
    assertTrue(plain >= 2, "some fixtures are plain TOML: " + plain);
  }

  @Test
  void declinesWhatIsNotPlain() {
    for (String text :
        List.of(
            "a = 1\n[[allow]]\n",
            "[allow]\n",
            "[[allow.x]]\n",
            "[[rules]]\n",
            "[[allow]] a = 1\n",
            "[[allow]]\na.b = 1\n",
            "[[allow]]\na = 1\na = 2\n",
            "[[allow]]\na = \"\\u0041\"\n",
            "[[allow]]\na = \"\"\"x\"\"\"\n",
            "[[allow]]\na = '''x'''\n",
            "[[allow]]\na = 1.5\n",
            "[[allow]]\na = 1979-05-27\n",
            "[[allow]]\na = 0o640\n",
            "[[allow]]\na = 01\n",
            "[[allow]]\na = +1\n",
            "[[allow]]\na = 1_000\n",
            "[[allow]]\na = 1234567890123456789\n",
            "[[allow]]\na = [[1]]\n",
            "[[allow]]\na = { b = 1 }\n",
            "[[allow]]\na = trueish\n",
            "[[allow]]\na = \"x\ty\u0001\"\n",
            "[[allow]]\n# \u0000\n",
            "[[allow]]\ra = 1\n",
            "[[allow]]\na = [1, , 2]\n",
            "[[allow]]\na = [1 2]\n",
            "[[allow]]\na = 1]\n",
            "[[allow]]\na = \n",
            "[[allow]]\n\"\" = 1\n")) {
      assertEquals(Optional.empty(), PlainTomlParser.parse(text), text);
    }
  }

  @Test
  void everyMutationOfAPlainPolicyThatItAcceptsJacksonAndTomljReadAlike() {
    // Single-character edits with characters that matter to TOML: the parser must decline every
    // edit that is not valid TOML, and read every other as Jackson does.
    int accepted = 0;
    for (String text : TomlMutations.of(SAMPLE, 20261125, 8_000)) {
      if (agrees(text)) {
        accepted++;
      }
    }
    assertTrue(accepted > 400, "enough mutations stay plain to mean something: " + accepted);
  }
}
