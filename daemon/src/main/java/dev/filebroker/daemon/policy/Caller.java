package dev.filebroker.daemon.policy;

import java.util.List;
import java.util.Objects;
import java.util.Optional;

/**
 * Who is asking, as the kernel reported it at connect time.
 *
 * @param pid the peer's pid (SO_PEERCRED)
 * @param uid the peer's uid (SO_PEERCRED)
 * @param gid the peer's primary gid (SO_PEERCRED)
 * @param groups the peer's supplementary groups (SO_PEERGROUPS); may be empty
 * @param executable the peer's executable path read through its pidfd, when known
 * @param unit the peer's systemd unit read through its pidfd, when known
 */
public record Caller(
    int pid,
    int uid,
    int gid,
    List<Integer> groups,
    Optional<String> executable,
    Optional<String> unit) {
  public Caller {
    groups = List.copyOf(Objects.requireNonNull(groups, "groups == null"));
    Objects.requireNonNull(executable, "executable == null");
    Objects.requireNonNull(unit, "unit == null");
  }

  /** Whether this caller has {@code gid} as primary or supplementary group. */
  public boolean inGroup(int gid) {
    return this.gid == gid || groups.contains(gid);
  }
}
