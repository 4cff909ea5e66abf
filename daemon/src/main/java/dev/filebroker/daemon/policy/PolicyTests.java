package dev.filebroker.daemon.policy;

import dev.filebroker.daemon.toml.Position;
import dev.filebroker.daemon.toml.TomlArray;
import dev.filebroker.daemon.toml.TomlTable;
import dev.filebroker.daemon.toml.TomlText;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.EnumSet;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.Set;

/**
 * Admin-written test cases for a policy, read from TOML case files, and their run against a policy
 * snapshot.
 *
 * <p>Cases shipped with a policy directory live in its {@code tests/} subdirectory ({@code
 * /etc/filebroker/policy.d/tests/*.toml}), which the policy loader ignores. A reload can refuse a
 * policy whose shipped cases fail: {@code PolicyTests.discover(dir).run(policy).passed()}.
 */
public final class PolicyTests {
  /** The subdirectory of a policy directory that holds its case files. */
  public static final String TESTS_DIRECTORY = "tests";

  static final List<String> CASE_KEYS =
      List.of(
          "user",
          "uid",
          "gid",
          "groups",
          "exe",
          "unit",
          "path",
          "access",
          "directory",
          "exclusive",
          "expect",
          "rule");

  /** The outcome of one case that did not go as expected. */
  public record Failure(PolicyCase testCase, DecisionExplanation explanation, String mismatch) {
    /** {@code file:line: mismatch}, then the explanation indented. */
    @Override
    public String toString() {
      return testCase.source().fileAndLine()
          + ": "
          + mismatch
          + "\n"
          + explanation.toText().indent(2).stripTrailing();
    }
  }

  /**
   * The result of running every case.
   *
   * @param cases how many cases ran
   * @param failures cases whose outcome was not the expected one
   * @param errors problems in the case files (then some cases may not have run)
   */
  public record Report(int cases, List<Failure> failures, List<PolicyError> errors) {
    public Report {
      failures = List.copyOf(failures);
      errors = List.copyOf(errors);
    }

    /** Whether every case file was valid and every case went as expected. */
    public boolean passed() {
      return failures.isEmpty() && errors.isEmpty();
    }

    /** {@code 12 cases, 0 failed, 0 case-file errors}. */
    public String summary() {
      return cases
          + " cases, "
          + failures.size()
          + " failed, "
          + errors.size()
          + " case-file errors";
    }
  }

  private final List<PolicyCase> cases;
  private final List<PolicyError> errors;

  private PolicyTests(List<PolicyCase> cases, List<PolicyError> errors) {
    this.cases = List.copyOf(cases);
    this.errors = List.copyOf(errors);
  }

  /**
   * The cases shipped beside a policy: every {@code *.toml} file (not starting with '.') of {@code
   * <policyDir>/tests/}, in name order. None when that directory does not exist, or when {@code
   * policyDir} is a single file.
   */
  public static PolicyTests discover(Path policyDir) {
    Path tests = policyDir.resolve(TESTS_DIRECTORY);
    if (!Files.isDirectory(policyDir) || !Files.isDirectory(tests)) {
      return new PolicyTests(List.of(), List.of());
    }
    List<Path> files = new ArrayList<>();
    try (DirectoryStream<Path> entries = Files.newDirectoryStream(tests)) {
      for (Path entry : entries) {
        String name = entry.getFileName().toString();
        if (name.endsWith(".toml") && !name.startsWith(".") && Files.isRegularFile(entry)) {
          files.add(entry);
        }
      }
    } catch (IOException e) {
      return new PolicyTests(
          List.of(),
          List.of(new PolicyError(SourceLocation.wholeFile(tests), "could not list: " + e)));
    }
    files.sort(Comparator.comparing(path -> path.getFileName().toString()));
    return read(files);
  }

