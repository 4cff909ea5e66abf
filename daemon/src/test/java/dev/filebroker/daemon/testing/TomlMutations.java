package dev.filebroker.daemon.testing;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;

/**
 * Texts one or two single-character edits away from a TOML sample, with characters that matter to
 * TOML (quotes, brackets, escapes, line ends, digits, control characters). The plain-TOML readers
 * are checked against full parsers on them: whatever a reader accepts must be valid TOML with the
 * same values, and it must decline everything else.
 */
public final class TomlMutations {
  private static final String CHARACTERS = "\"'[]{}=#,.\\\n\r\t 0179aetrufls-+_:\u0000\u007f\u00e9";

  private TomlMutations() {}

  /** {@code count} mutations of {@code sample}, the same ones for the same {@code seed}. */
  public static List<String> of(String sample, long seed, int count) {
    Random random = new Random(seed);
    List<String> texts = new ArrayList<>(count);
    for (int i = 0; i < count; i++) {
      StringBuilder text = new StringBuilder(sample);
      for (int edits = 1 + random.nextInt(2); edits > 0; edits--) {
        int at = random.nextInt(text.length());
        char c = CHARACTERS.charAt(random.nextInt(CHARACTERS.length()));
        switch (random.nextInt(3)) {
          case 0 -> text.insert(at, c);
          case 1 -> text.deleteCharAt(at);
          default -> text.setCharAt(at, c);
        }
      }
      texts.add(text.toString());
    }
    return texts;
  }
}
