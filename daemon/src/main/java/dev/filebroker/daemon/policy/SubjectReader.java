package dev.filebroker.daemon.policy;

import dev.filebroker.daemon.toml.Position;
import dev.filebroker.daemon.toml.TomlTable;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.Set;
import java.util.function.Consumer;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Reads who a rule is for: {@code users}, {@code groups}, {@code uids}, {@code gids} and {@code
 * any}, with names resolved through the account databases. The one reader of subjects: the {@code
 * users} and {@code groups} of a configuration's {@code [[endpoint]]} tables are read here too
 * ({@link #forConfiguration}), with the same rules and messages.
 */
public final class SubjectReader {
  private static final Pattern RANGE = Pattern.compile("([0-9]{1,10})-([0-9]{1,10})");

  private static final Set<String> SUBJECT_KEYS = Set.of("users", "groups", "uids", "gids", "any");

  private final RuleValues values;
  private final Accounts accounts;
  // Subjects named in this file's rules, made once each: a large policy names few accounts in
  // many rules.
  private final Map<String, Subject> userSubjects = new HashMap<>();
  private final Map<String, Subject> groupSubjects = new HashMap<>();

  SubjectReader(RuleValues values, Accounts accounts) {
    this.values = values;
    this.accounts = accounts;
  }

  /**
   * A reader for the {@code [[endpoint]]} tables of the configuration {@code file}, with names from
   * {@code /etc/passwd} and {@code /etc/group} (an unreadable file names no account). Every problem
   * is handed to {@code errors} as "file:line:column: message" as it is found.
   */
  public static SubjectReader forConfiguration(Path file, Consumer<String> errors) {
    Accounts accounts;
    try {
      accounts = Accounts.read(Accounts.PASSWD, Accounts.GROUP);
    } catch (IOException e) {
      accounts = Accounts.of(Map.of(), Map.of());
    }
    return new SubjectReader(new RuleValues(file, e -> errors.accept(e.toString())), accounts);
  }

  /**
   * The users or groups listed under {@code key} ({@code "users"} or {@code "groups"}): names or
   * numeric ids; empty when the key is absent. A value that is not a non-empty array, or an element
   * that names no account, is reported and left out.
   */
  public Optional<List<Subject>> named(TomlTable table, String key) {
    boolean users = key.equals("users");
    if (!users && !key.equals("groups")) {
      throw new IllegalArgumentException("not a list of names: " + key);
    }
    String example = users ? "users = [\"alice\", 1000]" : "groups = [\"video\", 44]";
    return values.list(
        table,
        key,
        example,
        "list at least one, as in " + example + ", or remove it",
        (value, at) -> readSubject(users, value, at));
  }

  /**
   * The subjects of the rule at {@code rulePosition}; an error when it names none, unless a
   * misspelt key was {@code meant} to be one of them (that error names the cause).
   */
  List<Subject> read(TomlTable table, Position rulePosition, Set<String> meant) {
    List<Subject> subjects = new ArrayList<>();
    boolean listed = false;
    for (String key : List.of("uids", "gids")) {
      boolean uids = key.equals("uids");
      String example = uids ? "uids = [\"1000-59999\"]" : "gids = [\"2000-2999\"]";
      Optional<List<Subject>> ranges =
          values.list(
              table,
              key,
              example,
              "list at least one range, as in " + example + ", or remove it",
              (value, at) -> range(uids, example, value, at));
      listed |= ranges.isPresent();
      ranges.ifPresent(subjects::addAll);
    }
    for (String key : List.of("users", "groups")) {
      Optional<List<Subject>> named = named(table, key);
      listed |= named.isPresent();
      named.ifPresent(subjects::addAll);
    }
    Object any = table.get("any");
    if (any != null) {
      Position at = table.positionOf("any");
      if (!(any instanceof Boolean everyone)) {
        values.error(at, "'any' must be true or false; found " + RuleValues.kind(any));
        return subjects;
      }
      if (everyone && listed) {
        values.error(
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
    if (!listed && !meant.stream().anyMatch(SUBJECT_KEYS::contains)) {
      values.error(
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
        values.error(at, idName + " " + number + " is out of range; use 0 to " + Subject.MAX_ID);
        return Optional.empty();
      }
      int id = (int) number.longValue();
      return Optional.of(
          user ? new Subject.User(id, Optional.empty()) : new Subject.Group(id, Optional.empty()));
    }
    if (!(value instanceof String name)) {
      values.error(
          at, what + " must be a name in quotes or a number; found " + RuleValues.kind(value));
      return Optional.empty();
    }
    if (!name.isEmpty() && RuleValues.digits(name, '9')) {
      values.error(
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
      values.error(
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

  private Optional<Subject> range(boolean uids, String example, Object element, Position at) {
    long first;
    long last;
    if (element instanceof Long number) {
      if (number < 0 || number > Subject.MAX_ID) {
        values.error(
            at, (uids ? "uid " : "gid ") + number + " is out of range; use 0 to " + Subject.MAX_ID);
        return Optional.empty();
      }
      first = number;
      last = number;
    } else if (element instanceof String text && RANGE.matcher(text).matches()) {
      Matcher m = RANGE.matcher(text);
      m.matches();
      first = Long.parseLong(m.group(1));
      last = Long.parseLong(m.group(2));
    } else {
      values.error(
          at,
          (element instanceof String text
                  ? "'" + text + "' is not a range"
                  : "a range must be a" + " string; found " + RuleValues.kind(element))
              + "; write ranges as \"FIRST-LAST\", as in "
              + example);
      return Optional.empty();
    }
    if (first > Subject.MAX_ID || last > Subject.MAX_ID) {
      values.error(
          at, "range " + first + "-" + last + " is out of range; use 0 to " + Subject.MAX_ID);
      return Optional.empty();
    }
    if (first > last) {
      values.error(at, "range " + first + "-" + last + " is empty; write the lower id first");
      return Optional.empty();
    }
    return Optional.of(
        uids
            ? new Subject.UidRange((int) first, (int) last)
            : new Subject.GidRange((int) first, (int) last));
  }
}
