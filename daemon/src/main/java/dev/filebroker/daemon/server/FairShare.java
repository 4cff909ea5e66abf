package dev.filebroker.daemon.server;

import java.time.Duration;
import java.util.ArrayDeque;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentMap;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.LongSupplier;

/**
 * A uid's share of the CPUs (docs/decisions/0019-fair-share.md): while connections of more than one
 * uid are being served, at most {@code perUid} serving threads process requests of one uid at once
 * and are not stuck, one per CPU by default. A thread takes a turn of its connection's uid once a
 * read brought requests, and gives it back once their replies are sent; the uid's other threads
 * wait for a turn off the CPU, first come first served, so a uid flooding from many connections has
 * as many threads runnable as there are CPUs, not as many as it has connections, and the threads of
 * other uids queue behind that many rather than behind all of them. A uid served alone takes no
 * turns: with nobody to share with, handing turns from thread to thread would only cost it
 * wake-ups.
 *
 * <p>"Being served" means held by a serving thread ({@link Gate#serving()}): answering, or waiting
 * in recvmsg for the client's next request within its park delay. A parked connection does not
 * count.
 *
 * <p>A turn held longer than {@code maxWait} is <em>stuck</em>: its holder is presumably blocked in
 * the kernel (an open in a hung FUSE or NFS lookup). A stuck turn is lent, once, to the first
 * waiter; the holder keeps running and gives nothing back when it ends, and the borrower's turn
 * becomes stuck in its turn {@code maxWait} after it started. So the threads of a uid that are
 * processing and not stuck never outnumber its turns, whatever it holds stuck, and a uid whose
 * requests all hang is slowed, not stalled: the first of its waiting threads waits at most {@code
 * maxWait} for a turn to free or become stuck (once per read), and while every request hangs, its
 * turns start at most {@code perUid} requests per {@code maxWait}.
 *
 * <p>A uid's gate is made with its first connection and forgotten when the last one has closed and
 * no thread serves it ({@link #gate}, {@link Gate#release}): uids that come and go (a user's
 * subordinate uid range, say) leave nothing behind, and a uid never has two gates at once. A gate
 * that no one holds has no turn taken and no thread waiting, so a new one is the same. Thread-safe.
 */
final class FairShare {
  private final int perUid;
  private final long maxWaitNanos;
  private final LongSupplier clock;
  private final ConcurrentMap<Long, Gate> gates = new ConcurrentHashMap<>();

  /** How many uids have a connection held by a serving thread now. */
  private final AtomicInteger servedUids = new AtomicInteger();

  /** At most {@code perUid} requests of one uid processed at once; a turn sticks after maxWait. */
  FairShare(int perUid, Duration maxWait) {
    this(perUid, maxWait, System::nanoTime);
  }

  /** As above, with {@code clock} telling the time in nanoseconds (a simulated one in tests). */
  FairShare(int perUid, Duration maxWait, LongSupplier clock) {
    if (perUid < 1) {
      throw new IllegalArgumentException("perUid must be positive: " + perUid);
    }
    if (maxWait.isNegative()) {
      throw new IllegalArgumentException("maxWait must not be negative: " + maxWait);
    }
    this.perUid = perUid;
    this.maxWaitNanos = maxWait.toNanos();
    this.clock = clock;
  }

  /** One turn per CPU for each uid. */
  static FairShare perCpu(Duration maxWait) {
    return new FairShare(Runtime.getRuntime().availableProcessors(), maxWait);
  }

  /**
   * The gate of {@code uid}, shared by all its connections, for one more connection: give it back
   * with {@link Gate#release} when the connection closes.
   */
  Gate gate(long uid) {
    return gates.compute(
        uid,
        (k, g) -> {
          Gate gate = g != null ? g : new Gate(this, uid);
          gate.holders.incrementAndGet();
          return gate;
        });
  }

  /** How many uids have a gate now. */
  int gates() {
    return gates.size();
  }

  /** How many turns one uid has. */
  int perUid() {
    return perUid;
  }

  /** How many uids have a connection held by a serving thread now. */
  int servedUids() {
    return servedUids.get();
  }

  /**
   * One processing of a read's requests on a turn: a connection's own, used by one thread at a time
   * and again for each read. Guarded by its gate's lock.
   */
  static final class Ticket {
    /** When the turn was taken, on the share's clock. */
    private long startedNanos;

    /** Whether the turn is held, and whether it was lent on (then its holder has none to give). */
    private boolean holding;

    private boolean lent;
  }

  /** The turns of one uid. */
  static final class Gate {
    private final int perUid;
    private final long maxWaitNanos;
    private final LongSupplier clock;
    private final AtomicInteger served = new AtomicInteger();
    private final AtomicInteger servedUids;
    private final ConcurrentMap<Long, Gate> gates;
    private final long uid;

