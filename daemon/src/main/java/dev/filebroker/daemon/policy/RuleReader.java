package dev.filebroker.daemon.policy;

import dev.filebroker.daemon.toml.Position;
import dev.filebroker.daemon.toml.TomlArray;
import dev.filebroker.daemon.toml.TomlTable;
import dev.filebroker.daemon.toml.TomlText;
import java.nio.file.Path;
import java.time.LocalDate;
import java.time.LocalDateTime;
import java.time.LocalTime;
import java.time.OffsetDateTime;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.Set;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import java.util.stream.Stream;

/**
 * Reads the rules of one policy file: TOML syntax, then every key of every rule, collecting all
 * problems rather than stopping at the first.
 *
 * <p>Exists to keep the file format (key names, value shapes, messages) apart from directory
 * handling in {@link PolicyLoader} and from decisions in {@link Policy}.
 */
final class RuleReader {
  /** A checked rule that does not yet know its place in the whole policy. */
  record Draft(
      Optional<String> name,
      Rule.Effect effect,
      SourceLocation source,
      List<Subject> subjects,
      List<PathPattern> paths,
      Set<Permission> permissions,
      Set<FileType> fileTypes,
      int createModeMask,
      RuleOptions options) {
    Rule toRule(int order) {
      return new Rule(
          name,
          effect,
          source,
          subjects,
          paths,
          permissions,
          fileTypes,
          createModeMask,
          options,
          order);
    }
  }

  /** What one file holds: its rules in line order, or problems (then the rules are partial). */
  record Result(List<Draft> drafts, List<PolicyError> errors) {}

