package dev.filebroker.daemon.control;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class JsonTest {
  @Test
  void writesAndReadsBackNestedValues() {
    Map<String, Object> o = new LinkedHashMap<>();
    o.put("ok", true);
    o.put("n", -42L);
    o.put("text", "quote \" backslash \\ newline \n tab \t bell \u0007 é");
    o.put("list", List.of(1L, "two", false));
    o.put("empty", Map.of());
    String line = Json.write(o);
    assertTrue(!line.contains("\n"), "one line: " + line);
    assertEquals(o, Json.parse(line));
  }

  @Test
  void keepsKeysInDocumentOrder() {
    assertEquals(
        List.of("z", "a", "m"),
        List.copyOf(Json.parseObject("{\"z\":1,\"a\":2,\"m\":3}").keySet()));
  }

  @Test
  void refusesNullFractionsAndTrailingText() {
    assertEquals(
        "malformed JSON at offset 5: null is not used by the control protocol; leave the key out",
        assertThrows(Json.MalformedJsonException.class, () -> Json.parse("{\"a\":null}"))
            .getMessage());
    assertThrows(Json.MalformedJsonException.class, () -> Json.parse("1.5"));
    assertEquals(
        "malformed JSON at offset 3: unexpected text after the value",
        assertThrows(Json.MalformedJsonException.class, () -> Json.parse("{} x")).getMessage());
  }

  @Test
  void refusesDuplicateKeysAndDeepNesting() {
    assertThrows(Json.MalformedJsonException.class, () -> Json.parse("{\"a\":1,\"a\":2}"));
    assertThrows(Json.MalformedJsonException.class, () -> Json.parse("[".repeat(100)));
  }

  @Test
  void parseObjectRefusesOtherValues() {
    assertEquals(
        "expected a JSON object",
        assertThrows(Json.MalformedJsonException.class, () -> Json.parseObject("[1]"))
            .getMessage());
  }

  @Test
  void readsUnicodeEscapes() {
    assertEquals("é\n", Json.parse("\"\\u00e9\\n\""));
  }
}