    /**
     * Connections holding the gate, and threads serving one; when none is left, it is forgotten.
     * Taken on the map's lock for the uid ({@link FairShare#gate}) or while another is held ({@link
     * #serving}), given back on the map's lock: the gate never leaves the map while held.
     */
    private final AtomicInteger holders = new AtomicInteger();

    private final ReentrantLock lock = new ReentrantLock();

    /** The tickets holding a turn not lent on, oldest first: never more than perUid. */
    private final ArrayDeque<Ticket> turns;

    /** Threads waiting for a turn, first come first served; only the first may take one. */
    private final ArrayDeque<Condition> waiting = new ArrayDeque<>();

    private Gate(FairShare share, long uid) {
      this.gates = share.gates;
      this.uid = uid;
      this.perUid = share.perUid;
      this.maxWaitNanos = share.maxWaitNanos;
      this.clock = share.clock;
      this.servedUids = share.servedUids;
      this.turns = new ArrayDeque<>(perUid);
    }

    /** A serving thread took a connection of this uid (which holds the gate). */
    void serving() {
      holders.incrementAndGet();
      if (served.incrementAndGet() == 1) {
        servedUids.incrementAndGet();
      }
    }

    /** A serving thread let go of a connection of this uid (parked, queued again, closed). */
    void notServing() {
      if (served.decrementAndGet() == 0) {
        servedUids.decrementAndGet();
      }
      release();
    }

    /** A connection of this uid closed (or a serving thread let go): one holder fewer. */
    void release() {
      gates.computeIfPresent(uid, (k, g) -> g == this && holders.decrementAndGet() == 0 ? null : g);
    }

    /**
     * Takes a turn on {@code ticket}, waiting behind the uid's earlier waiters until a turn is free
     * or stuck (then lent). Returns true when a turn was taken (give it back with {@link #leave});
     * false when no turn is needed: no other uid is being served.
     */
    boolean enter(Ticket ticket) {
      if (servedUids.get() < 2) {
        return false;
      }
      lock.lock();
      try {
        if (waiting.isEmpty() && turns.size() < perUid) {
          take(ticket, clock.getAsLong());
          return true;
        }
        return await(ticket);
      } finally {
        lock.unlock();
      }
    }

    /** Waits in line, then for a free or stuck turn; an interrupt is kept for later. */
    private boolean await(Ticket ticket) {
      Condition mine = lock.newCondition();
      waiting.addLast(mine);
      boolean interrupted = false;
      try {
        while (true) {
          try {
            if (waiting.peekFirst() != mine) {
              mine.await();
              continue;
            }
            if (servedUids.get() < 2) {
              return false;
            }
            long now = clock.getAsLong();
            if (turns.size() < perUid) {
              take(ticket, now);
              return true;
            }
            Ticket oldest = turns.peekFirst();
            long left = oldest.startedNanos + maxWaitNanos - now;
            if (left <= 0) {
              turns.pollFirst();
              oldest.lent = true;
              take(ticket, now);
              return true;
            }
            mine.awaitNanos(left);
          } catch (InterruptedException e) {
            interrupted = true;
          }
        }
      } finally {
        if (waiting.peekFirst() == mine) {
          waiting.pollFirst();
          Condition next = waiting.peekFirst();
          if (next != null) {
            next.signal();
          }
        } else {
          waiting.remove(mine);
        }
        if (interrupted) {
          Thread.currentThread().interrupt();
        }
      }
    }

    private void take(Ticket ticket, long now) {
      ticket.startedNanos = now;
      ticket.holding = true;
      ticket.lent = false;
      turns.addLast(ticket);
    }

    /** Gives back the turn {@link #enter} took on {@code ticket}, unless it was lent on. */
    void leave(Ticket ticket) {
      lock.lock();
      try {
        if (!ticket.holding) {
          throw new IllegalStateException("no turn held");
        }
        ticket.holding = false;
        if (ticket.lent) {
          ticket.lent = false;
          return;
        }
        turns.remove(ticket);
        Condition first = waiting.peekFirst();
        if (first != null) {
          first.signal();
        }
      } finally {
        lock.unlock();
      }
    }

    /** Wakes the first waiter to look at the clock again (for tests, whose clock is simulated). */
    void clockMoved() {
      lock.lock();
      try {
        Condition first = waiting.peekFirst();
        if (first != null) {
          first.signal();
        }
      } finally {
        lock.unlock();
      }
    }

    /** Turns neither held nor lent on now (for tests). */
    int available() {
      lock.lock();
      try {
        return perUid - turns.size();
      } finally {
        lock.unlock();
      }
    }

    /** Threads waiting for a turn now (for tests). */
    int waiting() {
      lock.lock();
      try {
        return waiting.size();
      } finally {
        lock.unlock();
      }
    }

    /** Whether {@code ticket}'s turn was lent on (for tests). */
    boolean lent(Ticket ticket) {
      lock.lock();
      try {
        return ticket.holding && ticket.lent;
      } finally {
        lock.unlock();
      }
    }
  }
}
