package dev.filebroker.daemon.server;

import dev.filebroker.daemon.fs.SocketMessages;
import dev.filebroker.protocol.Protocol;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentMap;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.BiConsumer;
import java.util.function.Consumer;
import java.util.function.ToLongFunction;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A bounded pool of platform threads that serve active connections, one connection per thread at a
 * time, so that a request blocking in the kernel (an open on a hung FUSE or NFS mount, a close that
 * runs a file's release) holds up its own connection only. A thread is started when work arrives
 * and none is idle, up to {@code max}; an idle thread ends after {@code keepAlive}, and frees its
 * native buffers as it ends rather than leaving them to the garbage collector.
 *
 * <p>Connections beyond the number of threads wait in a first-come, first-served queue; a thread
 * that serves a connection while others wait serves one read's worth and then puts it at the back
 * of the queue (see {@link #othersWaiting}).
 *
 * <p>A uid's share is a quarter of the threads ({@code perUid}): its connections beyond that wait
 * in a queue of their own and enter the common queue one by one as its own threads come free, so a
 * uid flooding from many connections, or with many requests stuck in the kernel, leaves three
 * quarters of the threads to everyone else. Those waiting connections count as waiting for the
 * threads that serve the uid's others, which therefore take turns among all of them: a uid with
 * more active connections than its share has each served in turn, not the first few for as long as
 * they keep sending.
 *
 * @param <S> what is served: a session
 */
final class ServingThreads<S> {
  private static final Logger log = LoggerFactory.getLogger(ServingThreads.class);

  /** A serving thread's own buffers: what one read and one write of a connection need. */
  record Buffers(SocketMessages io, ByteBuffer in, ByteBuffer out) implements AutoCloseable {
    /**
     * What SocketMessages copies a heap buffer through, per call: one frame, the most a segment the
     * outbox kept aside holds, so that such a segment goes out in one sendmsg.
     */
    static final int COPY_SIZE = Protocol.MAX_FRAME_SIZE;

    static Buffers allocate(Closer closer) {
      // Native buffers, in SocketMessages' own memory: received into and sent from in place, and
      // freed at once by close() when the thread ends, where heap buffers were left to the GC and
      // grew the heap that stays committed. One frame of output: the outbox sends more replies in
      // several chunks. The copy area serves what is sent from the heap (replies the client had
      // not taken, kept aside by the outbox, at most a frame each).
      SocketMessages io =
          new SocketMessages(
              COPY_SIZE,
              Protocol.MAX_FRAME_SIZE + Session.READ_QUANTUM,
              Protocol.MAX_FRAME_SIZE,
              closer::close);
      return new Buffers(io, io.input(), io.output());
    }

    @Override
    public void close() {
      io.close();
    }
  }

  private final LinkedBlockingQueue<S> queue = new LinkedBlockingQueue<>();
  private final ConcurrentMap<Long, Share<S>> shares = new ConcurrentHashMap<>();
  private final ToLongFunction<S> uidOf;
  private final Consumer<S> abandon;
  private final int perUid;
  private final AtomicInteger idle = new AtomicInteger();
  private final Object lock = new Object();
  private final int max;
  private final long keepAliveNanos;
  private final Closer closer;
  private final BiConsumer<S, Buffers> serve;
  private final AtomicInteger names = new AtomicInteger();
  private int threads;

  /** Told when the pool starts from no thread and when it runs dry. */
  private final Bursts bursts;

  /**
   * What a pool tells about bursts of work, a burst being the time from the pool's first thread to
   * its running dry. {@link #started} runs on the submitting thread when the pool starts its first
   * thread after having none; {@link #drained} on the last thread as it ends (not when the pool is
   * stopped): the moment to give back what the burst left behind. Whose work it was does not
   * matter; the listener bounds what it does ({@link HeapReturn}: at most once per five minutes).
   */
  interface Bursts {
    /** No burst to tell about. */
    Bursts NONE =
        new Bursts() {
          @Override
          public void started() {}

          @Override
          public void drained() {}
        };

    void started();

    void drained();
  }

  private volatile boolean stopped;

  /**
   * At most {@code max} threads, each ending after {@code keepAlive} without work; {@code serve}
   * serves one item on a thread's buffers, {@code abandon} closes one never served, {@code uidOf}
   * says whose share an item counts against.
   */
  ServingThreads(
      int max,
      Duration keepAlive,
      Closer closer,
      ToLongFunction<S> uidOf,
      BiConsumer<S, Buffers> serve,
      Consumer<S> abandon) {
    this(max, keepAlive, closer, uidOf, serve, abandon, Bursts.NONE);
  }

  /** As above, telling {@code bursts} when a burst starts and ends (see {@link Bursts}). */
  ServingThreads(
      int max,
      Duration keepAlive,
      Closer closer,
      ToLongFunction<S> uidOf,
      BiConsumer<S, Buffers> serve,
      Consumer<S> abandon,
      Bursts bursts) {
    if (max < 1) {
      throw new IllegalArgumentException("max must be positive: " + max);
    }
    this.max = max;
    this.perUid = Math.max(1, max / 4);
    this.uidOf = uidOf;
    this.abandon = abandon;
    this.keepAliveNanos = keepAlive.toNanos();
    this.closer = closer;
    this.serve = serve;
    this.bursts = bursts;
  }

  /** Serves {@code item} on a thread of the pool, now or once one is free. */
  void submit(S item) {
    long uid = uidOf.applyAsLong(item);
    while (true) {
      Share<S> share = shares.computeIfAbsent(uid, k -> new Share<>());
      synchronized (share) {
        if (share.forgotten) {
          // Emptied and dropped from the map since it was looked up: take the uid's new one.
          continue;
        }
        if (share.holding.contains(item)) {
          // Put back by its own thread, which still counts it: it re-enters the queue as it leaves.
          share.back.add(item);
          return;
        }
        if (share.holding.size() >= perUid) {
          share.waiting.add(item);
          share.countWaiting();
          return;
        }
        share.holding.add(item);
      }
      enqueue(item);
      return;
    }
  }

  /** How many uids have items served, queued or waiting now. */
  int uids() {
    return shares.size();
  }

  /** The most items of one uid served or queued at once. */
  int perUid() {
    return perUid;
  }

  private void enqueue(S item) {
    queue.add(item);
    startIfShort();
  }

  /**
   * Starts a thread if fewer threads wait for items than items wait for threads. Called by {@link
   * #enqueue} after adding and by a thread after it has taken an item and stopped counting itself
   * idle: whichever of the two comes second sees the shortage, so an item never waits behind one
   * that a thread counted idle took meanwhile (one idle thread and two items: the second gets a
   * thread of its own, not the first one's after it is done).
   */
  private void startIfShort() {
    if (idle.get() >= queue.size()) {
      return;
    }
    boolean first = false;
    synchronized (lock) {
      if (threads < max && !stopped && idle.get() < queue.size()) {
        // A thread being started counts as idle until it first polls: it will take an item.
        threads++;
        idle.incrementAndGet();
        try {
          Thread.ofPlatform()
              .name("filebroker-serve-" + names.incrementAndGet())
              .daemon(true)
              .start(this::work);
          first = threads == 1;
        } catch (OutOfMemoryError | RuntimeException e) {
          // No thread (the process is out of threads or memory): the item stays queued for the
          // threads there are.
          threads--;
          idle.decrementAndGet();
          log.warn("Could not start a serving thread: {}", e.toString());
        }
      }
    }
    if (first) {
      bursts.started();
    }
  }

  /**
   * Whether connections wait for the thread serving {@code item}: any in the common queue, or one
   * of {@code item}'s uid waiting for the uid's share. Then the thread serves {@code item} one
   * read's worth and puts it back ({@link #submit}), rather than keep it.
   */
  boolean othersWaiting(S item) {
    if (!queue.isEmpty()) {
      return true;
    }
    Share<S> share = shares.get(uidOf.applyAsLong(item));
    return share != null && share.waitingCount > 0;
  }

  /** Threads waiting for an item now. */
  int idleThreads() {
    return idle.get();
  }

  /** Threads running now. */
  int threads() {
    synchronized (lock) {
      return threads;
    }
  }

  /** Lets idle threads end; items still queued are abandoned. Returns at once. */
  void stop() {
    stopped = true;
    S s;
    while ((s = queue.poll()) != null) {
      abandon.accept(s);
    }
    for (Share<S> share : shares.values()) {
      synchronized (share) {
        share.waiting.forEach(abandon);
        share.waiting.clear();
        share.countWaiting();
      }
    }
  }

  /**
   * {@code item}'s thread is done with it: the next of its uid waiting for the uid's share comes
   * in. With {@code mayKeep} and nobody waiting for a thread, that next one is returned for the
   * same thread to serve at once; otherwise it enters the common queue and null is returned. So a
   * uid whose connections take turns on its share ({@link #othersWaiting}) keeps them on its own
   * threads, off the common queue, where each would make every other uid's connections read without
   * waiting and put themselves back as if someone waited for their thread.
   */
  private S done(S item, boolean mayKeep) {
    long uid = uidOf.applyAsLong(item);
    Share<S> share = shares.get(uid);
    S next;
    synchronized (share) {
      share.holding.remove(item);
      if (share.back.remove(item)) {
        share.waiting.add(item);
      }
      next = share.holding.size() < perUid ? share.waiting.poll() : null;
      if (next != null) {
        share.holding.add(next);
      }
      share.countWaiting();
      if (share.holding.isEmpty()) {
        // Nothing of the uid's is served or waiting (back and waiting empty with it): forget the
        // share, so that uids that come and go leave nothing behind.
        share.forgotten = true;
        shares.remove(uid, share);
      }
    }
    if (next == null) {
      return null;
    }
    if (mayKeep && !stopped && queue.isEmpty()) {
      return next;
    }
    enqueue(next);
    return null;
  }

  /** What one uid has served or queued, and what waits for its share. */
  private static final class Share<S> {
    /** Dropped from the map: a submit that finds it so looks the uid up again. */
    boolean forgotten;

    final Set<S> holding = Collections.newSetFromMap(new IdentityHashMap<>());
    final Set<S> back = Collections.newSetFromMap(new IdentityHashMap<>());
    final ArrayDeque<S> waiting = new ArrayDeque<>();

    /** The size of {@link #waiting}, for {@link #othersWaiting} to read without the lock. */
    volatile int waitingCount;

    /** Publishes the size of {@link #waiting}; called, under the share's lock, after a change. */
    void countWaiting() {
      waitingCount = waiting.size();
    }
  }

  private void work() {
    if (serveUntilIdle()) {
      bursts.drained();
    }
  }

  /** Serves until idle for the keep-alive; returns whether the pool ran dry as this one ended. */
  private boolean serveUntilIdle() {
    Buffers allocated;
    try {
      allocated = Buffers.allocate(closer);
    } catch (OutOfMemoryError | RuntimeException e) {
      synchronized (lock) {
        threads--;
      }
      idle.decrementAndGet();
      log.warn("A serving thread could not allocate its buffers: {}", e.toString());
      return false;
    }
    boolean countedIdle = true; // by startIfShort, until the first poll
    boolean ended = false;
    try (Buffers buffers = allocated) {
      while (true) {
        if (!countedIdle) {
          idle.incrementAndGet();
        }
        countedIdle = false;
        S s;
        try {
          s = queue.poll(stopped ? 0 : keepAliveNanos, TimeUnit.NANOSECONDS);
        } catch (InterruptedException e) {
          s = null;
        } finally {
          idle.decrementAndGet();
        }
        if (s == null) {
          synchronized (lock) {
            if (queue.isEmpty()) {
              threads--;
              ended = true;
              return threads == 0 && !stopped;
            }
          }
          continue;
        }
        while (s != null) {
          // Whether this thread goes on serving: then it may take the next of s's uid at once.
          boolean goesOn = false;
          try {
            if (!queue.isEmpty()) {
              startIfShort();
            }
            try {
              serve.accept(s, buffers);
            } catch (RuntimeException e) {
              log.error("Could not serve a connection; closing it", e);
              abandon.accept(s);
            }
            goesOn = true;
          } catch (Error e) {
            // The JVM's own trouble (out of memory, a stack overflow): the connection is closed,
            // and this thread ends with the error (reported by the JVM as uncaught).
            try {
              abandon.accept(s);
            } catch (RuntimeException | Error f) {
              e.addSuppressed(f);
            }
            throw e;
          } finally {
            s = done(s, goesOn);
          }
        }
      }
    } finally {
      if (!ended) {
        // Ended by an error: no longer counted, so that the pool starts another thread for the
        // work there is rather than count one that is gone; and, as the last thread, it ends the
        // burst as one that found no work would.
        boolean last;
        synchronized (lock) {
          threads--;
          last = threads == 0 && !stopped && queue.isEmpty();
        }
        startIfShort();
        if (last) {
          try {
            bursts.drained();
          } catch (RuntimeException e) {
            log.warn("Could not end a burst of serving threads: {}", e.toString());
          }
        }
      }
    }
  }
}
