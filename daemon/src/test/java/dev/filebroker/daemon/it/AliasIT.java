package dev.filebroker.daemon.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.filebroker.protocol.OpenFlags;
import dev.filebroker.protocol.OpenedReply;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/**
 * What the daemon guarantees today about aliases of a protected inode under an allowed path: hard
 * links are stopped by fs.protected_hardlinks=1, not by the daemon; with the sysctl off, or through
 * a bind mount, an alias under an allowed prefix is handed out (the policy matches paths;
 * RESOLVE_NO_XDEV applies only where a rule asks for it). SECURITY.md documents these limits. Needs
 * root (sysctl, mount --bind, setpriv); restores the sysctl and unmounts in finally.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class AliasIT {
  private static final int NOBODY = 65534;

  private TestTree tree;
  private DaemonProcess daemon;
  private Path userDir;
  private Path protectedFile;

  @BeforeAll
  void startDaemon() throws Exception {
    tree = new TestTree("filebroker-alias-");
    protectedFile = tree.file("protected/secret", "PROTECTED\n", "rw-------");
    Files.setPosixFilePermissions(
        protectedFile.getParent(), PosixFilePermissions.fromString("rwx--x--x"));
    userDir = tree.dir("user");
    run("chown", NOBODY + ":" + NOBODY, userDir.toString());
    daemon =
        Daemons.start(
            tree,
            """
            [[allow]]
            name = "user-dir"
            users = [0]
            paths = ["%s/**"]
            access = ["read"]
            """
                .formatted(userDir),
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

  private static String protectedHardlinks() throws Exception {
    return Files.readString(Path.of("/proc/sys/fs/protected_hardlinks")).strip();
  }

  private Fds.Inode openedInode(Path path) throws Exception {
    try (RawClient c = new RawClient(daemon.socket())) {
      var r = c.open(1, OpenFlags.O_RDONLY, path.toString());
      assertInstanceOf(OpenedReply.class, r.reply(), () -> "expected a grant: " + r);
      try {
        return Fds.inode(r.descriptors().get(0));
      } finally {
        RawClient.close(r.descriptors());
      }
    }
  }

  @Test
  void protectedHardlinksStopAnUnprivilegedUserLinkingARootFile() throws Exception {
    assertEquals("1", protectedHardlinks(), "the default this guarantee relies on");
    Command ln =
        Command.asUser(
            NOBODY, NOBODY, "ln", protectedFile.toString(), userDir.resolve("link").toString());
    assertNotEquals(0, ln.exitCode(), "link(2) of a file nobody does not own must fail");
    assertTrue(ln.stderr().contains("Operation not permitted"), ln.stderr());
    assertTrue(Files.notExists(userDir.resolve("link")));
  }

  /**
   * fs.protected_hardlinks=1 lets a user link a file it does not own when it may read and write it
   * (a regular file, not setuid or setgid-executable): such a file is aliased under an allowed path
   * even with the sysctl on. A file it may only read is still refused.
   */
  @Test
  void protectedHardlinksStillLetAUserLinkARootFileItMayReadAndWrite() throws Exception {
    assertEquals("1", protectedHardlinks(), "the default this limit is stated for");
    Path shared = tree.file("protected/shared", "SHARED\n", "rw-rw-rw-");
    Path readable = tree.file("protected/readable", "READABLE\n", "rw-r--r--");
    Path link = userDir.resolve("shared-link");
    Command ln = Command.asUser(NOBODY, NOBODY, "ln", shared.toString(), link.toString());
    assertEquals(0, ln.exitCode(), "a root file nobody may read and write: " + ln.stderr());
    assertEquals(Fds.Inode.of(shared), openedInode(link), "handed out under the allowed path");
    Files.delete(link);
    Command refused =
        Command.asUser(
            NOBODY, NOBODY, "ln", readable.toString(), userDir.resolve("readable-link").toString());
    assertNotEquals(0, refused.exitCode(), "read access alone is not enough to link");
    assertTrue(refused.stderr().contains("Operation not permitted"), refused.stderr());
  }

  @Test
  void withoutProtectedHardlinksAHardLinkInAnAllowedDirectoryAliasesTheProtectedInode()
      throws Exception {
    String before = protectedHardlinks();
    Path link = userDir.resolve("hardlink");
    try {
      run("sysctl", "-q", "fs.protected_hardlinks=0");
      Command ln = Command.asUser(NOBODY, NOBODY, "ln", protectedFile.toString(), link.toString());
      assertEquals(0, ln.exitCode(), ln.stderr());
    } finally {
      run("sysctl", "-q", "fs.protected_hardlinks=" + before);
    }
    assertEquals(before, protectedHardlinks());
    assertEquals(2, Files.getAttribute(link, "unix:nlink"), "st_nlink of the alias");
    // The daemon hands out the protected inode under the allowed path: a documented limit.
    assertEquals(Fds.Inode.of(protectedFile), openedInode(link));
    Files.delete(link);
  }

  @Test
  void bindMountOfAProtectedTreeUnderAnAllowedPrefixIsHandedOut() throws Exception {
    Path mountPoint = tree.dir("user/mnt");
    try {
      run("mount", "--bind", protectedFile.getParent().toString(), mountPoint.toString());
      // No rule asks for RESOLVE_NO_XDEV here, so crossing the bind mount is allowed.
      assertEquals(Fds.Inode.of(protectedFile), openedInode(mountPoint.resolve("secret")));
    } finally {
      Command.run(List.of("umount", mountPoint.toString()), "");
    }
    assertTrue(Files.notExists(mountPoint.resolve("secret")), "unmounted");
  }
}
