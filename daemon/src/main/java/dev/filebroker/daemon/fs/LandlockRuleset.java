package dev.filebroker.daemon.fs;

import java.nio.file.Path;
import java.util.List;
import java.util.Objects;
import java.util.Optional;

/**
 * A Landlock ruleset that handles every file-system access right and scope of its ABI and allows
 * only what its rules list, ready to confine a command that {@link Exec#spawn} starts.
 *
 * <p>Landlock restricts the thread that calls landlock_restrict_self(2) and what it starts from
 * then on, never the other threads of the process. Exec applies it on a thread of its own that sets
 * no_new_privs, restricts itself, calls posix_spawn and ends, so the command is confined from its
 * first instruction and the JVM is not (docs/decisions/0017-sandbox-thread.md).
 *
 * <p>Each rule's path is opened once, when the ruleset is built: a rule holds the inode the path
 * named then, so a file put in its place later is not allowed.
 */
public final class LandlockRuleset implements AutoCloseable {
  /**
   * What may be done beneath one path: on a directory, in everything below it; on a file, to that
   * file (rights a file cannot carry, such as {@link LandlockAbi#READ_DIR}, are dropped there).
   *
   * @param path the path; symbolic links in it are followed
   * @param access a set of {@link LandlockAbi} rights
   */
  public record Rule(Path path, long access) {
    /** Checks for null. */
    public Rule {
      Objects.requireNonNull(path, "path == null");
    }
  }

  /** What {@link #build} made. */
  public sealed interface Outcome {
    /** The ruleset, which the caller owns and closes. */
    record Built(LandlockRuleset ruleset) implements Outcome {}

    /**
     * No ruleset: a rule's path could not be opened, or the kernel refused the ruleset.
     *
     * @param message "Could not ...: ENAME", for the user
     */
    record Refused(String message) implements Outcome {}
  }

  private static final int S_IFMT = 0170000;
  private static final int S_IFDIR = 0040000;

  private final Object lock = new Object();
  private int fd; // -1 once closed; guarded by lock

  private LandlockRuleset(int fd) {
    this.fd = fd;
  }

  /**
   * The Landlock ABI version of the running kernel (1 or more), or {@code -ENOSYS} when the kernel
   * has no Landlock, {@code -EOPNOTSUPP} when Landlock is built in but not enabled at boot.
   */
  public static int kernelVersion() {
    return Landlock.version();
  }

  /**
   * Creates a ruleset for {@code abi} with {@code rules}. Rights of a rule beyond what {@code abi}
   * handles are dropped: the kernel refuses a rule that allows an unhandled right.
   */
  public static Outcome build(LandlockAbi abi, List<Rule> rules) {
    Objects.requireNonNull(abi, "abi == null");
    Objects.requireNonNull(rules, "rules == null");
    int ruleset = Landlock.createRuleset(abi);
    if (ruleset < 0) {
      return new Outcome.Refused(
          "Could not create a Landlock ruleset (ABI "
              + abi.version()
              + "): "
              + Errno.name(-ruleset));
    }
    for (Rule rule : rules) {
      Optional<String> problem = add(ruleset, abi, rule);
      if (problem.isPresent()) {
        LibC.close(ruleset);
        return new Outcome.Refused(problem.get());
      }
    }
    return new Outcome.Built(new LandlockRuleset(ruleset));
  }

  /** Adds {@code rule}; what went wrong, if anything. */
  private static Optional<String> add(int ruleset, LandlockAbi abi, Rule rule) {
    String path = rule.path().toString();
    int parent =
        LibC.openat2(LibC.AT_FDCWD, path, NativeFlags.O_PATH | NativeFlags.O_CLOEXEC, 0, 0);
    if (parent < 0) {
      return Optional.of("Could not open " + path + " for a sandbox rule: " + Errno.name(-parent));
    }
    try {
      boolean directory =
          LibC.fstat(parent) instanceof LibC.StatResult.Stat s
              && (s.stat().mode() & S_IFMT) == S_IFDIR;
      long access = rule.access() & abi.handledAccessFs();
      if (!directory) {
        access &= LandlockAbi.FILE_RIGHTS;
      }
      if (access == 0) {
        return Optional.empty(); // nothing this ABI handles: a rule would change nothing
      }
      int added = Landlock.addPathBeneath(ruleset, parent, access);
      if (added < 0) {
        return Optional.of(
            "Could not add the sandbox rule for " + path + ": " + Errno.name(-added));
      }
      return Optional.empty();
    } finally {
      LibC.close(parent);
    }
  }

  /**
   * Sets no_new_privs on the calling thread and confines it with this ruleset: for ever, so the
   * caller must be a thread that starts the command and ends. 0, or {@code -errno}.
   */
  int restrictCurrentThread() {
    synchronized (lock) {
      if (fd < 0) {
        throw new IllegalStateException("ruleset is closed");
      }
      int privs = Landlock.setNoNewPrivs();
      if (privs < 0) {
        return privs;
      }
      return Landlock.restrictSelf(fd);
    }
  }

  /** Closes the ruleset's descriptor; a command already started stays confined. */
  @Override
  public void close() {
    synchronized (lock) {
      if (fd >= 0) {
        LibC.close(fd);
        fd = -1;
      }
    }
  }
}
