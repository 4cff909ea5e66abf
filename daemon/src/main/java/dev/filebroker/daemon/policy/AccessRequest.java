package dev.filebroker.daemon.policy;

import dev.filebroker.protocol.OpenFlags;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.Objects;
import java.util.Set;

/**
 * What a request asks: a canonical absolute path, the permissions it needs, whether it asked for a
 * directory, and whether a create must be exclusive.
 *
 * <p>A directory request always needs {@link Permission#DIRECTORY}: the constructor adds it when
 * {@code directory} is true, and sets {@code directory} when the permissions hold it.
 *
 * @param path an absolute canonical path (already checked by the protocol validator)
 * @param permissions the permissions needed; never empty
 * @param directory whether the request carried O_DIRECTORY (or its file turned out to be one)
 * @param exclusive whether the request carried O_EXCL (only meaningful with O_CREAT)
 */
public record AccessRequest(
    String path, Set<Permission> permissions, boolean directory, boolean exclusive) {
  public AccessRequest {
    Objects.requireNonNull(path, "path == null");
    Objects.requireNonNull(permissions, "permissions == null");
    if (permissions.isEmpty()) {
      throw new IllegalArgumentException("permissions must not be empty");
    }
    int mask = maskOf(permissions) | (directory ? bit(Permission.DIRECTORY) : 0);
    directory = (mask & bit(Permission.DIRECTORY)) != 0;
    permissions = SETS.get(mask);
  }

  private static final Permission[] PERMISSIONS = Permission.values();

  /**
   * Every set of permissions, indexed by the bit mask of its members' ordinals: requests share
   * these immutable sets instead of copying theirs, which the request path did on every request.
   */
  private static final List<Set<Permission>> SETS;

  /** {@link #accessString()} of each set in {@link #SETS}, at the same index. */
  private static final List<String> ACCESS_STRINGS;

  static {
    List<Set<Permission>> sets = new ArrayList<>(1 << PERMISSIONS.length);
    List<String> strings = new ArrayList<>(1 << PERMISSIONS.length);
    for (int mask = 0; mask < 1 << PERMISSIONS.length; mask++) {
      EnumSet<Permission> set = EnumSet.noneOf(Permission.class);
      for (Permission p : PERMISSIONS) {
        if ((mask & bit(p)) != 0) {
          set.add(p);
        }
      }
      sets.add(Set.copyOf(set));
      strings.add(String.join(",", set.stream().map(Permission::policyName).toList()));
    }
    SETS = List.copyOf(sets);
    ACCESS_STRINGS = List.copyOf(strings);
  }

  private static int bit(Permission p) {
    return 1 << p.ordinal();
  }

  private static int maskOf(Set<Permission> permissions) {
    int mask = 0;
    for (Permission p : PERMISSIONS) {
      if (permissions.contains(p)) {
        mask |= bit(p);
      }
    }
    return mask;
  }

  /** A request without O_EXCL. */
  public AccessRequest(String path, Set<Permission> permissions, boolean directory) {
    this(path, permissions, directory, false);
  }

  /**
   * The permissions that validated open flags need: O_RDONLY reads, O_WRONLY writes (or appends
   * with O_APPEND), O_RDWR both; O_CREAT needs create, O_TRUNC truncate, O_DIRECTORY directory.
   * O_EXCL sets {@link #exclusive()}.
   */
  public static AccessRequest fromOpenFlags(String path, int flags) {
    int needed = 0;
    int accmode = flags & OpenFlags.O_ACCMODE;
    if (accmode == OpenFlags.O_RDONLY || accmode == OpenFlags.O_RDWR) {
      needed |= bit(Permission.READ);
    }
    if (accmode == OpenFlags.O_WRONLY || accmode == OpenFlags.O_RDWR) {
      needed |= (flags & OpenFlags.O_APPEND) != 0 ? bit(Permission.APPEND) : bit(Permission.WRITE);
    }
    if ((flags & OpenFlags.O_CREAT) != 0) {
      needed |= bit(Permission.CREATE);
    }
    if ((flags & OpenFlags.O_TRUNC) != 0) {
      needed |= bit(Permission.TRUNCATE);
    }
    return new AccessRequest(
        path,
        SETS.get(needed),
        (flags & OpenFlags.O_DIRECTORY) != 0,
        (flags & OpenFlags.O_EXCL) != 0);
  }

  /**
   * The same request for a directory: what the server decides again when a file opened without
   * O_DIRECTORY turns out to be a directory, so that only rules granting {@code directory} (and
   * deny rules refusing it) apply.
   */
  public AccessRequest asDirectory() {
    return directory ? this : new AccessRequest(path, permissions, true, exclusive);
  }

  /** The permissions as a comma-separated list of policy names in a fixed order. */
  public String accessString() {
    return ACCESS_STRINGS.get(maskOf(permissions));
  }
}
