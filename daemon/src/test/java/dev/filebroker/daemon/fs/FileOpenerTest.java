package dev.filebroker.daemon.fs;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.sun.jna.Library;
import com.sun.jna.Native;
import dev.filebroker.daemon.policy.FileType;
import dev.filebroker.protocol.OpenFlags;
import java.io.File;
import java.io.FileInputStream;
import java.io.FileOutputStream;
import java.io.IOException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.ServerSocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.EnumSet;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Opens real files under a temporary directory. Runs as root (CI does): it creates a device node
 * with mknod and relies on root's view of /proc.
 */
class FileOpenerTest {
  private static final Duration QUICK = Duration.ofSeconds(5);
  private static final Set<FileType> REGULAR_ONLY = EnumSet.of(FileType.REGULAR);

  @TempDir Path temp;
  private Path dir;
  private FileOpener opener;

  @BeforeEach
  void openRoot() throws IOException {
    dir = temp.toRealPath();
    opener = FileOpener.create();
  }

  @AfterEach
  void closeRoot() {
    opener.close();
  }

  private static OpenSpec spec(int wireFlags, Set<FileType> types) {
    return new OpenSpec(wireFlags, 0600, types, false);
  }

  private static OpenedFile opened(OpenOutcome outcome) {
    return assertInstanceOf(OpenOutcome.Opened.class, outcome, "expected an open file").file();
  }

  private static void assertFailed(int errno, OpenOutcome outcome) {
    OpenOutcome.Failed failed = assertInstanceOf(OpenOutcome.Failed.class, outcome);
    assertEquals(Errno.name(errno), Errno.name(failed.errno()), "errno of " + failed);
  }

  private static byte[] readAll(OpenedFile file) throws IOException {
    int copy = LibC.dup(file.fd());
    assertTrue(copy >= 0, "dup failed: " + Errno.name(-copy));
    try (FileInputStream in = new FileInputStream(Descriptors.wrap(copy))) {
      return in.readAllBytes();
    }
  }

  private static void mkfifo(Path path) throws IOException, InterruptedException {
    Process process = new ProcessBuilder("mkfifo", path.toString()).inheritIO().start();
    assertEquals(0, process.waitFor(), "mkfifo " + path);
  }

  /**
   * A private null device (char 1,3) in the temporary directory. The tests do not rely on the
   * machine's /dev/null: other test suites sharing the machine may replace it.
   */
  private Path nullDevice() throws IOException, InterruptedException {
    Path node = dir.resolve("null");
    Process process =
        new ProcessBuilder("mknod", "-m", "666", node.toString(), "c", "1", "3")
            .inheritIO()
            .start();
    assertEquals(0, process.waitFor(), "mknod " + node + " (needs root)");
    return node;
  }

  @Test
  void readsRegularFileThroughDescriptor() throws IOException {
    Path file = Files.writeString(dir.resolve("data"), "hello");
    try (OpenedFile opened =
        opened(opener.open(file.toString(), spec(OpenFlags.O_RDONLY, REGULAR_ONLY)))) {
      assertEquals(FileType.REGULAR, opened.stat().type());
      assertEquals(5, opened.stat().size());
      assertArrayEquals("hello".getBytes(StandardCharsets.US_ASCII), readAll(opened));
      assertEquals(NativeFlags.O_RDONLY, LibC.getStatusFlags(opened.fd()) & NativeFlags.O_ACCMODE);
    }
  }

  @Test
  void theCaseCheckAsksFstatfsOncePerMount() throws IOException {
    Path file = Files.writeString(dir.resolve("data"), "hello");
    try (OpenedFile first =
        opened(opener.open(file.toString(), spec(OpenFlags.O_RDONLY, REGULAR_ONLY)))) {
      FileStat stat = first.stat();
      assumeTrue(stat.mountIdUnique(), "STATX_MNT_ID_UNIQUE needs Linux 6.8");
      long type = LibC.fileSystemType(first.fd());
      assumeTrue(
          FileSystemTypes.FIXED.contains(type) && LibC.superblockMagic(stat.mountId()) == type,
          "a file system whose type is remembered");
    }
    for (int i = 0; i < 4; i++) {
      try (OpenedFile again =
          opened(opener.open(file.toString(), spec(OpenFlags.O_RDONLY, REGULAR_ONLY)))) {
        assertEquals(FileType.REGULAR, again.stat().type());
      }
    }
    assertEquals(1, opener.fileSystemTypeCalls(), "five opens on one mount, one fstatfs");
  }