  /** Reads case files, resolving users and groups through /etc/passwd and /etc/group. */
  public static PolicyTests read(List<Path> files) {
    try {
      return read(files, Accounts.read(Accounts.PASSWD, Accounts.GROUP));
    } catch (IOException e) {
      return new PolicyTests(
          List.of(),
          List.of(
              new PolicyError(
                  SourceLocation.wholeFile(Accounts.PASSWD),
                  "could not read the account databases: " + e)));
    }
  }

  static PolicyTests read(List<Path> files, Accounts accounts) {
    List<PolicyCase> cases = new ArrayList<>();
    List<PolicyError> errors = new ArrayList<>();
    Identities identities = Identities.of(accounts);
    for (Path file : files) {
      String text;
      try {
        text = Files.readString(file, StandardCharsets.UTF_8);
      } catch (IOException e) {
        errors.add(new PolicyError(SourceLocation.wholeFile(file), "could not read: " + e));
        continue;
      }
      new CaseReader(file, identities, cases, errors).read(text);
    }
    return new PolicyTests(cases, errors);
  }

  /** The cases read, in file then line order. */
  public List<PolicyCase> cases() {
    return cases;
  }

  /** Problems found in the case files. */
  public List<PolicyError> errors() {
    return errors;
  }

  /** Runs every case against {@code policy}. */
  public Report run(Policy policy) {
    Objects.requireNonNull(policy, "policy == null");
    List<Failure> failures = new ArrayList<>();
    for (PolicyCase testCase : cases) {
      DecisionExplanation explanation =
          Explainer.explain(policy, testCase.caller(), testCase.request());
      testCase
          .mismatch(explanation)
          .ifPresent(m -> failures.add(new Failure(testCase, explanation, m)));
    }
    return new Report(cases.size(), failures, errors);
  }

  /** Reads the {@code [[case]]} tables of one file. */
  private static final class CaseReader {
    private final Path file;
    private final Identities identities;
    private final List<PolicyCase> cases;
    private final List<PolicyError> errors;

    CaseReader(Path file, Identities identities, List<PolicyCase> cases, List<PolicyError> errors) {
      this.file = file;
      this.identities = identities;
      this.cases = cases;
      this.errors = errors;
    }

    void read(String text) {
      TomlTable toml;
      switch (TomlText.parse(text)) {
        case TomlText.Parsed.Valid valid -> toml = valid.toml();
        case TomlText.Parsed.Invalid invalid -> {
          for (TomlText.Problem problem : invalid.problems()) {
            error(problem.position(), "invalid TOML: " + problem.message());
          }
          return;
        }
      }
      for (String key : toml.keySet()) {
        if (!key.equals("case") || !(toml.get(key) instanceof TomlArray array)) {
          error(
              toml.positionOf(key),
              "unknown key '"
                  + key
                  + "' at top level; a case file holds only [[case]] tables"
                  + (key.equals("case") ? "" : RuleValues.suggestion(key, List.of("case"))));
          continue;
        }
        for (int i = 0; i < array.size(); i++) {
          if (array.get(i) instanceof TomlTable table) {
            readCase(table, array.positionOf(i));
          } else {
            error(array.positionOf(i), "write cases as [[case]] tables");
          }
        }
      }
    }

