package dev.filebroker.daemon.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/**
 * Nothing with a side effect happens before the decision is final: a request a rule's guard refuses
 * leaves the file as it was (no truncation), and a create that fails or is refused at any step
 * leaves no file behind. A real daemon; the client runs as nobody (uid 65534) through the Python
 * example client. Needs root (setpriv, chown, ln, mount, unshare).
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class SideEffectsIT {
  private static final int NOBODY = 65534;
  private static final int SHARED_GID = 4242;
  private static final String CONTENT = "must survive\n";
  private static final Duration TIMEOUT = Duration.ofSeconds(60);

  /**
   * Clones {@code argv[1]} as an idmapped mount on {@code argv[2]} with the mapping of the user
   * namespace {@code argv[3]} (open_tree, mount_setattr(MOUNT_ATTR_IDMAP), move_mount).
   */
  private static final String IDMAP_MOUNT =
      """
      import ctypes, os, sys
      libc = ctypes.CDLL(None, use_errno=True)
      def check(r, what):
          if r < 0:
              e = ctypes.get_errno()
              raise OSError(e, what + ": " + os.strerror(e))
          return r
      tree = check(libc.syscall(428, -100, sys.argv[1].encode(), 1 | os.O_CLOEXEC), "open_tree")
      userns = os.open(sys.argv[3], os.O_RDONLY | os.O_CLOEXEC)
      attr = (ctypes.c_uint64 * 4)(0x00100000, 0, 0, userns)
      check(libc.syscall(442, tree, b"", 0x1000, ctypes.byref(attr), 32), "mount_setattr")
      check(libc.syscall(429, tree, b"", -100, sys.argv[2].encode(), 0x4), "move_mount")
      """;

  private TestTree tree;
  private DaemonProcess daemon;
  private Path client;

  @BeforeAll
  void startDaemon() throws Exception {
    tree = new TestTree("filebroker-side-effects-");
    tree.dir("owned");
    tree.dir("linked");
    tree.dir("made");
    tree.dir("excl");
    tree.dir("logs");
    tree.dir("idsrc");
    tree.dir("idmapped");
    Path sgid = tree.dir("sgid");
    run("chown", "0:" + SHARED_GID, sgid.toString());
    run("chmod", "2775", sgid.toString());
    client = tree.executable(DaemonProcess.home().resolve("examples/python/fbopen.py"));
    daemon =
        Daemons.start(
            tree,
            """
            [[allow]]
            name = "own-files"
            users = [65534]
            paths = ["%1$s/owned/*"]
            access = ["write", "truncate"]
            owner = "requester"

            [[allow]]
            name = "single-link"
            users = [65534]
            paths = ["%1$s/linked/*"]
            access = ["write", "truncate"]
            max_links = 1

            [[allow]]
            name = "creates"
            users = [65534]
            paths = ["%1$s/made/*", "%1$s/sgid/*", "%1$s/idmapped/*"]
            access = ["write", "create"]
            create_mode = "0640"

            [[allow]]
            name = "exclusive"
            users = [65534]
            paths = ["%1$s/excl/*"]
            access = ["write", "create", "truncate"]
            create_exclusive = true

            [[allow]]
            name = "append-only-logs"
            users = [65534]
            paths = ["%1$s/logs/*"]
            access = ["append", "create"]
            append_only_inode = true
            """
                .formatted(tree.root()),
            "");
  }

  @AfterAll
  void stopDaemon() throws Exception {
    Daemons.stop(daemon, tree);
  }

  private static Command run(String... command) throws Exception {
    Command r = Command.run(List.of(command), "");
    assertEquals(0, r.exitCode(), String.join(" ", command) + ": " + r.stderr());
    return r;
  }

  /** The Python example client as nobody: raw frames, the kernel's real credentials. */
  private Command openAsNobody(String... args) throws Exception {
    List<String> cmd = new ArrayList<>(List.of("/usr/bin/python3", client.toString(), "--socket"));
    cmd.add(daemon.socket().toString());
    cmd.addAll(List.of(args));
    return assertTimeoutPreemptively(
        TIMEOUT, () -> Command.asUser(NOBODY, NOBODY, cmd.toArray(String[]::new)));
  }

  private static void assertRefused(Command r, String code) {
    assertEquals(2, r.exitCode(), "exit status of a refused request: " + r.stderr());
    assertTrue(r.stderr().startsWith(code + " "), "expected " + code + ": " + r.stderr());
  }

  private Path path(String relative) {
    return tree.root().resolve(relative);
  }

  private static List<String> names(Path dir) throws Exception {
    try (var entries = Files.list(dir)) {
      return entries.map(p -> p.getFileName().toString()).sorted().toList();
    }
  }

  @Test
  void truncateRefusedByOwnerRequesterLeavesAnotherUsersFileIntact() throws Exception {
    Path file = tree.file("owned/roots-file", CONTENT, "rw-r--r--");
    Command r = openAsNobody("--access", "write", "--truncate", file.toString());
    assertRefused(r, "CONSTRAINT_FAILED");
    assertTrue(r.stderr().contains("requires owner requester"), r.stderr());
    assertEquals(CONTENT, Files.readString(file), "the refused request must not truncate");
  }

  @Test
  void truncateRefusedByMaxLinksLeavesTheLinkedFileIntact() throws Exception {
    Path original = tree.file("linked/original", CONTENT, "rw-r--r--");
    Path alias = path("linked/alias");
    Files.deleteIfExists(alias);
    Files.createLink(alias, original);
    assertEquals(2, Files.getAttribute(alias, "unix:nlink"));
    Command r = openAsNobody("--access", "write", "--truncate", alias.toString());
    assertRefused(r, "CONSTRAINT_FAILED");
    assertTrue(r.stderr().contains("has 2 hard links"), r.stderr());
    assertEquals(CONTENT, Files.readString(original), "the refused request must not truncate");
  }

  @Test
  void truncateHappensOnceEveryGuardHolds() throws Exception {
    Path file = tree.file("owned/nobodys-file", CONTENT, "rw-r--r--");
    run("chown", NOBODY + ":" + NOBODY, file.toString());
    Command r = openAsNobody("--access", "write", "--truncate", file.toString());
    assertEquals(0, r.exitCode(), r.stderr());
    assertEquals(0, Files.size(file), "granted with truncate: truncated");
  }

  @Test
  void createInASetGroupIdDirectoryGetsTheDirectorysGroup() throws Exception {
    Path created = path("sgid/new");
    Command r = openAsNobody("--access", "write", "--create", created.toString());
    assertEquals(0, r.exitCode(), r.stderr());
    Map<String, Object> a =
        Files.readAttributes(created, "unix:uid,gid,mode", LinkOption.NOFOLLOW_LINKS);
    assertEquals(NOBODY, a.get("uid"), "owned by the requester");
    assertEquals(SHARED_GID, a.get("gid"), "the group a set-group-ID directory gives");
    assertEquals(
        0600, (Integer) a.get("mode") & 07777, "the requested 0600 within create_mode 0640");
  }

  @Test
  void createInAPlainDirectoryGetsTheRequestersOwnerAndGroup() throws Exception {
    Path created = path("made/new");
    Command r = openAsNobody("--access", "write", "--create", created.toString());
    assertEquals(0, r.exitCode(), r.stderr());
    assertEquals(NOBODY, Files.getAttribute(created, "unix:uid"));
    assertEquals(NOBODY, Files.getAttribute(created, "unix:gid"));
    assertEquals(
        "rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(created)));
  }

  @Test
  void createWhoseOwnerChangeFailsLeavesNoFile() throws Exception {
    // An idmapped mount that maps root only: the daemon can create there, but fchown to nobody
    // fails (EOVERFLOW). Made in steps, that left a root-owned file behind.
    Process userns =
        new ProcessBuilder(
                "unshare", "--user", "--map-user=0", "--map-group=0", "sleep", "infinity")
            .start();
    Path mounted = path("idmapped");
    boolean mountedThere = false;
    try {
      awaitOwnUserNamespace(userns.pid());
      run(
          "/usr/bin/python3",
          "-c",
          IDMAP_MOUNT,
          path("idsrc").toString(),
          mounted.toString(),
          "/proc/" + userns.pid() + "/ns/user");
      mountedThere = true;
      int before = daemon.descriptorCount();
      Command r = openAsNobody("--access", "write", "--create", mounted.resolve("new").toString());
      assertRefused(r, "IO_ERROR");
      assertTrue(r.stderr().contains("fchown"), r.stderr());
      assertEquals(List.of(), names(path("idsrc")), "no file may be left behind");
      assertEquals(before, daemon.descriptorCount(), "no descriptor left behind");
    } finally {
      if (mountedThere) {
        run("umount", mounted.toString());
      }
      userns.destroy();
      userns.waitFor();
    }
  }

  /** Waits until the process has its own user namespace mapping only root (written by unshare). */
  private static void awaitOwnUserNamespace(long pid) throws Exception {
    Path map = Path.of("/proc/" + pid + "/uid_map");
    assertTimeoutPreemptively(
        Duration.ofSeconds(30),
        () -> {
          while (!Files.readString(map).strip().matches("0\\s+0\\s+1")) {
            Thread.sleep(10);
          }
        });
  }

  @Test
  void exclusiveCreateOfAnExistingNameIsRefusedAndTouchesNothing() throws Exception {
    Path existing = tree.file("excl/existing", CONTENT, "rw-r--r--");
    Map<String, Object> before =
        Files.readAttributes(existing, "unix:uid,gid,mode,nlink,ctime,lastModifiedTime");
    // O_WRONLY | O_CREAT | O_EXCL | O_TRUNC: exclusive, and a truncate that must not happen.
    Command r = openAsNobody("--flags", "0o1301", existing.toString());
    assertRefused(r, "ALREADY_EXISTS");
    assertEquals(CONTENT, Files.readString(existing));
    assertEquals(
        before, Files.readAttributes(existing, "unix:uid,gid,mode,nlink,ctime,lastModifiedTime"));
    assertEquals(List.of("existing"), names(path("excl")));
  }

  @Test
  void createRefusedByAGuardLeavesNoFile() throws Exception {
    // A new file never has the append-only attribute: the guard refuses it before it has a name.
    Command r = openAsNobody("--access", "append", "--create", path("logs/new.log").toString());
    assertRefused(r, "CONSTRAINT_FAILED");
    assertTrue(r.stderr().contains("append-only"), r.stderr());
    assertEquals(List.of(), names(path("logs")), "no file may be left behind");
  }
}
