package dev.filebroker.daemon.fs;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.filebroker.protocol.OpenFlags;
import org.junit.jupiter.api.Test;

class NativeFlagsTest {
  private static final int CARRIED =
      OpenFlags.O_RDWR
          | OpenFlags.O_CREAT
          | OpenFlags.O_EXCL
          | OpenFlags.O_TRUNC
          | OpenFlags.O_APPEND;

  @Test
  void keepsWireValuesOnX86() {
    NativeFlags x86 = NativeFlags.forArchitecture("amd64");
    assertEquals(CARRIED | OpenFlags.O_DIRECTORY, x86.fromWire(CARRIED | OpenFlags.O_DIRECTORY));
    assertEquals(OpenFlags.O_NOFOLLOW, x86.noFollow);
  }

  @Test
  void movesDirectoryBitOnArm64() {
    NativeFlags arm64 = NativeFlags.forArchitecture("aarch64");
    assertEquals(CARRIED | 040000, arm64.fromWire(CARRIED | OpenFlags.O_DIRECTORY));
    assertEquals(0100000, arm64.noFollow);
  }

  @Test
  void dropsFlagsTheOpenerSetsItself() {
    NativeFlags x86 = NativeFlags.forArchitecture("amd64");
    int ignored =
        OpenFlags.O_NOCTTY | OpenFlags.O_NONBLOCK | OpenFlags.O_NOFOLLOW | OpenFlags.O_CLOEXEC;
    assertEquals(OpenFlags.O_WRONLY, x86.fromWire(OpenFlags.O_WRONLY | ignored));
  }

  @Test
  void refusesUnknownArchitecture() {
    UnsupportedOperationException e =
        assertThrows(
            UnsupportedOperationException.class, () -> NativeFlags.forArchitecture("s390x"));
    assertTrue(e.getMessage().contains("s390x"), e.getMessage());
  }

  @Test
  void knowsHostArchitecture() {
    NativeFlags.host();
  }
}
