package dev.filebroker.daemon.fs;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import org.junit.jupiter.api.Test;

class LandlockAbiTest {
  private static final long ABI_1 = (1L << 13) - 1;

  @Test
  void eachVersionHandlesTheRightsItIntroducedAndAllBefore() {
    assertEquals(ABI_1, new LandlockAbi(1).handledAccessFs());
    assertEquals(ABI_1 | LandlockAbi.REFER, new LandlockAbi(2).handledAccessFs());
    long three = ABI_1 | LandlockAbi.REFER | LandlockAbi.TRUNCATE;
    assertEquals(three, new LandlockAbi(3).handledAccessFs());
    assertEquals(three, new LandlockAbi(4).handledAccessFs()); // ABI 4 added network rights only
    long five = three | LandlockAbi.IOCTL_DEV;
    assertEquals(five, new LandlockAbi(5).handledAccessFs());
    assertEquals(five, new LandlockAbi(6).handledAccessFs());
    assertEquals(five, new LandlockAbi(7).handledAccessFs()); // ABI 7: logging flags only
    assertEquals(five, new LandlockAbi(8).handledAccessFs()); // ABI 8: thread sync only
    assertEquals(five | LandlockAbi.RESOLVE_UNIX, new LandlockAbi(9).handledAccessFs());
  }

  @Test
  void signalsAndAbstractSocketsAreScopedFromAbiSix() {
    assertEquals(0, new LandlockAbi(5).scoped());
    long both = LandlockAbi.SCOPE_ABSTRACT_UNIX_SOCKET | LandlockAbi.SCOPE_SIGNAL;
    assertEquals(both, new LandlockAbi(6).scoped());
    assertEquals(both, new LandlockAbi(7).scoped());
  }

  @Test
  void attributeSizeHasOnlyTheFieldsTheVersionKnows() {
    assertEquals(8, new LandlockAbi(3).attrSize());
    assertEquals(16, new LandlockAbi(4).attrSize());
    assertEquals(16, new LandlockAbi(5).attrSize());
    assertEquals(24, new LandlockAbi(6).attrSize());
    assertEquals(24, new LandlockAbi(7).attrSize());
  }

  @Test
  void versionBelowOneIsRefused() {
    var e = assertThrows(IllegalArgumentException.class, () -> new LandlockAbi(0));
    assertEquals("Landlock ABI version must be 1 or more: 0", e.getMessage());
  }
}
