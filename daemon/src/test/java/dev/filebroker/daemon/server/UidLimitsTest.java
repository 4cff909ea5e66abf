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
  void refusesRequestsOverTheBurstUntilTheRateRefills() throws InterruptedException {
    UidLimits limits = new UidLimits(10, 100, 5);
    for (int i = 0; i < 5; i++) {
      assertTrue(limits.tryRequest(7), "request " + i + " within the burst");
    }
    assertFalse(limits.tryRequest(7), "the sixth request at once is over the burst");
    assertTrue(limits.tryRequest(8), "another uid is not affected");
    Thread.sleep(50); // 100 per second refills about 5 tokens in 50 ms
    assertTrue(limits.tryRequest(7), "the budget refills with time");
  }

  @Test
  void unknownCredentialsShareOneBudget() {
    UidLimits limits = new UidLimits(1, 1000, 1000);
    assertTrue(limits.tryConnect(UidLimits.UNKNOWN_UID));
    assertFalse(limits.tryConnect(UidLimits.UNKNOWN_UID));
  }
}
