package dev.filebroker.daemon.policy;

import java.io.IOException;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.Set;

/**
 * Builds the {@link Caller} a given user would be, from {@code /etc/passwd} and {@code /etc/group},
 * for offline explanations and policy test cases.
 *
 * <p>A user named (or a uid with a passwd entry) gets its passwd primary gid and, as supplementary
 * groups, the primary gid plus every group whose member list names it: what initgroups(3) gives a
 * login session. Groups given explicitly are added. A uid without a passwd entry needs an explicit
 * gid. The pid is 0; executable and unit are as given.
 */
public final class Identities {
  /** A resolved caller, or why it could not be built. */
  public sealed interface Resolution {
    /** The caller. */
    record Resolved(Caller caller) implements Resolution {}

    /** Why no caller could be built, in words to act on. */
    record Unresolved(String message) implements Resolution {}
  }

  private final Accounts accounts;

  private Identities(Accounts accounts) {
    this.accounts = accounts;
  }

  /**
   * Identities from {@code /etc/passwd} and {@code /etc/group}.
   *
   * @throws IOException when either file cannot be read
   */
  public static Identities system() throws IOException {
    return new Identities(Accounts.read(Accounts.PASSWD, Accounts.GROUP));
  }

  static Identities of(Accounts accounts) {
    return new Identities(accounts);
  }

  /**
   * The caller for a user given by name or by uid (exactly one of them), with extra groups (names,
   * or gids in decimal).
   */
  public Resolution resolve(
      Optional<String> user,
      OptionalInt uid,
      OptionalInt gid,
      List<String> groups,
      Optional<String> executable,
      Optional<String> unit) {
    Objects.requireNonNull(groups, "groups == null");
    if (user.isPresent() == uid.isPresent()) {
      return new Resolution.Unresolved("give either a user name or a uid");
    }
    Optional<Accounts.Account> account =
        user.isPresent() ? accounts.account(user.get()) : accounts.account(uid.getAsInt());
    if (user.isPresent() && account.isEmpty()) {
      return new Resolution.Unresolved(
          "unknown user '"
              + user.get()
              + "': not in "
              + accounts.passwdFile()
              + "; give a uid and a gid instead");
    }
    int callerUid = account.map(Accounts.Account::uid).orElseGet(uid::getAsInt);
    OptionalInt primary =
        gid.isPresent()
            ? gid
            : account.map(a -> OptionalInt.of(a.gid())).orElse(OptionalInt.empty());
    if (primary.isEmpty()) {
      return new Resolution.Unresolved(
          "uid "
              + Integer.toUnsignedString(callerUid)
              + " has no entry in "
              + accounts.passwdFile()
              + "; give its primary gid too");
    }
    Set<Integer> supplementary = new LinkedHashSet<>();
    account.ifPresent(a -> supplementary.addAll(accounts.loginGroups(a)));
    List<String> unknown = new ArrayList<>();
    for (String group : groups) {
      OptionalInt id =
          group.chars().allMatch(Character::isDigit) && !group.isEmpty()
              ? parseId(group)
              : accounts.gid(group);
      if (id.isPresent()) {
        supplementary.add(id.getAsInt());
      } else {
        unknown.add(group);
      }
    }
    if (!unknown.isEmpty()) {
      return new Resolution.Unresolved(
          "unknown group "
              + String.join(", ", unknown)
              + ": not in "
              + accounts.groupFile()
              + "; write gids for groups from other name services");
    }
    return new Resolution.Resolved(
        new Caller(0, callerUid, primary.getAsInt(), List.copyOf(supplementary), executable, unit));
  }

  private static OptionalInt parseId(String text) {
    try {
      long id = Long.parseLong(text);
      return id <= Subject.MAX_ID ? OptionalInt.of((int) id) : OptionalInt.empty();
    } catch (NumberFormatException e) {
      return OptionalInt.empty();
    }
  }
}
