package dev.filebroker.daemon.server;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.Test;

class ParkDelayTest {
  private static final long MS = 1_000_000L;

  @Test
  void aNewConnectionWaitsTheBaseDelay() {
    assertEquals(ParkDelay.BASE_MILLIS, new ParkDelay().millis());
  }

  @Test
  void aClientPausingJustOverTheDelayGetsALongerOneUpToTheMaximum() {
    ParkDelay d = new ParkDelay();
    long now = 0;
    for (int i = 0; i < 20; i++) {
      int before = d.millis();
      d.parked(now);
      now += (before + 1) * MS; // pauses just longer than the delay
      d.woke(now);
      assertEquals(Math.min(ParkDelay.MAX_MILLIS, before * 2), d.millis(), "round " + i);
    }
    assertEquals(ParkDelay.MAX_MILLIS, d.millis());
  }

  @Test
  void aLongRestBringsTheDelayBack() {
    ParkDelay d = new ParkDelay();
    d.parked(0);
    d.woke(MS);
    assertEquals(2 * ParkDelay.BASE_MILLIS, d.millis());
    d.parked(10 * MS);
    d.woke(10 * MS + 60_000 * MS);
    assertEquals(ParkDelay.BASE_MILLIS, d.millis());
  }

  @Test
  void aReturnAfterAModerateRestKeepsTheDelay() {
    ParkDelay d = new ParkDelay();
    d.parked(0);
    d.woke(100 * MS);
    assertEquals(ParkDelay.BASE_MILLIS, d.millis());
  }
}