  @Test
  void statMatchesTheFile() throws IOException {
    Path file = Files.writeString(dir.resolve("data"), "abc");
    try (OpenedFile opened =
        opened(opener.open(file.toString(), spec(OpenFlags.O_RDONLY, REGULAR_ONLY)))) {
      assertEquals(Files.getAttribute(file, "unix:ino"), opened.stat().inode());
      assertEquals(Files.getAttribute(file, "unix:dev"), opened.stat().device());
      assertEquals(Files.getAttribute(file, "unix:mode"), opened.stat().mode());
      assertEquals(1L, opened.stat().linkCount());
    }
  }

  @Test
  void theParentFirstPathOfCasefoldKernelsOpensAndRefusesLikeTheOther() throws Exception {
    // This kernel cannot casefold; the check is forced on to run the parent-first resolution.
    Path file = Files.writeString(dir.resolve("data"), "hello");
    Path real = Files.createDirectory(dir.resolve("real"));
    Path link = Files.createSymbolicLink(dir.resolve("link"), real);
    try (FileOpener checking = FileOpener.create(true)) {
      try (OpenedFile opened =
          opened(checking.open(file.toString(), spec(OpenFlags.O_RDONLY, REGULAR_ONLY)))) {
        assertArrayEquals("hello".getBytes(StandardCharsets.US_ASCII), readAll(opened));
      }
      assertFailed(
          Errno.ENOENT,
          checking.open(dir.resolve("missing").toString(), spec(OpenFlags.O_RDONLY, REGULAR_ONLY)));
      assertFailed(
          Errno.ELOOP,
          checking.open(link.resolve("x").toString(), spec(OpenFlags.O_RDONLY, REGULAR_ONLY)));
      assertEquals(
          new OpenOutcome.WrongType(FileType.DIRECTORY),
          checking.open(real.toString(), spec(OpenFlags.O_RDONLY, REGULAR_ONLY)));
    }
  }

  @Test
  void aGuardRefusalComesBeforeTheOpenAndTheTruncation() throws IOException {
    Path file = Files.writeString(dir.resolve("data"), "keep");
    List<FileStat> seen = new ArrayList<>();
    OpenGuard refuseAll =
        stat -> {
          seen.add(stat);
          return java.util.Optional.of(
              new Refusal(dev.filebroker.protocol.ErrorCode.CONSTRAINT_FAILED, 0, "no"));
        };
    OpenSpec spec =
        new OpenSpec(
            OpenFlags.O_WRONLY | OpenFlags.O_TRUNC,
            0,
            REGULAR_ONLY,
            false,
            refuseAll,
            java.util.Optional.empty());
    assertInstanceOf(OpenOutcome.Refused.class, opener.open(file.toString(), spec));
    assertEquals(1, seen.size(), "decided once, on the O_PATH handle");
    assertEquals(4, seen.get(0).size());
    assertEquals("keep", Files.readString(file));
  }

  @Test
  void refusesSymlinkAsLastComponent() throws IOException {
    Path target = Files.writeString(dir.resolve("target"), "secret");
    Path link = Files.createSymbolicLink(dir.resolve("link"), target);
    assertFailed(Errno.ELOOP, opener.open(link.toString(), spec(OpenFlags.O_RDONLY, REGULAR_ONLY)));
    assertFailed(
        Errno.ELOOP,
        opener.open(link.toString(), spec(OpenFlags.O_RDONLY, EnumSet.allOf(FileType.class))));
  }

