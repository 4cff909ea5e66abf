package dev.filebroker.daemon.cli;

import dev.filebroker.client.Access;
import dev.filebroker.daemon.toml.KeyNames;
import java.util.EnumSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

/**
 * The one vocabulary {@code filebroker run} and {@code filebroker open} use for what to do with a
 * file: an access ({@code read}, {@code write}, {@code read-write}, {@code append}), opening
 * options ({@code create}, {@code truncate}, {@code exclusive}) and, for {@code run}, the relay
 * mode {@code pipe}, written comma-separated ({@code write,create,truncate}).
 *
 * <p>Words that name an access replace the defaults of the option they are given to; words that
 * name only options add to those defaults ({@code --stdout F:pipe} keeps {@code --stdout}'s
 * write,create,truncate). Every combination is checked here, so that the user reads the words they
 * typed rather than open(2) flags.
 *
 * @param access the accesses and opening options, as the client library takes them
 * @param pipe whether the command gets a pipe relayed to the file rather than the file itself
 */
@SuppressWarnings("deprecation") // Access, until these words map to OpenOptions
record AccessWords(Set<Access> access, boolean pipe) {
  /** Every word, in the order help texts list them. */
  static final List<String> WORDS =
      List.of("read", "write", "read-write", "append", "create", "truncate", "exclusive", "pipe");

  private static final Set<Access> ACCESSES =
      EnumSet.of(Access.READ, Access.WRITE, Access.READ_WRITE, Access.APPEND);

  /** {@code read}. */
  static final AccessWords READ = new AccessWords(EnumSet.of(Access.READ), false);

  /** {@code write,create,truncate}: what the shell's {@code >} opens with. */
  static final AccessWords REPLACE =
      new AccessWords(EnumSet.of(Access.WRITE, Access.CREATE, Access.TRUNCATE), false);

  /** {@code append,create}: what the shell's {@code >>} opens with. */
  static final AccessWords APPEND =
      new AccessWords(EnumSet.of(Access.APPEND, Access.CREATE), false);

  AccessWords {
    access = Set.copyOf(access);
  }

  /** A word list was refused; the message names the word and says what would do. */
  static final class InvalidWordsException extends IllegalArgumentException {
    private static final long serialVersionUID = 1L;

    InvalidWordsException(String message) {
      super(message);
    }
  }

  /**
   * Parses {@code text} (comma-separated words) on top of {@code defaults}.
   *
   * @param allowPipe whether {@code pipe} may be given (only {@code run} relays)
   * @throws InvalidWordsException naming the unknown word or the combination that cannot be opened
   */
  static AccessWords parse(String text, AccessWords defaults, boolean allowPipe) {
    Set<String> words = new LinkedHashSet<>();
    for (String raw : text.split(",", -1)) {
      String word = raw.strip();
      if (word.isEmpty()) {
        throw new InvalidWordsException(
            "empty access word in '" + text + "'; separate words with single commas");
      }
      if (!WORDS.contains(word) || (!allowPipe && word.equals("pipe"))) {
        List<String> valid = allowPipe ? WORDS : WORDS.subList(0, WORDS.size() - 1);
        throw new InvalidWordsException(
            "unknown access '"
                + word
                + "'"
                + KeyNames.closest(word, valid).map(w -> " (did you mean '" + w + "'?)").orElse("")
                + "; expected one of "
                + String.join(", ", valid));
      }
      words.add(word);
    }
    Set<Access> access = EnumSet.noneOf(Access.class);
    for (String word : words) {
      switch (word) {
        case "read" -> access.add(Access.READ);
        case "write" -> access.add(Access.WRITE);
        case "read-write" -> access.add(Access.READ_WRITE);
        case "append" -> access.add(Access.APPEND);
        case "create" -> access.add(Access.CREATE);
        case "truncate" -> access.add(Access.TRUNCATE);
        case "exclusive" -> access.addAll(List.of(Access.CREATE, Access.EXCLUSIVE));
        default -> {} // pipe
      }
    }
    boolean pipe = words.contains("pipe") || defaults.pipe();
    if (access.stream().noneMatch(ACCESSES::contains)) {
      access.addAll(defaults.access());
    }
    return check(new AccessWords(access, pipe));
  }

  private static AccessWords check(AccessWords words) {
    Set<Access> access = words.access();
    boolean writes =
        access.contains(Access.WRITE)
            || access.contains(Access.READ_WRITE)
            || access.contains(Access.APPEND);
    for (Access option : List.of(Access.CREATE, Access.TRUNCATE)) {
      if (access.contains(option) && !writes) {
        throw new InvalidWordsException(
            "'"
                + name(option)
                + "' needs write, read-write or append (given: "
                + words.text()
                + ")");
      }
    }
    boolean reads = access.contains(Access.READ) || access.contains(Access.READ_WRITE);
    if (words.pipe() && reads && writes) {
      throw new InvalidWordsException(
          "a pipe carries one direction: give read, or write or append, with 'pipe' (given: "
              + words.text()
              + ")");
    }
    return words;
  }

  /** Whether the file is opened for reading. */
  boolean reads() {
    return access.contains(Access.READ) || access.contains(Access.READ_WRITE);
  }

  /** Whether the file is opened for writing (write, read-write or append). */
  boolean writes() {
    return access.contains(Access.WRITE)
        || access.contains(Access.READ_WRITE)
        || access.contains(Access.APPEND);
  }

  /** The words in canonical order, e.g. {@code write,create,truncate}. */
  String text() {
    StringBuilder b = new StringBuilder();
    for (Access a : EnumSet.copyOf(access.isEmpty() ? EnumSet.noneOf(Access.class) : access)) {
      if (a == Access.CREATE && access.contains(Access.EXCLUSIVE)) {
        continue; // exclusive says it
      }
      b.append(b.isEmpty() ? "" : ",").append(name(a));
    }
    if (pipe) {
      b.append(b.isEmpty() ? "" : ",").append("pipe");
    }
    return b.toString();
  }

  private static String name(Access a) {
    return switch (a) {
      case READ -> "read";
      case WRITE -> "write";
      case READ_WRITE -> "read-write";
      case APPEND -> "append";
      case CREATE -> "create";
      case EXCLUSIVE -> "exclusive";
      case TRUNCATE -> "truncate";
      case DIRECTORY -> "directory";
    };
  }
}
