package dev.filebroker.daemon.endpoint;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import java.util.OptionalInt;

/**
 * User and group names of endpoint subjects, from {@code /etc/passwd} and {@code /etc/group} only
 * (like policy files: accounts from other name services are written as numbers). Read once per
 * configuration load, so that endpoints hold numeric ids.
 */
final class AccountNames {
  static final Path PASSWD = Path.of("/etc/passwd");
  static final Path GROUP = Path.of("/etc/group");

  private final Map<String, Integer> users;
  private final Map<String, Integer> groups;

  private AccountNames(Map<String, Integer> users, Map<String, Integer> groups) {
    this.users = users;
    this.groups = groups;
  }

  /** Reads both files; an unreadable file names no account. */
  static AccountNames read() {
    return new AccountNames(ids(PASSWD), ids(GROUP));
  }

  OptionalInt uid(String name) {
    Integer id = users.get(name);
    return id == null ? OptionalInt.empty() : OptionalInt.of(id);
  }

  OptionalInt gid(String name) {
    Integer id = groups.get(name);
    return id == null ? OptionalInt.empty() : OptionalInt.of(id);
  }

  private static Map<String, Integer> ids(Path file) {
    Map<String, Integer> ids = new HashMap<>();
    String text;
    try {
      text = new String(Files.readAllBytes(file), StandardCharsets.UTF_8);
    } catch (IOException e) {
      return Map.of();
    }
    for (String line : text.split("\n")) {
      String[] fields = line.split(":", -1);
      if (fields.length < 3 || fields[0].isEmpty() || line.startsWith("#")) {
        continue;
      }
      try {
        long id = Long.parseLong(fields[2]);
        if (id >= 0 && id <= 0xFFFF_FFFEL) {
          ids.putIfAbsent(fields[0], (int) id); // the first entry wins, as getpwnam(3) returns it
        }
      } catch (NumberFormatException e) {
        // a malformed line names no account, as the C library skips it
      }
    }
    return Map.copyOf(ids);
  }
}
