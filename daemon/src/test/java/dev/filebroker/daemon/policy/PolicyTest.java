package dev.filebroker.daemon.policy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.constraints.IntRange;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** Decisions over policies written as TOML, as an admin would write them. */
class PolicyTest {
  private static final int NOBODY = 65534;
  private static final int USERS = 100;

  @TempDir Path temp;

  /** Loads files "00.toml", "01.toml"... holding {@code texts}, in that order. */
  private Policy policy(String... texts) {
    try {
      Path directory = Files.createTempDirectory(temp, "policy");
      for (int i = 0; i < texts.length; i++) {
        Files.writeString(directory.resolve(String.format("%02d.toml", i)), texts[i]);
      }
      PolicyLoad load = PolicyLoader.load(directory);
      if (load instanceof PolicyLoad.Invalid invalid) {
        throw new AssertionError("policy should load: " + invalid.errors());
      }
      return ((PolicyLoad.Valid) load).policy();
    } catch (IOException e) {
      throw new IllegalStateException(e);
    }
  }

  static Caller caller(int uid, int gid, Integer... groups) {
    return new Caller(4242, uid, gid, List.of(groups), Optional.empty(), Optional.empty());
  }

  static AccessRequest request(String path, Permission... permissions) {
    return new AccessRequest(path, EnumSet.copyOf(List.of(permissions)), false);
  }

  private static String allowedRule(Decision decision) {
    return assertInstanceOf(Decision.Allow.class, decision, decision::toString).rule().id();
  }

  private static Decision.Deny denied(Decision decision) {
    return assertInstanceOf(Decision.Deny.class, decision, decision::toString);
  }

  private static final String ALLOW_SHARED_RW =
      """
      [[allow]]
      name = "shared"
      groups = ["users"]
      paths = ["/srv/shared/**"]
      access = ["read", "write"]
      """;
  private static final String DENY_SECRET_WRITE =
      """
      [[deny]]
      name = "secret"
      any = true
      paths = ["/srv/shared/secret/**"]
      access = ["write"]
      """;

  @Test
  void denyBeatsAllowWrittenBeforeIt() {
    Policy policy = policy(ALLOW_SHARED_RW + DENY_SECRET_WRITE);
    Decision.Deny deny =
        denied(
            policy.decide(caller(1000, USERS), request("/srv/shared/secret/k", Permission.WRITE)));
    assertEquals("secret", deny.rule().orElseThrow().id());
  }

  @Test
  void denyBeatsAllowWrittenAfterIt() {
    Policy policy = policy(DENY_SECRET_WRITE + ALLOW_SHARED_RW);
    Decision.Deny deny =
        denied(
            policy.decide(caller(1000, USERS), request("/srv/shared/secret/k", Permission.WRITE)));
    assertEquals("secret", deny.rule().orElseThrow().id());
  }

  @Test
  void denyBeatsAllowInAnEarlierFile() {
    Policy policy = policy(ALLOW_SHARED_RW, DENY_SECRET_WRITE);
    denied(policy.decide(caller(1000, USERS), request("/srv/shared/secret/k", Permission.WRITE)));
  }

  @Test
  void denyReasonNamesRuleAndRefusedPermissions() {
    Policy policy = policy(ALLOW_SHARED_RW + DENY_SECRET_WRITE);
    Decision.Deny deny =
        denied(
            policy.decide(
                caller(1000, USERS),
                request("/srv/shared/secret/k", Permission.READ, Permission.WRITE)));
    Rule rule = deny.rule().orElseThrow();
    assertEquals(
        "rule secret ("
            + rule.source().fileAndLine()
            + ") denies write on /srv/shared/secret/k"
            + " to uid 1000",
        deny.reason());
  }

  @Test
  void denyOnlyRefusesItsOwnAccess() {
    Policy policy = policy(ALLOW_SHARED_RW + DENY_SECRET_WRITE);
    assertEquals(
        "shared",
        allowedRule(
            policy.decide(caller(1000, USERS), request("/srv/shared/secret/k", Permission.READ))));
  }

