package dev.filebroker.daemon.policy;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.Set;

/**
 * User and group names as {@code /etc/passwd} and {@code /etc/group} define them, read once per
 * policy load so that rules hold numeric ids and decisions never consult name services.
 *
 * <p>Only the files are read, not NSS (LDAP, sssd, systemd-userdb): such accounts must be written
 * as numbers in a policy.
 */
final class Accounts {
  static final Path PASSWD = Path.of("/etc/passwd");
  static final Path GROUP = Path.of("/etc/group");

  /**
   * One passwd entry: what {@code ${user}} and {@code ${home}} expand to, and the primary gid.
   *
   * @param name the login name
   * @param uid the uid (unsigned)
   * @param gid the primary gid (unsigned)
   * @param home the home directory as written
   */
  record Account(String name, int uid, int gid, String home) {}

  private final Path passwdFile;
  private final Path groupFile;
  private final Map<String, Integer> users;
  private final Map<String, Integer> groups;
  private final Map<Integer, Account> byUid;
  private final Map<String, Account> byName;
  private final Map<String, List<Integer>> memberships;

  private Accounts(
      Path passwdFile,
      Path groupFile,
      Map<String, Integer> users,
      Map<String, Integer> groups,
      List<Account> accounts,
      Map<String, List<Integer>> memberships) {
    this.passwdFile = passwdFile;
    this.groupFile = groupFile;
    this.users = Map.copyOf(users);
    this.groups = Map.copyOf(groups);
    Map<Integer, Account> uids = new HashMap<>();
    Map<String, Account> names = new HashMap<>();
    for (Account account : accounts) {
      uids.putIfAbsent(account.uid(), account); // the first entry wins, as getpwuid(3) returns it
      names.putIfAbsent(account.name(), account);
    }
    this.byUid = Map.copyOf(uids);
    this.byName = Map.copyOf(names);
    this.memberships = Map.copyOf(memberships);
  }

  /**
   * Reads a passwd-format and a group-format file (name:x:id:...). Malformed lines are skipped, as
   * the C library skips them.
   *
   * @throws IOException when either file cannot be read
   */
  static Accounts read(Path passwdFile, Path groupFile) throws IOException {
    List<String[]> passwd = entries(passwdFile);
    List<String[]> group = entries(groupFile);
    List<Account> accounts = new ArrayList<>();
    for (String[] fields : passwd) {
      if (fields.length >= 6) {
        OptionalInt gid = id(fields[3]);
        if (gid.isPresent()) {
          accounts.add(new Account(fields[0], id(fields[2]).getAsInt(), gid.getAsInt(), fields[5]));
        }
      }
    }
    Map<String, List<Integer>> memberships = new HashMap<>();
    for (String[] fields : group) {
      if (fields.length >= 4 && !fields[3].isEmpty()) {
        int gid = id(fields[2]).getAsInt();
        for (String member : fields[3].split(",")) {
          if (!member.isEmpty()) {
            memberships.computeIfAbsent(member, m -> new ArrayList<>()).add(gid);
          }
        }
      }
    }
    return new Accounts(passwdFile, groupFile, ids(passwd), ids(group), accounts, memberships);
  }

  /**
   * Accounts with the given names: for tests, and none at all where the files cannot be read; the
   * file names appear only in messages.
   */
  static Accounts of(Map<String, Integer> users, Map<String, Integer> groups) {
    return new Accounts(PASSWD, GROUP, users, groups, List.of(), Map.of());
  }

  /** Accounts with full passwd entries and group memberships, for tests. */
  static Accounts of(
      List<Account> accounts, Map<String, Integer> groups, Map<String, List<Integer>> members) {
    Map<String, Integer> users = new HashMap<>();
    for (Account account : accounts) {
      users.putIfAbsent(account.name(), account.uid());
    }
    return new Accounts(PASSWD, GROUP, users, groups, accounts, members);
  }

  /** The uid of user {@code name}, if the passwd file has it. */
  OptionalInt uid(String name) {
    Integer id = users.get(Objects.requireNonNull(name, "name == null"));
    return id == null ? OptionalInt.empty() : OptionalInt.of(id);
  }

  /** The gid of group {@code name}, if the group file has it. */
  OptionalInt gid(String name) {
    Integer id = groups.get(Objects.requireNonNull(name, "name == null"));
    return id == null ? OptionalInt.empty() : OptionalInt.of(id);
  }

  /** The first passwd entry for {@code uid}, as getpwuid(3) returns it. */
  Optional<Account> account(int uid) {
    return Optional.ofNullable(byUid.get(uid));
  }

  /** The first passwd entry named {@code name}, as getpwnam(3) returns it. */
  Optional<Account> account(String name) {
    return Optional.ofNullable(byName.get(Objects.requireNonNull(name, "name == null")));
  }

  /**
   * The groups initgroups(3) gives {@code account} at login: its primary gid, then every group
   * whose member list names it, in file order, without repeats.
   */
  List<Integer> loginGroups(Account account) {
    Set<Integer> gids = new LinkedHashSet<>();
    gids.add(account.gid());
    gids.addAll(memberships.getOrDefault(account.name(), List.of()));
    return List.copyOf(gids);
  }

  /** Every passwd entry by uid (the first entry of each uid). */
  Map<Integer, Account> accountsByUid() {
    return byUid;
  }

  Path passwdFile() {
    return passwdFile;
  }

  Path groupFile() {
    return groupFile;
  }

  private static List<String[]> entries(Path file) throws IOException {
    List<String[]> entries = new ArrayList<>();
    // Decoded leniently: a stray non-UTF-8 byte in one entry must not hide the others.
    String text = new String(Files.readAllBytes(file), StandardCharsets.UTF_8);
    for (String line : text.split("\n")) {
      if (line.isEmpty() || line.startsWith("#") || line.startsWith("+") || line.startsWith("-")) {
        continue; // comments and NIS compat entries name no local account
      }
      String[] fields = line.split(":", -1);
      if (fields.length < 3 || fields[0].isEmpty() || id(fields[2]).isEmpty()) {
        continue; // skipped like any malformed line
      }
      entries.add(fields);
    }
    return entries;
  }

  private static Map<String, Integer> ids(List<String[]> entries) {
    Map<String, Integer> ids = new HashMap<>();
    for (String[] fields : entries) {
      ids.putIfAbsent(fields[0], id(fields[2]).getAsInt()); // the first entry wins, as getpwnam
    }
    return ids;
  }

  private static OptionalInt id(String text) {
    try {
      long id = Long.parseLong(text);
      return id >= 0 && id <= Subject.MAX_ID ? OptionalInt.of((int) id) : OptionalInt.empty();
    } catch (NumberFormatException e) {
      return OptionalInt.empty();
    }
  }
}
