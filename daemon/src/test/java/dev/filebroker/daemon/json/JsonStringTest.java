package dev.filebroker.daemon.json;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.filebroker.daemon.control.Json;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.List;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.IntRange;
import net.jqwik.api.constraints.StringLength;
import org.junit.jupiter.api.Test;

/** The one JSON string escaper: what it escapes, and its two outputs agree byte for byte. */
class JsonStringTest {
  private static String appended(String s) {
    StringBuilder b = new StringBuilder();
    JsonString.append(b, s);
    return b.toString();
  }

  @Test
  void escapesQuotesBackslashesAndEveryControlCharacter() {
    assertEquals("\"q\\\" b\\\\ n\\n r\\r t\\t\"", appended("q\" b\\ n\n r\r t\t"));
    assertEquals(
        "\"\\u0000\\u0001\\u001f\\u007f\\u0080\\u0085\\u009f\\u2028\\u2029\"",
        appended("\u0000\u0001\u001f\u007f\u0080\u0085\u009f\u2028\u2029"));
    assertEquals("\"caf\u00e9 \u00a0 \ud83d\ude00\"", appended("caf\u00e9 \u00a0 \ud83d\ude00"));
  }

  @Test
  void theControlProtocolEscapesDeleteToo() {
    assertEquals("\"a\\u007fb\"", Json.write("a\u007fb"));
  }

  @Test
  void bytesAreWhatTheStringEncodesTo() {
    for (String s :
        List.of(
            "/srv/plain.txt",
            "quote\" backslash\\ newline\n tab\t cr\r",
            "\u0001\u001f\u007f\u0085\u2028\u2029",
            "caf\u00e9 \u20ac \ud83d\ude00",
            "lone \ud83d high, lone \ude00 low")) {
      byte[] utf8 = appended(s).getBytes(StandardCharsets.UTF_8);
      ByteBuffer b = ByteBuffer.allocate(256);
      JsonString.put(b, s);
      assertEquals(
          new String(utf8, StandardCharsets.UTF_8),
          new String(b.array(), 0, b.position(), StandardCharsets.UTF_8),
          s);
      assertEquals(utf8.length, b.position(), "byte count of " + s);
    }
  }

  /** The heap fast path and the byte-by-byte path put the same bytes, wherever the array starts. */
  @Property(tries = 2000)
  void heapAndDirectBuffersGetTheSameBytes(
      @ForAll @StringLength(max = 40) String s, @ForAll @IntRange(max = 7) int offset) {
    ByteBuffer direct = ByteBuffer.allocateDirect(512).position(offset);
    JsonString.put(direct, s);
    ByteBuffer heap = ByteBuffer.allocate(520).position(3).slice().position(offset);
    JsonString.put(heap, s);
    assertEquals(direct.position(), heap.position(), s);
    byte[] expected = appended(s).getBytes(StandardCharsets.UTF_8);
    byte[] got = new byte[heap.position() - offset];
    heap.get(offset, got);
    assertEquals(
        new String(expected, StandardCharsets.UTF_8), new String(got, StandardCharsets.UTF_8));
    assertArrayEquals(expected, got);
  }

  /** A literal that does not fit overflows on both paths; a plain one that just fits is put. */
  @Test
  void aLiteralThatDoesNotFitOverflows() {
    ByteBuffer tight = ByteBuffer.allocate(7);
    assertThrows(java.nio.BufferOverflowException.class, () -> JsonString.put(tight, "abcdef"));
    ByteBuffer exact = ByteBuffer.allocate(8);
    JsonString.put(exact, "abcdef");
    assertEquals("\"abcdef\"", new String(exact.array(), StandardCharsets.US_ASCII));
  }
}
