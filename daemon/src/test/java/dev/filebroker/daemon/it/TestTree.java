package dev.filebroker.daemon.it;

import dev.filebroker.daemon.testing.TrustedTempDir;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Comparator;
import java.util.stream.Stream;

/**
 * A scratch directory other users can traverse (JUnit's temporary directories are 0700, which would
 * hide everything from the unprivileged clients these tests run), below a root-owned directory only
 * root can write, so that the daemon trusts the policies and configurations written here.
 */
final class TestTree implements AutoCloseable {
  private final Path root;

  TestTree(String prefix) throws IOException {
    root = TrustedTempDir.create(prefix, "rwxr-xr-x");
  }

  Path root() {
    return root;
  }

  Path dir(String relative) throws IOException {
    Path d = root.resolve(relative);
    Files.createDirectories(d);
    Files.setPosixFilePermissions(d, PosixFilePermissions.fromString("rwxr-xr-x"));
    return d;
  }

  Path file(String relative, String content, String perms) throws IOException {
    Path f = root.resolve(relative);
    Files.createDirectories(f.getParent());
    Files.writeString(f, content, StandardCharsets.UTF_8);
    Files.setPosixFilePermissions(f, PosixFilePermissions.fromString(perms));
    return f;
  }

  /** Copies a file from the repository into the tree with mode 0755 so any user can run it. */
  Path executable(Path source) throws IOException {
    Path target = root.resolve(source.getFileName());
    Files.copy(source, target);
    Files.setPosixFilePermissions(target, PosixFilePermissions.fromString("rwxr-xr-x"));
    return target;
  }

  @Override
  public void close() throws IOException {
    try (Stream<Path> walk = Files.walk(root)) {
      walk.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
    }
  }
}
