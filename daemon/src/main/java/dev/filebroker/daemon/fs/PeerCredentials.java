package dev.filebroker.daemon.fs;

import java.io.FileDescriptor;
import java.util.Optional;

/** STUB. Credentials of a connected Unix socket's peer that junixsocket does not read. */
public final class PeerCredentials {
  private PeerCredentials() {}

  /** SO_PEERGROUPS: the peer's supplementary groups, or empty when they cannot be read. */
  public static Optional<int[]> supplementaryGroups(FileDescriptor socket) {
    throw new UnsupportedOperationException("stub");
  }
}
