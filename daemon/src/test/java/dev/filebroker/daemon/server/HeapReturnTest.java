package dev.filebroker.daemon.server;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.time.Duration;
import org.junit.jupiter.api.Test;

/** The full collection after a burst: only when the heap grew, and at most once per interval. */
class HeapReturnTest {
  private static final long MIB = 1 << 20;

  /** A clock, a heap and a collector that shrinks the heap back to {@code base}. */
  private static final class Jvm {
    long nanos = 1_000_000_000L;
    long heap = 16 * MIB;
    long base = 16 * MIB;
    int collections;

    HeapReturn heapReturn() {
      return new HeapReturn(
          () -> nanos,
          () -> heap,
          () -> {
            collections++;
            heap = base;
          },
          HeapReturn.MIN_INTERVAL);
    }

    void burst(HeapReturn r, long growth) {
      r.started();
      heap += growth;
      r.drained();
    }

    void wait(Duration d) {
      nanos += d.toNanos();
    }
  }

  @Test
  void aBurstThatGrewTheHeapIsCollected() {
    Jvm jvm = new Jvm();
    HeapReturn r = jvm.heapReturn();
    jvm.burst(r, 20 * MIB);
    assertEquals(1, jvm.collections);
    assertEquals(16 * MIB, jvm.heap);
  }

  @Test
  void aBurstThatDidNotGrowTheHeapIsNotCollected() {
    Jvm jvm = new Jvm();
    HeapReturn r = jvm.heapReturn();
    jvm.burst(r, 0);
    jvm.burst(r, HeapReturn.MIN_GROWTH - 1);
    assertEquals(0, jvm.collections, "nothing to give back: no stop-the-world collection");
  }

  @Test
  void burstsEveryKeepAliveCollectAtMostOncePerInterval() {
    // One uid's burst, then silence, then the next: every keep-alive, for half an hour.
    Jvm jvm = new Jvm();
    HeapReturn r = jvm.heapReturn();
    for (int i = 0; i < 180; i++) {
      jvm.burst(r, 20 * MIB);
      jvm.wait(Server.SERVING_THREAD_KEEP_ALIVE);
    }
    long minutes = Duration.ofNanos(180 * Server.SERVING_THREAD_KEEP_ALIVE.toNanos()).toMinutes();
    assertEquals(minutes / HeapReturn.MIN_INTERVAL.toMinutes(), jvm.collections);
  }

  @Test
  void aHeapGrownWhileCollectingWasNotAllowedIsCollectedAtTheNextBurst() {
    Jvm jvm = new Jvm();
    HeapReturn r = jvm.heapReturn();
    jvm.burst(r, 20 * MIB);
    jvm.wait(Duration.ofMinutes(1));
    jvm.burst(r, 20 * MIB); // too soon: the heap stays grown
    assertEquals(1, jvm.collections);
    jvm.wait(HeapReturn.MIN_INTERVAL);
    jvm.burst(r, 0); // a burst that grew nothing more, after the interval
    assertEquals(2, jvm.collections, "grown since the last collection");
    assertEquals(16 * MIB, jvm.heap);
  }
}
