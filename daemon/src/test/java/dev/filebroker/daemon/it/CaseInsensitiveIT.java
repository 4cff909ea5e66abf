package dev.filebroker.daemon.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * A deny on {@code share/private/**} is not dodged through {@code share/PRIVATE/x} where names
 * match without regard to case: a tmpfs mounted with {@code casefold} (Linux 6.13+ built with
 * CONFIG_UNICODE) and a vfat image on a loop device. Each test is skipped where the kernel cannot
 * make such a file system. Needs root (mount, losetup, setpriv) and, for vfat, mkfs.vfat.
 */
class CaseInsensitiveIT {
  private static final int NOBODY = 65534;
  private static final Duration TIMEOUT = Duration.ofSeconds(60);

  private static Command run(String... command) throws Exception {
    return Command.run(List.of(command), "");
  }

  @Test
  void aCasefoldTmpfsCannotDodgeADeny() throws Exception {
    try (TestTree tree = new TestTree("filebroker-casefold-")) {
      Path share = tree.dir("share");
      Command mount = run("mount", "-t", "tmpfs", "-o", "casefold", "none", share.toString());
      assumeTrue(mount.exitCode() == 0, "no casefold tmpfs here: " + mount.stderr());
      try {
        assertRefusedAsCaseInsensitive(tree, share);
      } finally {
        run("umount", share.toString());
      }
    }
  }

  @Test
  void aVfatFileSystemCannotDodgeADeny() throws Exception {
    try (TestTree tree = new TestTree("filebroker-vfat-")) {
      Path image = tree.root().resolve("vfat.img");
      assertEquals(0, run("truncate", "-s", "16M", image.toString()).exitCode());
      Command mkfs = run("mkfs.vfat", image.toString());
      assumeTrue(mkfs.exitCode() == 0, "no mkfs.vfat here: " + mkfs.stderr());
      Path share = tree.dir("share");
      Command mount =
          run("mount", "-o", "loop,uid=0,gid=0,umask=022", image.toString(), share.toString());
      assumeTrue(mount.exitCode() == 0, "no vfat in this kernel: " + mount.stderr());
      try {
        assertRefusedAsCaseInsensitive(tree, share);
      } finally {
        run("umount", share.toString());
      }
    }
  }

  /** A file under the denied private/ is refused by its own name and by another case. */
  private static void assertRefusedAsCaseInsensitive(TestTree tree, Path share) throws Exception {
    Files.createDirectories(share.resolve("private"));
    Files.writeString(share.resolve("private/secret"), "secret\n");
    Files.writeString(share.resolve("public"), "public\n");
    Path client = tree.executable(DaemonProcess.home().resolve("examples/python/fbopen.py"));
    DaemonProcess daemon =
        Daemons.start(
            tree,
            """
            [[allow]]
            name = "share"
            users = [65534]
            paths = ["%1$s/**"]
            access = ["read"]

            [[deny]]
            name = "private"
            users = [65534]
            paths = ["%1$s/private/**"]
            """
                .formatted(share),
            "");
    try {
      Command dodged = open(daemon, client, share.resolve("PRIVATE/secret"));
      assertEquals(2, dodged.exitCode(), dodged.stdout() + dodged.stderr());
      assertTrue(dodged.stderr().startsWith("CASE_INSENSITIVE "), dodged.stderr());
      Command plain = open(daemon, client, share.resolve("public"));
      assertTrue(plain.stderr().startsWith("CASE_INSENSITIVE "), "nothing there is served");
    } finally {
      Daemons.stop(daemon, null);
    }
  }

  private static Command open(DaemonProcess daemon, Path client, Path path) throws Exception {
    List<String> cmd = new ArrayList<>(List.of("/usr/bin/python3", client.toString(), "--socket"));
    cmd.add(daemon.socket().toString());
    cmd.add(path.toString());
    return assertTimeoutPreemptively(
        TIMEOUT, () -> Command.asUser(NOBODY, NOBODY, cmd.toArray(String[]::new)));
  }
}