  @Test
  void firstMatchingDenyIsReported() {
    Policy policy =
        policy(
            ALLOW_SHARED_RW,
            """
            [[deny]]
            name = "later"
            any = true
            paths = ["/srv/shared/**"]
            """,
            """
            [[deny]]
            name = "earlier-line-but-later-file"
            any = true
            paths = ["/srv/shared/*"]
            """);
    assertEquals(
        "later",
        denied(policy.decide(caller(1000, USERS), request("/srv/shared/a", Permission.READ)))
            .rule()
            .orElseThrow()
            .id());
  }

  @Test
  void oneRuleMustGrantEverything() {
    Policy policy =
        policy(
            """
            [[allow]]
            name = "reader"
            any = true
            paths = ["/srv/x"]
            access = ["read"]

            [[allow]]
            name = "writer"
            any = true
            paths = ["/srv/x"]
            access = ["write"]
            """);
    Caller caller = caller(1000, 1000);
    assertEquals("reader", allowedRule(policy.decide(caller, request("/srv/x", Permission.READ))));
    assertEquals("writer", allowedRule(policy.decide(caller, request("/srv/x", Permission.WRITE))));
    Decision.Deny deny =
        denied(policy.decide(caller, request("/srv/x", Permission.READ, Permission.WRITE)));
    assertEquals(Optional.empty(), deny.rule());
    assertEquals(
        "no allow rule grants read,write on /srv/x to uid 1000 (rule reader matches but grants"
            + " only read)",
        deny.reason());
  }

  @Test
  void reportsFirstAllowRuleInFileThenLineOrder() {
    String broad =
        """
        [[allow]]
        name = "broad"
        any = true
        paths = ["/srv/**"]
        access = ["read", "write"]
        """;
    String narrow =
        """
        # a comment to move the rule down

        [[allow]]
        name = "narrow"
        any = true
        paths = ["/srv/a"]
        access = ["read"]
        """;
    assertEquals(
        "narrow",
        allowedRule(
            policy(narrow, broad).decide(caller(0, 0), request("/srv/a", Permission.READ))));
    assertEquals(
        "broad",
        allowedRule(
            policy(broad, narrow).decide(caller(0, 0), request("/srv/a", Permission.READ))));
    assertEquals(
        "broad",
        allowedRule(
            policy(broad + narrow).decide(caller(0, 0), request("/srv/a", Permission.READ))));
    assertEquals(
        "broad",
        allowedRule(
            policy(narrow, broad).decide(caller(0, 0), request("/srv/a", Permission.WRITE))));
  }

  @Test
  void writeGrantsAppendButAppendDoesNotGrantWrite() {
    Policy policy =
        policy(
            """
            [[allow]]
            any = true
            paths = ["/var/log/app.log"]
            access = ["append"]

            [[allow]]
            any = true
            paths = ["/srv/data"]
            access = ["write"]
            """);
    Caller caller = caller(1000, 1000);
    allowedRule(policy.decide(caller, request("/var/log/app.log", Permission.APPEND)));
    denied(policy.decide(caller, request("/var/log/app.log", Permission.WRITE)));
    allowedRule(policy.decide(caller, request("/srv/data", Permission.APPEND)));
  }

  @Test
  void denyOfWriteOrAppendRefusesBoth() {
    String allowAll =
        """
        [[allow]]
        any = true
        paths = ["/srv/**"]
        access = ["read", "write", "append"]
        """;
    Policy denyWrite =
        policy(allowAll + "[[deny]]\nany = true\npaths = [\"/srv/log\"]\naccess = [\"write\"]\n");
    Policy denyAppend =
        policy(allowAll + "[[deny]]\nany = true\npaths = [\"/srv/log\"]\naccess = [\"append\"]\n");
    for (Policy policy : List.of(denyWrite, denyAppend)) {
      Caller caller = caller(1000, 1000);
      denied(policy.decide(caller, request("/srv/log", Permission.WRITE)));
      denied(policy.decide(caller, request("/srv/log", Permission.APPEND)));
      allowedRule(policy.decide(caller, request("/srv/log", Permission.READ)));
    }
  }

  @Test
  void groupsMatchPrimaryAndSupplementaryGroups() {
    Policy policy = policy(ALLOW_SHARED_RW);
    AccessRequest read = request("/srv/shared/a", Permission.READ);
    allowedRule(policy.decide(caller(1000, USERS), read));
    allowedRule(policy.decide(caller(1000, 1000, 27, USERS), read));
    denied(policy.decide(caller(1000, 1000, 27), read));
  }

