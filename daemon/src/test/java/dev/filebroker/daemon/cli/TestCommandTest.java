package dev.filebroker.daemon.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code filebroker test}: exit status and output. */
class TestCommandTest {
  @TempDir Path temp;

  @Test
  void shippedCasesPassAgainstTheShippedPolicy() {
    Path home = dev.filebroker.daemon.policy.RepositoryRootAccess.find();
    var run =
        ExplainCommandTest.run("test", "--policy", home.resolve("config/policy.d").toString());
    assertEquals(0, run.status(), run.out());
    assertTrue(run.out().endsWith(" failed, 0 case-file errors\n"), run.out());
  }

  @Test
  void exitsOneAndPrintsTheMismatch() throws Exception {
    Path dir = Files.createDirectories(temp.resolve("policy.d"));
    Files.writeString(dir.resolve("10.toml"), "");
    Path cases = temp.resolve("cases.toml");
    Files.writeString(
        cases,
        "[[case]]\nuid = 0\ngid = 0\npath = \"/x\"\naccess = [\"read\"]\nexpect = \"allow\"\n");
    var run = ExplainCommandTest.run("test", "--policy", dir.toString(), cases.toString());
    assertEquals(1, run.status());
    assertTrue(
        run.out().startsWith(cases + ":1: expected allow, got deny by no rule\n"), run.out());
    assertTrue(run.out().endsWith("1 cases, 1 failed, 0 case-file errors\n"), run.out());
  }
}
