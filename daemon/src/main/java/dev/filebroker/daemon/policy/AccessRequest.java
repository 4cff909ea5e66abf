package dev.filebroker.daemon.policy;

import dev.filebroker.protocol.OpenFlags;
import java.util.EnumSet;
import java.util.Objects;
import java.util.Set;

/**
 * What a request asks: a canonical absolute path, the permissions it needs, and whether it asked
 * for a directory.
 *
 * @param path an absolute canonical path (already checked by the protocol validator)
 * @param permissions the permissions needed; never empty
 * @param directory whether the request carried O_DIRECTORY
 */
public record AccessRequest(String path, Set<Permission> permissions, boolean directory) {
  public AccessRequest {
    Objects.requireNonNull(path, "path == null");
    permissions = Set.copyOf(permissions);
    if (permissions.isEmpty()) {
      throw new IllegalArgumentException("permissions must not be empty");
    }
  }

  /**
   * The permissions that validated open flags need: O_RDONLY reads, O_WRONLY writes (or appends
   * with O_APPEND), O_RDWR both; O_CREAT needs create, O_TRUNC truncate.
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
    return new AccessRequest(path, needed, (flags & OpenFlags.O_DIRECTORY) != 0);
  }

  /** The permissions as a sorted, comma-separated list of policy names, for audit and messages. */
  public String accessString() {
    return String.join(
        ",",
        EnumSet.copyOf(permissions).stream().map(Permission::policyName).toList());
  }
}
