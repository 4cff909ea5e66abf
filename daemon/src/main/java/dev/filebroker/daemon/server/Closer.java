package dev.filebroker.daemon.server;

import dev.filebroker.daemon.fs.Descriptors;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Closes, on a thread of its own, descriptors whose close may block: the daemon's close of the last
 * reference to a file runs its release, which for a TCP socket with SO_LINGER and unsent data is
 * the whole linger time and for a FUSE file a round trip to its server. Descriptors a client
 * attaches (where the kernel cannot refuse them at the socket) and descriptors a session abandons
 * are such last references; closing them here keeps every serving thread free.
 *
 * <p>Whatever is handed over belongs to the closer, which closes it exactly once. After {@link
 * #stop()} the caller's thread closes what it hands over. The control socket and the fixed
 * endpoints use one each for the connections they refuse or finish, for the same reason: a client
 * may have attached such a descriptor to what it sent, and closing the connection releases it.
 */
public final class Closer {
  private static final Logger log = LoggerFactory.getLogger(Closer.class);

  private final ExecutorService thread =
      Executors.newSingleThreadExecutor(
          Thread.ofPlatform().name("filebroker-closer").daemon(true).factory());

  /** A closer with a thread of its own, started when first needed. */
  public Closer() {}

  /** Closes descriptor {@code fd} off the caller's thread. */
  public void close(int fd) {
    close(() -> Descriptors.close(fd));
  }

  /** Closes {@code closeable} off the caller's thread. */
  public void close(AutoCloseable closeable) {
    Runnable task =
        () -> {
          try {
            closeable.close();
          } catch (Exception e) {
            log.debug("Could not close {}: {}", closeable, e.toString());
          }
        };
    try {
      thread.execute(task);
    } catch (RejectedExecutionException stopped) {
      task.run();
    }
  }

  /** Closes what was handed over already, then stops; returns at once. */
  public void stop() {
    thread.shutdown();
  }
}
