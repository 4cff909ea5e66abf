package dev.filebroker.daemon.endpoint;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

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
}
