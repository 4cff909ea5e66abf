package dev.filebroker.daemon.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

/**
 * A uid's turns of processing while another uid is served: first come first served, and a turn held
 * past the bound lent on. Time is simulated ({@link FairShare}'s clock), never waited out.
 */
class FairShareTest {
  private static final Duration LONG = Duration.ofHours(1);
  private static final long MAX_WAIT = Duration.ofMillis(10).toNanos();
  private static final Duration SAFETY = Duration.ofSeconds(30);

  /** Two uids served, and the gate of the first. */
  private static FairShare.Gate shared(FairShare share) {
    share.gate(1000).serving();
    FairShare.Gate g = share.gate(65534);
    g.serving();
    return g;
  }

  private static CompletableFuture<Boolean> enterOnAThread(FairShare.Gate g, FairShare.Ticket t) {
    CompletableFuture<Boolean> entered = new CompletableFuture<>();
    Thread thread =
        new Thread(
            () -> {
              try {
                entered.complete(g.enter(t));
              } catch (Throwable e) {
                entered.completeExceptionally(e);
              }
            });
    thread.setDaemon(true);
    thread.start();
    return entered;
  }

  /** Until {@code n} threads wait at {@code g}, or {@code f} is done without waiting. */
  private static void awaitWaiting(FairShare.Gate g, int n, CompletableFuture<?> f) {
    while (g.waiting() < n && !f.isDone()) {
      Thread.yield();
    }
  }

  @Test
  void aUidServedAloneTakesNoTurns() {
    FairShare share = new FairShare(1, LONG);
    FairShare.Gate flooder = share.gate(65534);
    flooder.serving();
    flooder.serving();
    // With nobody to share with, every thread goes ahead at once, and no turn is taken.
    assertFalse(flooder.enter(new FairShare.Ticket()));
    assertFalse(flooder.enter(new FairShare.Ticket()));
    assertEquals(1, flooder.available());
    assertEquals(1, share.servedUids());
  }

  @Test
  void theFloodersExcessWaitsWhileAnotherUidIsServed() {
    assertTimeoutPreemptively(
        SAFETY,
        () -> {
          FairShare share = new FairShare(1, LONG);
          FairShare.Gate flooder = shared(share);
          FairShare.Gate other = share.gate(1000);
          assertEquals(2, share.servedUids());
          FairShare.Ticket first = new FairShare.Ticket();
          assertTrue(flooder.enter(first), "the flooder's first thread takes its one turn");
          FairShare.Ticket second = new FairShare.Ticket();
          CompletableFuture<Boolean> excess = enterOnAThread(flooder, second);
          awaitWaiting(flooder, 1, excess);
          // The other uid has turns of its own: it is not behind the flooder's waiting thread.
          FairShare.Ticket others = new FairShare.Ticket();
          assertTrue(other.enter(others), "the other uid takes a turn while the flooder's waits");
          other.leave(others);
          assertFalse(excess.isDone(), "the flooder's second thread waits for a turn");
          flooder.leave(first);
          assertTrue(excess.join(), "it gets the turn given back");
          flooder.leave(second);
          assertEquals(1, flooder.available());
        });
  }

  @Test
  void aTurnHolderComingBackDoesNotJumpAThreadWaitingBeforeIt() {
    assertTimeoutPreemptively(
        SAFETY,
        () -> {
          FairShare share = new FairShare(1, LONG);
          FairShare.Gate g = shared(share);
          // Rounds, so that a gate letting the holder in ahead loses at least one race.
          for (int round = 0; round < 50; round++) {
            List<String> order = new CopyOnWriteArrayList<>();
            FairShare.Ticket holder = new FairShare.Ticket();
            assertTrue(g.enter(holder));
            FairShare.Ticket waiter = new FairShare.Ticket();
            CompletableFuture<Void> waited =
                enterOnAThread(g, waiter)
                    .thenAccept(
                        turn -> {
                          order.add("waiter");
                          g.leave(waiter);
                        });
            awaitWaiting(g, 1, waited);
            g.leave(holder);
            // The holder's next read, at once: it queues behind the thread that waited.
            assertTrue(g.enter(holder));
            order.add("holder");
            g.leave(holder);
            waited.join();
            assertEquals(List.of("waiter", "holder"), order, "round " + round);
            assertEquals(1, g.available());
          }
        });
  }

  @Test
  void aStuckTurnIsLentOnceAndABorrowerThatSticksLendsInItsTurn() {
    assertTimeoutPreemptively(
        SAFETY,
        () -> {
          AtomicLong now = new AtomicLong();
          FairShare share = new FairShare(2, Duration.ofNanos(MAX_WAIT), now::get);
          FairShare.Gate g = shared(share);
          FairShare.Ticket x = new FairShare.Ticket();
          FairShare.Ticket y = new FairShare.Ticket();
          assertTrue(g.enter(x));
          assertTrue(g.enter(y));
          // Both opens hang in the kernel past the bound: their turns are stuck.
          now.set(MAX_WAIT);
          FairShare.Ticket w1 = new FairShare.Ticket();
          FairShare.Ticket w2 = new FairShare.Ticket();
          assertTrue(g.enter(w1), "the first stuck turn is lent");
          assertTrue(g.lent(x));
          assertTrue(g.enter(w2), "the second stuck turn is lent");
          assertTrue(g.lent(y));
          // Two turns, two threads processing that are not stuck: a third waits.
          FairShare.Ticket w3 = new FairShare.Ticket();
          CompletableFuture<Boolean> third = enterOnAThread(g, w3);
          awaitWaiting(g, 1, third);
          assertFalse(third.isDone(), "no turn is lent twice");
          g.leave(x);
          assertEquals(0, g.available(), "a lent turn ended gives nothing back");
          assertFalse(g.lent(w1));
          // The borrowers hang too: the oldest is stuck in its turn and lends it on.
          now.set(2 * MAX_WAIT);
          g.clockMoved();
          assertTrue(third.join(), "a uid whose requests all hang is slowed, not stalled");
          assertTrue(g.lent(w1));
          assertFalse(g.lent(w2), "one turn per waiter");
          g.leave(y);
          g.leave(w1);
          g.leave(w2);
          g.leave(w3);
          assertEquals(2, g.available());
          assertEquals(0, g.waiting());
        });
  }