    private void readCase(TomlTable table, Position at) {
      int before = errors.size();
      for (String key : table.keySet()) {
        if (!CASE_KEYS.contains(key)) {
          error(
              table.positionOf(key),
              "unknown key '"
                  + key
                  + "' in [[case]]; expected one of: "
                  + String.join(", ", CASE_KEYS)
                  + RuleValues.suggestion(key, CASE_KEYS));
        }
      }
      Optional<String> user = string(table, "user");
      OptionalInt uid = id(table, "uid");
      OptionalInt gid = id(table, "gid");
      List<String> groups = new ArrayList<>();
      Object groupsValue = table.get("groups");
      if (groupsValue instanceof TomlArray array) {
        for (int i = 0; i < array.size(); i++) {
          groups.add(String.valueOf(array.get(i)));
        }
      } else if (groupsValue != null) {
        error(
            table.positionOf("groups"),
            "'groups' must be an array such as groups = [\"video\", 44]");
      }
      Optional<String> exe = string(table, "exe");
      Optional<String> unit = string(table, "unit");
      Optional<String> path = string(table, "path");
      if (path.isEmpty()) {
        error(at, "case has no 'path'; add path = \"/absolute/path\"");
      }
      Set<Permission> access = access(table, at);
      boolean directory = Boolean.TRUE.equals(table.get("directory"));
      boolean exclusive = Boolean.TRUE.equals(table.get("exclusive"));
      Optional<String> expect = string(table, "expect");
      boolean expectAllow = false;
      if (expect.isEmpty()) {
        error(at, "case has no 'expect'; add expect = \"allow\" or expect = \"deny\"");
      } else if (expect.get().equals("allow") || expect.get().equals("deny")) {
        expectAllow = expect.get().equals("allow");
      } else {
        error(
            table.positionOf("expect"),
            "expect must be \"allow\" or \"deny\"; found \"" + expect.get() + "\"");
      }
      Optional<String> rule = string(table, "rule");
      if (user.isPresent() == uid.isPresent()) {
        error(at, "case needs exactly one of user = \"name\" or uid = number");
      }
      if (errors.size() > before) {
        return;
      }
      switch (identities.resolve(user, uid, gid, groups, exe, unit)) {
        case Identities.Resolution.Unresolved unresolved -> error(at, unresolved.message());
        case Identities.Resolution.Resolved resolved ->
            cases.add(
                new PolicyCase(
                    location(at),
                    resolved.caller(),
                    new AccessRequest(path.get(), access, directory, exclusive),
                    expectAllow,
                    rule));
      }
    }

    private Set<Permission> access(TomlTable table, Position at) {
      Object value = table.get("access");
      List<String> words = new ArrayList<>();
      if (value instanceof String text) {
        words.addAll(List.of(text.split(",")));
      } else if (value instanceof TomlArray array) {
        for (int i = 0; i < array.size(); i++) {
          words.add(String.valueOf(array.get(i)));
        }
      } else {
        error(at, "case has no 'access'; add access = [\"read\"]");
        return EnumSet.of(Permission.READ);
      }
      Set<Permission> permissions = EnumSet.noneOf(Permission.class);
      for (String word : words) {
        Optional<Permission> permission =
            EnumSet.allOf(Permission.class).stream()
                .filter(p -> p.policyName().equals(word.strip()))
                .findFirst();
        if (permission.isPresent()) {
          permissions.add(permission.get());
        } else {
          error(table.positionOf("access"), "unknown access '" + word + "'");
        }
      }
      if (permissions.isEmpty()) {
        error(table.positionOf("access"), "'access' is empty");
        return EnumSet.of(Permission.READ);
      }
      return permissions;
    }

    private Optional<String> string(TomlTable table, String key) {
      Object value = table.get(key);
      if (value == null) {
        return Optional.empty();
      }
      if (value instanceof String text) {
        return Optional.of(text);
      }
      error(table.positionOf(key), "'" + key + "' must be a string");
      return Optional.empty();
    }

    private OptionalInt id(TomlTable table, String key) {
      Object value = table.get(key);
      if (value == null) {
        return OptionalInt.empty();
      }
      if (value instanceof Long number && number >= 0 && number <= Subject.MAX_ID) {
        return OptionalInt.of((int) number.longValue());
      }
      error(table.positionOf(key), "'" + key + "' must be a number from 0 to " + Subject.MAX_ID);
      return OptionalInt.empty();
    }

    private void error(Position position, String message) {
      errors.add(new PolicyError(location(position), message));
    }

    private SourceLocation location(Position position) {
      return new SourceLocation(file, position.line(), position.column());
    }
  }
}
