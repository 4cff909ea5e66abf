package dev.filebroker.daemon.server;

import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentMap;
import java.util.function.LongSupplier;

/**
 * Per-uid connection counts and request rates, shared by every event loop. A uid that floods the
 * daemon gets LIMIT_EXCEEDED answers; other uids' budgets are untouched.
 */
final class UidLimits {
  /** Stands for connections whose credentials could not be read; they share one budget. */
  static final long UNKNOWN_UID = -1;

  private final int maxConnectionsPerUid;
  private final double tokensPerNano;
  private final double burst;
  private final ConcurrentMap<Long, UidState> states = new ConcurrentHashMap<>();
  private final LongSupplier clock;

  UidLimits(int maxConnectionsPerUid, int requestsPerSecond, int burst) {
    this(maxConnectionsPerUid, requestsPerSecond, burst, System::nanoTime);
  }

  /** With {@code clock} as the source of nanosecond time (tests pass their own). */
  UidLimits(int maxConnectionsPerUid, int requestsPerSecond, int burst, LongSupplier clock) {
    this.maxConnectionsPerUid = maxConnectionsPerUid;
    this.tokensPerNano = requestsPerSecond / 1e9;
    this.burst = burst;
    this.clock = clock;
  }

  /** Counts a new connection for {@code uid}; false (and nothing counted) when over the limit. */
  boolean tryConnect(long uid) {
    UidState s = states.computeIfAbsent(uid, k -> new UidState(burst, clock.getAsLong()));
    synchronized (s) {
      if (s.connections >= maxConnectionsPerUid) {
        return false;
      }
      s.connections++;
      return true;
    }
  }

  /**
   * Forgets a connection counted by {@link #tryConnect}. A uid's state is kept after its last
   * connection (a few dozen bytes per uid ever seen), so its rate budget survives a reconnect.
   */
  void disconnect(long uid) {
    UidState s = states.get(uid);
    if (s == null) {
      return;
    }
    synchronized (s) {
      s.connections--;
    }
  }

  /** Takes one request from {@code uid}'s budget; false when the uid is over its rate. */
  boolean tryRequest(long uid) {
    UidState s = states.computeIfAbsent(uid, k -> new UidState(burst, clock.getAsLong()));
    long now = clock.getAsLong();
    synchronized (s) {
      s.tokens = Math.min(burst, s.tokens + (now - s.refilledAt) * tokensPerNano);
      s.refilledAt = now;
      if (s.tokens < 1) {
        return false;
      }
      s.tokens -= 1;
      return true;
    }
  }

  private static final class UidState {
    int connections;
    double tokens;
    long refilledAt;

    UidState(double tokens, long now) {
      this.tokens = tokens;
      this.refilledAt = now;
    }
  }
}
