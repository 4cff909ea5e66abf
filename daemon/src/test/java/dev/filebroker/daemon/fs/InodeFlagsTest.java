package dev.filebroker.daemon.fs;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.filebroker.daemon.policy.FileType;
import dev.filebroker.protocol.OpenFlags;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Needs root (chattr +a). */
class InodeFlagsTest {
  @TempDir Path dir;

  private OpenedFile open(Path p, int flags) throws IOException {
    try (FileOpener opener = FileOpener.create()) {
      var o =
          opener.open(
              p.toRealPath().toString(), new OpenSpec(flags, 0, Set.of(FileType.REGULAR), false));
      return assertInstanceOf(OpenOutcome.Opened.class, o, o.toString()).file();
    }
  }

  private static int run(String... command) throws IOException, InterruptedException {
    return new ProcessBuilder(command).inheritIO().start().waitFor();
  }

  @Test
  void seesTheAppendOnlyAttribute() throws Exception {
    Path log = Files.writeString(dir.resolve("log"), "x");
    try (OpenedFile f = open(log, OpenFlags.O_RDONLY)) {
      assumeTrue(InodeFlags.of(f).isPresent(), "file system without inode flags");
      assertEquals(0, InodeFlags.of(f).getAsInt() & InodeFlags.FS_APPEND_FL);
      assertFalse(f.stat().appendOnly());
    }
    assertEquals(0, run("chattr", "+a", log.toString()));
    try {
      try (OpenedFile f = open(log, OpenFlags.O_RDONLY)) {
        assertTrue((InodeFlags.of(f).getAsInt() & InodeFlags.FS_APPEND_FL) != 0);
        assertTrue(f.stat().appendOnly(), "statx reports STATX_ATTR_APPEND");
      }
    } finally {
      run("chattr", "-a", log.toString());
    }
  }
}
