package dev.filebroker.daemon.fs;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Needs a kernel with Landlock ABI 6 or later (skipped otherwise). */
class LandlockRulesetTest {
  @TempDir Path dir;

  private static LandlockAbi abi() {
    int version = LandlockRuleset.kernelVersion();
    assumeTrue(version >= 6, "needs Landlock ABI 6, the kernel reports " + version);
    return new LandlockAbi(version);
  }

  private static int openRead(Path p) {
    int fd = LibC.openat2(LibC.AT_FDCWD, p.toString(), NativeFlags.O_CLOEXEC, 0, 0);
    if (fd >= 0) {
      LibC.close(fd);
      return 0;
    }
    return fd;
  }

  @Test
  void confinesOnlyTheThreadThatRestrictsItself() throws Exception {
    LandlockAbi abi = abi();
    Path allowed = Files.writeString(dir.resolve("allowed.txt"), "yes\n");
    Path other = Files.writeString(dir.resolve("other.txt"), "no\n");
    var built =
        assertInstanceOf(
            LandlockRuleset.Outcome.Built.class,
            LandlockRuleset.build(abi, List.of(new LandlockRuleset.Rule(allowed, -1L))));
    int[] seen = new int[3];
    try (LandlockRuleset ruleset = built.ruleset()) {
      Thread t =
          Thread.ofPlatform()
              .start(
                  () -> {
                    seen[0] = ruleset.restrictCurrentThread();
                    seen[1] = openRead(allowed);
                    seen[2] = openRead(other);
                  });
      t.join();
    }
    assertEquals(0, seen[0], "restrict: " + Errno.name(-seen[0]));
    assertEquals(0, seen[1], "the allowed file");
    assertEquals(-Errno.EACCES, seen[2], "another file, on the confined thread");
    assertEquals(0, openRead(other), "the same file on this thread, which stays unconfined");
    assertEquals(0, openRead(Path.of("/etc/passwd")));
  }

  @Test
  void missingPathIsRefusedByName() {
    LandlockAbi abi = abi();
    Path missing = dir.resolve("missing");
    var refused =
        assertInstanceOf(
            LandlockRuleset.Outcome.Refused.class,
            LandlockRuleset.build(
                abi, List.of(new LandlockRuleset.Rule(missing, LandlockAbi.READ_FILE))));
    assertEquals("Could not open " + missing + " for a sandbox rule: ENOENT", refused.message());
  }

  @Test
  void directoryRightsOnAFileAreDroppedRatherThanRefused() throws Exception {
    LandlockAbi abi = abi();
    Path file = Files.writeString(dir.resolve("f.txt"), "x");
    var outcome =
        LandlockRuleset.build(
            abi,
            List.of(new LandlockRuleset.Rule(file, LandlockAbi.READ_FILE | LandlockAbi.READ_DIR)));
    assertTrue(outcome instanceof LandlockRuleset.Outcome.Built, outcome.toString());
    ((LandlockRuleset.Outcome.Built) outcome).ruleset().close();
  }
}
