package dev.filebroker.daemon.server;

import java.time.Duration;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentMap;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A uid's share of the CPUs (docs/decisions/0019-fair-share.md): while connections of more than one
 * uid are being served, at most {@code perUid} serving threads process requests of one uid at once,
 * one per CPU by default. A thread takes a turn of its connection's uid once a read brought
 * requests, and gives it back once their replies are sent; the uid's other threads wait for a turn
 * off the CPU, so a uid flooding from many connections has as many threads runnable as there are
 * CPUs, not as many as it has connections, and the threads of other uids queue behind that many
 * rather than behind all of them. A uid served alone takes no turns: with nobody to share with,
 * handing turns from thread to thread would only cost it wake-ups.
 *
 * <p>"Being served" means held by a serving thread ({@link Gate#serving()}): answering, or waiting
 * in recvmsg for the client's next request within its park delay. A parked connection does not
 * count.
 *
 * <p>A wait is bounded by {@code maxWait}; after it, the thread processes without a turn. So a uid
 * whose turns are all held by requests blocked in the kernel (opens in a hung FUSE or NFS lookup)
 * is slowed, not stalled: each of its other reads waits {@code maxWait} once, then runs.
 *
 * <p>A uid's gate is made on its first connection and kept (a few dozen bytes per uid ever seen, as
 * {@link UidLimits} keeps its budget). Thread-safe.
 */
final class FairShare {
  private final int perUid;
  private final long maxWaitNanos;
  private final ConcurrentMap<Long, Gate> gates = new ConcurrentHashMap<>();

  /** How many uids have a connection held by a serving thread now. */
  private final AtomicInteger servedUids = new AtomicInteger();

  /** At most {@code perUid} requests of one uid processed at once; a wait lasts {@code maxWait}. */
  FairShare(int perUid, Duration maxWait) {
    if (perUid < 1) {
      throw new IllegalArgumentException("perUid must be positive: " + perUid);
    }
    if (maxWait.isNegative()) {
      throw new IllegalArgumentException("maxWait must not be negative: " + maxWait);
    }
    this.perUid = perUid;
    this.maxWaitNanos = maxWait.toNanos();
  }

  /** One turn per CPU for each uid. */
  static FairShare perCpu(Duration maxWait) {
    return new FairShare(Runtime.getRuntime().availableProcessors(), maxWait);
  }

  /** The gate of {@code uid}, shared by all its connections. */
  Gate gate(long uid) {
    Gate g = gates.get(uid);
    return g != null
        ? g
        : gates.computeIfAbsent(uid, k -> new Gate(perUid, maxWaitNanos, servedUids));
  }

  /** How many turns one uid has. */
  int perUid() {
    return perUid;
  }

  /** How many uids have a connection held by a serving thread now. */
  int servedUids() {
    return servedUids.get();
  }

  /** The turns of one uid. */
  static final class Gate {
    private final Semaphore turns;
    private final long maxWaitNanos;
    private final AtomicInteger served = new AtomicInteger();
    private final AtomicInteger servedUids;

    private Gate(int turns, long maxWaitNanos, AtomicInteger servedUids) {
      this.turns = new Semaphore(turns);
      this.maxWaitNanos = maxWaitNanos;
      this.servedUids = servedUids;
    }

    /** A serving thread took a connection of this uid. */
    void serving() {
      if (served.incrementAndGet() == 1) {
        servedUids.incrementAndGet();
      }
    }

    /** A serving thread let go of a connection of this uid (parked, queued again, closed). */
    void notServing() {
      if (served.decrementAndGet() == 0) {
        servedUids.decrementAndGet();
      }
    }

    /**
     * Takes a turn, waiting for one at most the share's bound. Returns true when a turn was taken
     * (give it back with {@link #leave}); false when no turn is needed (no other uid is being
     * served) or the wait ran out (or was interrupted), and the caller goes ahead without one.
     */
    boolean enter() {
      if (servedUids.get() < 2) {
        return false;
      }
      if (turns.tryAcquire()) {
        return true;
      }
      try {
        return turns.tryAcquire(maxWaitNanos, TimeUnit.NANOSECONDS);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        return false;
      }
    }

    /** Gives back a turn taken by {@link #enter}. */
    void leave() {
      turns.release();
    }

    /** Turns free now (for tests). */
    int available() {
      return turns.availablePermits();
    }
  }
}
