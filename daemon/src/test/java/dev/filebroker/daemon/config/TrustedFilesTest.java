package dev.filebroker.daemon.config;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.filebroker.daemon.testing.TrustedTempDir;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Owner and mode checks on real files. Needs root (it chowns files to uid 1000). */
class TrustedFilesTest {
  @TempDir(factory = TrustedTempDir.class)
  Path dir;

  private static List<String> problems(Path file) {
    return TrustedFiles.check(file).stream().map(Object::toString).toList();
  }

  @Test
  void trustsARootFileInRootDirectories() throws IOException {
    Path file = Files.writeString(dir.resolve("filebroker.toml"), "");
    assertEquals(List.of(), problems(file));
  }

  @Test
  void leavesAMissingFileToTheReader() {
    assertEquals(List.of(), problems(dir.resolve("missing.toml")));
  }

  @Test
  void refusesAFileBelowTheStickyWorldWritableTmp() throws IOException {
    Path file = Files.createTempFile(Path.of("/tmp"), "filebroker-trust-", ".toml");
    try {
      assertEquals(
          List.of(
              "/tmp: directory is writable by others (mode 1777), so they could change what the"
                  + " daemon grants; run chmod go-w /tmp, or keep the daemon's files in a"
                  + " directory only root can write"),
          problems(file));
    } finally {
      Files.delete(file);
    }
  }

  @Test
  void refusesAGroupWritableDirectoryOnTheWay() throws IOException {
    Path sub = Files.createDirectory(dir.resolve("sub"));
    Files.setPosixFilePermissions(sub, PosixFilePermissions.fromString("rwxrwxr-x"));
    Path file = Files.writeString(sub.resolve("p.toml"), "");
    assertEquals(
        List.of(
            sub
                + ": directory is writable by its group (mode 0775), so they could change what the"
                + " daemon grants; run chmod go-w "
                + sub
                + ", or keep the daemon's files in a directory only root can write"),
        problems(file));
  }

  @Test
  void refusesAFileOwnedByAUser() throws IOException {
    Path file = Files.writeString(dir.resolve("p.toml"), "");
    Files.setAttribute(file, "unix:uid", 1000);
    assertEquals(
        List.of(
            file
                + ": owned by uid 1000, not root, so that user could change what the daemon"
                + " grants; run chown root "
                + file),
        problems(file));
  }

  @Test
  void followsLinksAndChecksWhereTheyLead() throws IOException {
    Path open = Files.createDirectory(dir.resolve("open"));
    Files.setPosixFilePermissions(open, PosixFilePermissions.fromString("rwxrwxrwx"));
    Path real = Files.writeString(open.resolve("real.toml"), "");
    Path link = Files.createSymbolicLink(dir.resolve("link.toml"), real);
    assertEquals(
        List.of(
            open
                + ": directory is writable by others (mode 0777), so they could change what the"
                + " daemon grants; run chmod go-w "
                + open
                + ", or keep the daemon's files in a directory only root can write"),
        problems(link));
  }

  @Test
  void refusesALinkOwnedByAUser() throws IOException {
    Path real = Files.writeString(dir.resolve("real.toml"), "");
    Path link = Files.createSymbolicLink(dir.resolve("link.toml"), real);
    Files.setAttribute(link, "unix:uid", 1000, LinkOption.NOFOLLOW_LINKS);
    assertEquals(
        List.of(
            link
                + ": owned by uid 1000, not root, so that user could change what the daemon"
                + " grants; run chown root "
                + link),
        problems(link));
  }

  @Test
  void checksEveryPolicyFileOfADirectoryAndItsCases() throws IOException {
    Files.writeString(dir.resolve("10-a.toml"), "");
    Path bad = Files.writeString(dir.resolve("20-b.toml"), "");
    Files.setPosixFilePermissions(bad, PosixFilePermissions.fromString("rw-rw-rw-"));
    Path ignored = Files.writeString(dir.resolve("notes.txt"), "");
    Files.setPosixFilePermissions(ignored, PosixFilePermissions.fromString("rw-rw-rw-"));
    Path tests = Files.createDirectory(dir.resolve("tests"));
    Path cases = Files.writeString(tests.resolve("cases.toml"), "");
    Files.setAttribute(cases, "unix:uid", 1000);
    assertEquals(
        List.of(bad.toString(), cases.toString()),
        TrustedFiles.checkPolicy(dir).stream().map(u -> u.path().toString()).toList());
  }
}
