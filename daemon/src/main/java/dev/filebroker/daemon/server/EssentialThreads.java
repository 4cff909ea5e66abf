package dev.filebroker.daemon.server;

import java.util.Objects;
import java.util.function.Consumer;

/**
 * The threads the daemon's servers cannot do without (those that accept connections on the main,
 * Varlink and endpoint sockets, and those that watch idle connections): a thread of these that ends
 * before {@link #stopping()} is reported by name, whatever ended it (an exception it logged, an
 * error the JVM threw), so that the daemon stops with a failure and its service manager restarts
 * it, where it would otherwise go on answering the watchdog without accepting or watching
 * connections.
 */
public final class EssentialThreads {
  private final Consumer<String> lost;
  private volatile boolean stopping;

  /** Reports to {@code lost} the name of each thread that ends before {@link #stopping()}. */
  public EssentialThreads(Consumer<String> lost) {
    this.lost = Objects.requireNonNull(lost, "lost == null");
  }

  /** Starts {@code body} on a new daemon platform thread called {@code name}. */
  public Thread start(String name, Runnable body) {
    return Thread.ofPlatform()
        .name(name)
        .daemon(true)
        .start(
            () -> {
              try {
                body.run();
              } finally {
                if (!stopping) {
                  lost.accept(name);
                }
              }
            });
  }

  /**
   * From now on threads end because they were told to: none is reported. Every server sharing this
   * calls it before it stops its threads; once one stops, the daemon is stopping.
   */
  public void stopping() {
    stopping = true;
  }
}