  @Test
  void refusesSymlinkedDirectoryComponent() throws IOException {
    Path real = Files.createDirectory(dir.resolve("real"));
    Files.writeString(real.resolve("file"), "x");
    Path link = Files.createSymbolicLink(dir.resolve("link"), real);
    assertFailed(
        Errno.ELOOP,
        opener.open(link.resolve("file").toString(), spec(OpenFlags.O_RDONLY, REGULAR_ONLY)));
  }

  @Test
  void reportsMissingFile() {
    assertFailed(
        Errno.ENOENT,
        opener.open(dir.resolve("missing").toString(), spec(OpenFlags.O_RDONLY, REGULAR_ONLY)));
  }

  @Test
  void returnsWrongTypeForDirectory() {
    OpenOutcome outcome = opener.open(dir.toString(), spec(OpenFlags.O_RDONLY, REGULAR_ONLY));
    assertEquals(new OpenOutcome.WrongType(FileType.DIRECTORY), outcome);
  }

  @Test
  void returnsWrongTypeForFifoWithoutBlocking() throws Exception {
    Path fifo = dir.resolve("fifo");
    mkfifo(fifo);
    OpenOutcome outcome =
        assertTimeoutPreemptively(
            QUICK,
            () -> opener.open(fifo.toString(), spec(OpenFlags.O_RDONLY, REGULAR_ONLY)),
            "a FIFO without a writer must not block the type check");
    assertEquals(new OpenOutcome.WrongType(FileType.FIFO), outcome);
  }

  @Test
  void opensAllowedFifoWithoutWriterInBlockingMode() throws Exception {
    Path fifo = dir.resolve("fifo");
    mkfifo(fifo);
    OpenOutcome outcome =
        assertTimeoutPreemptively(
            QUICK,
            () -> opener.open(fifo.toString(), spec(OpenFlags.O_RDONLY, EnumSet.of(FileType.FIFO))),
            "opening a FIFO for reading must not wait for a writer");
    try (OpenedFile opened = opened(outcome)) {
      assertEquals(FileType.FIFO, opened.stat().type());
      assertEquals(0, LibC.getStatusFlags(opened.fd()) & NativeFlags.O_NONBLOCK);
    }
  }

  @Test
  void returnsWrongTypeForSocketFile() throws IOException {
    Path socket = dir.resolve("socket");
    try (ServerSocketChannel server = ServerSocketChannel.open(StandardProtocolFamily.UNIX)) {
      server.bind(UnixDomainSocketAddress.of(socket));
      assertEquals(
          new OpenOutcome.WrongType(FileType.SOCKET),
          opener.open(socket.toString(), spec(OpenFlags.O_RDWR, REGULAR_ONLY)));
    }
  }

  @Test
  void returnsWrongTypeForCharDeviceNotAllowed() throws Exception {
    assertEquals(
        new OpenOutcome.WrongType(FileType.CHAR_DEVICE),
        opener.open(nullDevice().toString(), spec(OpenFlags.O_RDWR, REGULAR_ONLY)));
  }

  @Test
  void opensCharDeviceWhenAllowed() throws Exception {
    try (OpenedFile opened =
        opened(
            opener.open(
                nullDevice().toString(),
                spec(OpenFlags.O_RDWR, EnumSet.of(FileType.CHAR_DEVICE))))) {
      assertEquals(FileType.CHAR_DEVICE, opened.stat().type());
      assertArrayEquals(new byte[0], readAll(opened));
    }
  }

  @Test
  void opensRootDirectory() {
    try (OpenedFile opened =
        opened(
            opener.open(
                "/",
                spec(
                    OpenFlags.O_RDONLY | OpenFlags.O_DIRECTORY, EnumSet.of(FileType.DIRECTORY))))) {
      assertEquals(FileType.DIRECTORY, opened.stat().type());
    }
  }

