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

  /** The number of states at which the next new uid sweeps out the forgettable ones. */
  private final AtomicInteger sweepAt = new AtomicInteger(MIN_SWEEP);

  /** The fewest states worth a sweep. */
  static final int MIN_SWEEP = 64;

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

  /**
   * Counts a new connection for {@code uid}; false (and nothing counted) when over the limit.
   *
   * <p>A uid's state outlives its last connection while its rate budget is not full again, so a
   * reconnect cannot refill it; a state with no connection and a full budget is what a new one
   * would be, and it is forgotten (swept out when a new uid arrives and the states have doubled
   * since the last sweep), so uids that come and go (a user's subordinate uid range, say) leave
   * nothing behind. Counting and forgetting are atomic per uid (the map's own per-key locking): a
   * connection is never counted on a state that was just forgotten.
   */
  boolean tryConnect(long uid) {
    boolean[] admitted = new boolean[1];
    boolean[] created = new boolean[1];
    states.compute(
        uid,
        (k, s) -> {
          if (s == null) {
            s = new UidState(clock.getAsLong());
            created[0] = true;
          }
          // A compare-and-set: a disconnect of this uid does not take the map's lock.
          AtomicInteger connections = s.connections;
          for (int n = connections.get(); n < maxConnectionsPerUid; n = connections.get()) {
            if (connections.compareAndSet(n, n + 1)) {
              admitted[0] = true;
              break;
            }
          }
          return s;
        });
    if (created[0] && states.size() >= sweepAt.get()) {
      sweep();
    }
    return admitted[0];
  }

  /** Forgets every state with no connection whose budget is full again. */
  private void sweep() {
    long now = clock.getAsLong();
    for (Long uid : states.keySet()) {
      states.computeIfPresent(uid, (k, s) -> s.forgettable(now) ? null : s);
    }
    sweepAt.set(Math.max(MIN_SWEEP, 2 * states.size()));
  }

  /** The most connections one uid may have open at once. */
  int maxConnectionsPerUid() {
    return maxConnectionsPerUid;
  }

  /** How many uids have a state now (connections, or a budget not yet full again). */
  int uids() {
    return states.size();
  }

  /** Forgets a connection counted by {@link #tryConnect}. */
  void disconnect(long uid) {
    UidState s = states.get(uid);
    if (s != null) {
      s.connections.decrementAndGet();
    }
  }

  /**
   * Takes one request from {@code uid}'s budget; false when the uid is over its rate. For a uid
   * with a connection counted (whose state is never forgotten).
   */
  boolean tryRequest(long uid) {
    UidState state = states.get(uid);
    if (state == null) {
      // No connection counted (no caller of the daemon's does this): a state as a connection
      // would make, forgotten once full again.
      state = states.computeIfAbsent(uid, k -> new UidState(clock.getAsLong()));
    }
    AtomicLong fullAt = state.fullAt;
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

    /** No connection, and the budget full again at {@code now}: the same as a new state. */
    boolean forgettable(long now) {
      return connections.get() == 0 && fullAt.get() - now <= 0;
    }
  }
}
