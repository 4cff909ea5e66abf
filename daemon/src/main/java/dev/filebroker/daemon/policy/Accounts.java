package dev.filebroker.daemon.policy;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import java.util.Objects;
import java.util.OptionalInt;

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

  private final Path passwdFile;
  private final Path groupFile;
  private final Map<String, Integer> users;
  private final Map<String, Integer> groups;

  private Accounts(
      Path passwdFile, Path groupFile, Map<String, Integer> users, Map<String, Integer> groups) {
    this.passwdFile = passwdFile;
    this.groupFile = groupFile;
    this.users = Map.copyOf(users);
    this.groups = Map.copyOf(groups);
  }

  /**
   * Reads a passwd-format and a group-format file (name:x:id:...). Malformed lines are skipped,
   * as the C library skips them.
   *
   * @throws IOException when either file cannot be read
   */
  static Accounts read(Path passwdFile, Path groupFile) throws IOException {
    return new Accounts(passwdFile, groupFile, ids(passwdFile), ids(groupFile));
  }

  /** Accounts with the given names, for tests; the file names appear only in messages. */
  static Accounts of(Map<String, Integer> users, Map<String, Integer> groups) {
    return new Accounts(PASSWD, GROUP, users, groups);
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

  Path passwdFile() {
    return passwdFile;
  }

  Path groupFile() {
    return groupFile;
  }

  private static Map<String, Integer> ids(Path file) throws IOException {
    Map<String, Integer> ids = new HashMap<>();
    // Decoded leniently: a stray non-UTF-8 byte in one entry must not hide the others.
    String text = new String(Files.readAllBytes(file), StandardCharsets.UTF_8);
    for (String line : text.split("\n")) {
      if (line.isEmpty() || line.startsWith("#") || line.startsWith("+") || line.startsWith("-")) {
        continue; // comments and NIS compat entries name no local account
      }
      String[] fields = line.split(":", -1);
      if (fields.length < 3 || fields[0].isEmpty()) {
        continue;
      }
      try {
        long id = Long.parseLong(fields[2]);
        if (id >= 0 && id <= Subject.MAX_ID) {
          ids.putIfAbsent(fields[0], (int) id); // the first entry wins, as getpwnam(3) returns it
        }
      } catch (NumberFormatException e) {
        // skipped like any malformed line
      }
    }
    return ids;
  }
}
