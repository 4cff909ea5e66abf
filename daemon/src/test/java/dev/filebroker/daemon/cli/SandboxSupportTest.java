package dev.filebroker.daemon.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.filebroker.daemon.fs.Errno;
import org.junit.jupiter.api.Test;

class SandboxSupportTest {
  @Test
  void kernelWithoutLandlockIsRefused() {
    var r =
        assertInstanceOf(
            SandboxSupport.Decision.Refused.class, SandboxSupport.decide(-Errno.ENOSYS));
    assertTrue(r.reason().startsWith("this kernel has no Landlock"), r.reason());
    assertTrue(r.reason().contains("ENOSYS"), r.reason());
  }

  @Test
  void landlockNotEnabledAtBootIsRefusedWithTheFix() {
    var r =
        assertInstanceOf(
            SandboxSupport.Decision.Refused.class, SandboxSupport.decide(-Errno.EOPNOTSUPP));
    assertTrue(r.reason().contains("lsm="), r.reason());
  }

  @Test
  void anyOtherFailureIsRefused() {
    var r =
        assertInstanceOf(
            SandboxSupport.Decision.Refused.class, SandboxSupport.decide(-Errno.EPERM));
    assertTrue(r.reason().contains("EPERM"), r.reason());
  }

  @Test
  void everyAbiBeforeSixIsRefused() {
    for (int version = 1; version < 6; version++) {
      var r =
          assertInstanceOf(SandboxSupport.Decision.Refused.class, SandboxSupport.decide(version));
      assertTrue(r.reason().contains("Landlock ABI " + version + " cannot"), r.reason());
    }
  }

  @Test
  void abiSixAndLaterAreUsedAtTheirOwnVersion() {
    for (int version : new int[] {6, 7, 9}) {
      var a =
          assertInstanceOf(SandboxSupport.Decision.Available.class, SandboxSupport.decide(version));
      assertEquals(version, a.abi().version());
    }
  }
}
