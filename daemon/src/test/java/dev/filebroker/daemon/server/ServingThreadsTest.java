package dev.filebroker.daemon.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.BiConsumer;
import org.junit.jupiter.api.Test;

/** The serving threads: a uid's share, and work that blocks holding up only its own thread. */
class ServingThreadsTest {
  /** An item of work: whose it is, and a latch its thread blocks on until released. */
  private record Item(long uid, int n, CountDownLatch release) {}

  /**
   * A pool of {@code max} threads kept alive 5 s, serving with {@code serve}, abandoning nothing.
   */
  private static ServingThreads<Item> pool(
      int max, BiConsumer<Item, ServingThreads.Buffers> serve) {
    return new ServingThreads<>(
        max, Duration.ofSeconds(5), new Closer(), Item::uid, serve, item -> {});
  }

  @Test
  void uidsThatComeAndGoLeaveNoShareBehind() {
    assertTimeoutPreemptively(
        Duration.ofSeconds(60),
        () -> {
          ServingThreads<Item> threads = pool(8, (item, buffers) -> item.release().countDown());
          // 20,000 uids (a subordinate uid range, say), three items each submitted at once, so
          // that some wait for their uid's share.
          CountDownLatch served = new CountDownLatch(60_000);
          for (int uid = 0; uid < 20_000; uid++) {
            for (int i = 0; i < 3; i++) {
              threads.submit(new Item(100_000 + uid, i, served));
            }
          }
          assertTrue(served.await(50, TimeUnit.SECONDS), "every item served");
          while (threads.uids() > 0) {
            Thread.sleep(1);
          }
          // A uid comes back after its share was forgotten: served through a new one.
          CountDownLatch again = new CountDownLatch(3);
          for (int i = 0; i < 3; i++) {
            threads.submit(new Item(100_000, i, again));
          }
          assertTrue(again.await(20, TimeUnit.SECONDS), "served again");
          while (threads.uids() > 0) {
            Thread.sleep(1);
          }
          threads.stop();
        });
  }

  @Test
  void aUidHoldsAtMostItsShareOfTheThreadsWhileAnotherUidIsServed() {
    assertTimeoutPreemptively(
        Duration.ofSeconds(30),
        () -> {
          CountDownLatch blocked = new CountDownLatch(1);
          Set<Integer> serving = ConcurrentHashMap.newKeySet();
          CountDownLatch otherServed = new CountDownLatch(1);
          ServingThreads<Item> threads =
              pool(
                  8,
                  (item, buffers) -> {
                    if (item.uid() == 2) {
                      otherServed.countDown();
                      return;
                    }
                    serving.add(item.n());
                    try {
                      // Stuck in the kernel, as an open on a hung FUSE mount would be.
                      item.release().await();
                    } catch (InterruptedException e) {
                      Thread.currentThread().interrupt();
                    }
                  });
          assertEquals(2, threads.perUid(), "a quarter of 8 threads");
          for (int i = 0; i < 10; i++) {
            threads.submit(new Item(1, i, blocked));
          }
          threads.submit(new Item(2, 0, new CountDownLatch(0)));
          assertTrue(otherServed.await(20, TimeUnit.SECONDS), "the other uid is served");
          Thread.sleep(100);
          assertEquals(Set.of(0, 1), serving, "the flooding uid holds its share and no more");
          blocked.countDown();
          long deadline = System.nanoTime() + Duration.ofSeconds(20).toNanos();
          while (serving.size() < 10 && System.nanoTime() < deadline) {
            Thread.sleep(10);
          }
          assertEquals(10, serving.size(), "released, the rest of its work is served in turn");
          threads.stop();
        });
  }

