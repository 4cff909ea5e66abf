package dev.filebroker.daemon.fs;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.OptionalLong;
import org.junit.jupiter.api.Test;

class OwnCapabilitiesTest {
  @Test
  void readsTheEffectiveMask() {
    String status = "Name:\tjava\nCapInh:\t0000000000000000\nCapEff:\t000000000000000f\n";
    assertEquals(OptionalLong.of(0xf), OwnCapabilities.effectiveSet(status));
  }

  @Test
  void aMissingOrMalformedMaskIsNotTakenForOne() {
    assertTrue(OwnCapabilities.effectiveSet("Name:\tjava\n").isEmpty());
    assertTrue(OwnCapabilities.effectiveSet("CapEff:\tzz\n").isEmpty());
  }

  @Test
  void rootRunningTheTestsHoldsCapSysPtrace() {
    // The tests run as root with a full capability set (mvn verify must run as root).
    assertTrue(OwnCapabilities.effective(OwnCapabilities.CAP_SYS_PTRACE));
  }
}
