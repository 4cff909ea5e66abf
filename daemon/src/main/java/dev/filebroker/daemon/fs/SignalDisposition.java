package dev.filebroker.daemon.fs;

import com.sun.jna.LastErrorException;
import com.sun.jna.Memory;

/**
 * Reads and resets how this process treats a signal. Exists for one JVM behaviour: the JVM leaves
 * SIGHUP, SIGINT and SIGTERM ignored, and installs no handler for them, when the process started
 * with them ignored (nohup, {@code &} in a non-interactive shell, a service manager configured so).
 * The daemon's SIGHUP means "reload", which a caller's nohup must not switch off.
 */
public final class SignalDisposition {
  private SignalDisposition() {}

  /**
   * Sets {@code signal} back to its default action if it is ignored, so that a handler can be
   * installed over it.
   *
   * @return true if the signal was ignored and is now at its default action
   * @throws IllegalArgumentException for a signal number sigaction(2) refuses
   */
  public static boolean restoreDefaultIfIgnored(int signal) {
    try (Memory old = new Memory(PosixSpawn.SIGACTION_SIZEOF);
        Memory fresh = new Memory(PosixSpawn.SIGACTION_SIZEOF)) {
      old.clear();
      PosixSpawn.sigaction(signal, null, old);
      if (old.getLong(0) != PosixSpawn.SIG_IGN) { // sa_handler is the first member
        return false;
      }
      fresh.clear(); // sa_handler SIG_DFL (0), empty mask, no flags
      PosixSpawn.sigaction(signal, fresh, null);
      return true;
    } catch (LastErrorException e) {
      throw new IllegalArgumentException(
          "Could not change the action of signal " + signal + ": " + Errno.name(e.getErrorCode()),
          e);
    }
  }
}