  @Test
  void aUidWithMoreBusyItemsThanItsShareHasEachServedInTurn() {
    // Every item is a client that never pauses: its thread keeps it until othersWaiting says
    // someone waits, as ServeLoop does, then puts it back. Nobody waits in the common queue (one
    // uid, its share full): the uid's own waiting items must count, or the first item keeps the
    // uid's one thread for as long as it sends and the second is never served.
    assertTimeoutPreemptively(
        Duration.ofSeconds(30),
        () -> {
          int items = 3;
          CountDownLatch everyTurn = new CountDownLatch(2 * items);
          int[] turns = new int[items];
          AtomicReference<ServingThreads<Item>> holder = new AtomicReference<>();
          holder.set(
              pool(
                  4,
                  (item, buffers) -> {
                    ServingThreads<Item> threads = holder.get();
                    if (turns[item.n()]++ == 2) {
                      return; // two turns each are enough: this client is done
                    }
                    everyTurn.countDown();
                    while (!threads.othersWaiting(item)) {
                      if (everyTurn.getCount() == 0) {
                        return;
                      }
                      Thread.onSpinWait(); // serving the client's requests, read after read
                    }
                    threads.submit(item);
                  }));
          assertEquals(1, holder.get().perUid(), "a quarter of 4 threads");
          for (int i = 0; i < items; i++) {
            holder.get().submit(new Item(7, i, new CountDownLatch(0)));
          }
          assertTrue(everyTurn.await(20, TimeUnit.SECONDS), "each item served twice, in turn");
          holder.get().stop();
        });
  }

  @Test
  void aUidTakingTurnsOnItsShareMakesNoOtherUidsItemYield() {
    // Uid 7's three busy items take turns on its one thread (a quarter of 4) while uid 8's item,
    // on a thread of its own, asks othersWaiting all along, as ServeLoop does before each read.
    // Nobody waits for uid 8's thread, so the answer must stay no: the thread that ends a turn
    // takes the next item of its uid itself, rather than pass it through the common queue, where
    // uid 8 would see it waiting.
    assertTimeoutPreemptively(
        Duration.ofSeconds(60),
        () -> {
          int turns = 3_000;
          AtomicInteger turnsTaken = new AtomicInteger();
          CountDownLatch otherServing = new CountDownLatch(1);
          CountDownLatch turnsStarted = new CountDownLatch(1);
          CountDownLatch turnsDone = new CountDownLatch(1);
          AtomicInteger yieldsSeen = new AtomicInteger();
          Set<Thread> turnThreads = ConcurrentHashMap.newKeySet();
          AtomicReference<ServingThreads<Item>> holder = new AtomicReference<>();
          holder.set(
              pool(
                  4,
                  (item, buffers) -> {
                    ServingThreads<Item> threads = holder.get();
                    if (item.uid() == 8) {
                      otherServing.countDown();
                      assertAwait(turnsStarted);
                      while (turnsDone.getCount() > 0) {
                        if (threads.othersWaiting(item)) {
                          yieldsSeen.incrementAndGet();
                        }
                      }
                      return;
                    }
                    turnThreads.add(Thread.currentThread());
                    turnsStarted.countDown();
                    int turn = turnsTaken.incrementAndGet();
                    if (turn >= turns) {
                      turnsDone.countDown();
                      return; // this client is done; the others' next turns end at once too
                    }
                    while (!threads.othersWaiting(item)) {
                      Thread.onSpinWait(); // until the uid's other items are waiting
                    }
                    threads.submit(item);
                  }));
          ServingThreads<Item> threads = holder.get();
          threads.submit(new Item(8, 0, new CountDownLatch(0)));
          assertAwait(otherServing);
          threads.submit(new Item(7, 0, new CountDownLatch(0)));
          assertAwait(turnsStarted);
          threads.submit(new Item(7, 1, new CountDownLatch(0)));
          threads.submit(new Item(7, 2, new CountDownLatch(0)));
          assertAwait(turnsDone);
          assertEquals(0, yieldsSeen.get(), "uid 8's item was told that someone waits for it");
          assertEquals(1, turnThreads.size(), "uid 7's turns stay on its one thread");
          threads.stop();
        });
  }

