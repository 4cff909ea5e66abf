package dev.filebroker.daemon.policy;

import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * What {@code ${user}}, {@code ${uid}}, {@code ${gid}} and {@code ${home}} mean for one caller.
 *
 * <p>Exists so that unsafe values are refused in one place: a user name that is empty, '.', '..',
 * or holds '/', '*' or NUL, and a home that is not an absolute canonical path other than '/' (or
 * holds '*'), count as unknown, like a uid without a passwd entry. Computed at most once per
 * decision, and only when a rule with variables is considered.
 *
 * @param user the caller's login name, when known and safe
 * @param uid the caller's uid in decimal
 * @param gid the caller's primary gid (as the kernel reported it) in decimal
 * @param home the components of the caller's home directory, when known and safe
 */
record CallerVariables(Optional<String> user, String uid, String gid, Optional<List<String>> home) {

  /** The values for {@code caller}, from the passwd entries the policy was loaded with. */
  static CallerVariables of(Caller caller, Map<Integer, Accounts.Account> accounts) {
    Accounts.Account account = accounts.get(caller.uid());
    Optional<String> user = Optional.empty();
    Optional<List<String>> home = Optional.empty();
    if (account != null) {
      String name = account.name();
      if (!name.isEmpty()
          && !name.equals(".")
          && !name.equals("..")
          && name.indexOf('/') < 0
          && name.indexOf('*') < 0
          && name.indexOf('\0') < 0) {
        user = Optional.of(name);
      }
      String dir = account.home();
      if (PathPattern.isCanonical(dir) && !dir.equals("/") && dir.indexOf('*') < 0) {
        home = Optional.of(PathPattern.split(dir));
      }
    }
    return new CallerVariables(
        user, Integer.toUnsignedString(caller.uid()), Integer.toUnsignedString(caller.gid()), home);
  }
}
