package dev.filebroker.daemon.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.filebroker.daemon.testing.TrustedTempDir;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code filebroker check} gives the verdict the daemon gives at start and reload. Needs root (the
 * policy must be root's to be trusted).
 */
class CheckCommandTest {
  @TempDir(factory = TrustedTempDir.class)
  Path temp;

  private Path policy() throws Exception {
    Path dir = Files.createDirectories(temp.resolve("policy.d"));
    Files.writeString(
        dir.resolve("10.toml"),
        "[[allow]]\nname = \"r\"\nusers = [0]\npaths = [\"/srv/x\"]\naccess = [\"read\"]\n");
    Files.createDirectories(dir.resolve("tests"));
    return dir;
  }

  @Test
  void acceptsAValidPolicyWhoseCasesPass() throws Exception {
    Path dir = policy();
    Files.writeString(
        dir.resolve("tests/cases.toml"),
        "[[case]]\nuid = 0\npath = \"/srv/x\"\naccess = [\"read\"]\nexpect = \"allow\"\n");
    var run = ExplainCommandTest.run("check", dir.toString());
    assertEquals(0, run.status(), run.out());
    assertEquals(dir + ": OK, 1 rule(s)\n", run.out());
  }

  @Test
  void refusesAPolicyWhoseOwnCasesFailAsTheDaemonDoes() throws Exception {
    Path dir = policy();
    Path cases = dir.resolve("tests/cases.toml");
    Files.writeString(
        cases, "[[case]]\nuid = 0\npath = \"/srv/x\"\naccess = [\"read\"]\nexpect = \"deny\"\n");
    var run = ExplainCommandTest.run("check", dir.toString());
    assertEquals(1, run.status(), run.out());
    assertTrue(
        run.out()
            .startsWith(
                cases
                    + ":1:1: policy test case failed: expected deny, got allow by rule r"
                    + " (the policy is rejected until its tests pass)\n"),
        run.out());
    assertTrue(run.out().endsWith(dir + ": 1 error(s)\n"), run.out());
  }

  @Test
  void refusesAPolicyFileOthersCanWrite() throws Exception {
    Path dir = policy();
    Path file = dir.resolve("10.toml");
    Files.setPosixFilePermissions(file, PosixFilePermissions.fromString("rw-rw-rw-"));
    var run = ExplainCommandTest.run("check", dir.toString());
    assertEquals(1, run.status(), run.out());
    assertEquals(
        file
            + ": file is writable by others (mode 0666), so they could change what the daemon"
            + " grants; run chmod go-w "
            + file
            + "\n"
            + dir
            + ": 1 error(s)\n",
        run.out());
  }

  @Test
  void checksAConfigurationGivenByNameAndThenThePolicyItNames() throws Exception {
    Path dir = policy();
    Path config = Files.writeString(temp.resolve("filebroker.toml"), "policy = \"" + dir + "\"\n");
    var run = ExplainCommandTest.run("check", config.toString());
    assertEquals(0, run.status(), run.out());
    assertEquals(
        config + ": OK, configuration (policy " + dir + ")\n" + dir + ": OK, 1 rule(s)\n",
        run.out());
  }

  @Test
  void reportsConfigurationErrorsWithTheirPositionAndTheKeyMeant() throws Exception {
    Path config =
        Files.writeString(temp.resolve("other.toml"), "# settings\nsockt = \"/run/x.sock\"\n");
    var run = ExplainCommandTest.run("check", "--config", config.toString());
    assertEquals(1, run.status(), run.out());
    String[] lines = run.out().split("\n");
    assertTrue(
        lines[0].startsWith(
            config + ":2:1: unknown key 'sockt' in the top level; expected one of:"),
        run.out());
    assertTrue(lines[0].endsWith(" (did you mean 'socket'?)"), run.out());
    assertEquals(config + ": 1 error(s)", lines[1], run.out());
  }

  @Test
  void needsAPolicyOrAConfiguration() {
    var run = ExplainCommandTest.run("check");
    assertEquals(2, run.status(), run.out());
  }
}