  private static void assertAwait(CountDownLatch latch) {
    try {
      assertTrue(latch.await(30, TimeUnit.SECONDS), "timed out waiting");
    } catch (InterruptedException e) {
      throw new AssertionError(e);
    }
  }

  @Test
  void oneItemMoreThanThereAreIdleThreadsGetsAThreadOfItsOwn() {
    // Each item blocks until released, as an open stuck on a hung mount would. With N threads
    // idle, N + 1 items submitted at once must all be served at once: the last one gets a new
    // thread instead of waiting behind the others. Repeated, as the window is narrow.
    assertTimeoutPreemptively(
        Duration.ofSeconds(120),
        () -> {
          java.util.concurrent.Semaphore started = new java.util.concurrent.Semaphore(0);
          ServingThreads<Item> threads =
              new ServingThreads<>(
                  1000,
                  Duration.ofSeconds(60),
                  new Closer(),
                  Item::uid,
                  (item, buffers) -> {
                    started.release();
                    try {
                      item.release().await();
                    } catch (InterruptedException e) {
                      Thread.currentThread().interrupt();
                    }
                  },
                  item -> {});
          int uid = 0;
          for (int round = 0; round < 150; round++) {
            int items = threads.idleThreads() + 1;
            CountDownLatch release = new CountDownLatch(1);
            for (int i = 0; i < items; i++) {
              threads.submit(new Item(uid++, i, release));
            }
            assertTrue(
                started.tryAcquire(items, 20, TimeUnit.SECONDS),
                "round " + round + ": all " + items + " items are served at once");
            release.countDown();
            // Back to idle threads (kept alive) before the next round.
            while (threads.idleThreads() < items) {
              Thread.sleep(1);
            }
          }
          threads.stop();
        });
  }

  @Test
  void anItemPutBackByItsOwnThreadIsServedAgain() {
    assertTimeoutPreemptively(
        Duration.ofSeconds(30),
        () -> {
          CountDownLatch twice = new CountDownLatch(2);
          AtomicReference<ServingThreads<Item>> holder = new AtomicReference<>();
          holder.set(
              pool(
                  4,
                  (item, buffers) -> {
                    twice.countDown();
                    if (twice.getCount() == 1) {
                      holder.get().submit(item);
                    }
                  }));
          holder.get().submit(new Item(1, 0, new CountDownLatch(0)));
          assertTrue(twice.await(20, TimeUnit.SECONDS), "served, put back, served again");
          holder.get().stop();
        });
  }

  @Test
  void anErrorWhileServingClosesTheItemAndTheThreadIsReplaced() {
    assertTimeoutPreemptively(
        Duration.ofSeconds(30),
        () -> {
          Set<Item> abandoned = ConcurrentHashMap.newKeySet();
          CountDownLatch servedAfter = new CountDownLatch(1);
          // One thread: if the thread the error ends were still counted, nothing would be served.
          ServingThreads<Item> threads =
              new ServingThreads<>(
                  1,
                  Duration.ofSeconds(5),
                  new Closer(),
                  Item::uid,
                  (item, buffers) -> {
                    if (item.n() == 0) {
                      throw new StackOverflowError("thrown by the test; the thread ends");
                    }
                    item.release().countDown();
                  },
                  abandoned::add);
          Item failing = new Item(1, 0, new CountDownLatch(0));
          threads.submit(failing);
          threads.submit(new Item(2, 1, servedAfter));
          assertTrue(servedAfter.await(20, TimeUnit.SECONDS), "served by a new thread");
          assertEquals(Set.of(failing), abandoned, "the item being served is closed");
          assertEquals(1, threads.threads(), "the thread that ended is not counted");
          threads.stop();
        });
  }