  @Test
  void usersMatchByUidOnly() {
    Policy policy =
        policy(
            """
            [[allow]]
            users = ["nobody"]
            paths = ["/srv/x"]
            access = ["read"]
            """);
    allowedRule(policy.decide(caller(NOBODY, 1000), request("/srv/x", Permission.READ)));
    denied(policy.decide(caller(1000, NOBODY, NOBODY), request("/srv/x", Permission.READ)));
  }

  @Test
  void defaultDenyExplainsWhatIsMissing() {
    Policy policy = policy("");
    Decision.Deny deny = denied(policy.decide(caller(1000, 1000), request("/x", Permission.WRITE)));
    assertEquals(Optional.empty(), deny.rule());
    assertEquals("no allow rule grants write on /x to uid 1000", deny.reason());
  }

  @Test
  void directoryRequestNeedsDirectoryAccess() {
    Policy policy =
        policy(
            """
            [[allow]]
            name = "files"
            any = true
            paths = ["/srv/d"]
            access = ["read"]

            [[allow]]
            name = "dirs"
            users = [0]
            paths = ["/srv/d"]
            access = ["read", "directory"]
            types = ["directory"]
            """);
    AccessRequest directory = new AccessRequest("/srv/d", Set.of(Permission.READ), true);
    assertEquals("dirs", allowedRule(policy.decide(caller(0, 0), directory)));
    assertEquals(
        "no allow rule grants read,directory on /srv/d as a directory to uid 1000 (rule files"
            + " matches but grants only read)",
        denied(policy.decide(caller(1000, 1000), directory)).reason());
    assertEquals(
        "files",
        allowedRule(policy.decide(caller(1000, 1000), request("/srv/d", Permission.READ))));
  }

  @Test
  void deniesNonCanonicalPathsWithoutLookingAtRules() {
    Policy policy = policy("[[allow]]\nany = true\npaths = [\"/**\"]\naccess = [\"read\"]\n");
    assertEquals(
        "path '/srv/../etc/shadow' is not absolute and canonical",
        denied(policy.decide(caller(0, 0), request("/srv/../etc/shadow", Permission.READ)))
            .reason());
    denied(policy.decide(caller(0, 0), request("relative", Permission.READ)));
    denied(policy.decide(caller(0, 0), request("/a//b", Permission.READ)));
  }

  @Test
  void exposesRulesAndSources() {
    Policy policy = policy(ALLOW_SHARED_RW, DENY_SECRET_WRITE);
    assertEquals(2, policy.ruleCount());
    assertEquals(List.of("shared", "secret"), policy.rules().stream().map(Rule::id).toList());
    assertEquals(
        List.of("00.toml", "01.toml"),
        policy.sources().stream().map(p -> p.getFileName().toString()).toList());
  }

  /** The precedence table of docs/policy.md, one row per line. */
  @ParameterizedTest(name = "{0} {1} {2}: {3}")
  @CsvSource(
      delimiter = '|',
      value = {
        "1000 | /srv/shared/report.txt   | read        | allow shared-read",
        "1000 | /srv/shared/report.txt   | write       | allow shared-write",
        "1000 | /srv/shared/report.txt   | read,write  | allow shared-write",
        "1000 | /srv/shared/report.txt   | append      | allow shared-write",
        "1000 | /srv/shared/secret/key   | read        | deny secret",
        "1000 | /srv/shared/secret/key   | write       | deny secret",
        "0    | /srv/shared/secret/key   | read        | deny secret",
        "1000 | /srv/shared/a/b.csv      | read        | allow shared-read",
        "1000 | /srv/shared              | read        | deny -",
        "1000 | /srv/shared/report.txt   | read,create | deny -",
        "1000 | /srv/other               | read        | deny -",
        "0    | /etc/hostname            | read        | allow hostname",
        "1000 | /etc/hostname            | write       | deny -",
      })
  void precedenceTableOfTheDocumentation(int uid, String path, String access, String outcome)
      throws IOException {
    Policy policy =
        policy(
            """
            [[allow]]
            name = "hostname"
            any = true
            paths = ["/etc/hostname"]
            access = ["read"]

            [[allow]]
            name = "shared-read"
            groups = ["users"]
            paths = ["/srv/shared/**"]
            access = ["read"]

            [[allow]]
            name = "shared-write"
            groups = ["users"]
            paths = ["/srv/shared/*.txt"]
            access = ["read", "write"]

            [[deny]]
            name = "secret"
            any = true
            paths = ["/srv/shared/secret/**"]
            """);
    EnumSet<Permission> permissions = EnumSet.noneOf(Permission.class);
    for (String word : access.split(",")) {
      permissions.add(Permission.valueOf(word.strip().toUpperCase(java.util.Locale.ROOT)));
    }
    Decision decision =
        policy.decide(caller(uid, USERS), new AccessRequest(path, permissions, false));
    String actual =
        switch (decision) {
          case Decision.Allow allow -> "allow " + allow.rule().id();
          case Decision.Deny deny -> "deny " + deny.rule().map(Rule::id).orElse("-");
        };
    assertEquals(outcome, actual, () -> decision.toString());
  }

