package dev.filebroker.daemon.fs;

/** What {@link Exec#spawn} did: started the command, or could not, with the reason. */
public sealed interface SpawnOutcome {
  /**
   * The command is running.
   *
   * @param child the process, to wait for and to signal
   */
  record Started(Child child) implements SpawnOutcome {
    /** Checks for null. */
    public Started {
      if (child == null) {
        throw new NullPointerException("child == null");
      }
    }
  }

  /** Which step of starting the command failed. */
  enum Step {
    /** Preparing the start (copying a descriptor, setting up posix_spawn): not the command's. */
    SETUP,
    /** Finding or executing the command. */
    EXECUTE
  }

  /**
   * The command was not started.
   *
   * @param step which step failed
   * @param errno why: ENOENT when the command was not found, EACCES when it is not executable, or
   *     the error of a step before (copying a descriptor)
   * @param message "Could not ...: ENAME", for the user
   */
  record Failed(Step step, int errno, String message) implements SpawnOutcome {
    /** Checks for null. */
    public Failed {
      if (step == null) {
        throw new NullPointerException("step == null");
      }
      if (message == null) {
        throw new NullPointerException("message == null");
      }
    }

    /**
     * The status to exit with for this failure, as env(1) and timeout(1) do: 127 when the command
     * was not found, 126 when it was found but could not be executed, 125 when the start failed
     * before the command was looked at.
     */
    public int shellStatus() {
      if (step == Step.SETUP) {
        return 125;
      }
      return errno == Errno.ENOENT ? 127 : 126;
    }
  }
}
