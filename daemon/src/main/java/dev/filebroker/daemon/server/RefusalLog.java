package dev.filebroker.daemon.server;

import java.util.Optional;

/**
 * Decides which refused connections are worth a log line: the first one, then at most one per
 * interval, saying how many were refused since the last line. A client that opens connections as
 * fast as it can past a limit must not be able to flood the journal; every refusal is still counted
 * in the statistics and answered with {@code LIMIT_EXCEEDED} (on the Varlink socket, its named
 * error), and each socket's server keeps a log of its own.
 */
public final class RefusalLog {
  private final long intervalNanos;
  private boolean logged;
  private long lastLineNanos;
  private long unlogged;

  /** At most one line per {@code intervalNanos} after the first. */
  public RefusalLog(long intervalNanos) {
    if (intervalNanos <= 0) {
      throw new IllegalArgumentException("intervalNanos must be positive: " + intervalNanos);
    }
    this.intervalNanos = intervalNanos;
  }

  /** The line to log for a refusal for {@code why} at {@code nowNanos}, or empty to stay quiet. */
  public synchronized Optional<String> refused(String why, long nowNanos) {
    if (logged && nowNanos - lastLineNanos < intervalNanos) {
      unlogged++;
      return Optional.empty();
    }
    String line =
        unlogged == 0
            ? "Could not admit a connection: " + why
            : "Could not admit a connection: "
                + why
                + " ("
                + unlogged
                + " more refused since the last such line)";
    logged = true;
    lastLineNanos = nowNanos;
    unlogged = 0;
    return Optional.of(line);
  }
}
