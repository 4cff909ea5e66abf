package dev.filebroker.daemon.policy;

import dev.filebroker.daemon.toml.Position;
import dev.filebroker.daemon.toml.TomlArray;
import dev.filebroker.daemon.toml.TomlTable;
import dev.filebroker.daemon.toml.TomlText;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.EnumSet;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.stream.Collectors;

/**
 * Reads the rules of one policy file: TOML syntax, then every key of every rule, collecting all
 * problems rather than stopping at the first.
 *
 * <p>Exists to keep the file format (key names, value shapes, messages) apart from directory
 * handling in {@link PolicyLoader} and from decisions in {@link Policy}.
 */
final class RuleReader {
  /**
   * What one file holds: its rules in line order, or problems (then the rules are partial). Each
   * rule has order 0 until {@link Rule#placed} gives it its place in the whole policy.
   */
  record Result(List<Rule> rules, List<PolicyError> errors) {}

  /** Where a key may appear: in every rule, or only in an allow rule (it shapes what it grants). */
  private enum Scope {
    EVERY_RULE,
    ALLOW_ONLY
  }

  /** The schema of a rule, once: every key in the order messages list them, and its scope. */
  private static final Map<String, Scope> KEYS = keys();

  private static Map<String, Scope> keys() {
    Map<String, Scope> keys = new LinkedHashMap<>();
    for (String key :
        List.of(
            "name",
            "users",
            "groups",
            "uids",
            "gids",
            "any",
            "executables",
            "units",
            "paths",
            "access")) {
      keys.put(key, Scope.EVERY_RULE);
    }
    for (String key :
        List.of(
            "types",
            "create_mode",
            "create_exclusive",
            "create_owner",
            "same_mount",
            "max_links",
            "owner",
            "append_only_inode")) {
      keys.put(key, Scope.ALLOW_ONLY);
    }
    return Collections.unmodifiableMap(keys);
  }

  /** The keys of a deny rule, in order. */
  static final List<String> DENY_KEYS =
      KEYS.keySet().stream().filter(key -> KEYS.get(key) == Scope.EVERY_RULE).toList();

  /** The keys of an allow rule: every deny key, then the keys that shape what it grants. */
  static final List<String> ALLOW_KEYS = List.copyOf(KEYS.keySet());

  /** The tables a policy file holds at top level. */
  private static final List<String> TABLES = List.of("allow", "deny");

  private static final String PERMISSION_NAMES =
      EnumSet.allOf(Permission.class).stream()
          .map(Permission::policyName)
          .collect(Collectors.joining(", "));
  private static final Set<FileType> RULE_TYPES =
      EnumSet.complementOf(EnumSet.of(FileType.SYMLINK, FileType.UNKNOWN));
  private static final Map<String, Permission> PERMISSIONS =
      EnumSet.allOf(Permission.class).stream()
          .collect(Collectors.toUnmodifiableMap(Permission::policyName, p -> p));
  private static final Map<String, FileType> TYPES =
      RULE_TYPES.stream().collect(Collectors.toUnmodifiableMap(FileType::policyName, t -> t));
  private static final String TYPE_NAMES =
      RULE_TYPES.stream().map(FileType::policyName).collect(Collectors.joining(", "));

  private final RuleValues values;
  private final List<PolicyError> errors;
  private final SubjectReader subjects;
  private final AllowOptionsReader allowOptions;
  private final ProcessReader processes;

  private RuleReader(Path file, Accounts accounts) {
    this.values = new RuleValues(file);
    this.errors = values.errors();
    this.subjects = new SubjectReader(values, accounts);
    this.allowOptions = new AllowOptionsReader(values, accounts);
    this.processes = new ProcessReader(values);
  }

  /** Reads the text of {@code file}, with the position of every problem. */
  static Result read(Path file, String text, Accounts accounts) {
    RuleReader reader = new RuleReader(file, accounts);
    return switch (TomlText.parse(text)) {
      case TomlText.Parsed.Valid valid -> reader.readRules(valid.toml());
      case TomlText.Parsed.Invalid invalid -> {
        for (TomlText.Problem problem : invalid.problems()) {
          reader.values.error(problem.position(), "invalid TOML: " + problem.message());
        }
        yield new Result(List.of(), reader.errors);
      }
    };
  }

