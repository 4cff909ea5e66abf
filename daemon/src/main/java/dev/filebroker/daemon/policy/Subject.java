package dev.filebroker.daemon.policy;

import java.util.Objects;
import java.util.Optional;

/**
 * Whom a rule applies to: one user, one group (primary or supplementary), a range of uids or of
 * gids, or anyone.
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

  /**
   * A range of uids, both ends included ({@code uids = ["1000-59999"]}).
   *
   * @param first the lowest uid (unsigned)
   * @param last the highest uid (unsigned), not below {@code first}
   */
  record UidRange(int first, int last) implements Subject {
    public UidRange {
      checkRange(first, last);
    }

    @Override
    public boolean matches(Caller caller) {
      return inRange(caller.uid(), first, last);
    }

    /** {@code uids 1000-59999}. */
    @Override
    public String toString() {
      return "uids " + Integer.toUnsignedString(first) + "-" + Integer.toUnsignedString(last);
    }
  }

  /**
   * A range of gids, both ends included, matched against the caller's primary and supplementary
   * groups ({@code gids = ["2000-2999"]}).
   *
   * @param first the lowest gid (unsigned)
   * @param last the highest gid (unsigned), not below {@code first}
   */
  record GidRange(int first, int last) implements Subject {
    public GidRange {
      checkRange(first, last);
    }

    @Override
    public boolean matches(Caller caller) {
      if (inRange(caller.gid(), first, last)) {
        return true;
      }
      for (int gid : caller.groups()) {
        if (inRange(gid, first, last)) {
          return true;
        }
      }
      return false;
    }

    /** {@code gids 2000-2999}. */
    @Override
    public String toString() {
      return "gids " + Integer.toUnsignedString(first) + "-" + Integer.toUnsignedString(last);
    }
  }

  private static void checkRange(int first, int last) {
    if (first == -1 || last == -1) {
      throw new IllegalArgumentException("4294967295 is not a valid id");
    }
    if (Integer.compareUnsigned(first, last) > 0) {
      throw new IllegalArgumentException("first must not be above last");
    }
  }

  private static boolean inRange(int id, int first, int last) {
    return Integer.compareUnsigned(id, first) >= 0 && Integer.compareUnsigned(id, last) <= 0;
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
