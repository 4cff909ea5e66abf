package dev.filebroker.daemon.testing;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import org.junit.jupiter.api.extension.AnnotatedElementContext;
import org.junit.jupiter.api.extension.ExtensionContext;
import org.junit.jupiter.api.io.TempDirFactory;

/**
 * Scratch directories the daemon trusts with its policy and configuration: below {@link #BASE}, a
 * root-owned 0755 directory, rather than under the world-writable {@code /tmp}, whose policies the
 * daemon refuses. Use as {@code @TempDir(factory = TrustedTempDir.class)}. Needs root.
 */
public final class TrustedTempDir implements TempDirFactory {
  /** Where test trees live; not under /tmp (mode 1777) and not on a noexec /run. */
  public static final Path BASE = Path.of("/var/cache/filebroker-test");

  /** {@link #BASE}, made (or repaired to) root-owned mode 0755. */
  public static synchronized Path base() throws IOException {
    Files.createDirectories(BASE);
    if (!Files.isDirectory(BASE, LinkOption.NOFOLLOW_LINKS)) {
      throw new IOException(BASE + " is not a directory");
    }
    Files.setAttribute(BASE, "unix:uid", 0, LinkOption.NOFOLLOW_LINKS);
    Files.setAttribute(BASE, "unix:gid", 0, LinkOption.NOFOLLOW_LINKS);
    Files.setPosixFilePermissions(BASE, PosixFilePermissions.fromString("rwxr-xr-x"));
    return BASE;
  }

  /** A new directory of mode {@code perms} below {@link #base()}. */
  public static Path create(String prefix, String perms) throws IOException {
    Path dir =
        Files.createTempDirectory(
            base(),
            prefix,
            PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString(perms)));
    // The umask may have taken bits away.
    Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString(perms));
    return dir.toRealPath();
  }

  @Override
  public Path createTempDirectory(
      AnnotatedElementContext elementContext, ExtensionContext extensionContext)
      throws IOException {
    return create("junit-", "rwx------");
  }
}