  private Result readRules(TomlTable toml) {
    List<Rule> rules = new ArrayList<>();
    for (String key : toml.keySet()) {
      Position position = toml.positionOf(key);
      Object value = toml.get(key);
      Optional<Rule.Effect> effect =
          switch (key) {
            case "allow" -> Optional.of(Rule.Effect.ALLOW);
            case "deny" -> Optional.of(Rule.Effect.DENY);
            default -> Optional.empty();
          };
      if (effect.isEmpty()) {
        values.error(
            position,
            (value instanceof TomlTable
                    ? "unknown table [" + key + "]"
                    : value instanceof TomlArray
                        ? "unknown table [[" + key + "]]"
                        : "unknown key '" + key + "'")
                + " at top level; a policy file holds only [[allow]] and [[deny]] rules"
                + RuleValues.closest(key, TABLES)
                    .map(t -> " (did you mean [[" + t + "]]?)")
                    .orElse(""));
      } else if (value instanceof TomlArray tables) {
        for (int i = 0; i < tables.size(); i++) {
          if (tables.get(i) instanceof TomlTable rule) {
            readRule(effect.get(), rule, tables.positionOf(i)).ifPresent(rules::add);
          } else {
            values.error(
                tables.positionOf(i),
                "each '"
                    + key
                    + "' entry must be a rule table; found "
                    + RuleValues.kind(tables.get(i))
                    + "; write rules as [["
                    + key
                    + "]] sections");
          }
        }
      } else if (value instanceof TomlTable) {
        values.error(
            position, "write [[" + key + "]] (double brackets: one per rule), not [" + key + "]");
      } else {
        values.error(
            position,
            "'"
                + key
                + "' must be [["
                + key
                + "]] tables, one per rule; found "
                + RuleValues.kind(value));
      }
    }
    rules.sort(
        (a, b) ->
            a.source().line() != b.source().line()
                ? Integer.compare(a.source().line(), b.source().line())
                : Integer.compare(a.source().column(), b.source().column()));
    return new Result(List.copyOf(rules), errors);
  }

  private Optional<Rule> readRule(Rule.Effect effect, TomlTable table, Position position) {
    int errorsBefore = errors.size();
    String kind = effect == Rule.Effect.ALLOW ? "[[allow]]" : "[[deny]]";
    List<String> keys = effect == Rule.Effect.ALLOW ? ALLOW_KEYS : DENY_KEYS;
    // Keys the rule misspelt: a missing key that one of them was meant to be is not reported
    // again as missing (the cause, "did you mean", says it; the consequence would come first).
    Set<String> meant = new HashSet<>();
    for (String key : table.keySet()) {
      Scope scope = KEYS.get(key);
      if (scope == Scope.EVERY_RULE || (scope != null && effect == Rule.Effect.ALLOW)) {
        continue;
      }
      Position at = table.positionOf(key);
      if (scope == Scope.ALLOW_ONLY) {
        values.error(
            at,
            "'"
                + key
                + "' is not allowed in [[deny]]; a deny rule applies to every file type and"
                + " creates nothing"
                + (key.equals("types") || key.startsWith("create")
                    ? ""
                    : ", and '" + key + "' only limits what an allow rule hands out")
                + ": remove it");
      } else {
        Optional<String> closest = RuleValues.closest(key, keys);
        closest.ifPresent(meant::add);
        values.error(
            at,
            "unknown key '"
                + key
                + "' in "
                + kind
                + "; expected one of: "
                + String.join(", ", keys)
                + closest.map(k -> " (did you mean '" + k + "'?)").orElse(""));
      }
    }

    Optional<String> name = readName(table);
    List<Subject> subjects = this.subjects.read(table, position, meant);
    List<PathPattern> paths = readPaths(table, position, meant);
    Set<Permission> permissions = readAccess(table, position, effect, meant);
    List<String> executables = processes.executables(table);
    if (effect == Rule.Effect.ALLOW
        && !executables.isEmpty()
        && subjects.contains(new Subject.Anyone())) {
      values.error(
          table.positionOf("executables"),
          "executables cannot narrow an [[allow]] with any = true: every user can run the"
              + " program, and a process can hand its connection to another, so the rule would"
              + " grant to everyone; name the users or groups it is for instead of any = true");
    }
    List<String> units = processes.units(table);
    Set<FileType> types = EnumSet.allOf(FileType.class);
    int createMode = 0;
    RuleOptions options = RuleOptions.processes(executables, units);
    if (effect == Rule.Effect.ALLOW) {
      types = readTypes(table, permissions);
      createMode = allowOptions.createMode(table, permissions);
      if (permissions.contains(Permission.CREATE) && !types.contains(FileType.REGULAR)) {
        values.error(
            table.positionOf("types"),
            "access \"create\" creates regular files, but types does not include \"regular\";"
                + " add it or remove \"create\"");
      }
      if (permissions.contains(Permission.DIRECTORY) && !permissions.contains(Permission.READ)) {
        values.error(
            table.positionOf("access"),
            "access \"directory\" hands out read-only directory descriptors, which need \"read\";"
                + " add \"read\"");
      }
      options = allowOptions.read(table, permissions, executables, units);
    }
    if (errors.size() > errorsBefore) {
      return Optional.empty();
    }
    return Optional.of(
        new Rule(
            name,
            effect,
            values.location(position),
            subjects,
            paths,
            permissions,
            types,
            createMode,
            AllowOptionsReader.isDefault(options) ? RuleOptions.DEFAULT : options,
            0));
  }