  /**
   * 100,000 rules built directly: parsing that much TOML takes tomlj many seconds, and what is
   * tested here is the index. Decisions are compared with the documented outcome and with a linear
   * scan over all rules.
   */
  @Test
  void decidesCorrectlyWithOneHundredThousandRules() {
    int count = 100_000;
    Path file = temp.resolve("generated.toml");
    List<Rule> rules = new ArrayList<>(count + 1);
    for (int i = 0; i < count; i++) {
      List<Subject> owner = List.of(new Subject.User(100_000 + i, Optional.empty()));
      if (i % 10 == 9) {
        rules.add(
            new Rule(
                Optional.of("d" + i),
                Rule.Effect.DENY,
                new SourceLocation(file, i + 1, 1),
                owner,
                List.of(PathPattern.of("/home/u" + i + "/secret/**")),
                EnumSet.allOf(Permission.class),
                EnumSet.allOf(FileType.class),
                0,
                RuleOptions.DEFAULT,
                rules.size()));
      } else {
        rules.add(
            new Rule(
                Optional.of("a" + i),
                Rule.Effect.ALLOW,
                new SourceLocation(file, i + 1, 1),
                i % 3 == 0 ? List.of(new Subject.Group(200_000 + i, Optional.empty())) : owner,
                List.of(
                    PathPattern.of("/home/u" + i + "/**"), PathPattern.of("/srv/*/u" + i + ".log")),
                EnumSet.of(Permission.READ, Permission.WRITE),
                EnumSet.of(FileType.REGULAR),
                0600,
                RuleOptions.DEFAULT,
                rules.size()));
      }
    }
    rules.add(
        new Rule(
            Optional.of("public"),
            Rule.Effect.ALLOW,
            new SourceLocation(file, count + 1, 1),
            List.of(new Subject.Anyone()),
            List.of(PathPattern.of("/srv/public/**")),
            EnumSet.of(Permission.READ),
            EnumSet.of(FileType.REGULAR),
            0600,
            RuleOptions.DEFAULT,
            rules.size()));
    Policy policy = new Policy(rules, List.of(file));
    assertEquals(count + 1, policy.ruleCount());

    List<String> mismatches = new ArrayList<>();
    for (int i = 0; i < count; i += 7) {
      Caller owner = caller(100_000 + i, USERS, 200_000 + i);
      Caller other = caller(100_000 + (i + 1) % count, USERS, 200_000 + (i + 1) % count);
      String home = "/home/u" + i + "/notes.txt";
      List<Decision> decisions = new ArrayList<>();
      decisions.add(policy.decide(owner, request(home, Permission.READ)));
      check(mismatches, decisions.get(0), i % 10 == 9 ? "deny" : "allow a" + i);
      decisions.add(policy.decide(other, request(home, Permission.READ)));
      check(mismatches, decisions.get(1), "deny");
      if (i % 10 != 9) {
        decisions.add(policy.decide(owner, request("/srv/x/u" + i + ".log", Permission.WRITE)));
        check(mismatches, decisions.get(2), "allow a" + i);
        decisions.add(policy.decide(owner, request("/srv/x/y/u" + i + ".log", Permission.WRITE)));
        check(mismatches, decisions.get(3), "deny");
      }
      decisions.add(policy.decide(owner, request("/srv/public/f", Permission.READ)));
      check(mismatches, decisions.get(decisions.size() - 1), "allow public");
      if (i % 1000 == 0) {
        assertEquals(
            linear(policy, owner, request(home, Permission.READ)), describe(decisions.get(0)));
      }
    }
    check(
        mismatches,
        policy.decide(caller(100_009, USERS), request("/home/u9/secret/k", Permission.READ)),
        "deny d9");
    assertEquals(List.of(), mismatches);
  }