  @Test
  void directoryFlagRefusesRegularFile() throws IOException {
    Path file = Files.writeString(dir.resolve("data"), "x");
    assertFailed(
        Errno.ENOTDIR,
        opener.open(
            file.toString(),
            spec(OpenFlags.O_RDONLY | OpenFlags.O_DIRECTORY, EnumSet.allOf(FileType.class))));
  }

  @Test
  void directoryFlagNeedsDirectoryAllowed() {
    assertEquals(
        new OpenOutcome.WrongType(FileType.DIRECTORY),
        opener.open(
            dir.toString(), spec(OpenFlags.O_RDONLY | OpenFlags.O_DIRECTORY, REGULAR_ONLY)));
  }

  @Test
  void createsFileWithExactModeWhateverTheUmask() throws IOException {
    Path file = dir.resolve("new");
    OpenSpec spec = new OpenSpec(OpenFlags.O_WRONLY | OpenFlags.O_CREAT, 0666, REGULAR_ONLY, false);
    try (OpenedFile opened = opened(opener.open(file.toString(), spec))) {
      assertEquals(0666, opened.stat().mode() & 07777);
    }
    assertEquals(PosixFilePermissions.fromString("rw-rw-rw-"), Files.getPosixFilePermissions(file));
  }

  @Test
  void createsFileWithRestrictiveMode() throws IOException {
    Path file = dir.resolve("new");
    OpenSpec spec = new OpenSpec(OpenFlags.O_RDWR | OpenFlags.O_CREAT, 0600, REGULAR_ONLY, false);
    try (OpenedFile opened = opened(opener.open(file.toString(), spec))) {
      assertEquals(FileType.REGULAR, opened.stat().type());
    }
    assertEquals(PosixFilePermissions.fromString("rw-------"), Files.getPosixFilePermissions(file));
  }

  @Test
  void createExclusiveOnExistingFileFails() throws IOException {
    Path file = Files.writeString(dir.resolve("data"), "keep");
    assertFailed(
        Errno.EEXIST,
        opener.open(
            file.toString(),
            spec(OpenFlags.O_WRONLY | OpenFlags.O_CREAT | OpenFlags.O_EXCL, REGULAR_ONLY)));
    assertEquals("keep", Files.readString(file));
  }

  @Test
  void createOpensExistingFile() throws IOException {
    Path file = Files.writeString(dir.resolve("data"), "keep");
    try (OpenedFile opened =
        opened(
            opener.open(
                file.toString(), spec(OpenFlags.O_RDWR | OpenFlags.O_CREAT, REGULAR_ONLY)))) {
      assertArrayEquals("keep".getBytes(StandardCharsets.US_ASCII), readAll(opened));
    }
  }

  @Test
  void createOnExistingFifoDoesNotOpenIt() throws Exception {
    Path fifo = dir.resolve("fifo");
    mkfifo(fifo);
    OpenOutcome outcome =
        assertTimeoutPreemptively(
            QUICK,
            () ->
                opener.open(
                    fifo.toString(), spec(OpenFlags.O_WRONLY | OpenFlags.O_CREAT, REGULAR_ONLY)),
            "O_CREAT on a FIFO must not open it for I/O");
    assertEquals(new OpenOutcome.WrongType(FileType.FIFO), outcome);
  }

  @Test
  void createOnSymlinkFailsWithoutTouchingTarget() throws IOException {
    Path target = dir.resolve("target");
    Path link = Files.createSymbolicLink(dir.resolve("link"), target);
    assertFailed(
        Errno.ELOOP,
        opener.open(link.toString(), spec(OpenFlags.O_WRONLY | OpenFlags.O_CREAT, REGULAR_ONLY)));
    assertTrue(Files.notExists(target), "the symlink's target must not be created");
  }

  @Test
  void createUnderSymlinkedDirectoryFails() throws IOException {
    Path real = Files.createDirectory(dir.resolve("real"));
    Path link = Files.createSymbolicLink(dir.resolve("link"), real);
    assertFailed(
        Errno.ELOOP,
        opener.open(
            link.resolve("new").toString(),
            spec(OpenFlags.O_WRONLY | OpenFlags.O_CREAT, REGULAR_ONLY)));
    assertTrue(Files.notExists(real.resolve("new")));
  }