  @Test
  void theLastThreadAnErrorEndsRunsTheDrainedHook() {
    assertTimeoutPreemptively(
        Duration.ofSeconds(30),
        () -> {
          java.util.concurrent.atomic.AtomicInteger drained =
              new java.util.concurrent.atomic.AtomicInteger();
          Set<Item> abandoned = ConcurrentHashMap.newKeySet();
          ServingThreads<Item> threads =
              new ServingThreads<>(
                  2,
                  Duration.ofSeconds(5),
                  new Closer(),
                  Item::uid,
                  (item, buffers) -> {
                    throw new OutOfMemoryError("thrown by the test; the thread ends");
                  },
                  abandoned::add,
                  new ServingThreads.Bursts() {
                    @Override
                    public void started() {}

                    @Override
                    public void drained() {
                      drained.incrementAndGet();
                    }
                  });
          Item failing = new Item(1, 0, new CountDownLatch(0));
          threads.submit(failing);
          // The burst's only thread ended by the error, not by its keep-alive (5 s): the pool ran
          // dry all the same, and what the burst left behind is given back (HeapReturn).
          awaitDrained(drained, 1);
          assertEquals(0, threads.threads());
          assertEquals(Set.of(failing), abandoned);
          threads.stop();
          assertEquals(1, drained.get());
        });
  }

  @Test
  void theLastThreadToEndRunsTheDrainedHookOnceWhoeverTheWorkWasFor() {
    assertTimeoutPreemptively(
        Duration.ofSeconds(30),
        () -> {
          java.util.concurrent.atomic.AtomicInteger drained =
              new java.util.concurrent.atomic.AtomicInteger();
          java.util.concurrent.atomic.AtomicInteger starts =
              new java.util.concurrent.atomic.AtomicInteger();
          CountDownLatch oneUid = new CountDownLatch(2);
          CountDownLatch oneUidRelease = new CountDownLatch(1);
          CountDownLatch fourUids = new CountDownLatch(4);
          CountDownLatch fourUidsRelease = new CountDownLatch(1);
          ServingThreads<Item> threads =
              new ServingThreads<>(
                  8,
                  Duration.ofMillis(1),
                  new Closer(),
                  Item::uid,
                  (item, buffers) -> {
                    (item.uid() == 1 ? oneUid : fourUids).countDown();
                    try {
                      item.release().await();
                    } catch (InterruptedException e) {
                      Thread.currentThread().interrupt();
                    }
                  },
                  item -> {},
                  new ServingThreads.Bursts() {
                    @Override
                    public void started() {
                      starts.incrementAndGet();
                    }

                    @Override
                    public void drained() {
                      drained.incrementAndGet();
                    }
                  });
          // One uid holds two threads at once, then goes: the pool runs dry once.
          threads.submit(new Item(1, 0, oneUidRelease));
          threads.submit(new Item(1, 1, oneUidRelease));
          assertTrue(oneUid.await(20, TimeUnit.SECONDS), "two threads serve uid 1 at once");
          assertEquals(0, drained.get(), "not while they run");
          oneUidRelease.countDown();
          awaitDrained(drained, 1);
          while (threads.threads() > 0) {
            Thread.sleep(1);
          }
          assertEquals(1, drained.get(), "once, by the last thread to end, for one uid's work too");
          assertEquals(1, starts.get(), "started once, from no thread");
          // Four uids hold four threads at once, then end: the second time the pool runs dry.
          for (int i = 0; i < 4; i++) {
            threads.submit(new Item(10 + i, i, fourUidsRelease));
          }
          assertTrue(fourUids.await(20, TimeUnit.SECONDS), "four threads serve at once");
          assertEquals(1, drained.get(), "not while they run");
          fourUidsRelease.countDown();
          awaitDrained(drained, 2);
          while (threads.threads() > 0) {
            Thread.sleep(1);
          }
          assertEquals(2, drained.get(), "once more, by the last thread to end");
          assertEquals(2, starts.get(), "started again, from no thread");
          threads.stop();
        });
  }

  private static void awaitDrained(java.util.concurrent.atomic.AtomicInteger drained, int count)
      throws InterruptedException {
    while (drained.get() < count) {
      Thread.sleep(1);
    }
  }
}
