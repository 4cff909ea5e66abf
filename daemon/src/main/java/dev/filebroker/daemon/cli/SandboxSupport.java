package dev.filebroker.daemon.cli;

import dev.filebroker.daemon.fs.Errno;
import dev.filebroker.daemon.fs.LandlockAbi;

/**
 * Whether {@code run --sandbox} can keep its promises on this kernel, decided from the Landlock ABI
 * version the kernel reports. ABI 6 (Linux 6.12) is the oldest accepted: it is the first that
 * restricts truncation (3), ioctls on devices (5), and signals and abstract Unix sockets to outside
 * the sandbox (6). On anything older the command is not run at all, never run unconfined.
 */
final class SandboxSupport {
  /** The oldest Landlock ABI that can restrict everything the sandbox promises. */
  static final int OLDEST_ABI = 6;

  /** What {@link #decide} said. */
  sealed interface Decision {
    /** The sandbox can be built for {@code abi}. */
    record Available(LandlockAbi abi) implements Decision {}

    /** It cannot; {@code reason} says why, for the user. */
    record Refused(String reason) implements Decision {}
  }

  private SandboxSupport() {}

  /**
   * @param version what landlock_create_ruleset(NULL, 0, LANDLOCK_CREATE_RULESET_VERSION) returned:
   *     the ABI version, or {@code -errno}
   */
  static Decision decide(int version) {
    if (version == -Errno.ENOSYS) {
      return new Decision.Refused(
          "this kernel has no Landlock (landlock_create_ruleset: ENOSYS); --sandbox needs Landlock"
              + " ABI "
              + OLDEST_ABI
              + " (Linux 6.12) or later");
    }
    if (version == -Errno.EOPNOTSUPP) {
      return new Decision.Refused(
          "Landlock is not enabled on this kernel (landlock_create_ruleset: EOPNOTSUPP); add"
              + " landlock to the lsm= boot parameter");
    }
    if (version < 0) {
      return new Decision.Refused(
          "could not ask the kernel for its Landlock ABI: " + Errno.name(-version));
    }
    if (version < OLDEST_ABI) {
      return new Decision.Refused(
          "this kernel's Landlock ABI "
              + version
              + " cannot restrict truncation, device ioctls, signals and abstract sockets;"
              + " --sandbox needs ABI "
              + OLDEST_ABI
              + " (Linux 6.12) or later");
    }
    return new Decision.Available(new LandlockAbi(version));
  }
}
