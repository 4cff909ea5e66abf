package dev.filebroker.daemon.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.OptionalLong;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class TerminalGroupTest {
  @TempDir Path temp;

  @Test
  void readsFieldsAfterACommandNameWithSpacesAndParentheses() throws IOException {
    Path stat = temp.resolve("stat");
    Files.writeString(stat, "4242 (a) b (c)) S 1 4240 4240 34816 4240 4194560 120 0\n");
    assertEquals(OptionalLong.of(1), TerminalGroup.field(stat, 4));
    assertEquals(OptionalLong.of(4240), TerminalGroup.field(stat, 5));
    assertEquals(OptionalLong.of(4240), TerminalGroup.field(stat, 8));
  }

  @Test
  void aMissingOrShortStatFileHasNoField() throws IOException {
    assertEquals(OptionalLong.empty(), TerminalGroup.field(temp.resolve("gone"), 5));
    Path stat = temp.resolve("stat");
    Files.writeString(stat, "4242 (x) S 1\n");
    assertEquals(OptionalLong.empty(), TerminalGroup.field(stat, 8));
    Files.writeString(stat, "no parentheses at all");
    assertEquals(OptionalLong.empty(), TerminalGroup.field(stat, 5));
  }

  @Test
  void aCommandInAnotherProcessGroupGetsNoKeyboardSignalsFromOurs() throws Exception {
    Process elsewhere = new ProcessBuilder("setsid", "sleep", "30").start();
    try {
      // setsid(1) forks when it leads a group already; wait until the sleep has its own session.
      long deadline = System.nanoTime() + 5_000_000_000L;
      while (TerminalGroup.field(Path.of("/proc", Long.toString(elsewhere.pid()), "stat"), 5)
              .orElse(0)
          != elsewhere.pid()) {
        if (System.nanoTime() > deadline) {
          throw new AssertionError("setsid did not make a new process group");
        }
        Thread.sleep(10);
      }
      assertFalse(TerminalGroup.reachesDirectly(elsewhere.pid()));
    } finally {
      elsewhere.destroy();
      elsewhere.waitFor();
    }
  }
}