  static Caller process(int uid, Optional<String> exe, Optional<String> unit) {
    return new Caller(4242, uid, uid, List.of(), exe, unit);
  }

  @Test
  void uidAndGidRangesMatchBothEndsInclusive() {
    Policy policy =
        policy(
            """
            [[allow]]
            name = "staff"
            uids = ["1000-59999"]
            gids = ["2000-2999", 7]
            paths = ["/srv/r"]
            access = ["read"]
            """);
    AccessRequest read = request("/srv/r", Permission.READ);
    assertEquals("staff", allowedRule(policy.decide(caller(1000, 1), read)));
    assertEquals("staff", allowedRule(policy.decide(caller(59999, 1), read)));
    assertEquals("staff", allowedRule(policy.decide(caller(60000, 1, 2999), read)));
    assertEquals("staff", allowedRule(policy.decide(caller(60000, 7), read)));
    assertInstanceOf(Decision.Deny.class, policy.decide(caller(999, 1), read));
    assertInstanceOf(Decision.Deny.class, policy.decide(caller(60000, 3000, 1999), read));
  }

  @Test
  void executableAndUnitConstraintsNarrowAnAllow() {
    Policy policy =
        policy(
            """
            [[allow]]
            name = "app"
            uids = ["0-59999"]
            executables = ["/usr/bin/app"]
            units = ["app.service"]
            paths = ["/srv/app/**"]
            access = ["read"]
            """);
    AccessRequest read = request("/srv/app/x", Permission.READ);
    Optional<String> app = Optional.of("/usr/bin/app");
    Optional<String> unit = Optional.of("app.service");
    assertEquals("app", allowedRule(policy.decide(process(1000, app, unit), read)));
    assertInstanceOf(
        Decision.Deny.class,
        policy.decide(process(1000, Optional.of("/usr/bin/other"), unit), read));
    assertInstanceOf(
        Decision.Deny.class, policy.decide(process(1000, app, Optional.of("x.service")), read));
  }

  @Test
  void plainUnitIsTheSystemManagersAndUserUnitsAreNamedWithTheirManager() {
    Policy policy =
        policy(
            """
            [[allow]]
            name = "backup"
            any = true
            units = ["backup.service"]
            paths = ["/srv/backup/**"]
            access = ["read"]

            [[allow]]
            name = "sync"
            any = true
            units = ["user@1000.service/sync.service"]
            paths = ["/srv/sync/**"]
            access = ["read"]

            [[allow]]
            name = "manager"
            any = true
            units = ["user@1001.service"]
            paths = ["/srv/m/**"]
            access = ["read"]

            [[deny]]
            name = "no-games"
            any = true
            units = ["user@1000.service/games.service"]
            paths = ["/srv/sync/private/**"]
            """);
    AccessRequest backup = request("/srv/backup/x", Permission.READ);
    assertEquals(
        "backup",
        allowedRule(
            policy.decide(process(0, Optional.empty(), Optional.of("backup.service")), backup)));
    assertInstanceOf(
        Decision.Deny.class,
        policy.decide(
            process(1000, Optional.empty(), Optional.of("user@1000.service/backup.service")),
            backup),
        "a user's own backup.service is not the system's");
    AccessRequest sync = request("/srv/sync/x", Permission.READ);
    assertEquals(
        "sync",
        allowedRule(
            policy.decide(
                process(1000, Optional.empty(), Optional.of("user@1000.service/sync.service")),
                sync)));
    assertInstanceOf(
        Decision.Deny.class,
        policy.decide(process(1001, Optional.empty(), Optional.of("sync.service")), sync));
    assertInstanceOf(
        Decision.Deny.class,
        policy.decide(
            process(1001, Optional.empty(), Optional.of("user@1001.service/sync.service")), sync));
    // A plain entry naming a user's manager covers every unit that manager runs.
    assertEquals(
        "manager",
        allowedRule(
            policy.decide(
                process(1001, Optional.empty(), Optional.of("user@1001.service/x.service")),
                request("/srv/m/x", Permission.READ))));
    // Deny naming a user unit: a process of that manager whose user unit is unknown is caught.
    assertEquals(
        "no-games",
        denied(
                policy.decide(
                    process(1000, Optional.empty(), Optional.of("user@1000.service")),
                    request("/srv/sync/private/k", Permission.READ)))
            .rule()
            .orElseThrow()
            .id());
  }