  static final List<String> DENY_KEYS =
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
          "access");

  /** An allow rule takes every deny key, then the keys that shape what it grants. */
  static final List<String> ALLOW_KEYS =
      Stream.concat(
              DENY_KEYS.stream(),
              Stream.of(
                  "types",
                  "create_mode",
                  "create_exclusive",
                  "create_owner",
                  "same_mount",
                  "max_links",
                  "owner",
                  "append_only_inode"))
          .toList();

  private static final Set<String> DENY_KEY_SET = Set.copyOf(DENY_KEYS);
  private static final Set<String> ALLOW_KEY_SET = Set.copyOf(ALLOW_KEYS);

  private static final Pattern RANGE = Pattern.compile("([0-9]{1,10})-([0-9]{1,10})");
  private static final Pattern UNIT = Pattern.compile("[A-Za-z0-9:_.\\\\@-]{1,255}");
  private static final Pattern USER_MANAGER = Pattern.compile("user@[0-9]+\\.service");
  private static final int DEFAULT_CREATE_MODE = 0600;
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

  private final Path file;
  private final Accounts accounts;
  private final List<PolicyError> errors = new ArrayList<>();
  // Subjects named in this reader's rules, made once each: a large policy names few accounts in
  // many rules.
  private final Map<String, Subject> userSubjects = new HashMap<>();
  private final Map<String, Subject> groupSubjects = new HashMap<>();

  private RuleReader(Path file, Accounts accounts) {
    this.file = file;
    this.accounts = accounts;
  }

  /** Reads the text of {@code file}, with the position of every problem. */
  static Result read(Path file, String text, Accounts accounts) {
    RuleReader reader = new RuleReader(file, accounts);
    return switch (TomlText.parse(text)) {
      case TomlText.Parsed.Valid valid -> reader.readRules(valid.toml());
      case TomlText.Parsed.Invalid invalid -> {
        for (TomlText.Problem problem : invalid.problems()) {
          reader.error(problem.position(), "invalid TOML: " + problem.message());
        }
        yield new Result(List.of(), reader.errors);
      }
    };
  }

  private Result readRules(TomlTable toml) {
    List<Draft> drafts = new ArrayList<>();
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
        error(
            position,
            (value instanceof TomlTable
                    ? "unknown table [" + key + "]"
                    : value instanceof TomlArray
                        ? "unknown table [[" + key + "]]"
                        : "unknown key '" + key + "'")
                + " at top level; a policy file holds only [[allow]] and [[deny]] rules");
      } else if (value instanceof TomlArray rules) {
        for (int i = 0; i < rules.size(); i++) {
          if (rules.get(i) instanceof TomlTable rule) {
            readRule(effect.get(), rule, rules.positionOf(i)).ifPresent(drafts::add);
          } else {
            error(
                rules.positionOf(i),
                "each '"
                    + key
                    + "' entry must be a rule table; found "
                    + kind(rules.get(i))
                    + "; write rules as [["
                    + key
                    + "]] sections");
          }
        }
      } else if (value instanceof TomlTable) {
        error(position, "write [[" + key + "]] (double brackets: one per rule), not [" + key + "]");
      } else {
        error(
            position,
            "'" + key + "' must be [[" + key + "]] tables, one per rule; found " + kind(value));
      }
    }
    drafts.sort(
        (a, b) ->
            a.source().line() != b.source().line()
                ? Integer.compare(a.source().line(), b.source().line())
                : Integer.compare(a.source().column(), b.source().column()));
    return new Result(List.copyOf(drafts), errors);
  }

  private Optional<Draft> readRule(Rule.Effect effect, TomlTable table, Position position) {
    int errorsBefore = errors.size();
    String kind = effect == Rule.Effect.ALLOW ? "[[allow]]" : "[[deny]]";
    List<String> keys = effect == Rule.Effect.ALLOW ? ALLOW_KEYS : DENY_KEYS;
    for (String key : table.keySet()) {
      if ((effect == Rule.Effect.ALLOW ? ALLOW_KEY_SET : DENY_KEY_SET).contains(key)) {
        continue;
      }
      Position at = table.positionOf(key);
      if (ALLOW_KEYS.contains(key)) {
        error(
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
        error(
            at,
            "unknown key '"
                + key
                + "' in "
                + kind
                + "; expected one of: "
                + String.join(", ", keys)
                + suggestion(key, keys));
      }
    }

    Optional<String> name = readName(table);
    List<Subject> subjects = readSubjects(table, position);
    List<PathPattern> paths = readPaths(table, position);
    Set<Permission> permissions = readAccess(table, position, effect);
    List<String> executables = readExecutables(table);
    if (effect == Rule.Effect.ALLOW
        && !executables.isEmpty()
        && subjects.contains(new Subject.Anyone())) {
      error(
          table.positionOf("executables"),
          "executables cannot narrow an [[allow]] with any = true: every user can run the"
              + " program, and a process can hand its connection to another, so the rule would"
              + " grant to everyone; name the users or groups it is for instead of any = true");
    }
    List<String> units = readUnits(table);
    Set<FileType> types = EnumSet.allOf(FileType.class);
    int createMode = 0;
    RuleOptions options = RuleOptions.processes(executables, units);
    if (effect == Rule.Effect.ALLOW) {
      types = readTypes(table, permissions);
      createMode = readCreateMode(table, permissions);
      if (permissions.contains(Permission.CREATE) && !types.contains(FileType.REGULAR)) {
        error(
            table.positionOf("types"),
            "access \"create\" creates regular files, but types does not include \"regular\";"
                + " add it or remove \"create\"");
      }
      if (permissions.contains(Permission.DIRECTORY) && !permissions.contains(Permission.READ)) {
        error(
            table.positionOf("access"),
            "access \"directory\" hands out read-only directory descriptors, which need \"read\";"
                + " add \"read\"");
      }
      options = readAllowOptions(table, permissions, executables, units);
    }
    if (errors.size() > errorsBefore) {
      return Optional.empty();
    }
    return Optional.of(
        new Draft(
            name,
            effect,
            location(position),
            // Immutable copies now, which rules keep: drafts live until the whole policy is read.
            List.copyOf(subjects),
            List.copyOf(paths),
            permissions,
            types,
            createMode,
            isDefault(options) ? RuleOptions.DEFAULT : options));
  }

  private Optional<String> readName(TomlTable table) {
    Object value = table.get("name");
    if (value == null) {
      return Optional.empty();
    }
    Position at = table.positionOf("name");
    if (!(value instanceof String name)) {
      error(at, "'name' must be a string such as name = \"app-config\"; found " + kind(value));
      return Optional.empty();
    }
    if (!validName(name)) {
      error(
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

  private List<Subject> readSubjects(TomlTable table, Position rulePosition) {
    List<Subject> subjects = new ArrayList<>();
    boolean listed = false;
    for (String key : List.of("uids", "gids")) {
      Object value = table.get(key);
      if (value == null) {
        continue;
      }
      listed = true;
      readRanges(key, value, table.positionOf(key)).forEach(subjects::add);
    }
    for (String key : List.of("users", "groups")) {
      Object value = table.get(key);
      if (value == null) {
        continue;
      }
      listed = true;
      Position at = table.positionOf(key);
      boolean users = key.equals("users");
      String example = users ? "users = [\"alice\", 1000]" : "groups = [\"video\", 44]";
      if (!(value instanceof TomlArray array)) {
        error(at, "'" + key + "' must be an array such as " + example + "; found " + kind(value));
        continue;
      }
      if (array.isEmpty()) {
        error(at, "'" + key + "' is empty; list at least one, as in " + example + ", or remove it");
        continue;
      }
      for (int i = 0; i < array.size(); i++) {
        readSubject(users, array.get(i), array.positionOf(i)).ifPresent(subjects::add);
      }
    }
    Object any = table.get("any");
    if (any != null) {
      Position at = table.positionOf("any");
      if (!(any instanceof Boolean everyone)) {
        error(at, "'any' must be true or false; found " + kind(any));
        return subjects;
      }
      if (everyone && listed) {
        error(
            at,
            "any = true cannot be combined with users, groups, uids or gids; remove 'any' to"
                + " limit the rule to them, or remove them to apply it to everyone");
      } else if (everyone) {
        subjects.add(new Subject.Anyone());
      }
      if (everyone || listed) {
        return subjects;
      }
    }
    if (!listed) {
      error(
          rulePosition,
          "rule has no subject; add users = [...], groups = [...], uids = [...], gids = [...],"
              + " or any = true to apply it to everyone (executables and units only narrow a"
              + " subject)");
    }
    return subjects;
  }

  private Optional<Subject> readSubject(boolean user, Object value, Position at) {
    String what = user ? "user" : "group";
    String idName = user ? "uid" : "gid";
    if (value instanceof Long number) {
      if (number < 0 || number > Subject.MAX_ID) {
        error(at, idName + " " + number + " is out of range; use 0 to " + Subject.MAX_ID);
        return Optional.empty();
      }
      int id = (int) number.longValue();
      return Optional.of(
          user ? new Subject.User(id, Optional.empty()) : new Subject.Group(id, Optional.empty()));
    }
    if (!(value instanceof String name)) {
      error(at, what + " must be a name in quotes or a number; found " + kind(value));
      return Optional.empty();
    }
    if (!name.isEmpty() && digits(name, '9')) {
      error(
          at,
          what
              + " '"
              + name
              + "' is a number in quotes; write the "
              + idName
              + " without quotes: "
              + name);
      return Optional.empty();
    }
    Map<String, Subject> named = user ? userSubjects : groupSubjects;
    Subject known = named.get(name);
    if (known != null) {
      return Optional.of(known);
    }
    OptionalInt id = user ? accounts.uid(name) : accounts.gid(name);
    if (id.isEmpty()) {
      error(
          at,
          "unknown "
              + what
              + " '"
              + name
              + "': not in "
              + (user ? accounts.passwdFile() : accounts.groupFile())
              + "; check the spelling, or write the numeric "
              + idName
              + " for accounts from other name services");
      return Optional.empty();
    }
    Subject subject =
        user
            ? new Subject.User(id.getAsInt(), Optional.of(name))
            : new Subject.Group(id.getAsInt(), Optional.of(name));
    named.put(name, subject);
    return Optional.of(subject);
  }

  private List<PathPattern> readPaths(TomlTable table, Position rulePosition) {
    Object value = table.get("paths");
    if (value == null) {
      error(rulePosition, "rule has no 'paths'; add paths = [\"/absolute/path\", ...]");
      return List.of();
    }
    Position at = table.positionOf("paths");
    if (!(value instanceof TomlArray array)) {
      error(
          at, "'paths' must be an array such as paths = [\"/srv/data/**\"]; found " + kind(value));
      return List.of();
    }
    if (array.isEmpty()) {
      error(at, "'paths' is empty; list at least one absolute path");
      return List.of();
    }
    List<PathPattern> paths = new ArrayList<>();
    for (int i = 0; i < array.size(); i++) {
      Object element = array.get(i);
      Position elementAt = array.positionOf(i);
      if (!(element instanceof String text)) {
        error(elementAt, "path must be a string in quotes; found " + kind(element));
        continue;
      }
      Optional<String> problem = PathPattern.problem(text);
      if (problem.isPresent()) {
        error(elementAt, problem.get());
      } else {
        paths.add(PathPattern.ofChecked(text));
      }
    }
    return paths;
  }

  private Set<Permission> readAccess(TomlTable table, Position rulePosition, Rule.Effect effect) {
    Object value = table.get("access");
    if (value == null) {
      if (effect == Rule.Effect.DENY) {
        return EnumSet.allOf(Permission.class);
      }
      error(
          rulePosition,
          "[[allow]] rule has no 'access'; add access = [...] with some of: " + PERMISSION_NAMES);
      return EnumSet.noneOf(Permission.class);
    }
    Position at = table.positionOf("access");
    if (!(value instanceof TomlArray array)) {
      error(at, "'access' must be an array such as access = [\"read\"]; found " + kind(value));
      return EnumSet.noneOf(Permission.class);
    }
    if (array.isEmpty()) {
      error(at, "'access' is empty; list at least one of: " + PERMISSION_NAMES);
      return EnumSet.noneOf(Permission.class);
    }
    Set<Permission> permissions = EnumSet.noneOf(Permission.class);
    for (int i = 0; i < array.size(); i++) {
      Object element = array.get(i);
      Position elementAt = array.positionOf(i);
      Optional<Permission> permission =
          element instanceof String word
              ? Optional.ofNullable(PERMISSIONS.get(word))
              : Optional.empty();
      if (permission.isPresent()) {
        permissions.add(permission.get());
      } else {
        error(
            elementAt,
            (element instanceof String word
                    ? "unknown access '" + word + "'"
                    : "access must be" + " a string; found " + kind(element))
                + "; expected one of: "
                + PERMISSION_NAMES);
      }
    }
    return permissions;
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
      error(
          at,
          "access \"directory\" needs \"directory\" in types; add it, or remove types to allow"
              + " regular files and directories");
    } else if (!directoryAccess && types.contains(FileType.DIRECTORY)) {
      error(
          at,
          "types includes \"directory\" but access does not; directory descriptors are granted"
              + " only by access \"directory\": add it to access");
    }
    return types;
  }

  private Set<FileType> readTypeList(TomlTable table) {
    Object value = table.get("types");
    if (value == null) {
      return EnumSet.of(FileType.REGULAR);
    }
    Position at = table.positionOf("types");
    if (!(value instanceof TomlArray array)) {
      error(at, "'types' must be an array such as types = [\"regular\"]; found " + kind(value));
      return EnumSet.of(FileType.REGULAR);
    }
    if (array.isEmpty()) {
      error(at, "'types' is empty; list at least one of: " + TYPE_NAMES + ", or remove it");
      return EnumSet.of(FileType.REGULAR);
    }
    Set<FileType> types = EnumSet.noneOf(FileType.class);
    for (int i = 0; i < array.size(); i++) {
      Object element = array.get(i);
      Position elementAt = array.positionOf(i);
      Optional<FileType> type =
          element instanceof String word ? Optional.ofNullable(TYPES.get(word)) : Optional.empty();
      if (type.isPresent()) {
        types.add(type.get());
      } else {
        error(
            elementAt,
            (element instanceof String word
                    ? "unknown type '" + word + "'"
                    : "type must be" + " a string; found " + kind(element))
                + "; expected one of: "
                + TYPE_NAMES);
      }
    }
    return types.isEmpty() ? EnumSet.of(FileType.REGULAR) : types;
  }

  private List<Subject> readRanges(String key, Object value, Position at) {
    boolean uids = key.equals("uids");
    String example = uids ? "uids = [\"1000-59999\"]" : "gids = [\"2000-2999\"]";
    if (!(value instanceof TomlArray array)) {
      error(at, "'" + key + "' must be an array such as " + example + "; found " + kind(value));
      return List.of();
    }
    if (array.isEmpty()) {
      error(
          at,
          "'" + key + "' is empty; list at least one range, as in " + example + ", or remove it");
      return List.of();
    }
    List<Subject> ranges = new ArrayList<>();
    for (int i = 0; i < array.size(); i++) {
      Object element = array.get(i);
      Position elementAt = array.positionOf(i);
      long first;
      long last;
      if (element instanceof Long number) {
        if (number < 0 || number > Subject.MAX_ID) {
          error(
              elementAt,
              (uids ? "uid " : "gid ") + number + " is out of range; use 0 to " + Subject.MAX_ID);
          continue;
        }
        first = number;
        last = number;
      } else if (element instanceof String text && RANGE.matcher(text).matches()) {
        java.util.regex.Matcher m = RANGE.matcher(text);
        m.matches();
        first = Long.parseLong(m.group(1));
        last = Long.parseLong(m.group(2));
      } else {
        error(
            elementAt,
            (element instanceof String text
                    ? "'" + text + "' is not a range"
                    : "a range must be a" + " string; found " + kind(element))
                + "; write ranges as \"FIRST-LAST\", as in "
                + example);
        continue;
      }
      if (first > Subject.MAX_ID || last > Subject.MAX_ID) {
        error(
            elementAt,
            "range " + first + "-" + last + " is out of range; use 0 to " + Subject.MAX_ID);
      } else if (first > last) {
        error(elementAt, "range " + first + "-" + last + " is empty; write the lower id first");
      } else {
        ranges.add(
            uids
                ? new Subject.UidRange((int) first, (int) last)
                : new Subject.GidRange((int) first, (int) last));
      }
    }
    return ranges;
  }

  private List<String> readExecutables(TomlTable table) {
    return readStrings(
        table,
        "executables",
        "executables = [\"/usr/bin/myapp\"]",
        text -> {
          if (text.indexOf('*') >= 0) {
            return Optional.of(
                "executable '"
                    + text
                    + "' has '*'; executables are matched exactly: list each"
                    + " program's absolute path");
          }
          if (text.startsWith("${")) {
            return Optional.of("executable '" + text + "' uses a variable; write the path");
          }
          return PathPattern.problem(text)
              .map(problem -> problem.replaceFirst("^path", "executable"));
        });
  }

  private List<String> readUnits(TomlTable table) {
    return readStrings(
        table,
        "units",
        "units = [\"myapp.service\"]",
        text -> {
          // "user@1000.service/app.service": a unit of that user's manager.
          int slash = text.indexOf('/');
          if (slash >= 0
              && !(USER_MANAGER.matcher(text.substring(0, slash)).matches()
                  && isUnitName(text.substring(slash + 1)))) {
            return Optional.of(
                "unit '"
                    + text
                    + "' is not a user unit; write the user's manager, a '/' and the unit,"
                    + " as in \"user@1000.service/myapp.service\"");
          }
          return isUnitName(text.substring(slash + 1))
              ? Optional.empty()
              : Optional.of(
                  "unit '"
                      + text
                      + "' is not a systemd unit name; write the full name with"
                      + " its type, as in \"myapp.service\" or \"session-2.scope\"");
        });
  }

  private static boolean isUnitName(String text) {
    return UNIT.matcher(text).matches() && text.lastIndexOf('.') > 0;
  }

  private List<String> readStrings(
      TomlTable table,
      String key,
      String example,
      java.util.function.Function<String, Optional<String>> problem) {
    Object value = table.get(key);
    if (value == null) {
      return List.of();
    }
    Position at = table.positionOf(key);
    if (!(value instanceof TomlArray array)) {
      error(at, "'" + key + "' must be an array such as " + example + "; found " + kind(value));
      return List.of();
    }
    if (array.isEmpty()) {
      error(at, "'" + key + "' is empty; list at least one, as in " + example + ", or remove it");
      return List.of();
    }
    List<String> values = new ArrayList<>();
    for (int i = 0; i < array.size(); i++) {
      Object element = array.get(i);
      Position elementAt = array.positionOf(i);
      if (!(element instanceof String text)) {
        error(elementAt, "each of '" + key + "' must be a string; found " + kind(element));
        continue;
      }
      Optional<String> wrong = problem.apply(text);
      if (wrong.isPresent()) {
        error(elementAt, wrong.get());
      } else {
        values.add(text);
      }
    }
    return values;
  }

  private RuleOptions readAllowOptions(
      TomlTable table, Set<Permission> permissions, List<String> executables, List<String> units) {
    boolean creates = permissions.contains(Permission.CREATE);
    boolean exclusive = readFlag(table, "create_exclusive");
    if (exclusive && !creates) {
      error(
          table.positionOf("create_exclusive"),
          "create_exclusive has no effect without \"create\" in access; add \"create\" or"
              + " remove create_exclusive");
    }
    Rule.CreateOwner createOwner = Rule.CreateOwner.REQUESTER;
    Object createOwnerValue = table.get("create_owner");
    if (createOwnerValue != null) {
      Position at = table.positionOf("create_owner");
      if ("requester".equals(createOwnerValue)) {
        createOwner = Rule.CreateOwner.REQUESTER;
      } else if ("root".equals(createOwnerValue)) {
        createOwner = Rule.CreateOwner.ROOT;
      } else {
        error(
            at,
            "create_owner must be \"requester\" or \"root\"; found "
                + (createOwnerValue instanceof String text
                    ? "\"" + text + "\""
                    : kind(createOwnerValue)));
      }
      if (!creates) {
        error(
            at,
            "create_owner has no effect without \"create\" in access; add \"create\" or"
                + " remove create_owner");
      }
    }
    boolean sameMount = readFlag(table, "same_mount");
    OptionalInt maxLinks = OptionalInt.empty();
    Object maxLinksValue = table.get("max_links");
    if (maxLinksValue != null) {
      Position at = table.positionOf("max_links");
      if (maxLinksValue instanceof Long number && number >= 1 && number <= Integer.MAX_VALUE) {
        maxLinks = OptionalInt.of((int) number.longValue());
      } else {
        error(
            at,
            "max_links must be a whole number of at least 1, such as max_links = 1; found "
                + (maxLinksValue instanceof Long number ? number.toString() : kind(maxLinksValue)));
      }
    }
    Optional<RequiredOwner> owner = readOwner(table);
    if (owner.isPresent() && creates) {
      boolean consistent =
          switch (owner.get()) {
            case RequiredOwner.Requester requester -> true;
            case RequiredOwner.User user -> user.uid() == 0;
          };
      boolean wantsRoot = owner.get() instanceof RequiredOwner.User;
      if (!consistent || wantsRoot != (createOwner == Rule.CreateOwner.ROOT)) {
        error(
            table.positionOf("owner"),
            "owner = \""
                + owner.get()
                + "\" would refuse the files this rule creates (owned by "
                + (createOwner == Rule.CreateOwner.ROOT ? "root" : "the requester")
                + "); make owner and create_owner agree (\"requester\" with \"requester\","
                + " \"root\" with \"root\")");
      }
    }
    boolean appendOnly = readFlag(table, "append_only_inode");
    if (appendOnly
        && (!permissions.contains(Permission.APPEND) || permissions.contains(Permission.WRITE))) {
      error(
          table.positionOf("append_only_inode"),
          "append_only_inode needs \"append\" and no \"write\" in access: the kernel refuses"
              + " to open an append-only file for writing without O_APPEND");
    }
    if (appendOnly && permissions.contains(Permission.TRUNCATE)) {
      error(
          table.positionOf("append_only_inode"),
          "append_only_inode cannot be combined with \"truncate\" in access: an append-only file"
              + " cannot be truncated; remove \"truncate\" or append_only_inode");
    }
    return new RuleOptions(
        Set.copyOf(executables),
        Set.copyOf(units),
        exclusive,
        createOwner,
        sameMount,
        maxLinks,
        owner,
        appendOnly);
  }

  private Optional<RequiredOwner> readOwner(TomlTable table) {
    Object value = table.get("owner");
    if (value == null) {
      return Optional.empty();
    }
    Position at = table.positionOf("owner");
    if (value instanceof Long number) {
      if (number < 0 || number > Subject.MAX_ID) {
        error(at, "owner uid " + number + " is out of range; use 0 to " + Subject.MAX_ID);
        return Optional.empty();
      }
      return Optional.of(new RequiredOwner.User((int) number.longValue(), Optional.empty()));
    }
    if (!(value instanceof String name)) {
      error(
          at, "owner must be \"requester\", \"root\", a user name or a uid; found " + kind(value));
      return Optional.empty();
    }
    if (name.equals("requester")) {
      return Optional.of(new RequiredOwner.Requester());
    }
    if (name.equals("root")) {
      return Optional.of(new RequiredOwner.User(0, Optional.of("root")));
    }
    if (!name.isEmpty() && digits(name, '9')) {
      error(
          at, "owner '" + name + "' is a number in quotes; write the uid without quotes: " + name);
      return Optional.empty();
    }
    OptionalInt uid = accounts.uid(name);
    if (uid.isEmpty()) {
      error(
          at,
          "unknown user '"
              + name
              + "' in owner: not in "
              + accounts.passwdFile()
              + "; check the spelling, or write the numeric uid");
      return Optional.empty();
    }
    return Optional.of(new RequiredOwner.User(uid.getAsInt(), Optional.of(name)));
  }

  private boolean readFlag(TomlTable table, String key) {
    Object value = table.get(key);
    if (value == null) {
      return false;
    }
    if (value instanceof Boolean flag) {
      return flag;
    }
    error(table.positionOf(key), "'" + key + "' must be true or false; found " + kind(value));
    return false;
  }

  private int readCreateMode(TomlTable table, Set<Permission> permissions) {
    Object value = table.get("create_mode");
    if (value == null) {
      return DEFAULT_CREATE_MODE;
    }
    Position at = table.positionOf("create_mode");
    String hint = "write it as a string of octal digits such as create_mode = \"0640\"";
    long mode;
    if (value instanceof String text) {
      if (!(text.length() == 3 || text.length() == 4) || !digits(text, '7')) {
        error(at, "create_mode \"" + text + "\" is not an octal mode; " + hint);
        return DEFAULT_CREATE_MODE;
      }
      mode = Long.parseLong(text, 8);
    } else if (value instanceof Long number) {
      // TOML does not keep how an integer was written: the reader does, so that 640 is not
      // taken as 01200.
      if (table.radixOf("create_mode") != 8) {
        error(at, "create_mode " + number + " is a decimal number; " + hint + " or 0o640");
        return DEFAULT_CREATE_MODE;
      }
      mode = number;
    } else {
      error(at, "'create_mode' must be an octal mode; " + hint + "; found " + kind(value));
      return DEFAULT_CREATE_MODE;
    }
    if (mode > 0777) {
      error(
          at,
          "create_mode "
              + String.format("0%o", mode)
              + " has bits beyond 0777; setuid, setgid and sticky bits are never granted: use at"
              + " most 0777");
      return DEFAULT_CREATE_MODE;
    }
    if (!permissions.contains(Permission.CREATE)) {
      error(
          at,
          "create_mode has no effect without \"create\" in access; add \"create\" or remove"
              + " create_mode");
    }
    return (int) mode;
  }

  /** Whether {@code options} equal {@link RuleOptions#DEFAULT}, field by field (faster). */
  private static boolean isDefault(RuleOptions options) {
    return options.executables().isEmpty()
        && options.units().isEmpty()
        && !options.exclusiveCreate()
        && options.createOwner() == Rule.CreateOwner.REQUESTER
        && !options.noCrossMounts()
        && options.maxLinks().isEmpty()
        && options.owner().isEmpty()
        && !options.appendOnlyInode();
  }

  /** Whether every character of {@code text} is a digit from '0' to {@code highest}. */
  private static boolean digits(String text, char highest) {
    for (int i = 0; i < text.length(); i++) {
      if (text.charAt(i) < '0' || text.charAt(i) > highest) {
        return false;
      }
    }
    return true;
  }

  private void error(Position position, String message) {
    errors.add(new PolicyError(location(position), message));
  }

  private SourceLocation location(Position position) {
    return new SourceLocation(file, position.line(), position.column());
  }

  private static String kind(Object value) {
    return switch (value) {
      case String s -> "a string";
      case Long l -> "an integer";
      case Double d -> "a float";
      case Boolean b -> "a boolean";
      case TomlArray a -> "an array";
      case TomlTable t -> "a table";
      case OffsetDateTime t -> "a date-time";
      case LocalDateTime t -> "a date-time";
      case LocalDate d -> "a date";
      case LocalTime t -> "a time";
      default -> "a " + value.getClass().getSimpleName();
    };
  }

  /** {@code " (did you mean 'access'?)"} when one expected key is close to {@code key}. */
  private static String suggestion(String key, List<String> keys) {
    String best = "";
    int bestDistance = 3;
    for (String candidate : keys) {
      int distance = distance(key.toLowerCase(Locale.ROOT), candidate);
      if (distance < bestDistance) {
        best = candidate;
        bestDistance = distance;
      }
    }
    return best.isEmpty() ? "" : " (did you mean '" + best + "'?)";
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
