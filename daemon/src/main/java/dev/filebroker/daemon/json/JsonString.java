package dev.filebroker.daemon.json;

import java.nio.ByteBuffer;

/**
 * JSON string literals, escaped one way for every JSON the daemon writes (audit lines, control
 * replies, {@code explain --json}): {@code "} and {@code \} and the usual {@code \n}, {@code \r},
 * {@code \t}; every other control character (C0, DEL and C1, as {@link Character#isISOControl}) and
 * the line separators U+2028 and U+2029 as {@code \}{@code uXXXX}, so that no line-oriented reader
 * or terminal sees a control character; everything else as itself.
 */
public final class JsonString {
  private static final byte[] HEX =
      "0123456789abcdef".getBytes(java.nio.charset.StandardCharsets.US_ASCII);

  private JsonString() {}

  /** The short escape of {@code c} ({@code 'n'} for a newline), or 0 when it has none. */
  private static char shortEscape(char c) {
    return switch (c) {
      case '"' -> '"';
      case '\\' -> '\\';
      case '\n' -> 'n';
      case '\r' -> 'r';
      case '\t' -> 't';
      default -> 0;
    };
  }

  /** Whether {@code c} is written as {@code \}{@code uXXXX}. */
  private static boolean needsUnicodeEscape(char c) {
    return Character.isISOControl(c) || c == 0x2028 || c == 0x2029;
  }

  /** Appends {@code s} as a JSON string literal. */
  public static void append(StringBuilder b, String s) {
    b.append('"');
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      char escape = shortEscape(c);
      if (escape != 0) {
        b.append('\\').append(escape);
      } else if (needsUnicodeEscape(c)) {
        b.append("\\u")
            .append((char) HEX[(c >> 12) & 0xf])
            .append((char) HEX[(c >> 8) & 0xf])
            .append((char) HEX[(c >> 4) & 0xf])
            .append((char) HEX[c & 0xf]);
      } else {
        b.append(c);
      }
    }
    b.append('"');
  }

  /**
   * Puts {@code s} as a JSON string literal in UTF-8, byte for byte what {@link #append} gives
   * encoded as {@code String.getBytes(UTF_8)} would (an unpaired surrogate becomes '?'), without a
   * copy. Throws {@link java.nio.BufferOverflowException} when the buffer is full.
   */
  public static void put(ByteBuffer b, String s) {
    if (b.hasArray() && putPlain(b, s)) {
      return;
    }
    b.put((byte) '"');
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      char escape = shortEscape(c);
      if (escape != 0) {
        b.put((byte) '\\').put((byte) escape);
      } else if (needsUnicodeEscape(c)) {
        b.put((byte) '\\').put((byte) 'u');
        b.put(HEX[(c >> 12) & 0xf]).put(HEX[(c >> 8) & 0xf]);
        b.put(HEX[(c >> 4) & 0xf]).put(HEX[c & 0xf]);
      } else if (c < 0x80) {
        b.put((byte) c);
      } else if (c < 0x800) {
        b.put((byte) (0xc0 | (c >> 6))).put((byte) (0x80 | (c & 0x3f)));
      } else if (Character.isSurrogate(c)) {
        if (Character.isHighSurrogate(c)
            && i + 1 < s.length()
            && Character.isLowSurrogate(s.charAt(i + 1))) {
          int cp = Character.toCodePoint(c, s.charAt(++i));
          b.put((byte) (0xf0 | (cp >> 18)));
          b.put((byte) (0x80 | ((cp >> 12) & 0x3f)));
          b.put((byte) (0x80 | ((cp >> 6) & 0x3f)));
          b.put((byte) (0x80 | (cp & 0x3f)));
        } else {
          b.put((byte) '?'); // what String.getBytes(UTF_8) writes for an unpaired surrogate
        }
      } else {
        b.put((byte) (0xe0 | (c >> 12)));
        b.put((byte) (0x80 | ((c >> 6) & 0x3f)));
        b.put((byte) (0x80 | (c & 0x3f)));
      }
    }
    b.put((byte) '"');
  }

  /**
   * The common case of {@link #put}, straight into a heap buffer's array: when every character of
   * {@code s} is printable ASCII other than {@code "} and {@code \} (so it stands for itself) and
   * the literal fits, puts it and returns true. Otherwise returns false with the position
   * unchanged; bytes past the position may have been written, which whatever is put next
   * overwrites.
   */
  private static boolean putPlain(ByteBuffer b, String s) {
    int n = s.length();
    if (b.remaining() < n + 2) {
      return false;
    }
    byte[] a = b.array();
    int start = b.arrayOffset() + b.position();
    int p = start + 1;
    for (int i = 0; i < n; i++) {
      char c = s.charAt(i);
      if (c < 0x20 || c > 0x7e || c == '"' || c == '\\') {
        return false;
      }
      a[p++] = (byte) c;
    }
    a[start] = '"';
    a[p++] = '"';
    b.position(p - b.arrayOffset());
    return true;
  }
}
