package dev.filebroker.daemon.lifecycle;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.filebroker.daemon.policy.PolicyLoad;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class CheckedPolicyLoaderTest {
  @TempDir Path dir;

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
    assertInstanceOf(PolicyLoad.Loaded.class, CheckedPolicyLoader.load(dir));
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
  void theShippedExampleRunsItsShippedCases() {
    Path shipped = Path.of("").toAbsolutePath();
    while (!Files.exists(shipped.resolve("config/policy.d"))) {
      shipped = shipped.getParent();
    }
    assertInstanceOf(
        PolicyLoad.Loaded.class, CheckedPolicyLoader.load(shipped.resolve("config/policy.d")));
  }
}
