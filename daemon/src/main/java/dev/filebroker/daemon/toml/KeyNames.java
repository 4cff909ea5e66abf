package dev.filebroker.daemon.toml;

import java.util.List;
import java.util.Locale;
import java.util.Optional;

/** The known key a misspelt one was probably meant to be, for "did you mean" in messages. */
public final class KeyNames {
  private KeyNames() {}

  /** The expected key closest to {@code key}, when one is within two edits. */
  public static Optional<String> closest(String key, List<String> keys) {
    String best = "";
    int bestDistance = 3;
    for (String candidate : keys) {
      int distance = distance(key.toLowerCase(Locale.ROOT), candidate);
      if (distance < bestDistance) {
        best = candidate;
        bestDistance = distance;
      }
    }
    return best.isEmpty() ? Optional.empty() : Optional.of(best);
  }

  /** Levenshtein distance. */
  private static int distance(String a, String b) {
    int[] previous = new int[b.length() + 1];
    int[] current = new int[b.length() + 1];
    for (int j = 0; j <= b.length(); j++) {
      previous[j] = j;
    }
    for (int i = 1; i <= a.length(); i++) {
      current[0] = i;
      for (int j = 1; j <= b.length(); j++) {
        int substitution = previous[j - 1] + (a.charAt(i - 1) == b.charAt(j - 1) ? 0 : 1);
        current[j] = Math.min(substitution, Math.min(previous[j], current[j - 1]) + 1);
      }
      int[] swap = previous;
      previous = current;
      current = swap;
    }
    return previous[b.length()];
  }
}