  @Test
  void userUnitMustNameAUsersManager() throws IOException {
    Path file = temp.resolve("units.toml");
    Files.writeString(
        file,
        """
        [[allow]]
        any = true
        units = ["backup.service/x.service", "user@1000.service/x"]
        paths = ["/srv/x"]
        access = ["read"]
        """);
    PolicyLoad.Invalid invalid =
        assertInstanceOf(PolicyLoad.Invalid.class, PolicyLoader.load(file));
    assertEquals(
        List.of(
            file
                + ":3:10: unit 'backup.service/x.service' is not a user unit; write the user's"
                + " manager, a '/' and the unit, as in \"user@1000.service/myapp.service\"",
            file
                + ":3:38: unit 'user@1000.service/x' is not a user unit; write the user's"
                + " manager, a '/' and the unit, as in \"user@1000.service/myapp.service\""),
        invalid.errors().stream().map(PolicyError::toString).toList());
  }

  @Test
  void unknownExecutableOrUnitFailsClosed() {
    Policy policy =
        policy(
            """
            [[allow]]
            name = "app"
            uids = ["0-59999"]
            executables = ["/usr/bin/app"]
            paths = ["/srv/app/**"]
            access = ["read"]

            [[allow]]
            name = "all"
            any = true
            paths = ["/srv/**"]
            access = ["read"]

            [[deny]]
            name = "no-browser"
            any = true
            executables = ["/usr/bin/browser"]
            units = ["browser.scope"]
            paths = ["/srv/secret/**"]
            """);
    Optional<String> unknown = Optional.empty();
    // Allow: an unknown executable does not meet executables = [...].
    assertEquals(
        "all",
        allowedRule(
            policy.decide(
                process(1000, unknown, unknown), request("/srv/app/x", Permission.READ))));
    AccessRequest secret = request("/srv/secret/k", Permission.READ);
    // Deny: hiding the executable or unit does not dodge it.
    assertEquals(
        "no-browser",
        denied(policy.decide(process(1000, unknown, unknown), secret)).rule().orElseThrow().id());
    assertEquals(
        "no-browser",
        denied(policy.decide(process(1000, Optional.of("/usr/bin/browser"), unknown), secret))
            .rule()
            .orElseThrow()
            .id());
    assertEquals(
        "no-browser",
        denied(
                policy.decide(
                    process(
                        1000,
                        Optional.of("/usr/bin/browser (deleted)"),
                        Optional.of("browser.scope")),
                    secret))
            .rule()
            .orElseThrow()
            .id());
    // A known, different executable is not the denied one.
    assertEquals(
        "all",
        allowedRule(
            policy.decide(
                process(1000, Optional.of("/usr/bin/cat"), Optional.of("browser.scope")), secret)));
  }

  @Test
  void pathVariablesExpandPerCaller() {
    // root (uid 0, home /root) is in every /etc/passwd; uid 123456 is in none here.
    Policy policy =
        policy(
            """
            [[allow]]
            name = "own"
            any = true
            paths = ["/srv/users/${user}/**", "/run/user/${uid}/app-${gid}", "${home}/.config/**"]
            access = ["read", "write"]
            """);
    Caller root = caller(0, 0);
    assertEquals(
        "own", allowedRule(policy.decide(root, request("/srv/users/root/a", Permission.READ))));
    assertEquals(
        "own", allowedRule(policy.decide(root, request("/run/user/0/app-0", Permission.READ))));
    assertEquals(
        "own", allowedRule(policy.decide(root, request("/root/.config/x", Permission.WRITE))));
    assertInstanceOf(
        Decision.Deny.class, policy.decide(root, request("/srv/users/alice/a", Permission.READ)));
    assertInstanceOf(
        Decision.Deny.class, policy.decide(root, request("/run/user/1/app-0", Permission.READ)));
    assertInstanceOf(
        Decision.Deny.class, policy.decide(root, request("/home/x/.config/x", Permission.READ)));
    Caller stranger = caller(123456, 123456);
    assertInstanceOf(
        Decision.Deny.class,
        policy.decide(stranger, request("/srv/users/123456/a", Permission.READ)));
    assertEquals(
        "own",
        allowedRule(
            policy.decide(stranger, request("/run/user/123456/app-123456", Permission.READ))));
  }

