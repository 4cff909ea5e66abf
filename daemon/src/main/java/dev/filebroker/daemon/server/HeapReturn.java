package dev.filebroker.daemon.server;

import java.time.Duration;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.LongSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Gives back to the system the heap a burst of connections grew, once the serving threads ran dry
 * after it: what the burst promoted to the old generation is garbage then, and a full collection
 * returns it (the shipped options shrink the heap at once, -XX:-ShrinkHeapInSteps). An idle daemon
 * collects nothing otherwise, so without this the heap stays at the burst's size.
 *
 * <p>A full collection stops the world, so it is bounded: only when the serving threads ran dry
 * (see {@link ServingThreads.Bursts}), only when the heap has grown by at least {@link #MIN_GROWTH}
 * bytes over its size when the burst started (or after the last collection, if smaller), and at
 * most once per {@link #MIN_INTERVAL} whoever causes the bursts: a caller who can make bursts at
 * will (one uid with many connections, then a pause) gets one collection of a few milliseconds per
 * five minutes. Thread-safe: the interval is claimed by a CAS on the time of the last collection.
 *
 * <p>The growth measured is the committed heap (Runtime.totalMemory()): what a collection can give
 * back, and with the shipped fixed young generation (-Xmn4m) only the old generation grows it. A
 * heap that did not grow has nothing to return. (java.management, whose MemoryMXBean gives the
 * same, is not in the shipped runtime.)
 */
final class HeapReturn implements ServingThreads.Bursts {
  private static final Logger log = LoggerFactory.getLogger(HeapReturn.class);

  /** The least time between two collections. */
  static final Duration MIN_INTERVAL = Duration.ofMinutes(5);

  /** The least growth of the heap over a burst that is worth a full collection. */
  static final long MIN_GROWTH = 2L << 20;

  private final LongSupplier nanoClock;
  private final LongSupplier heapCommitted;
  private final Runnable collect;
  private final long intervalNanos;
  private final AtomicLong lastCollection;
  private volatile long before;

  /** For this JVM: its clock, its committed heap, System.gc(). */
  static HeapReturn forThisJvm() {
    Runtime runtime = Runtime.getRuntime();
    return new HeapReturn(System::nanoTime, runtime::totalMemory, System::gc, MIN_INTERVAL);
  }

  /**
   * Collections by {@code collect}, timed by {@code nanoClock} (as System.nanoTime), when {@code
   * heapCommitted} (bytes) grew by {@link #MIN_GROWTH} over a burst, at most once per {@code
   * interval}.
   */
  HeapReturn(
      LongSupplier nanoClock, LongSupplier heapCommitted, Runnable collect, Duration interval) {
    this.nanoClock = nanoClock;
    this.heapCommitted = heapCommitted;
    this.collect = collect;
    this.intervalNanos = interval.toNanos();
    this.lastCollection = new AtomicLong(nanoClock.getAsLong() - intervalNanos);
    this.before = heapCommitted.getAsLong();
  }

  /**
   * Notes the heap's size as the serving threads start again, unless it was smaller before: a heap
   * a burst grew while collecting was not allowed yet still counts as grown at the next one.
   */
  @Override
  public void started() {
    long now = heapCommitted.getAsLong();
    if (now < before) {
      before = now;
    }
  }

  /** Collects if the heap grew enough since the burst started and no collection was recent. */
  @Override
  public void drained() {
    long last = lastCollection.get();
    long now = nanoClock.getAsLong();
    if (now - last < intervalNanos) {
      return;
    }
    long grown = heapCommitted.getAsLong() - before;
    if (grown < MIN_GROWTH) {
      return;
    }
    if (!lastCollection.compareAndSet(last, now)) {
      return;
    }
    log.debug("The serving threads ran dry after a burst that grew the heap by {} bytes", grown);
    collect.run();
    before = heapCommitted.getAsLong();
  }
}
