package dev.filebroker.daemon.server;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class UidLimitsTest {
  @Test
  void refusesConnectionsOverThePerUidLimitAndCountsDisconnects() {
    UidLimits limits = new UidLimits(2, 1000, 1000);
    assertTrue(limits.tryConnect(1000));
    assertTrue(limits.tryConnect(1000));
    assertFalse(limits.tryConnect(1000), "third connection of uid 1000");
    assertTrue(limits.tryConnect(1001), "another uid has its own budget");
    limits.disconnect(1000);
    assertTrue(limits.tryConnect(1000), "a slot frees when a connection closes");
  }

  @Test
  void refusesRequestsOverTheBurstUntilTheRateRefills() {
    long[] now = {1_000_000_000L};
    UidLimits limits = new UidLimits(10, 100, 5, () -> now[0]);
    for (int i = 0; i < 5; i++) {
      assertTrue(limits.tryRequest(7), "request " + i + " within the burst");
    }
    assertFalse(limits.tryRequest(7), "the sixth request at once is over the burst");
    assertTrue(limits.tryRequest(8), "another uid is not affected");
    now[0] += 9_000_000L; // 9 ms at 100 per second: not yet one token
    assertFalse(limits.tryRequest(7), "less than one token refilled");
    now[0] += 2_000_000L; // 11 ms in all: one token
    assertTrue(limits.tryRequest(7), "the budget refills with time");
    assertFalse(limits.tryRequest(7), "and only by what the rate allows");
  }

  @Test
  void unknownCredentialsShareOneBudget() {
    UidLimits limits = new UidLimits(1, 1000, 1000);
    assertTrue(limits.tryConnect(UidLimits.UNKNOWN_UID));
    assertFalse(limits.tryConnect(UidLimits.UNKNOWN_UID));
  }

  @Test
  void uidsThatComeAndGoLeaveNoStateBehindOnceTheirBudgetIsFullAgain() {
    long[] now = {1_000_000_000L};
    UidLimits limits = new UidLimits(10, 100, 5, () -> now[0]);
    // 100,000 uids (a subordinate uid range, say), each connecting once, sending a request and
    // going: none is remembered once its budget has refilled.
    for (long uid = 100_000; uid < 200_000; uid++) {
      assertTrue(limits.tryConnect(uid));
      assertTrue(limits.tryRequest(uid));
      limits.disconnect(uid);
      now[0] += 1_000_000L; // 1 ms; a token refills in 10
    }
    assertTrue(
        limits.uids() <= 2 * UidLimits.MIN_SWEEP,
        "states left for 100,000 uids that came and went: " + limits.uids());
  }

  @Test
  void aConnectedUidAndOneWhoseBudgetIsNotFullAgainAreRemembered() {
    long[] now = {1_000_000_000L};
    UidLimits limits = new UidLimits(10, 100, 5, () -> now[0]);
    assertTrue(limits.tryConnect(1));
    assertTrue(limits.tryConnect(2));
    for (int i = 0; i < 5; i++) {
      assertTrue(limits.tryRequest(2));
    }
    limits.disconnect(2);
    // Many other uids come and go at once (their budgets used up too), so sweeps run.
    for (long uid = 1_000; uid < 1_000 + 10 * UidLimits.MIN_SWEEP; uid++) {
      assertTrue(limits.tryConnect(uid));
      limits.disconnect(uid);
    }
    assertFalse(limits.tryRequest(2), "a reconnect does not refill a budget: it is remembered");
    assertTrue(limits.tryConnect(2));
    assertFalse(limits.tryRequest(2), "still empty after reconnecting");
    for (int i = 0; i < 9; i++) {
      assertTrue(limits.tryConnect(1), "uid 1's connections are still counted");
    }
    assertFalse(limits.tryConnect(1), "an eleventh connection of uid 1: over the limit of 10");
  }

  @Test
  void connectsAndDisconnectsOnManyThreadsAtOnceCountExactly() throws Exception {
    UidLimits limits = new UidLimits(1_000, 1000, 1000);
    Thread[] threads = new Thread[4];
    for (int t = 0; t < threads.length; t++) {
      threads[t] =
          Thread.ofPlatform()
              .start(
                  () -> {
                    for (int i = 0; i < 200_000; i++) {
                      if (limits.tryConnect(65534)) {
                        limits.disconnect(65534);
                      }
                    }
                  });
    }
    for (Thread t : threads) {
      t.join();
    }
    // No count lost or made up: exactly the limit is admitted again.
    for (int i = 0; i < 1_000; i++) {
      assertTrue(limits.tryConnect(65534), "connection " + i + " of the limit's 1,000");
    }
    assertFalse(limits.tryConnect(65534), "the 1,001st is over the limit");
  }
}
