package dev.filebroker.daemon.fs;

import com.sun.jna.Memory;
import com.sun.jna.Native;
import com.sun.jna.Pointer;

/**
 * The Landlock system calls and {@code PR_SET_NO_NEW_PRIVS}, direct-mapped, for {@link
 * LandlockRuleset}. Every wrapper returns {@code -errno} instead of throwing.
 */
final class Landlock {
  /** Every argument is passed, flags included: an unpassed one is whatever its register held. */
  private static final class Direct {
    static {
      Native.register(Direct.class, CLibrary.INSTANCE);
    }

    static native long syscall(long number, long a, long b, long c, long d);

    /** prctl(2) is variadic in C; integer arguments travel in the same registers either way. */
    static native int prctl(int option, long arg2, long arg3, long arg4, long arg5);

    private Direct() {}
  }

  // The same numbers on every architecture since the 5.1 unification (x86-64, arm64, riscv64).
  private static final long SYS_LANDLOCK_CREATE_RULESET = 444;
  private static final long SYS_LANDLOCK_ADD_RULE = 445;
  private static final long SYS_LANDLOCK_RESTRICT_SELF = 446;

  private static final long LANDLOCK_CREATE_RULESET_VERSION = 1;
  private static final long LANDLOCK_RULE_PATH_BENEATH = 1;
  private static final int PR_SET_NO_NEW_PRIVS = 38;

  /** struct landlock_path_beneath_attr: u64 allowed_access, s32 parent_fd, packed. */
  private static final int PATH_BENEATH_SIZEOF = 12;

  private Landlock() {}

  /**
   * The ABI version the kernel offers (1 or more), or {@code -ENOSYS} when the kernel was built
   * without Landlock, {@code -EOPNOTSUPP} when it is built in but not enabled at boot (not in the
   * {@code lsm=} list).
   */
  static int version() {
    long result =
        Direct.syscall(SYS_LANDLOCK_CREATE_RULESET, 0, 0, LANDLOCK_CREATE_RULESET_VERSION, 0);
    return result < 0 ? -Native.getLastError() : (int) result;
  }

  /** landlock_create_ruleset(2): a ruleset descriptor (close-on-exec), or {@code -errno}. */
  static int createRuleset(LandlockAbi abi) {
    try (Memory attr = new Memory(24)) {
      attr.clear();
      attr.setLong(0, abi.handledAccessFs());
      // handled_access_net stays 0: network access is not restricted.
      attr.setLong(16, abi.scoped());
      long result =
          Direct.syscall(
              SYS_LANDLOCK_CREATE_RULESET, Pointer.nativeValue(attr), abi.attrSize(), 0, 0);
      return result < 0 ? -Native.getLastError() : (int) result;
    }
  }

  /** landlock_add_rule(2) of a path-beneath rule for the file {@code parentFd} is: 0 or -errno. */
  static int addPathBeneath(int rulesetFd, int parentFd, long allowedAccess) {
    try (Memory attr = new Memory(PATH_BENEATH_SIZEOF)) {
      attr.setLong(0, allowedAccess);
      attr.setInt(8, parentFd);
      long result =
          Direct.syscall(
              SYS_LANDLOCK_ADD_RULE,
              rulesetFd,
              LANDLOCK_RULE_PATH_BENEATH,
              Pointer.nativeValue(attr),
              0);
      return result < 0 ? -Native.getLastError() : 0;
    }
  }

  /**
   * Sets no_new_privs on the calling thread: execve(2) of a set-user-ID, set-group-ID or
   * file-capability program no longer raises privileges, for this thread and everything it starts.
   * 0, or {@code -errno}.
   */
  static int setNoNewPrivs() {
    int result = Direct.prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0);
    return result < 0 ? -Native.getLastError() : 0;
  }

  /**
   * landlock_restrict_self(2) with no flags: the calling thread only (not the others of the
   * process; LANDLOCK_RESTRICT_SELF_TSYNC is not passed) and whatever it starts from now on. 0, or
   * {@code -errno}.
   */
  static int restrictSelf(int rulesetFd) {
    long result = Direct.syscall(SYS_LANDLOCK_RESTRICT_SELF, rulesetFd, 0, 0, 0);
    return result < 0 ? -Native.getLastError() : 0;
  }
}
