package dev.filebroker.daemon.policy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.EnumSet;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Explanations name the deciding rule and say why the others did not apply. */
class ExplainerTest {
  @TempDir Path temp;

  private Policy policy(String text) throws IOException {
    Path file = temp.resolve("a.toml");
    Files.writeString(file, text);
    return ((PolicyLoad.Valid) PolicyLoader.load(file)).policy();
  }

  private static final String POLICY =
      """
      [[allow]]
      name = "reader"
      any = true
      paths = ["/srv/x"]
      access = ["read"]

      [[allow]]
      name = "video"
      groups = [44]
      paths = ["/srv/x"]
      access = ["read", "write"]

      [[allow]]
      name = "app"
      uids = ["0-59999"]
      executables = ["/usr/bin/app"]
      paths = ["/srv/x"]
      access = ["write"]

      [[allow]]
      name = "elsewhere"
      users = [7]
      paths = ["/srv/y"]
      access = ["read"]
      """;

  @Test
  void explainsWhyEachNearRuleDidNotGrant() throws IOException {
    Policy policy = policy(POLICY);
    Caller caller =
        new Caller(1, 1000, 1000, List.of(), Optional.of("/usr/bin/cat"), Optional.empty());
    DecisionExplanation explanation =
        Explainer.explain(
            policy, caller, new AccessRequest("/srv/x", EnumSet.of(Permission.WRITE), false));
    String file = temp.resolve("a.toml").toString();
    assertEquals(
        "deny /srv/x (write) for uid 1000\n"
            + "  decided by no rule (default deny)\n"
            + "  reason: no allow rule grants write on /srv/x to uid 1000 (rule reader matches but"
            + " grants only read)\n"
            + "  rules that nearly applied:\n"
            + "    allow reader ("
            + file
            + ":1): path matches, caller matches, but grants read"
            + " only, not write\n"
            + "    allow video ("
            + file
            + ":7): path matches, but caller is not group 44 (uid"
            + " 1000, gid 1000, groups )\n"
            + "    allow app ("
            + file
            + ":13): path matches, caller matches, but caller runs"
            + " /usr/bin/cat, not one of /usr/bin/app\n",
        explanation.toText());
  }

  @Test
  void namesTheDecidingRuleAndLeavesItOutOfTheNearMisses() throws IOException {
    Policy policy = policy(POLICY);
    Caller caller = new Caller(1, 1000, 1000, List.of(44), Optional.empty(), Optional.empty());
    DecisionExplanation explanation =
        Explainer.explain(
            policy, caller, new AccessRequest("/srv/x", EnumSet.of(Permission.WRITE), false));
    assertTrue(explanation.allowed());
    assertTrue(explanation.toText().contains("decided by allow video ("), explanation.toText());
    assertTrue(explanation.nearMisses().stream().noneMatch(m -> m.rule().id().equals("video")));
    assertTrue(
        explanation
            .toJson()
            .startsWith(
                "{\"decision\":\"allow\",\"uid\":1000,\"gid\":1000,\"path\":\"/srv/x\","
                    + "\"access\":\"write\",\"rule\":\"video\",\"source\":\""),
        explanation.toJson());
  }

  @Test
  void explainsUnknownExecutableAsUnknown() throws IOException {
    Policy policy = policy(POLICY);
    Caller caller = new Caller(1, 1000, 1000, List.of(), Optional.empty(), Optional.empty());
    DecisionExplanation explanation =
        Explainer.explain(
            policy, caller, new AccessRequest("/srv/x", EnumSet.of(Permission.WRITE), false));
    assertTrue(
        explanation.nearMisses().stream()
            .anyMatch(
                m ->
                    m.whyNot()
                        .equals(
                            List.of("caller's executable is unknown, not one of /usr/bin/app"))),
        explanation::toText);
  }

  @Test
  void rulesForOtherPathsAreNotNearMissesWhoeverTheyName() throws IOException {
    Policy policy =
        policy(
            """
            [[allow]]
            name = "everyone-elsewhere"
            any = true
            paths = ["/srv/y/**"]
            access = ["read"]

            [[allow]]
            name = "everyone-here-reads"
            any = true
            paths = ["/srv/x"]
            access = ["read"]
            """);
    Caller caller = new Caller(1, 1000, 1000, List.of(), Optional.empty(), Optional.empty());
    DecisionExplanation explanation =
        Explainer.explain(
            policy, caller, new AccessRequest("/srv/x", EnumSet.of(Permission.WRITE), false));
    assertEquals(
        List.of("everyone-here-reads"),
        explanation.nearMisses().stream().map(m -> m.rule().id()).toList(),
        explanation::toText);
  }

  @Test
  void showsAMatchingPatternWithItsVariablesExpandedForTheCaller() throws IOException {
    // root (uid 0, home /root) is in every /etc/passwd.
    Policy policy =
        policy(
            """
            [[allow]]
            name = "own-reads"
            any = true
            paths = ["/srv/users/${user}/**"]
            access = ["read"]

            [[allow]]
            name = "others"
            any = true
            paths = ["/srv/other/${user}/**"]
            access = ["read"]
            """);
    Caller root = new Caller(1, 0, 0, List.of(), Optional.empty(), Optional.empty());
    DecisionExplanation explanation =
        Explainer.explain(
            policy,
            root,
            new AccessRequest("/srv/users/root/a", EnumSet.of(Permission.WRITE), false));
    assertEquals(1, explanation.nearMisses().size(), explanation::toText);
    assertTrue(
        explanation
            .nearMisses()
            .getFirst()
            .toString()
            .contains(
                ": path matches /srv/users/root/** (/srv/users/${user}/**), caller matches, but"
                    + " grants read only, not write"),
        explanation::toText);
  }

  @Test
  void listsARuleWhoseVariableHasNoValueWhenTheFixedPartMatches() throws IOException {
    Policy policy =
        policy(
            """
            [[allow]]
            name = "own"
            any = true
            paths = ["/srv/users/${user}/**"]
            access = ["read"]

            [[allow]]
            name = "elsewhere"
            any = true
            paths = ["/srv/other/${user}/**"]
            access = ["read"]
            """);
    Caller stranger = new Caller(1, 123456, 123456, List.of(), Optional.empty(), Optional.empty());
    DecisionExplanation explanation =
        Explainer.explain(
            policy,
            stranger,
            new AccessRequest("/srv/users/123456/a", EnumSet.of(Permission.READ), false));
    assertEquals(
        List.of("own"),
        explanation.nearMisses().stream().map(m -> m.rule().id()).toList(),
        explanation::toText);
    assertTrue(
        explanation.nearMisses().getFirst().whyNot().getFirst().contains("no safe value"),
        explanation::toText);
  }
}