  @Test
  void unresolvableVariableMakesDenyRulesMatch() {
    Policy policy =
        policy(
            """
            [[allow]]
            name = "all"
            any = true
            paths = ["/srv/**"]
            access = ["read"]

            [[deny]]
            name = "others-homes"
            any = true
            paths = ["/srv/home/${user}/private/**"]

            [[deny]]
            name = "home-secrets"
            any = true
            paths = ["${home}/.ssh/**"]
            """);
    // A caller without a passwd entry: neither ${user} nor ${home} resolves, so both deny rules
    // match every path their literal part reaches.
    Caller stranger = caller(123456, 123456);
    assertEquals(
        "others-homes",
        denied(policy.decide(stranger, request("/srv/home/x/y", Permission.READ)))
            .rule()
            .orElseThrow()
            .id());
    assertEquals(
        "home-secrets",
        denied(policy.decide(stranger, request("/srv/a", Permission.READ)))
            .rule()
            .orElseThrow()
            .id());
    // nobody's home is /nonexistent: it resolves, and the rules match only their own paths.
    Caller nobody = caller(NOBODY, NOBODY);
    assertEquals("all", allowedRule(policy.decide(nobody, request("/srv/a", Permission.READ))));
    assertEquals(
        "home-secrets",
        denied(policy.decide(nobody, request("/nonexistent/.ssh/id", Permission.READ)))
            .rule()
            .orElseThrow()
            .id());
  }

  @Test
  void exclusiveCreateNeedsOExcl() {
    Policy policy =
        policy(
            """
            [[allow]]
            name = "drop"
            any = true
            paths = ["/srv/drop/*"]
            access = ["write", "create"]
            create_exclusive = true
            """);
    int flags =
        dev.filebroker.protocol.OpenFlags.O_WRONLY | dev.filebroker.protocol.OpenFlags.O_CREAT;
    AccessRequest plain = AccessRequest.fromOpenFlags("/srv/drop/a", flags);
    AccessRequest exclusive =
        AccessRequest.fromOpenFlags(
            "/srv/drop/a", flags | dev.filebroker.protocol.OpenFlags.O_EXCL);
    assertEquals("drop", allowedRule(policy.decide(caller(1000, 1000), exclusive)));
    assertEquals(
        "no allow rule grants write,create on /srv/drop/a to uid 1000 (rule drop matches but"
            + " requires O_EXCL to create)",
        denied(policy.decide(caller(1000, 1000), plain)).reason());
    assertEquals(
        "drop",
        allowedRule(policy.decide(caller(1000, 1000), request("/srv/drop/a", Permission.WRITE))));
  }

  @Test
  void directoryDenyRefusesADirectoryOpenedWithoutODirectory() {
    Policy policy =
        policy(
            """
            [[allow]]
            name = "tree"
            any = true
            paths = ["/srv/t/**"]
            access = ["read", "directory"]

            [[deny]]
            name = "no-listing"
            any = true
            paths = ["/srv/t/hidden"]
            access = ["directory"]
            """);
    AccessRequest plain = request("/srv/t/hidden", Permission.READ);
    assertEquals("tree", allowedRule(policy.decide(caller(1000, 1000), plain)));
    // The server decides again with asDirectory() once it sees a directory.
    assertEquals(
        "no-listing",
        denied(policy.decide(caller(1000, 1000), plain.asDirectory())).rule().orElseThrow().id());
  }

  @Property(tries = 300)
  void indexDecidesLikeALinearScan(
      @ForAll("smallPolicies") List<Rule> rules,
      @ForAll("requests") AccessRequest request,
      @ForAll @IntRange(min = 0, max = 3) int uid,
      @ForAll @IntRange(min = 0, max = 3) int gid) {
    Policy policy = new Policy(rules, List.of());
    Caller caller = caller(uid, gid, gid + 10);
    assertEquals(linear(policy, caller, request), describe(policy.decide(caller, request)));
  }

