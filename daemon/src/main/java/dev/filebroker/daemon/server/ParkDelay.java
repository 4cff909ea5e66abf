package dev.filebroker.daemon.server;

/**
 * How long a serving thread waits for a connection's next request before it parks the connection in
 * epoll and turns to other work. A connection that comes back soon after being parked (a client
 * pausing just longer than the delay, or descheduled under load) would pay a re-attach on every
 * request: each quick return doubles its delay, up to {@link #MAX_MILLIS}; a long rest brings it
 * back to {@link #BASE_MILLIS}. Not thread-safe: it travels with its session.
 */
final class ParkDelay {
  /** The delay of a new connection. */
  static final int BASE_MILLIS = 4;

  /** The longest a thread waits for one connection. */
  static final int MAX_MILLIS = 128;

  /** A return within this many delays of parking counts as quick. */
  private static final int QUICK = 4;

  private int millis = BASE_MILLIS;
  private long parkedAt;

  /** The delay to wait now, in milliseconds. */
  int millis() {
    return millis;
  }

  /** The connection was parked at {@code now} (nanoseconds). */
  void parked(long now) {
    parkedAt = now;
  }

  /** The connection had input again at {@code now} (nanoseconds) after being parked. */
  void woke(long now) {
    long rested = now - parkedAt;
    if (rested < QUICK * millis * 1_000_000L) {
      millis = Math.min(MAX_MILLIS, millis * 2);
    } else if (rested > QUICK * MAX_MILLIS * 1_000_000L) {
      millis = BASE_MILLIS;
    }
  }
}
