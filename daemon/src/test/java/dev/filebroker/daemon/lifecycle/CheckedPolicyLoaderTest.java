package dev.filebroker.daemon.lifecycle;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.filebroker.daemon.policy.PolicyLoad;
import dev.filebroker.daemon.testing.TrustedTempDir;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class CheckedPolicyLoaderTest {
  @TempDir(factory = TrustedTempDir.class)
  Path dir;

  private void policy() throws IOException {
    Files.writeString(
        dir.resolve("10-a.toml"),
        """
        [[allow]]
        name = "hostname"
        any = true
        paths = ["/etc/hostname"]
        access = ["read"]
        """);
    Files.createDirectories(dir.resolve("tests"));
  }

  @Test
  void acceptsAPolicyWhoseCasesPass() throws IOException {
    policy();
    Files.writeString(
        dir.resolve("tests/cases.toml"),
        "[[case]]\n"
            + "uid = 65534\n"
            + "path = \"/etc/hostname\"\n"
            + "access = [\"read\"]\n"
            + "expect = \"allow\"\n");
    assertInstanceOf(PolicyLoad.Valid.class, CheckedPolicyLoader.load(dir));
  }

  @Test
  void rejectsAPolicyThatFailsItsOwnCasesAndSaysWhere() throws IOException {
    policy();
    Files.writeString(
        dir.resolve("tests/cases.toml"),
        "# the admin expects a denial\n"
            + "[[case]]\n"
            + "uid = 65534\n"
            + "path = \"/etc/hostname\"\n"
            + "access = [\"read\"]\n"
            + "expect = \"deny\"\n");
    var invalid = assertInstanceOf(PolicyLoad.Invalid.class, CheckedPolicyLoader.load(dir));
    assertEquals(1, invalid.errors().size());
    String error = invalid.errors().get(0).toString();
    assertTrue(error.startsWith(dir.resolve("tests/cases.toml") + ":2:"), error);
    assertTrue(error.contains("policy test case failed"), error);
  }

  @Test
  void theShippedExampleRunsItsShippedCases() throws IOException {
    Path shipped = Path.of("").toAbsolutePath();
    while (!Files.exists(shipped.resolve("config/policy.d"))) {
      shipped = shipped.getParent();
    }
    // A copy: the checkout itself may sit anywhere, writable by anyone.
    Path source = shipped.resolve("config/policy.d");
    Path copy = dir.resolve("policy.d");
    try (Stream<Path> walk = Files.walk(source)) {
      for (Path p : walk.toList()) {
        Files.copy(p, copy.resolve(source.relativize(p).toString()));
      }
    }
    assertInstanceOf(PolicyLoad.Valid.class, CheckedPolicyLoader.load(copy));
  }

  @Test
  void refusesAPolicyOthersCanWriteAndNamesTheFileAndTheFix() throws IOException {
    policy();
    Path file = dir.resolve("10-a.toml");
    Files.setPosixFilePermissions(file, PosixFilePermissions.fromString("rw-rw-rw-"));
    var invalid = assertInstanceOf(PolicyLoad.Invalid.class, CheckedPolicyLoader.load(dir));
    assertEquals(
        List.of(
            file
                + ": file is writable by others (mode 0666), so they could change what the daemon"
                + " grants; run chmod go-w "
                + file),
        invalid.errors().stream().map(Object::toString).toList());
  }

  @Test
  void refusesAPolicyDirectoryOwnedByAUser() throws IOException {
    policy();
    Files.setAttribute(dir, "unix:uid", 1000);
    var invalid = assertInstanceOf(PolicyLoad.Invalid.class, CheckedPolicyLoader.load(dir));
    assertEquals(
        List.of(
            dir
                + ": owned by uid 1000, not root, so that user could change what the daemon"
                + " grants; run chown root "
                + dir),
        invalid.errors().stream().map(Object::toString).toList());
  }

  @Test
  void refusesACaseFileOthersCanWrite() throws IOException {
    policy();
    Path cases = Files.writeString(dir.resolve("tests/cases.toml"), "");
    Files.setPosixFilePermissions(cases, PosixFilePermissions.fromString("rw-rw-r--"));
    var invalid = assertInstanceOf(PolicyLoad.Invalid.class, CheckedPolicyLoader.load(dir));
    assertEquals(1, invalid.errors().size(), invalid.errors().toString());
    assertTrue(
        invalid.errors().get(0).toString().startsWith(cases + ": file is writable by its group"),
        invalid.errors().toString());
  }
}