  @Provide
  Arbitrary<List<Rule>> smallPolicies() {
    Arbitrary<String> component = Arbitraries.of("a", "b", "c", "*", "a*", "**");
    Arbitrary<PathPattern> pattern =
        component
            .list()
            .ofMinSize(0)
            .ofMaxSize(4)
            .map(c -> "/" + String.join("/", c))
            .filter(text -> PathPattern.problem(text).isEmpty())
            .map(PathPattern::of);
    Arbitrary<Subject> subject =
        Arbitraries.oneOf(
            Arbitraries.integers().between(0, 3).map(id -> new Subject.User(id, Optional.empty())),
            Arbitraries.integers()
                .between(0, 13)
                .map(id -> new Subject.Group(id, Optional.empty())),
            Arbitraries.just(new Subject.Anyone()));
    Arbitrary<Set<Permission>> permissions =
        Arbitraries.of(Permission.class).set().ofMinSize(1).ofMaxSize(3);
    Arbitrary<Set<FileType>> types =
        Arbitraries.of(
            EnumSet.of(FileType.REGULAR), EnumSet.of(FileType.REGULAR, FileType.DIRECTORY));
    Arbitrary<Rule.Effect> effect = Arbitraries.of(Rule.Effect.class);
    return net.jqwik.api.Combinators.combine(
            effect,
            subject.list().ofMinSize(1).ofMaxSize(2),
            pattern.list().ofMinSize(1).ofMaxSize(2),
            permissions,
            types)
        .as((e, s, p, perms, t) -> List.of(e, s, p, perms, t))
        .list()
        .ofMaxSize(12)
        .map(PolicyTest::numbered);
  }

  @SuppressWarnings("unchecked")
  private static List<Rule> numbered(List<List<Object>> parts) {
    List<Rule> rules = new ArrayList<>();
    for (List<Object> part : parts) {
      Rule.Effect effect = (Rule.Effect) part.get(0);
      rules.add(
          new Rule(
              Optional.empty(),
              effect,
              new SourceLocation(Path.of("p.toml"), rules.size() + 1, 1),
              (List<Subject>) part.get(1),
              (List<PathPattern>) part.get(2),
              (Set<Permission>) part.get(3),
              effect == Rule.Effect.DENY
                  ? EnumSet.allOf(FileType.class)
                  : (Set<FileType>) part.get(4),
              0600,
              RuleOptions.DEFAULT,
              rules.size()));
    }
    return rules;
  }

  @Provide
  Arbitrary<AccessRequest> requests() {
    Arbitrary<String> path =
        Arbitraries.of("a", "b", "c", "ab", "ba")
            .list()
            .ofMaxSize(4)
            .map(c -> "/" + String.join("/", c));
    return net.jqwik.api.Combinators.combine(
            path,
            Arbitraries.of(Permission.class).set().ofMinSize(1).ofMaxSize(3),
            Arbitraries.of(true, false))
        .as(AccessRequest::new);
  }

  /** The documented semantics, by scanning every rule in order. */
  private static String linear(Policy policy, Caller caller, AccessRequest request) {
    for (Rule rule : policy.rules()) {
      if (rule.effect() == Rule.Effect.DENY
          && rule.matchesCaller(caller)
          && rule.matchesPath(request.path())
          && rule.refusesAny(request.permissions())) {
        return "deny " + rule.id();
      }
    }
    for (Rule rule : policy.rules()) {
      if (rule.effect() == Rule.Effect.ALLOW
          && rule.matchesCaller(caller)
          && rule.matchesPath(request.path())
          && rule.grants(request.permissions())) {
        return "allow " + rule.id();
      }
    }
    return "deny -";
  }

  private static String describe(Decision decision) {
    return switch (decision) {
      case Decision.Allow allow -> "allow " + allow.rule().id();
      case Decision.Deny deny -> "deny " + deny.rule().map(Rule::id).orElse("-");
    };
  }

  private static void check(List<String> mismatches, Decision decision, String expected) {
    String actual =
        switch (decision) {
          case Decision.Allow allow -> "allow " + allow.rule().id();
          case Decision.Deny deny ->
              expected.startsWith("deny ")
                  ? "deny " + deny.rule().map(Rule::id).orElse("-")
                  : "deny";
        };
    if (!actual.equals(expected)) {
      mismatches.add(expected + " but " + decision);
    }
  }
}
