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

  /**
   * The command was not started.
   *
   * @param errno why: ENOENT when the command was not found, EACCES when it is not executable, or
   *     the error of a step before (copying a descriptor)
   * @param message "Could not ...: ENAME", for the user
   */
  record Failed(int errno, String message) implements SpawnOutcome {
    /** Checks for null. */
    public Failed {
      if (message == null) {
        throw new NullPointerException("message == null");
      }
    }

    /** The status a shell exits with for this failure: 127 when not found, else 126. */
    public int shellStatus() {
      return errno == Errno.ENOENT ? 127 : 126;
    }
  }
}
