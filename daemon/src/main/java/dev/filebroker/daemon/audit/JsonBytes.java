package dev.filebroker.daemon.audit;

import dev.filebroker.daemon.json.JsonString;
import java.nio.BufferOverflowException;
import java.nio.ByteBuffer;
import java.time.Instant;

/**
 * Writes the pieces of an audit line (JSON) as UTF-8 straight into a byte buffer, so that a line
 * costs no StringBuilder, String or encoding copy. The output is byte for byte what {@link
 * dev.filebroker.daemon.json.JsonString#append} and {@link Instant#toString()} produce, encoded as
 * {@code String.getBytes(UTF_8)} would (an unpaired surrogate becomes '?'). Every method throws
 * {@link java.nio.BufferOverflowException} when the buffer is full; the caller rewinds.
 */
final class JsonBytes {
  private static final byte[] HEX =
      "0123456789abcdef".getBytes(java.nio.charset.StandardCharsets.US_ASCII);

  private JsonBytes() {}

  /** An ASCII literal (keys, punctuation), copied as is. */
  static void ascii(ByteBuffer b, String s) {
    int n = s.length();
    if (b.hasArray() && b.remaining() >= n) {
      byte[] a = b.array();
      int p = b.arrayOffset() + b.position();
      for (int i = 0; i < n; i++) {
        a[p + i] = (byte) s.charAt(i);
      }
      b.position(b.position() + n);
      return;
    }
    for (int i = 0; i < n; i++) {
      b.put((byte) s.charAt(i));
    }
  }

  /** A decimal number. */
  static void number(ByteBuffer b, long v) {
    if (v < 0) {
      if (v == Long.MIN_VALUE) {
        ascii(b, Long.toString(v));
        return;
      }
      b.put((byte) '-');
      v = -v;
    }
    digits(b, v, 1);
  }

  /** {@code v} in decimal, at least {@code width} digits (zero-padded). */
  private static void digits(ByteBuffer b, long v, int width) {
    int n = 1;
    for (long m = v; m >= 10; m /= 10) {
      n++;
    }
    for (int i = n; i < width; i++) {
      b.put((byte) '0');
    }
    if (b.remaining() < n) {
      throw new BufferOverflowException();
    }
    int end = b.position() + n;
    b.position(end);
    for (int i = end - 1; i >= end - n; i--, v /= 10) {
      b.put(i, (byte) ('0' + (int) (v % 10)));
    }
  }

  /**
   * {@code t} as a JSON string in {@link Instant#toString()}'s form ({@code
   * 2025-01-02T03:04:05.123456Z}: the fraction in groups of three digits, none when zero), computed
   * without a formatter for the years 0 to 9999 (others use {@link Instant#toString()}).
   */
  static void instant(ByteBuffer b, Instant t) {
    long seconds = t.getEpochSecond();
    // 0000-01-01T00:00:00Z and 10000-01-01T00:00:00Z
    if (seconds < -62_167_219_200L || seconds >= 253_402_300_800L) {
      JsonString.put(b, t.toString());
      return;
    }
    long days = Math.floorDiv(seconds, 86_400L);
    int secondOfDay = (int) Math.floorMod(seconds, 86_400L);
    // Days to civil date (Howard Hinnant's algorithm), proleptic Gregorian like java.time.
    long z = days + 719_468;
    long era = Math.floorDiv(z, 146_097);
    long dayOfEra = z - era * 146_097;
    long yearOfEra = (dayOfEra - dayOfEra / 1460 + dayOfEra / 36_524 - dayOfEra / 146_096) / 365;
    long dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100);
    long mp = (5 * dayOfYear + 2) / 153;
    long day = dayOfYear - (153 * mp + 2) / 5 + 1;
    long month = mp < 10 ? mp + 3 : mp - 9;
    long year = yearOfEra + era * 400 + (month <= 2 ? 1 : 0);
    b.put((byte) '"');
    digits(b, year, 4);
    b.put((byte) '-');
    digits(b, month, 2);
    b.put((byte) '-');
    digits(b, day, 2);
    b.put((byte) 'T');
    digits(b, secondOfDay / 3600, 2);
    b.put((byte) ':');
    digits(b, (secondOfDay / 60) % 60, 2);
    b.put((byte) ':');
    digits(b, secondOfDay % 60, 2);
    int nano = t.getNano();
    if (nano != 0) {
      b.put((byte) '.');
      if (nano % 1_000_000 == 0) {
        digits(b, nano / 1_000_000, 3);
      } else if (nano % 1000 == 0) {
        digits(b, nano / 1000, 6);
      } else {
        digits(b, nano, 9);
      }
    }
    b.put((byte) 'Z').put((byte) '"');
  }
}
