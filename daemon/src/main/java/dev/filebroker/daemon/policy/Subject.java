package dev.filebroker.daemon.policy;

import java.util.Objects;
import java.util.Optional;

/**
 * Whom a rule applies to: one user, one group (primary or supplementary), or anyone.
 *
 * <p>Ids are unsigned 32-bit values held in an {@code int}, as the kernel reports them; names are
 * kept only to show the rule as the admin wrote it.
 */
public sealed interface Subject {
  /** The largest valid uid or gid: 2^32 - 2 ((uid_t) -1 means "no id"). */
  long MAX_ID = 0xFFFF_FFFEL;

  /** Whether {@code caller} is this subject. */
  boolean matches(Caller caller);

  /**
   * One user.
   *
   * @param uid the uid (unsigned)
   * @param name the name the policy used, when it used one
   */
  record User(int uid, Optional<String> name) implements Subject {
    public User {
      Objects.requireNonNull(name, "name == null");
      if (uid == -1) {
        throw new IllegalArgumentException("uid 4294967295 is not a valid uid");
      }
    }

    @Override
    public boolean matches(Caller caller) {
      return caller.uid() == uid;
    }

    /** {@code user alice (1000)} or {@code user 1000}. */
    @Override
    public String toString() {
      String id = Integer.toUnsignedString(uid);
      return name.map(n -> "user " + n + " (" + id + ")").orElse("user " + id);
    }
  }

  /**
   * One group, matched against the caller's primary and supplementary groups.
   *
   * @param gid the gid (unsigned)
   * @param name the name the policy used, when it used one
   */
  record Group(int gid, Optional<String> name) implements Subject {
    public Group {
      Objects.requireNonNull(name, "name == null");
      if (gid == -1) {
        throw new IllegalArgumentException("gid 4294967295 is not a valid gid");
      }
    }

    @Override
    public boolean matches(Caller caller) {
      return caller.inGroup(gid);
    }

    /** {@code group users (100)} or {@code group 100}. */
    @Override
    public String toString() {
      String id = Integer.toUnsignedString(gid);
      return name.map(n -> "group " + n + " (" + id + ")").orElse("group " + id);
    }
  }

  /** Every caller ({@code any = true}). */
  record Anyone() implements Subject {
    @Override
    public boolean matches(Caller caller) {
      return true;
    }

    /** {@code anyone}. */
    @Override
    public String toString() {
      return "anyone";
    }
  }
}
