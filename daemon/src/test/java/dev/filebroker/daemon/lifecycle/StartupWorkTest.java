package dev.filebroker.daemon.lifecycle;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

import dev.filebroker.daemon.fs.FileOpener;
import java.io.File;
import java.util.Objects;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.slf4j.LoggerFactory;
import org.slf4j.helpers.SubstituteLoggerFactory;

@Timeout(30)
class StartupWorkTest {
  private static int openDescriptors() {
    return Objects.requireNonNull(new File("/proc/self/fd").list()).length;
  }

  // Once, so that what the work loads for good (jars, native libraries) is not counted below.
  @BeforeAll
  static void warmUp() {
    StartupWork.begin().abandon();
  }

  @Test
  void handsOverAFileOpenerWithLoggingSetUp() throws Exception {
    int before = openDescriptors();
    FileOpener direct = FileOpener.create();
    int held = openDescriptors() - before; // its root directory and /proc/self/fd
    direct.close();
    FileOpener opener = StartupWork.begin().opener();
    try {
      assertEquals(
          before + held, openDescriptors(), "the opener holds what one made directly holds");
      assertFalse(
          LoggerFactory.getILoggerFactory() instanceof SubstituteLoggerFactory,
          "logging is set up, not a stand-in");
    } finally {
      opener.close();
    }
    assertEquals(before, openDescriptors(), "closing the opener releases its descriptor");
  }

  @Test
  void abandoningWaitsForTheWorkAndClosesWhatItCreated() {
    int before = openDescriptors();
    StartupWork.begin().abandon();
    assertEquals(before, openDescriptors(), "no descriptor is left behind");
  }
}