  private Optional<String> readName(TomlTable table) {
    Object value = table.get("name");
    if (value == null) {
      return Optional.empty();
    }
    Position at = table.positionOf("name");
    if (!(value instanceof String name)) {
      values.error(
          at,
          "'name' must be a string such as name = \"app-config\"; found " + RuleValues.kind(value));
      return Optional.empty();
    }
    if (!validName(name)) {
      values.error(
          at,
          "name '"
              + name
              + "' is not valid; use 1 to 64 letters, digits, '.', '_' or '-', starting with a"
              + " letter or digit");
      return Optional.empty();
    }
    return Optional.of(name);
  }

  /** Whether {@code name} is 1 to 64 of [A-Za-z0-9._-], starting with a letter or digit. */
  private static boolean validName(String name) {
    if (name.isEmpty() || name.length() > 64) {
      return false;
    }
    for (int i = 0; i < name.length(); i++) {
      char c = name.charAt(i);
      boolean alphanumeric =
          (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
      if (!alphanumeric && (i == 0 || (c != '.' && c != '_' && c != '-'))) {
        return false;
      }
    }
    return true;
  }

  private List<PathPattern> readPaths(TomlTable table, Position rulePosition, Set<String> meant) {
    Optional<List<PathPattern>> paths =
        values.list(
            table,
            "paths",
            "paths = [\"/srv/data/**\"]",
            "list at least one absolute path",
            (element, at) -> {
              if (!(element instanceof String text)) {
                values.error(
                    at, "path must be a string in quotes; found " + RuleValues.kind(element));
                return Optional.empty();
              }
              Optional<String> problem = PathPattern.problem(text);
              problem.ifPresent(p -> values.error(at, p));
              return problem.isPresent()
                  ? Optional.empty()
                  : Optional.of(PathPattern.ofChecked(text));
            });
    if (paths.isEmpty() && !meant.contains("paths")) {
      values.error(rulePosition, "rule has no 'paths'; add paths = [\"/absolute/path\", ...]");
    }
    return paths.orElse(List.of());
  }

  private Set<Permission> readAccess(
      TomlTable table, Position rulePosition, Rule.Effect effect, Set<String> meant) {
    Optional<List<Permission>> words =
        values.list(
            table,
            "access",
            "access = [\"read\"]",
            "list at least one of: " + PERMISSION_NAMES,
            (element, at) -> word(element, at, "access", PERMISSIONS, PERMISSION_NAMES));
    if (words.isEmpty()) {
      if (effect == Rule.Effect.DENY) {
        return EnumSet.allOf(Permission.class);
      }
      if (!meant.contains("access")) {
        values.error(
            rulePosition,
            "[[allow]] rule has no 'access'; add access = [...] with some of: " + PERMISSION_NAMES);
      }
      return EnumSet.noneOf(Permission.class);
    }
    Set<Permission> permissions = EnumSet.noneOf(Permission.class);
    permissions.addAll(words.get());
    return permissions;
  }

  /** The element {@code value} of {@code key} looked up in {@code words}, or an error. */
  private <T> Optional<T> word(
      Object value, Position at, String key, Map<String, T> words, String names) {
    T known = value instanceof String word ? words.get(word) : null;
    if (known == null) {
      String what = key.equals("types") ? "type" : key;
      values.error(
          at,
          (value instanceof String word
                  ? "unknown " + what + " '" + word + "'"
                  : what + " must be a string; found " + RuleValues.kind(value))
              + "; expected one of: "
              + names);
    }
    return Optional.ofNullable(known);
  }

  private Set<FileType> readTypes(TomlTable table, Set<Permission> permissions) {
    Set<FileType> types = readTypeList(table);
    Object value = table.get("types");
    boolean directoryAccess = permissions.contains(Permission.DIRECTORY);
    if (value == null) {
      if (directoryAccess) {
        types.add(FileType.DIRECTORY);
      }
      return types;
    }
    Position at = table.positionOf("types");
    if (directoryAccess && !types.contains(FileType.DIRECTORY)) {
      values.error(
          at,
          "access \"directory\" needs \"directory\" in types; add it, or remove types to allow"
              + " regular files and directories");
    } else if (!directoryAccess && types.contains(FileType.DIRECTORY)) {
      values.error(
          at,
          "types includes \"directory\" but access does not; directory descriptors are granted"
              + " only by access \"directory\": add it to access");
    }
    return types;
  }

  private Set<FileType> readTypeList(TomlTable table) {
    List<FileType> listed =
        values
            .list(
                table,
                "types",
                "types = [\"regular\"]",
                "list at least one of: " + TYPE_NAMES + ", or remove it",
                (element, at) -> word(element, at, "types", TYPES, TYPE_NAMES))
            .orElse(List.of());
    return listed.isEmpty() ? EnumSet.of(FileType.REGULAR) : EnumSet.copyOf(listed);
  }
}
