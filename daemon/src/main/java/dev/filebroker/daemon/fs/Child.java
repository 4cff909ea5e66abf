package dev.filebroker.daemon.fs;

import com.sun.jna.LastErrorException;
import com.sun.jna.Memory;
import java.io.IOException;
import java.util.Optional;

/**
 * A process started by {@link Exec#spawn}: the JVM waits for it with waitpid(2), since only that
 * reports how it ended, and signals it through a pidfd, so that a signal can never reach another
 * process that reused the number after the child was reaped.
 */
public final class Child implements AutoCloseable {
  private final int pid;
  private final Object lock = new Object();
  private int pidfd; // -1 once reaped or closed; guarded by lock
  private Optional<ExitStatus> status = Optional.empty(); // guarded by lock

  Child(int pid) {
    this.pid = pid;
    int fd = LibC.pidfdOpen(pid); // the child is not reaped yet, so the number is still its own
    this.pidfd = fd < 0 ? -1 : fd;
  }

  /** The child's process id. */
  public int pid() {
    return pid;
  }

  /**
   * Sends {@code signal} to the child, unless it has been reaped. Safe to call from a signal
   * handler thread while another thread is in {@link #waitFor}.
   *
   * @return true if the signal was sent; false once the child has been reaped or if it could not be
   *     sent (ESRCH: it has just ended)
   */
  public boolean signal(int signal) {
    synchronized (lock) {
      return pidfd >= 0 && LibC.pidfdSendSignal(pidfd, signal) == 0;
    }
  }

  /**
   * Waits for the child to end and reaps it; later calls return the same status.
   *
   * @throws IOException when waitpid fails other than with EINTR (ECHILD: someone else reaped it)
   */
  public ExitStatus waitFor() throws IOException {
    synchronized (lock) {
      if (status.isPresent()) {
        return status.get();
      }
    }
    int word;
    try (Memory wstatus = new Memory(4)) {
      while (true) {
        try {
          PosixSpawn.waitpid(pid, wstatus, 0);
          break;
        } catch (LastErrorException e) {
          if (e.getErrorCode() != Errno.EINTR) {
            throw new IOException(
                "Could not wait for process " + pid + ": " + Errno.name(e.getErrorCode()), e);
          }
        }
      }
      word = wstatus.getInt(0);
    }
    ExitStatus ended = ExitStatus.of(word);
    synchronized (lock) {
      status = Optional.of(ended);
      closePidfd();
    }
    return ended;
  }

  /** Closes the pidfd; the child is neither signalled nor reaped. */
  @Override
  public void close() {
    synchronized (lock) {
      closePidfd();
    }
  }

  private void closePidfd() {
    if (pidfd >= 0) {
      LibC.close(pidfd);
      pidfd = -1;
    }
  }
}
