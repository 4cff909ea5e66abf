package dev.filebroker.daemon.endpoint;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.filebroker.daemon.endpoint.EndpointLimits.Admission;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

class EndpointLimitsTest {
  private final AtomicLong now = new AtomicLong(1_000_000_000L);

  @Test
  void refusesAConnectionBeyondTheUidsOpenConnectionsUntilOneIsReleased() {
    EndpointLimits limits = new EndpointLimits(2, 1000, 1000, now::get);
    assertEquals(Admission.ADMITTED, limits.admit(1000));
    assertEquals(Admission.ADMITTED, limits.admit(1000));
    assertEquals(Admission.TOO_MANY_CONNECTIONS, limits.admit(1000));
    assertEquals(Admission.ADMITTED, limits.admit(1001), "another uid has its own budget");
    limits.release(1000);
    assertEquals(Admission.ADMITTED, limits.admit(1000));
  }

  @Test
  void refusesConnectionsFasterThanTheRateAfterTheBurst() {
    EndpointLimits limits = new EndpointLimits(100, 2, 3, now::get);
    for (int i = 0; i < 3; i++) {
      assertEquals(Admission.ADMITTED, limits.admit(7), "burst connection " + i);
      limits.release(7);
    }
    assertEquals(Admission.TOO_FAST, limits.admit(7));
    now.addAndGet(500_000_000L); // one token at 2 per second
    assertEquals(Admission.ADMITTED, limits.admit(7));
    assertEquals(Admission.TOO_FAST, limits.admit(7));
  }

  @Test
  void aRefusedConnectionCountsNothing() {
    EndpointLimits limits = new EndpointLimits(1, 1, 1, now::get);
    assertEquals(Admission.ADMITTED, limits.admit(5));
    assertEquals(Admission.TOO_MANY_CONNECTIONS, limits.admit(5));
    limits.release(5);
    now.addAndGet(1_000_000_000L);
    assertEquals(Admission.ADMITTED, limits.admit(5));
  }

  @Test
  void rejectsLimitsBelowOne() {
    IllegalArgumentException e =
        assertThrows(IllegalArgumentException.class, () -> new EndpointLimits(0, 1, 1));
    assertEquals("maxConnectionsPerUid must be positive: 0", e.getMessage());
    e = assertThrows(IllegalArgumentException.class, () -> new EndpointLimits(1, 0, 1));
    assertEquals("perSecond must be positive: 0", e.getMessage());
    e = assertThrows(IllegalArgumentException.class, () -> new EndpointLimits(1, 1, 0));
    assertEquals("burst must be positive: 0", e.getMessage());
  }

  @Test
  void uidsThatComeAndGoLeaveNoStateBehindButAnEmptiedBudgetStays() {
    long[] now = {1_000_000_000L};
    EndpointLimits limits = new EndpointLimits(4, 100, 1, () -> now[0]);
    assertEquals(EndpointLimits.Admission.ADMITTED, limits.admit(7));
    limits.release(7); // uid 7's one-token budget is empty for the next 10 ms
    // 100,000 uids (a subordinate uid range, say), each connecting once and going.
    for (long uid = 100_000; uid < 200_000; uid++) {
      assertEquals(EndpointLimits.Admission.ADMITTED, limits.admit(uid));
      limits.release(uid);
      if (uid == 100_500) {
        assertEquals(
            EndpointLimits.Admission.TOO_FAST,
            limits.admit(7),
            "uid 7's budget is remembered through the sweeps");
      }
      now[0] += 1_000L; // 1 us; a token refills in 10 ms
    }
    assertTrue(limits.uids() <= 2 * 10_000 + EndpointLimits.MIN_SWEEP, "left: " + limits.uids());
    now[0] += 20_000_000L;
    // Slower newcomers: the next sweep (once the states have doubled) forgets all the old ones.
    for (long uid = 300_000; uid < 325_000; uid++) {
      limits.admit(uid);
      limits.release(uid);
      now[0] += 20_000_000L;
    }
    assertTrue(limits.uids() <= 2 * EndpointLimits.MIN_SWEEP, "left: " + limits.uids());
  }
}
