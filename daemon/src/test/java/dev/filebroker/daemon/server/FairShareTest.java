package dev.filebroker.daemon.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import org.junit.jupiter.api.Test;

/** A uid's turns of processing while another uid is served, and the bound on a wait for one. */
class FairShareTest {
  private static final Duration LONG = Duration.ofHours(1);

  @Test
  void aUidServedAloneTakesNoTurns() {
    FairShare share = new FairShare(1, LONG);
    FairShare.Gate flooder = share.gate(65534);
    flooder.serving();
    flooder.serving();
    // With nobody to share with, every thread goes ahead at once, and no turn is taken.
    assertFalse(flooder.enter());
    assertFalse(flooder.enter());
    assertEquals(1, flooder.available());
    assertEquals(1, share.servedUids());
  }

  @Test
  void theFloodersExcessWaitsWhileAnotherUidIsServed() {
    assertTimeoutPreemptively(
        Duration.ofSeconds(30),
        () -> {
          FairShare share = new FairShare(1, LONG);
          FairShare.Gate flooder = share.gate(65534);
          FairShare.Gate other = share.gate(1000);
          flooder.serving();
          flooder.serving();
          other.serving();
          assertEquals(2, share.servedUids());
          assertTrue(flooder.enter(), "the flooder's first thread takes its one turn");
          CountDownLatch started = new CountDownLatch(1);
          CompletableFuture<Boolean> excess =
              CompletableFuture.supplyAsync(
                  () -> {
                    started.countDown();
                    return flooder.enter();
                  });
          started.await();
          // The other uid has turns of its own: it is not behind the flooder's waiting thread.
          assertTrue(other.enter(), "the other uid takes a turn while the flooder's excess waits");
          other.leave();
          assertFalse(excess.isDone(), "the flooder's second thread waits for a turn");
          flooder.leave();
          assertTrue(excess.join(), "it gets the turn given back");
          flooder.leave();
          assertEquals(1, flooder.available());
        });
  }

  @Test
  void aWaitForATurnIsBoundedSoHeldTurnsDoNotStallTheUid() {
    assertTimeoutPreemptively(
        Duration.ofSeconds(30),
        () -> {
          FairShare share = new FairShare(2, Duration.ofMillis(1));
          FairShare.Gate stuck = share.gate(0);
          share.gate(65534).serving();
          stuck.serving();
          // Both turns held, as by two opens blocked in a FUSE lookup that never returns.
          assertTrue(stuck.enter());
          assertTrue(stuck.enter());
          assertFalse(stuck.enter(), "after the bounded wait the request runs without a turn");
          assertEquals(0, stuck.available(), "and takes none");
        });
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
    assertFalse(b.enter(), "uid 2 is alone now");
  }

  @Test
  void oneGatePerUid() {
    FairShare share = new FairShare(3, LONG);
    assertTrue(share.gate(7) == share.gate(7));
    assertFalse(share.gate(7) == share.gate(8));
    assertEquals(3, share.perUid());
  }

  @Test
  void refusesNoTurns() {
    IllegalArgumentException e =
        assertThrows(IllegalArgumentException.class, () -> new FairShare(0, LONG));
    assertEquals("perUid must be positive: 0", e.getMessage());
  }
}
