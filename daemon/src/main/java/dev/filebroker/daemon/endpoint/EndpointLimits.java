package dev.filebroker.daemon.endpoint;

import java.util.HashMap;
import java.util.Map;
import java.util.function.LongSupplier;

/**
 * The per-uid limits of the daemon configuration's {@code [limits]} table, applied to the
 * connections of every fixed endpoint together: how many connections one uid may have waiting or
 * being served at once, and how many it may make per second (a token bucket of {@code burst} tokens
 * refilled at {@code perSecond}).
 *
 * <p>The main socket keeps its own budgets (each connection there makes requests, each endpoint
 * connection is one): the numbers are the same, the counts are not shared.
 */
public final class EndpointLimits {
  private final int maxConnectionsPerUid;
  private final long interval; // nanoseconds per token, rounded up: the rate is never exceeded
  private final long capacity; // how far ahead of now the full-again time may run
  private final LongSupplier clock;
  private final Map<Long, State> states = new HashMap<>();

  /** The number of states at which the next new uid sweeps out the forgettable ones. */
  private int sweepAt = MIN_SWEEP;

  /** The fewest states worth a sweep. */
  static final int MIN_SWEEP = 64;

  /**
   * Limits of {@code maxConnectionsPerUid} connections waiting or being served per uid, and {@code
   * perSecond} new connections per second per uid after a first {@code burst}; each positive.
   */
  public EndpointLimits(int maxConnectionsPerUid, int perSecond, int burst) {
    this(maxConnectionsPerUid, perSecond, burst, System::nanoTime);
  }

  /** With {@code clock} as the source of nanosecond time (tests pass their own). */
  EndpointLimits(int maxConnectionsPerUid, int perSecond, int burst, LongSupplier clock) {
    if (maxConnectionsPerUid < 1) {
      throw new IllegalArgumentException(
          "maxConnectionsPerUid must be positive: " + maxConnectionsPerUid);
    }
    if (perSecond < 1) {
      throw new IllegalArgumentException("perSecond must be positive: " + perSecond);
    }
    if (burst < 1) {
      throw new IllegalArgumentException("burst must be positive: " + burst);
    }
    this.maxConnectionsPerUid = maxConnectionsPerUid;
    this.interval = (1_000_000_000L + perSecond - 1) / perSecond;
    this.capacity = Math.multiplyHigh(interval, burst) != 0 ? Long.MAX_VALUE / 4 : interval * burst;
    this.clock = clock;
  }

  /** What {@link #admit} decided. */
  enum Admission {
    ADMITTED,
    TOO_MANY_CONNECTIONS,
    TOO_FAST
  }

  /**
   * Counts a new connection of {@code uid} when both limits allow it; then {@link #release} must
   * follow once it is closed. Otherwise nothing is counted.
   */
  synchronized Admission admit(long uid) {
    long now = clock.getAsLong();
    State s = states.get(uid);
    if (s == null) {
      if (states.size() >= sweepAt) {
        sweep(now);
      }
      s = new State(now);
      states.put(uid, s);
    }
    if (s.connections >= maxConnectionsPerUid) {
      return Admission.TOO_MANY_CONNECTIONS;
    }
    // A bucket that filled up in the past is simply full: start from now.
    long base = s.fullAt - now > 0 ? s.fullAt : now;
    long next = base + interval;
    if (next - now > capacity) {
      return Admission.TOO_FAST;
    }
    s.fullAt = next;
    s.connections++;
    return Admission.ADMITTED;
  }

  /**
   * Forgets states with no connection whose budget is full again (the same as a new one would be),
   * so that uids that come and go leave nothing behind; a uid's budget that is not full yet stays,
   * so a reconnect does not refill it. Amortised: the next sweep waits until the states doubled.
   */
  private void sweep(long now) {
    states.values().removeIf(s -> s.connections == 0 && s.fullAt - now <= 0);
    sweepAt = Math.max(MIN_SWEEP, 2 * states.size());
  }

  /** How many uids have a state now. */
  synchronized int uids() {
    return states.size();
  }

  /** Forgets a connection {@link #admit} counted. */
  synchronized void release(long uid) {
    State s = states.get(uid);
    if (s != null && s.connections > 0) {
      s.connections--;
    }
  }

  private static final class State {
    int connections;
    long fullAt; // when the bucket is full again; at or before now means full

    State(long now) {
      this.fullAt = now;
    }
  }
}
