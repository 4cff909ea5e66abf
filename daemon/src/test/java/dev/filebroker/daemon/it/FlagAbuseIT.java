package dev.filebroker.daemon.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.filebroker.protocol.ErrorCode;
import dev.filebroker.protocol.ErrorReply;
import dev.filebroker.protocol.OpenFlags;
import dev.filebroker.protocol.OpenRequest;
import dev.filebroker.protocol.OpenedReply;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.ServerSocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * Raw open flags and file types a policy does not allow: each refused with its specific code,
 * before anything is created, truncated or opened for I/O. Needs root (mknod, the daemon).
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class FlagAbuseIT {
  private static final String CONTENT = "must stay exactly like this\n";
  private static final int O_DIRECT = 040000;
  private static final int O_SYNC = 04010000;
  private static final int O_NOATIME = 01000000;
  private static final int O_LARGEFILE = 0100000;
  private static final int O_ASYNC = 020000;

  private TestTree tree;
  private DaemonProcess daemon;
  private ServerSocketChannel socketFile;

  @BeforeAll
  void startDaemon() throws Exception {
    tree = new TestTree("filebroker-flags-");
    Path root = tree.root();
    tree.file("rw/target.txt", CONTENT, "rw-------");
    tree.file("dirok/target.txt", CONTENT, "rw-------");
    tree.dir("rw/sub");
    run("mknod", root.resolve("rw/chardev").toString(), "c", "1", "5"); // like /dev/zero
    run("mknod", root.resolve("rw/blockdev").toString(), "b", "7", "250"); // a loop device number
    run("mkfifo", root.resolve("rw/fifo").toString());
    socketFile = ServerSocketChannel.open(StandardProtocolFamily.UNIX);
    socketFile.bind(UnixDomainSocketAddress.of(root.resolve("rw/socket")));
    daemon =
        Daemons.start(
            tree,
            """
            [[allow]]
            name = "read-write-no-create-no-truncate"
            users = [0]
            paths = ["%1$s/rw/*"]
            access = ["read", "write"]

            [[allow]]
            name = "directories-too"
            users = [0]
            paths = ["%1$s/dirok", "%1$s/dirok/*"]
            access = ["read", "directory"]
            types = ["regular", "directory"]
            """
                .formatted(root),
            "");
  }

  @AfterAll
  void stopDaemon() throws Exception {
    try {
      if (daemon != null) {
        daemon.close();
      }
      if (socketFile != null) {
        socketFile.close();
      }
    } finally {
      if (tree != null) {
        tree.close();
      }
    }
  }

  private static void run(String... command) throws Exception {
    Command r = Command.run(List.of(command), "");
    assertEquals(0, r.exitCode(), String.join(" ", command) + ": " + r.stderr());
  }

  private String path(String relative) {
    return tree.root().resolve(relative).toString();
  }

  private ErrorReply refused(int flags, int mode, String relative) throws Exception {
    try (RawClient c = new RawClient(daemon.socket())) {
      c.send(new OpenRequest(7, flags, mode, path(relative)));
      var r = c.receive().orElseThrow();
      assertEquals(0, r.descriptors().size(), "a refusal carries no descriptor");
      return assertInstanceOf(ErrorReply.class, r.reply(), () -> "expected a refusal: " + r);
    }
  }

  @ParameterizedTest(name = "{0}")
  @CsvSource({
    "O_PATH,                         010000000, 0,    rw/target.txt, INVALID_FLAGS",
    "O_TMPFILE|O_RDWR on a dir,      020200002, 0600, rw/sub,        INVALID_FLAGS",
    "O_TMPFILE without O_DIRECTORY,  020000002, 0,    rw/sub,        INVALID_FLAGS",
    "O_TRUNC|O_RDONLY,               01000,     0,    rw/target.txt, INVALID_FLAGS",
    "O_APPEND|O_RDONLY,              02000,     0,    rw/target.txt, INVALID_FLAGS",
    "O_CREAT|O_RDONLY,               0100,      0600, rw/new.txt,    INVALID_FLAGS",
    "O_EXCL without O_CREAT,         0201,      0,    rw/target.txt, INVALID_FLAGS",
    "access mode 3,                  03,        0,    rw/target.txt, INVALID_FLAGS",
    "create mode without O_CREAT,    01,        0644, rw/target.txt, INVALID_FLAGS",
    "create mode above 07777,        0101,      010000, rw/new.txt,  INVALID_FLAGS",
    "O_DIRECTORY|O_WRONLY,           0200001,   0,    dirok,         INVALID_FLAGS",
    "O_DIRECT,                       040000,    0,    rw/target.txt, INVALID_FLAGS",
    "O_SYNC,                         04010000,  0,    rw/target.txt, INVALID_FLAGS",
    "O_NOATIME,                      01000000,  0,    rw/target.txt, INVALID_FLAGS",
    "O_LARGEFILE,                    0100000,   0,    rw/target.txt, INVALID_FLAGS",
    "O_ASYNC,                        020000,    0,    rw/target.txt, INVALID_FLAGS",
    "top bit,                        -2147483648, 0,  rw/target.txt, INVALID_FLAGS",
    "O_CREAT without create grant,   0101,      0600, rw/new.txt,    DENIED",
    "O_CREAT on existing file without create grant, 0101, 0600, rw/target.txt, DENIED",
    "O_TRUNC without truncate grant, 01001,     0,    rw/target.txt, DENIED",
    "O_TRUNC|O_RDWR without truncate grant, 01002, 0, rw/target.txt, DENIED",
    "O_DIRECTORY under a regular-only rule, 0200000, 0, rw/sub,      DENIED",
    "O_DIRECTORY on a file,          0200000,   0,    dirok/target.txt, NOT_A_DIRECTORY",
    "directory under a regular-only rule, 0,    0,    rw/sub,        WRONG_FILE_TYPE",
    "character device,               0,         0,    rw/chardev,    WRONG_FILE_TYPE",
    "character device for writing,   01,        0,    rw/chardev,    WRONG_FILE_TYPE",
    "block device,                   0,         0,    rw/blockdev,   WRONG_FILE_TYPE",
    "FIFO,                           0,         0,    rw/fifo,       WRONG_FILE_TYPE",
    "FIFO for writing,               01,        0,    rw/fifo,       WRONG_FILE_TYPE",
    "socket,                         02,        0,    rw/socket,     WRONG_FILE_TYPE",
  })
  void refusesWithItsSpecificCodeAndTouchesNothing(
      String name, int flags, int mode, String relative, ErrorCode expected) throws Exception {
    Path target = tree.root().resolve("rw/target.txt");
    FileTime before = Files.getLastModifiedTime(target);
    assertTimeoutPreemptively(
        Duration.ofSeconds(10),
        () -> {
          ErrorReply error = refused(flags, mode, relative);
          assertEquals(expected.code(), error.code(), name + ": " + error);
        });
    assertEquals(CONTENT, Files.readString(target), name + ": target content");
    assertEquals(before, Files.getLastModifiedTime(target), name + ": target mtime");
    assertFalse(Files.exists(tree.root().resolve("rw/new.txt")), name + ": nothing created");
  }

  @Test
  void grantedReadWriteOpensAsControl() throws Exception {
    try (RawClient c = new RawClient(daemon.socket())) {
      var r = c.open(1, OpenFlags.O_RDWR, path("rw/target.txt"));
      assertInstanceOf(OpenedReply.class, r.reply());
      assertEquals(OpenFlags.O_RDWR, Fds.openFlags(r.descriptors().get(0)) & OpenFlags.O_ACCMODE);
      RawClient.close(r.descriptors());
    }
    assertEquals(CONTENT, Files.readString(tree.root().resolve("rw/target.txt")));
  }

  /**
   * The daemon looks at special files only through O_PATH descriptors, which raise no inotify
   * event; a real open (which could block on a FIFO or act on a device) raises IN_OPEN. A blocked
   * FIFO writer proves no reader ever opened the FIFO.
   */
  @Test
  void neverOpensDevicesOrFifosForIo() throws Exception {
    Path watcher = Path.of(FlagAbuseIT.class.getResource("inotify_watch.py").toURI());
    Process watch =
        new ProcessBuilder(
                "/usr/bin/python3",
                watcher.toString(),
                path("rw/chardev"),
                path("rw/blockdev"),
                path("rw/fifo"))
            .redirectErrorStream(true)
            .start();
    Process writer =
        new ProcessBuilder(
                "/usr/bin/python3",
                "-c",
                "import sys; open(sys.argv[1], 'wb'); print('OPENED')",
                path("rw/fifo"))
            .redirectErrorStream(true)
            .start();
    try {
      BufferedReader out =
          new BufferedReader(new InputStreamReader(watch.getInputStream(), StandardCharsets.UTF_8));
      assertEquals("READY", out.readLine());
      assertTimeoutPreemptively(
          Duration.ofSeconds(10),
          () -> {
            for (String file : List.of("rw/chardev", "rw/blockdev", "rw/fifo")) {
              for (int flags :
                  new int[] {OpenFlags.O_RDONLY, OpenFlags.O_WRONLY, OpenFlags.O_RDWR}) {
                assertEquals(ErrorCode.WRONG_FILE_TYPE.code(), refused(flags, 0, file).code());
                assertEquals(
                    ErrorCode.WRONG_FILE_TYPE.code(),
                    refused(flags | OpenFlags.O_NONBLOCK, 0, file).code());
              }
            }
          });
      Thread.sleep(300);
      watch.getOutputStream().close();
      assertTrue(watch.waitFor(10, TimeUnit.SECONDS));
      String events = new String(watch.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
      assertEquals("DONE", events.strip(), "inotify events on the special files: " + events);
      assertTrue(writer.isAlive(), "the FIFO writer must still wait for a reader");
    } finally {
      watch.destroyForcibly();
      writer.destroyForcibly();
    }
  }
}
