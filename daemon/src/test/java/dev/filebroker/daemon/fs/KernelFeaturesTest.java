package dev.filebroker.daemon.fs;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.filebroker.daemon.policy.FileType;
import dev.filebroker.protocol.OpenFlags;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Set;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The start-up probe of OPENAT2_REGULAR and O_EMPTYPATH: it selects the fallback on a kernel that
 * lacks them and is not fooled by a flag that the kernel accepts but that does something else.
 * Needs /proc; the kernel-version tests run only before Linux 7.2.
 */
class KernelFeaturesTest {
  private static final NativeFlags FLAGS = NativeFlags.host();

  @TempDir Path temp;
  private int root;

  @BeforeEach
  void openRoot() {
    root =
        LibC.openat2(
            LibC.AT_FDCWD, "/", NativeFlags.O_PATH | FLAGS.directory | NativeFlags.O_CLOEXEC, 0, 0);
    assertTrue(root >= 0, "open /: " + Errno.name(-root));
  }

  @AfterEach
  void closeRoot() {
    Descriptors.close(root);
  }

  /** Whether the running kernel is older than 7.2 (os.version is uname -r). */
  private static boolean before72() {
    String[] parts = System.getProperty("os.version").split("[.-]");
    int major = Integer.parseInt(parts[0]);
    int minor = Integer.parseInt(parts[1]);
    return major < 7 || (major == 7 && minor < 2);
  }

  private static long openDescriptors() throws IOException {
    try (var fds = Files.list(Path.of("/proc/self/fd"))) {
      return fds.count();
    }
  }

  @Test
  void theStartUpLineNamesThePathEachCombinationTakes() {
    KernelFeatures both =
        new KernelFeatures(KernelFeatures.OPENAT2_REGULAR, KernelFeatures.O_EMPTYPATH);
    assertEquals(
        "OPENAT2_REGULAR found (regular-only rules: one openat2),"
            + " O_EMPTYPATH found (reopen without procfs)",
        both.describe(false));
    assertEquals(
        "OPENAT2_REGULAR found, not used (casefold directories possible: parent checked first),"
            + " O_EMPTYPATH found (reopen without procfs)",
        both.describe(true));
    assertEquals(
        "OPENAT2_REGULAR absent (regular-only rules: O_PATH handle, statx, reopen),"
            + " O_EMPTYPATH absent (reopen through /proc/self/fd)",
        KernelFeatures.NONE.describe(false));
  }

  @Test
  void theRunningOpenerReportsWhatItProbed() throws Exception {
    try (FileOpener opener = FileOpener.create(false)) {
      assertEquals(opener.features().describe(false), opener.openPath());
      assertEquals(
          before72(), opener.openPath().startsWith("OPENAT2_REGULAR absent"), opener.openPath());
    }
  }

  @Test
  void anOlderKernelAnswersBothFlagsWithEinval() {
    assumeTrue(before72(), "a kernel before 7.2");
    long flags = NativeFlags.O_RDONLY | NativeFlags.O_CLOEXEC;
    assertEquals(
        "EINVAL",
        Errno.name(-LibC.openat2(root, ".", flags | KernelFeatures.OPENAT2_REGULAR, 0, 0)));
    assertEquals(
        "EINVAL", Errno.name(-LibC.openat2(root, "", flags | KernelFeatures.O_EMPTYPATH, 0, 0)));
  }

  @Test
  void anOlderKernelGetsTheFallbackAndItStillOpensOnlyPermittedTypes() throws Exception {
    assumeTrue(before72(), "a kernel before 7.2");
    assertEquals(KernelFeatures.NONE, KernelFeatures.probe(root));
    Path fifo = temp.toRealPath().resolve("fifo");
    assertEquals(0, new ProcessBuilder("mkfifo", fifo.toString()).start().waitFor());
    try (FileOpener opener = FileOpener.create()) {
      assertEquals(KernelFeatures.NONE, opener.features());
      // A regular-only spec without guards: on 7.2 the one-openat2 path, here the O_PATH one.
      OpenOutcome outcome =
          opener.open(
              fifo.toString(),
              new OpenSpec(OpenFlags.O_RDONLY, 0, Set.of(FileType.REGULAR), false));
      assertEquals(new OpenOutcome.WrongType(FileType.FIFO), outcome);
      Path file = Files.writeString(temp.toRealPath().resolve("file"), "x");
      var opened =
          opener.open(
              file.toString(),
              new OpenSpec(OpenFlags.O_RDONLY, 0, Set.of(FileType.REGULAR), false));
      try (OpenedFile f = ((OpenOutcome.Opened) opened).file()) {
        assertEquals(1, f.stat().size());
      }
    }
  }

  @Test
  void aFlagThatOpensADirectoryIsNotTakenForOpenat2Regular() throws IOException {
    long before = openDescriptors();
    assertFalse(KernelFeatures.refusesAllButRegularFiles(root, 0), "no flag at all");
    assertFalse(KernelFeatures.refusesAllButRegularFiles(root, FLAGS.directory), "O_DIRECTORY");
    assertFalse(KernelFeatures.refusesAllButRegularFiles(root, NativeFlags.O_NOCTTY), "O_NOCTTY");
    assertEquals(before, openDescriptors(), "the probe leaves no descriptor open");
  }

  @Test
  void aFlagThatDoesNotReopenTheHandleIsNotTakenForOEmptypath() throws IOException {
    long before = openDescriptors();
    assertFalse(KernelFeatures.reopensAnEmptyPath(0), "no flag at all: ENOENT");
    assertFalse(KernelFeatures.reopensAnEmptyPath(NativeFlags.O_PATH), "O_PATH");
    // AT_EMPTY_PATH's value (0x1000) is O_DSYNC among open flags: accepted, and no empty path.
    assertFalse(KernelFeatures.reopensAnEmptyPath(LibC.AT_EMPTY_PATH), "AT_EMPTY_PATH");
    assertEquals(before, openDescriptors(), "the probe leaves no descriptor open");
  }
}