  @Test
  void aWaiterDoesNotRunBesideTurnsThatAreNotStuckHoweverLongItWaits() {
    assertTimeoutPreemptively(
        SAFETY,
        () -> {
          // The bound is a nanosecond of real waiting, but the turns' holders, on the simulated
          // clock, have held them no time at all: they are busy, not stuck.
          FairShare share = new FairShare(2, Duration.ofNanos(1), () -> 0);
          FairShare.Gate g = shared(share);
          FairShare.Ticket x = new FairShare.Ticket();
          FairShare.Ticket y = new FairShare.Ticket();
          assertTrue(g.enter(x));
          assertTrue(g.enter(y));
          FairShare.Ticket w = new FairShare.Ticket();
          CompletableFuture<Boolean> third = enterOnAThread(g, w);
          awaitWaiting(g, 1, third);
          assertFalse(third.isDone(), "the third thread waits: it does not run untethered");
          assertFalse(g.lent(x));
          assertFalse(g.lent(y));
          g.leave(x);
          assertTrue(third.join(), "it runs on the turn given back");
          assertFalse(g.lent(y));
          assertEquals(0, g.available());
          g.leave(y);
          g.leave(w);
          assertEquals(2, g.available());
        });
  }

  @Test
  void aWaiterGoesAheadWithoutATurnOnceItsUidIsServedAlone() {
    assertTimeoutPreemptively(
        SAFETY,
        () -> {
          FairShare share = new FairShare(1, LONG, () -> 0);
          FairShare.Gate g = shared(share);
          FairShare.Ticket x = new FairShare.Ticket();
          assertTrue(g.enter(x));
          CompletableFuture<Boolean> waiter = enterOnAThread(g, new FairShare.Ticket());
          awaitWaiting(g, 1, waiter);
          share.gate(1000).notServing();
          g.clockMoved();
          assertFalse(waiter.join(), "nobody to share with: no turn");
          g.leave(x);
          assertEquals(1, g.available());
          assertEquals(0, g.waiting());
        });
  }

  @Test
  void aTurnNotTakenCannotBeGivenBack() {
    FairShare.Gate g = shared(new FairShare(1, LONG));
    FairShare.Ticket t = new FairShare.Ticket();
    IllegalStateException e = assertThrows(IllegalStateException.class, () -> g.leave(t));
    assertEquals("no turn held", e.getMessage());
    assertTrue(g.enter(t));
    g.leave(t);
    assertThrows(IllegalStateException.class, () -> g.leave(t));
    assertEquals(1, g.available());
  }

  @Test
  void aUidStopsCountingWhenItsLastConnectionIsNoLongerServed() {
    FairShare share = new FairShare(1, LONG);
    FairShare.Gate a = share.gate(1);
    FairShare.Gate b = share.gate(2);
    a.serving();
    a.serving();
    b.serving();
    assertEquals(2, share.servedUids());
    a.notServing();
    assertEquals(2, share.servedUids(), "uid 1 has another connection on a thread");
    a.notServing();
    assertEquals(1, share.servedUids());
    assertFalse(b.enter(new FairShare.Ticket()), "uid 2 is alone now");
  }

  @Test
  void oneGatePerUid() {
    FairShare share = new FairShare(3, LONG);
    assertTrue(share.gate(7) == share.gate(7));
    assertFalse(share.gate(7) == share.gate(8));
    assertEquals(3, share.perUid());
  }

  @Test
  void aGateIsForgottenWhenItsLastConnectionClosesAndNoThreadServesIt() {
    FairShare share = new FairShare(1, LONG);
    // 100,000 uids that come and go (a subordinate uid range, say) leave no gate behind.
    for (long uid = 100_000; uid < 200_000; uid++) {
      FairShare.Gate g = share.gate(uid);
      g.serving();
      g.notServing();
      g.release();
    }
    assertEquals(0, share.gates());
    // Held by two connections and a serving thread: the same gate until all three let go.
    FairShare.Gate first = share.gate(7);
    FairShare.Gate second = share.gate(7);
    assertSame(first, second);
    first.serving();
    first.release();
    second.release();
    assertSame(first, share.gate(7), "still served: a new connection shares the gate");
    first.notServing();
    assertEquals(1, share.gates(), "the new connection holds it");
    first.release();
    assertEquals(0, share.gates());
    assertNotSame(first, share.gate(7), "forgotten: a new gate, the same as the old one");
  }

  @Test
  void refusesNoTurns() {
    IllegalArgumentException e =
        assertThrows(IllegalArgumentException.class, () -> new FairShare(0, LONG));
    assertEquals("perUid must be positive: 0", e.getMessage());
  }
}
