package dev.filebroker.daemon.policy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Case files: reading, running, and discovery beside a policy directory. */
class PolicyTestsTest {
  private static final Accounts ACCOUNTS =
      Accounts.of(
          List.of(new Accounts.Account("alice", 1000, 1000, "/home/alice")),
          Map.of("video", 44, "alice", 1000),
          Map.of("alice", List.of(44)));

  @TempDir Path temp;

  private Policy policy() throws IOException {
    Path dir = Files.createDirectories(temp.resolve("policy.d"));
    Files.writeString(
        dir.resolve("10.toml"),
        """
        [[allow]]
        name = "video"
        groups = [44]
        paths = ["/dev/video*"]
        access = ["read", "write"]
        types = ["char-device"]
        """);
    return ((PolicyLoad.Valid) PolicyLoader.load(dir)).policy();
  }

  @Test
  void runsCasesWithLoginGroupsOfTheUser() throws IOException {
    Path cases = temp.resolve("cases.toml");
    Files.writeString(
        cases,
        """
        [[case]]
        user = "alice"
        path = "/dev/video0"
        access = "read,write"
        expect = "allow"
        rule = "video"

        [[case]]
        uid = 2000
        gid = 2000
        path = "/dev/video0"
        access = ["read"]
        expect = "allow"
        """);
    PolicyTests tests = PolicyTests.read(List.of(cases), ACCOUNTS);
    assertEquals(List.of(), tests.errors());
    assertEquals(List.of(1000, 44), tests.cases().get(0).caller().groups());
    PolicyTests.Report report = tests.run(policy());
    assertFalse(report.passed());
    assertEquals(1, report.failures().size());
    assertTrue(
        report
            .failures()
            .get(0)
            .toString()
            .startsWith(
                cases
                    + ":8: expected allow, got deny by no rule\n  deny /dev/video0 (read) for uid"
                    + " 2000"),
        report.failures().get(0)::toString);
    assertEquals("2 cases, 1 failed, 0 case-file errors", report.summary());
  }

  @Test
  void reportsCaseFileErrorsWithPositions() throws IOException {
    Path cases = temp.resolve("bad.toml");
    Files.writeString(
        cases,
        """
        [[case]]
        user = "nobody-here"
        path = "/x"
        access = ["read"]
        expect = "maybe"
        colour = "red"
        """);
    PolicyTests tests = PolicyTests.read(List.of(cases), ACCOUNTS);
    assertEquals(
        List.of(
            cases
                + ":6:1: unknown key 'colour' in [[case]]; expected one of: "
                + String.join(", ", PolicyTests.CASE_KEYS),
            cases + ":5:1: expect must be \"allow\" or \"deny\"; found \"maybe\""),
        tests.errors().stream().map(PolicyError::toString).toList());
    assertFalse(tests.run(policy()).passed());
  }

  @Test
  void discoversCasesInTheTestsSubdirectoryOnly() throws IOException {
    Path dir = Files.createDirectories(temp.resolve("p.d"));
    assertEquals(List.of(), PolicyTests.discover(dir).cases());
    Path tests = Files.createDirectories(dir.resolve("tests"));
    Files.writeString(
        tests.resolve("10.toml"),
        "[[case]]\nuid = 0\ngid = 0\npath = \"/x\"\naccess = [\"read\"]\nexpect = \"deny\"\n");
    Files.writeString(tests.resolve(".hidden.toml"), "garbage");
    Files.writeString(tests.resolve("notes.txt"), "garbage");
    PolicyTests found = PolicyTests.discover(dir);
    assertEquals(List.of(), found.errors());
    assertEquals(1, found.cases().size());
  }

  @Test
  void suggestsTheCaseKeyOrTableAMisspeltOneWasMeantToBe() throws IOException {
    Path cases = temp.resolve("typos.toml");
    Files.writeString(
        cases,
        """
        [[case]]
        uid = 0
        gid = 0
        path = "/x"
        acess = ["read"]
        expect = "deny"

        [[cases]]
        uid = 0
        """);
    List<String> errors =
        PolicyTests.read(List.of(cases), ACCOUNTS).errors().stream()
            .map(PolicyError::toString)
            .toList();
    assertTrue(
        errors.contains(
            cases
                + ":5:1: unknown key 'acess' in [[case]]; expected one of: "
                + String.join(", ", PolicyTests.CASE_KEYS)
                + " (did you mean 'access'?)"),
        errors::toString);
    assertTrue(
        errors.contains(
            cases
                + ":8:1: unknown key 'cases' at top level; a case file holds only [[case]]"
                + " tables (did you mean 'case'?)"),
        errors::toString);
  }
}
