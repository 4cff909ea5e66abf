package dev.filebroker.daemon.policy;

import dev.filebroker.daemon.toml.TomlText;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.stream.IntStream;

/**
 * Reads a policy file or directory into a {@link Policy}, or reports every problem in it.
 *
 * <p>Loading is all or nothing: one error anywhere makes the whole load {@link PolicyLoad.Invalid},
 * so that a half-understood policy is never enforced.
 */
public final class PolicyLoader {
  private static final String SUFFIX = ".toml";

  private PolicyLoader() {}

  /**
   * Loads one {@code .toml} file, or every {@code *.toml} file of a directory in name order.
   *
   * <p>In a directory, other files, subdirectories and names starting with '.' are ignored; a
   * directory without any {@code .toml} file is an error. User and group names are resolved through
   * {@code /etc/passwd} and {@code /etc/group} now, not at decision time.
   */
  public static PolicyLoad load(Path fileOrDirectory) {
    Objects.requireNonNull(fileOrDirectory, "fileOrDirectory == null");
    Accounts accounts;
    try {
      accounts = Accounts.read(Accounts.PASSWD, Accounts.GROUP);
    } catch (IOException e) {
      return new PolicyLoad.Invalid(
          List.of(
              new PolicyError(
                  SourceLocation.wholeFile(Accounts.PASSWD),
                  "could not read the account databases to resolve names: " + e)));
    }
    return load(fileOrDirectory, accounts);
  }

  /** Loads with the given accounts, so tests can name accounts that need not exist. */
  static PolicyLoad load(Path fileOrDirectory, Accounts accounts) {
    List<PolicyError> errors = new ArrayList<>();
    List<Path> files = policyFiles(fileOrDirectory, errors);
    List<Rule> read = new ArrayList<>();
    // Files are parsed independently, so in parallel; results are merged in name order.
    List<FileResult> results =
        files.parallelStream().map(file -> readFile(file, accounts)).toList();
    for (FileResult result : results) {
      errors.addAll(result.errors());
      read.addAll(result.rules());
    }
    checkNamesUnique(read, errors);
    if (!errors.isEmpty()) {
      return new PolicyLoad.Invalid(errors);
    }
    List<Rule> rules =
        IntStream.range(0, read.size()).mapToObj(order -> read.get(order).placed(order)).toList();
    return new PolicyLoad.Valid(
        new Policy(rules, files, accounts.accountsByUid()), ShadowedRules.find(rules));
  }

  private record FileResult(List<Rule> rules, List<PolicyError> errors) {}

  private static FileResult readFile(Path file, Accounts accounts) {
    String text;
    try {
      text = decode(Files.readAllBytes(file));
    } catch (CharacterCodingException e) {
      return new FileResult(
          List.of(),
          List.of(
              new PolicyError(
                  SourceLocation.wholeFile(file), "not valid UTF-8; save it as UTF-8")));
    } catch (IOException e) {
      return new FileResult(
          List.of(),
          List.of(new PolicyError(SourceLocation.wholeFile(file), "could not read: " + e)));
    }
    if (text.length() > TomlText.MAX_CHARS) {
      return new FileResult(
          List.of(),
          List.of(
              new PolicyError(
                  SourceLocation.wholeFile(file),
                  "is "
                      + text.length()
                      + " characters long, more than the "
                      + TomlText.MAX_CHARS
                      + " a policy file may have; split it into several files of a policy"
                      + " directory (read in name order)")));
    }
    RuleReader.Result result = RuleReader.read(file, text, accounts);
    List<PolicyError> fileErrors = new ArrayList<>(result.errors());
    fileErrors.sort(
        Comparator.comparingInt((PolicyError e) -> e.location().line())
            .thenComparingInt(e -> e.location().column()));
    return new FileResult(result.rules(), fileErrors);
  }

  /**
   * The text of UTF-8 {@code bytes}. Decoding replaces malformed input with U+FFFD, in one pass
   * without a copy through a char buffer; only text holding U+FFFD (malformed, or written so) is
   * decoded again strictly to tell which.
   *
   * @throws CharacterCodingException when {@code bytes} are not valid UTF-8
   */
  private static String decode(byte[] bytes) throws CharacterCodingException {
    String text = new String(bytes, StandardCharsets.UTF_8);
    if (text.indexOf('\uFFFD') < 0) {
      return text;
    }
    return StandardCharsets.UTF_8
        .newDecoder()
        .onMalformedInput(CodingErrorAction.REPORT)
        .onUnmappableCharacter(CodingErrorAction.REPORT)
        .decode(ByteBuffer.wrap(bytes))
        .toString();
  }

  private static List<Path> policyFiles(Path fileOrDirectory, List<PolicyError> errors) {
    if (Files.isRegularFile(fileOrDirectory)) {
      return List.of(fileOrDirectory);
    }
    if (!Files.isDirectory(fileOrDirectory)) {
      errors.add(
          new PolicyError(
              SourceLocation.wholeFile(fileOrDirectory),
              Files.exists(fileOrDirectory)
                  ? "not a regular file or directory; give a .toml file or a directory of them"
                  : "no such file or directory"));
      return List.of();
    }
    List<Path> files = new ArrayList<>();
    try (DirectoryStream<Path> entries = Files.newDirectoryStream(fileOrDirectory)) {
      for (Path entry : entries) {
        String name = entry.getFileName().toString();
        if (name.endsWith(SUFFIX) && !name.startsWith(".") && Files.isRegularFile(entry)) {
          files.add(entry);
        }
      }
    } catch (IOException e) {
      errors.add(
          new PolicyError(SourceLocation.wholeFile(fileOrDirectory), "could not list: " + e));
      return List.of();
    }
    if (files.isEmpty()) {
      errors.add(
          new PolicyError(
              SourceLocation.wholeFile(fileOrDirectory),
              "directory holds no *.toml policy file; add one (an empty policy file denies"
                  + " everything)"));
    }
    // Name order by UTF-16 code units, which is byte order for ASCII names (as LC_ALL=C ls).
    files.sort(Comparator.comparing(path -> path.getFileName().toString()));
    return files;
  }

  private static void checkNamesUnique(List<Rule> rules, List<PolicyError> errors) {
    Map<String, Rule> seen = new HashMap<>();
    for (Rule rule : rules) {
      rule.name()
          .ifPresent(
              name -> {
                Rule first = seen.putIfAbsent(name, rule);
                if (first != null) {
                  errors.add(
                      new PolicyError(
                          rule.source(),
                          "rule name '"
                              + name
                              + "' is already used by the rule at "
                              + first.source().fileAndLine()
                              + "; give each rule its own name"));
                }
              });
    }
  }
}
