package dev.filebroker.daemon.fs;

import com.sun.jna.Memory;
import com.sun.jna.ptr.IntByReference;
import java.io.FileDescriptor;
import java.util.Optional;
import java.util.OptionalInt;

/**
 * Credentials of a connected Unix socket's peer that junixsocket does not read: the supplementary
 * groups (SO_PEERGROUPS) and a pidfd (SO_PEERPIDFD). Both were fixed by the kernel when the peer
 * called connect().
 */
public final class PeerCredentials {
  private static final int GID_SIZE = 4;
  private static final int FIRST_GUESS = 64;

  /** NGROUPS_MAX on Linux. */
  private static final int MAX_GROUPS = 65536;

  private PeerCredentials() {}

  /**
   * SO_PEERGROUPS: the peer's supplementary groups, as of its connect(), translated into the
   * daemon's user namespace.
   *
   * @param socket a connected AF_UNIX socket
   * @return the groups (possibly none), or empty when they cannot be read (not a Unix socket, not
   *     connected, kernel without SO_PEERGROUPS)
   */
  public static Optional<int[]> supplementaryGroups(FileDescriptor socket) {
    int fd = Descriptors.fdOf(socket);
    if (fd < 0) {
      return Optional.empty();
    }
    int capacity = FIRST_GUESS;
    // The group list can only be read whole; on ERANGE the kernel says how long it is.
    for (int attempt = 0; attempt < 2; attempt++) {
      try (Memory buffer = new Memory((long) capacity * GID_SIZE)) {
        IntByReference length = new IntByReference(capacity * GID_SIZE);
        int result = LibC.getsockopt(fd, LibC.SOL_SOCKET, LibC.SO_PEERGROUPS, buffer, length);
        if (result == 0) {
          int count = length.getValue() / GID_SIZE;
          return Optional.of(buffer.getIntArray(0, count));
        }
        if (-result != Errno.ERANGE) {
          return Optional.empty();
        }
        int needed = length.getValue() / GID_SIZE;
        if (needed <= capacity || needed > MAX_GROUPS) {
          return Optional.empty();
        }
        capacity = needed;
      }
    }
    return Optional.empty();
  }

  /**
   * SO_PEERPIDFD (Linux 6.5+): a pidfd for the peer process. The caller owns the returned
   * descriptor and must close it ({@link Descriptors#close(int)}).
   *
   * @param socket a connected AF_UNIX socket
   * @return the pidfd (close-on-exec), or empty when it cannot be read (older kernel, not a Unix
   *     socket, the peer is gone)
   */
  public static OptionalInt peerPidfd(FileDescriptor socket) {
    int fd = Descriptors.fdOf(socket);
    if (fd < 0) {
      return OptionalInt.empty();
    }
    try (Memory buffer = new Memory(Integer.BYTES)) {
      IntByReference length = new IntByReference(Integer.BYTES);
      int result = LibC.getsockopt(fd, LibC.SOL_SOCKET, LibC.SO_PEERPIDFD, buffer, length);
      if (result != 0 || length.getValue() != Integer.BYTES) {
        return OptionalInt.empty();
      }
      int pidfd = buffer.getInt(0);
      return pidfd >= 0 ? OptionalInt.of(pidfd) : OptionalInt.empty();
    }
  }
}
