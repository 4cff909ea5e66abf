package dev.filebroker.daemon.server;

import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentMap;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.LongSupplier;

/**
 * Per-uid connection counts and request rates, shared by every serving thread. A uid that floods
 * the daemon gets LIMIT_EXCEEDED answers; other uids' budgets are untouched.
 *
 * <p>Lock-free: every connection of a uid draws on the same budget from whichever thread serves it,
 * so a lock here would serialise the threads whenever one uid has many connections. The rate is a
 * token bucket kept as one number (the generic cell rate algorithm): the time at which the bucket
 * would be full again, advanced by one emission interval per request with a compare-and-set. It
 * admits exactly what a bucket of {@code burst} tokens refilled at the rate would.
 */
final class UidLimits {
  /** Stands for connections whose credentials could not be read; they share one budget. */
  static final long UNKNOWN_UID = -1;

  private final int maxConnectionsPerUid;

  /** Nanoseconds per token, rounded up so that the configured rate is never exceeded. */
  private final long interval;

  /** How far ahead of now the full-again time may run: {@code burst} intervals. */
  private final long capacity;

  private final ConcurrentMap<Long, UidState> states = new ConcurrentHashMap<>();
  private final LongSupplier clock;

  UidLimits(int maxConnectionsPerUid, int requestsPerSecond, int burst) {
    this(maxConnectionsPerUid, requestsPerSecond, burst, System::nanoTime);
  }

  /** With {@code clock} as the source of nanosecond time (tests pass their own). */
  UidLimits(int maxConnectionsPerUid, int requestsPerSecond, int burst, LongSupplier clock) {
    if (requestsPerSecond < 1) {
      throw new IllegalArgumentException(
          "requestsPerSecond must be positive: " + requestsPerSecond);
    }
    this.maxConnectionsPerUid = maxConnectionsPerUid;
    this.interval = (1_000_000_000L + requestsPerSecond - 1) / requestsPerSecond;
    this.capacity = Math.multiplyHigh(interval, burst) != 0 ? Long.MAX_VALUE / 4 : interval * burst;
    this.clock = clock;
  }

  private UidState state(long uid) {
    UidState s = states.get(uid);
    return s != null ? s : states.computeIfAbsent(uid, k -> new UidState(clock.getAsLong()));
  }

  /** Counts a new connection for {@code uid}; false (and nothing counted) when over the limit. */
  boolean tryConnect(long uid) {
    AtomicInteger connections = state(uid).connections;
    while (true) {
      int n = connections.get();
      if (n >= maxConnectionsPerUid) {
        return false;
      }
      if (connections.compareAndSet(n, n + 1)) {
        return true;
      }
    }
  }

  /**
   * Forgets a connection counted by {@link #tryConnect}. A uid's state is kept after its last
   * connection (a few dozen bytes per uid ever seen), so its rate budget survives a reconnect.
   */
  void disconnect(long uid) {
    UidState s = states.get(uid);
    if (s != null) {
      s.connections.decrementAndGet();
    }
  }

  /** Takes one request from {@code uid}'s budget; false when the uid is over its rate. */
  boolean tryRequest(long uid) {
    AtomicLong fullAt = state(uid).fullAt;
    long now = clock.getAsLong();
    while (true) {
      long current = fullAt.get();
      // A bucket that filled up in the past is simply full: start from now.
      long base = current - now > 0 ? current : now;
      long next = base + interval;
      if (next - now > capacity) {
        return false;
      }
      if (fullAt.compareAndSet(current, next)) {
        return true;
      }
    }
  }

  private static final class UidState {
    final AtomicInteger connections = new AtomicInteger();

    /** When the bucket is full again; at or before now means full. */
    final AtomicLong fullAt;

    UidState(long now) {
      this.fullAt = new AtomicLong(now);
    }
  }
}
