package dev.filebroker.daemon.toml;

import java.util.List;
import java.util.Locale;
import java.util.Optional;

/**
 * The valid word closest to a mistyped one, for "did you mean" in messages: misspelt keys of
 * policies and the configuration, and misspelt words on the command line ("unknown access 'reed';
 * did you mean 'read'?"). The guess is the candidate at the smallest edit distance, if that is at
 * most 2 and less than half the word's length, so that a word unlike any valid one gets no guess.
 * Case is ignored.
 */
public final class KeyNames {
  private KeyNames() {}

  /** The closest of {@code valid} to {@code word}, if one is close enough. */
  public static Optional<String> closest(String word, List<String> valid) {
    String lower = word.toLowerCase(Locale.ROOT);
    String best = null;
    int bestDistance = Integer.MAX_VALUE;
    for (String candidate : valid) {
      int d = distance(lower, candidate.toLowerCase(Locale.ROOT));
      if (d < bestDistance) {
        best = candidate;
        bestDistance = d;
      }
    }
    return bestDistance <= 2 && bestDistance * 2 < word.length()
        ? Optional.ofNullable(best)
        : Optional.empty();
  }

  /** Levenshtein distance, with a swap of two neighbours counting as one edit. */
  static int distance(String a, String b) {
    int[][] d = new int[a.length() + 1][b.length() + 1];
    for (int i = 0; i <= a.length(); i++) {
      d[i][0] = i;
    }
    for (int j = 0; j <= b.length(); j++) {
      d[0][j] = j;
    }
    for (int i = 1; i <= a.length(); i++) {
      for (int j = 1; j <= b.length(); j++) {
        int cost = a.charAt(i - 1) == b.charAt(j - 1) ? 0 : 1;
        d[i][j] = Math.min(Math.min(d[i - 1][j] + 1, d[i][j - 1] + 1), d[i - 1][j - 1] + cost);
        if (i > 1
            && j > 1
            && a.charAt(i - 1) == b.charAt(j - 2)
            && a.charAt(i - 2) == b.charAt(j - 1)) {
          d[i][j] = Math.min(d[i][j], d[i - 2][j - 2] + 1);
        }
      }
    }
    return d[a.length()][b.length()];
  }
}
