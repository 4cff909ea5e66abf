package dev.filebroker.daemon.server;

import dev.filebroker.daemon.fs.Descriptors;
import dev.filebroker.daemon.fs.PeerCredentials;
import dev.filebroker.daemon.fs.PeerProcess;
import dev.filebroker.daemon.policy.Caller;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.OptionalInt;
import org.newsclub.net.unix.AFUNIXSocketChannel;
import org.newsclub.net.unix.AFUNIXSocketCredentials;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Reads who is on the other end of a connection, once, at accept time. Anything that cannot be read
 * makes the whole identity unknown: a connection without an identity is denied everything. The one
 * reader of a caller's identity, for the broker socket and for fixed endpoints alike.
 */
public final class PeerIdentity {
  private static final Logger log = LoggerFactory.getLogger(PeerIdentity.class);

  private PeerIdentity() {}

  /** The caller on {@code channel}, or empty when any credential could not be read. */
  public static Optional<Caller> read(AFUNIXSocketChannel channel) {
    AFUNIXSocketCredentials creds;
    try {
      creds = channel.getPeerCredentials();
    } catch (IOException e) {
      log.warn("Could not read peer credentials: {}", e.toString());
      return Optional.empty();
    }
    if (creds == null || creds.getPid() <= 0 || creds.getUid() < 0 || creds.getGid() < 0) {
      log.warn("Could not read peer credentials: kernel returned {}", creds);
      return Optional.empty();
    }
    Optional<int[]> groups;
    try {
      groups = PeerCredentials.supplementaryGroups(channel.getFileDescriptor());
    } catch (IOException e) {
      log.warn("Could not read peer groups of pid {}: {}", creds.getPid(), e.toString());
      return Optional.empty();
    }
    if (groups.isEmpty()) {
      log.warn("Could not read peer groups of pid {}: SO_PEERGROUPS failed", creds.getPid());
      return Optional.empty();
    }
    List<Integer> list = new ArrayList<>(groups.get().length);
    for (int g : groups.get()) {
      list.add(g);
    }
    int pid = (int) creds.getPid();
    Optional<PeerProcess> process = process(channel, pid);
    return Optional.of(
        new Caller(
            pid,
            (int) creds.getUid(),
            (int) creds.getGid(),
            list,
            process.flatMap(PeerProcess::executable),
            process.flatMap(PeerProcess::unit)));
  }

  /**
   * The peer's executable and unit, read through a pidfd so that a reused pid cannot stand in for
   * the process that connected. Empty when the kernel gives no pidfd or the process is gone.
   */
  private static Optional<PeerProcess> process(AFUNIXSocketChannel channel, int pid) {
    OptionalInt pidfd;
    try {
      pidfd = PeerCredentials.peerPidfd(channel.getFileDescriptor());
    } catch (IOException e) {
      return Optional.empty();
    }
    if (pidfd.isEmpty()) {
      log.debug("Could not obtain a pidfd for pid {}", pid);
      return Optional.empty();
    }
    try {
      return PeerProcess.inspect(pid, pidfd.getAsInt());
    } finally {
      Descriptors.close(pidfd.getAsInt());
    }
  }
}
