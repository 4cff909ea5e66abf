package dev.filebroker.daemon.audit;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.filebroker.daemon.json.JsonString;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/** The audit line's byte encoder writes exactly what the String-based forms give. */
class JsonBytesTest {
  private static String written(java.util.function.Consumer<ByteBuffer> writer) {
    ByteBuffer b = ByteBuffer.allocate(1024);
    writer.accept(b);
    return new String(b.array(), 0, b.position(), StandardCharsets.UTF_8);
  }

  private static String quotedInstant(Instant t) {
    StringBuilder b = new StringBuilder();
    JsonString.append(b, t.toString());
    return b.toString();
  }

  @Test
  void instantsMatchInstantToStringAcrossTheSupportedYears() {
    SplittableRandom random = new SplittableRandom(7);
    long min = Instant.parse("0000-01-01T00:00:00Z").getEpochSecond();
    long max = Instant.parse("9999-12-31T23:59:59Z").getEpochSecond();
    for (int i = 0; i < 100_000; i++) {
      long seconds = random.nextLong(min, max + 1);
      int nano =
          switch (i % 4) {
            case 0 -> 0;
            case 1 -> random.nextInt(1000) * 1_000_000;
            case 2 -> random.nextInt(1_000_000) * 1000;
            default -> random.nextInt(1_000_000_000);
          };
      Instant t = Instant.ofEpochSecond(seconds, nano);
      assertEquals(quotedInstant(t), written(b -> JsonBytes.instant(b, t)), "at " + t);
    }
  }

  @Test
  void instantsAtTheEdgesMatchInstantToString() {
    for (String s :
        new String[] {
          "1970-01-01T00:00:00Z",
          "1969-12-31T23:59:59.999999999Z",
          "2000-02-29T12:00:00.100Z",
          "2100-03-01T00:00:00.000001Z",
          "0000-01-01T00:00:00Z",
          "9999-12-31T23:59:59.999Z"
        }) {
      Instant t = Instant.parse(s);
      assertEquals(quotedInstant(t), written(b -> JsonBytes.instant(b, t)), s);
    }
    for (Instant t :
        new Instant[] {Instant.MIN, Instant.MAX, Instant.parse("+10000-01-01T00:00:00Z")}) {
      assertEquals(quotedInstant(t), written(b -> JsonBytes.instant(b, t)), t.toString());
    }
  }

  @Test
  void numbersIncludeNegativesAndExtremes() {
    for (long v : new long[] {0, 7, -1, 10, 4294967295L, Long.MAX_VALUE, Long.MIN_VALUE}) {
      assertEquals(Long.toString(v), written(b -> JsonBytes.number(b, v)));
    }
  }
}
