package dev.filebroker.daemon.policy;

import dev.filebroker.protocol.OpenFlags;
import java.util.EnumSet;
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
    EnumSet<Permission> needed = EnumSet.copyOf(permissions);
    if (directory) {
      needed.add(Permission.DIRECTORY);
    }
    directory = needed.contains(Permission.DIRECTORY);
    permissions = Set.copyOf(needed);
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
    EnumSet<Permission> needed = EnumSet.noneOf(Permission.class);
    int accmode = flags & OpenFlags.O_ACCMODE;
    if (accmode == OpenFlags.O_RDONLY || accmode == OpenFlags.O_RDWR) {
      needed.add(Permission.READ);
    }
    if (accmode == OpenFlags.O_WRONLY || accmode == OpenFlags.O_RDWR) {
      needed.add((flags & OpenFlags.O_APPEND) != 0 ? Permission.APPEND : Permission.WRITE);
    }
    if ((flags & OpenFlags.O_CREAT) != 0) {
      needed.add(Permission.CREATE);
    }
    if ((flags & OpenFlags.O_TRUNC) != 0) {
      needed.add(Permission.TRUNCATE);
    }
    return new AccessRequest(
        path, needed, (flags & OpenFlags.O_DIRECTORY) != 0, (flags & OpenFlags.O_EXCL) != 0);
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
    return String.join(
        ",", EnumSet.copyOf(permissions).stream().map(Permission::policyName).toList());
  }
}