  @Test
  void createRefusedWhenRegularFilesNotAllowed() {
    Path file = dir.resolve("new");
    assertEquals(
        new OpenOutcome.WrongType(FileType.REGULAR),
        opener.open(
            file.toString(),
            spec(OpenFlags.O_WRONLY | OpenFlags.O_CREAT, EnumSet.of(FileType.DIRECTORY))));
    assertTrue(Files.notExists(file));
  }

  @Test
  void truncatesOnlyAfterTypeCheck() throws IOException {
    Path file = Files.writeString(dir.resolve("data"), "hello");
    int flags = OpenFlags.O_WRONLY | OpenFlags.O_TRUNC;
    assertEquals(
        new OpenOutcome.WrongType(FileType.REGULAR),
        opener.open(file.toString(), spec(flags, EnumSet.of(FileType.CHAR_DEVICE))));
    assertEquals("hello", Files.readString(file), "a refused open must not truncate");
    try (OpenedFile opened = opened(opener.open(file.toString(), spec(flags, REGULAR_ONLY)))) {
      assertEquals(0, opened.stat().size());
    }
    assertEquals(0, Files.size(file));
  }

  @Test
  void writesThroughWriteOnlyDescriptor() throws IOException {
    Path file = Files.writeString(dir.resolve("data"), "");
    try (OpenedFile opened =
        opened(opener.open(file.toString(), spec(OpenFlags.O_WRONLY, REGULAR_ONLY)))) {
      assertEquals(NativeFlags.O_WRONLY, LibC.getStatusFlags(opened.fd()) & NativeFlags.O_ACCMODE);
      int copy = LibC.dup(opened.fd());
      try (FileOutputStream out = new FileOutputStream(Descriptors.wrap(copy))) {
        out.write("written".getBytes(StandardCharsets.US_ASCII));
      }
    }
    assertEquals("written", Files.readString(file));
  }

  @Test
  void keepsAppendFlag() throws IOException {
    Path file = Files.writeString(dir.resolve("data"), "ab");
    try (OpenedFile opened =
        opened(
            opener.open(
                file.toString(), spec(OpenFlags.O_WRONLY | OpenFlags.O_APPEND, REGULAR_ONLY)))) {
      assertNotEquals(0, LibC.getStatusFlags(opened.fd()) & NativeFlags.O_APPEND);
    }
  }

  @Test
  void restoresBlockingModeUnlessRequested() throws IOException {
    Path file = Files.writeString(dir.resolve("data"), "x");
    try (OpenedFile opened =
        opened(opener.open(file.toString(), spec(OpenFlags.O_RDONLY, REGULAR_ONLY)))) {
      assertEquals(0, LibC.getStatusFlags(opened.fd()) & NativeFlags.O_NONBLOCK);
    }
    try (OpenedFile opened =
        opened(
            opener.open(
                file.toString(), spec(OpenFlags.O_RDONLY | OpenFlags.O_NONBLOCK, REGULAR_ONLY)))) {
      assertNotEquals(0, LibC.getStatusFlags(opened.fd()) & NativeFlags.O_NONBLOCK);
    }
  }

  @Test
  void closeOfOpenedFileIsIdempotent() throws IOException {
    Path file = Files.writeString(dir.resolve("data"), "x");
    int before = Descriptors.openDescriptorCount();
    OpenedFile opened =
        opened(opener.open(file.toString(), spec(OpenFlags.O_RDONLY, REGULAR_ONLY)));
    assertEquals(before + 1, Descriptors.openDescriptorCount());
    opened.close();
    opened.close();
    assertTrue(opened.isClosed());
    assertEquals(before, Descriptors.openDescriptorCount());
  }

