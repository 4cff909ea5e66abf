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
}
