package dev.filebroker.daemon.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.Optional;
import org.junit.jupiter.api.Test;

class RefusalLogTest {
  private static final long SECOND = 1_000_000_000L;

  @Test
  void logsTheFirstRefusalThenOneLinePerIntervalWithTheCountInBetween() {
    RefusalLog log = new RefusalLog(10 * SECOND);
    long t = 5 * SECOND;
    assertEquals(
        Optional.of("Could not admit a connection: uid 1000 has 64 connections open"),
        log.refused("uid 1000 has 64 connections open", t));
    for (int i = 1; i <= 10_000; i++) {
      assertEquals(Optional.empty(), log.refused("uid 1000 has 64 connections open", t + i));
    }
    assertEquals(Optional.empty(), log.refused("the daemon has 4096 connections open", t + SECOND));
    assertEquals(
        Optional.of(
            "Could not admit a connection: uid 1000 has 64 connections open"
                + " (10001 more refused since the last such line)"),
        log.refused("uid 1000 has 64 connections open", t + 10 * SECOND));
    assertEquals(Optional.empty(), log.refused("x", t + 11 * SECOND));
  }

  @Test
  void aQuietSpellStartsAfreshWithoutACount() {
    RefusalLog log = new RefusalLog(10 * SECOND);
    assertEquals(Optional.of("Could not admit a connection: a"), log.refused("a", 0));
    assertEquals(Optional.of("Could not admit a connection: b"), log.refused("b", 60 * SECOND));
  }

  @Test
  void theIntervalMustBePositive() {
    assertThrows(IllegalArgumentException.class, () -> new RefusalLog(0));
  }
}