  @Test
  void noCrossMountsRefusesProcAndDev() {
    OpenSpec anyType = new OpenSpec(OpenFlags.O_RDONLY, 0, EnumSet.allOf(FileType.class), true);
    assertFailed(Errno.EXDEV, opener.open("/proc/version", anyType));
    assertFailed(Errno.EXDEV, opener.open("/dev/null", anyType));
  }

  /** getrlimit/setrlimit, to run out of descriptors on purpose. */
  interface Limits extends Library {
    Limits C = Native.load("c", Limits.class);
    int RLIMIT_NOFILE = 7;

    int getrlimit(int resource, long[] limit);

    int setrlimit(int resource, long[] limit);
  }

  @Test
  void reportsDescriptorExhaustionAsFailure() throws IOException {
    Path file = Files.writeString(dir.resolve("data"), "x");
    OpenSpec spec = spec(OpenFlags.O_RDONLY, REGULAR_ONLY);
    // Load and link everything the opener uses before descriptors run out (class files need them).
    opened(opener.open(file.toString(), spec)).close();
    opener.open(dir.resolve("missing").toString(), spec);
    int before = Descriptors.openDescriptorCount();
    long[] saved = new long[2];
    assertEquals(0, Limits.C.getrlimit(Limits.RLIMIT_NOFILE, saved));
    String[] entries = new File("/proc/self/fd").list();
    int highest = Arrays.stream(entries).mapToInt(Integer::parseInt).max().orElseThrow();
    List<Integer> fillers = new ArrayList<>();
    OpenOutcome exhausted;
    OpenOutcome oneLeft;
    try {
      assertEquals(
          0, Limits.C.setrlimit(Limits.RLIMIT_NOFILE, new long[] {highest + 1L, saved[1]}));
      for (int fd = LibC.dup(0); fd >= 0; fd = LibC.dup(0)) {
        fillers.add(fd);
      }
      exhausted = opener.open(file.toString(), spec);
      Descriptors.close(fillers.remove(fillers.size() - 1)); // room for the O_PATH descriptor only
      oneLeft = opener.open(file.toString(), spec);
    } finally {
      fillers.forEach(Descriptors::close);
      Limits.C.setrlimit(Limits.RLIMIT_NOFILE, saved);
    }
    assertEquals(new OpenOutcome.Failed(Errno.EMFILE, FileOpener.OPENAT2), exhausted);
    assertEquals(new OpenOutcome.Failed(Errno.EMFILE, FileOpener.REOPEN), oneLeft);
    assertEquals(before, Descriptors.openDescriptorCount(), "descriptors leaked");
  }

  @Test
  void leavesNoDescriptorsAfterManyOpens() throws Exception {
    Path file = Files.writeString(dir.resolve("data"), "x");
    Path link = Files.createSymbolicLink(dir.resolve("link"), file);
    Path fifo = dir.resolve("fifo");
    mkfifo(fifo);
    String[] paths = {
      file.toString(),
      link.toString(),
      fifo.toString(),
      dir.resolve("missing").toString(),
      dir.toString(),
      dir.resolve("created").toString()
    };
    int[] flags = {OpenFlags.O_RDONLY, OpenFlags.O_RDWR | OpenFlags.O_CREAT, OpenFlags.O_WRONLY};
    Path device = nullDevice();
    OpenSpec deviceSpec = spec(OpenFlags.O_RDONLY, EnumSet.of(FileType.CHAR_DEVICE));
    int before = Descriptors.openDescriptorCount();
    int opened = 0;
    for (int i = 0; i < 1000; i++) {
      // Only paths under the temporary directory are opened with O_CREAT.
      OpenOutcome outcome =
          i % 7 == 6
              ? opener.open(device.toString(), deviceSpec)
              : opener.open(paths[i % paths.length], spec(flags[i % flags.length], REGULAR_ONLY));
      if (outcome instanceof OpenOutcome.Opened(OpenedFile file1)) {
        opened++;
        file1.close();
      }
    }
    assertTrue(opened > 0, "some opens must succeed");
    assertEquals(before, Descriptors.openDescriptorCount(), "descriptors leaked");
  }
}
