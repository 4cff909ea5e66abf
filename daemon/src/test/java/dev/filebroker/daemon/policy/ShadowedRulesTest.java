package dev.filebroker.daemon.policy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Allow rules that a deny rule makes useless are loaded, with a warning at the allow rule. */
class ShadowedRulesTest {
  @TempDir Path dir;

  private List<String> warnings(String text) throws IOException {
    Path file = Files.writeString(dir.resolve("p.toml"), text);
    PolicyLoad.Valid loaded = assertInstanceOf(PolicyLoad.Valid.class, PolicyLoader.load(file));
    return loaded.warnings().stream().map(PolicyError::toString).toList();
  }

  private static final String ALLOW =
      """
      [[allow]]
      name = "app"
      users = [1000, 1001]
      paths = ["/srv/app/data/*.db", "/srv/app/log"]
      access = ["read", "write"]

      """;

  @Test
  void warnsAtAnAllowRuleADenyRefusesEntirely() throws IOException {
    List<String> warnings =
        warnings(ALLOW + "[[deny]]\nname = \"no-app\"\nany = true\npaths = [\"/srv/app/**\"]\n");
    assertEquals(
        List.of(
            dir.resolve("p.toml")
                + ":1:1: warning: rule app can never grant anything: deny rule no-app at "
                + dir.resolve("p.toml")
                + ":7 refuses every caller, path and access it allows; remove it or narrow the"
                + " deny"),
        warnings);
  }

  @Test
  void aDenyForTheSameUsersAndAccessShadowsToo() throws IOException {
    List<String> warnings =
        warnings(
            ALLOW
                + "[[deny]]\nusers = [1001, 1000, 5]\npaths = [\"/srv/app/data/*.db\","
                + " \"/srv/app/log\"]\naccess = [\"read\", \"write\", \"append\"]\n");
    assertEquals(1, warnings.size(), warnings::toString);
  }

  @Test
  void aDenyThatLeavesSomethingToGrantGivesNoWarning() throws IOException {
    for (String deny :
        List.of(
            // one path left
            "[[deny]]\nany = true\npaths = [\"/srv/app/data/**\"]\n",
            // one user left
            "[[deny]]\nusers = [1000]\npaths = [\"/srv/app/**\"]\n",
            // write left
            "[[deny]]\nany = true\npaths = [\"/srv/app/**\"]\naccess = [\"read\"]\n",
            // only some programs refused
            "[[deny]]\nany = true\nexecutables = [\"/usr/bin/x\"]\npaths = [\"/srv/app/**\"]\n",
            // a glob above: not certain from the text
            "[[deny]]\nany = true\npaths = [\"/srv/*/data/*.db\", \"/srv/*/log\"]\n",
            // a sibling directory with a common prefix
            "[[deny]]\nany = true\npaths = [\"/srv/ap/**\"]\n")) {
      assertTrue(warnings(ALLOW + deny).isEmpty(), deny);
    }
  }

  @Test
  void pathCoverage() {
    assertTrue(ShadowedRules.covers("/**", "/etc/x"));
    assertTrue(ShadowedRules.covers("/srv/**", "/srv/a/*.txt"));
    assertTrue(ShadowedRules.covers("/srv/${user}/x", "/srv/${user}/x"));
    assertTrue(!ShadowedRules.covers("/srv/**", "/srvx/a"));
    assertTrue(!ShadowedRules.covers("/home/${user}/**", "/home/alice/x"));
  }
}
