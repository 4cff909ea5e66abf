package dev.filebroker.daemon.policy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/** Every policy file shipped in config/ loads, and the example means what its comments say. */
class ShippedPolicyTest {
  private static final Path POLICY_DIR = RepositoryRoot.find().resolve("config/policy.d");

  private static Policy shipped() {
    PolicyLoad load = PolicyLoader.load(POLICY_DIR);
    if (load instanceof PolicyLoad.Invalid invalid) {
      throw new AssertionError("shipped policy must load: " + invalid.errors());
    }
    return ((PolicyLoad.Valid) load).policy();
  }

  @Test
  void everyPolicyFileInConfigLoadsOnItsOwn() throws IOException {
    // config/filebroker.toml is the daemon configuration, checked by DaemonConfigLoaderTest.
    List<Path> files;
    try (Stream<Path> walk = Files.walk(RepositoryRoot.find().resolve("config/policy.d"))) {
      files =
          walk.filter(p -> p.toString().endsWith(".toml"))
              .filter(
                  p -> !p.getParent().getFileName().toString().equals(PolicyTests.TESTS_DIRECTORY))
              .sorted()
              .toList();
    }
    assertTrue(!files.isEmpty(), "config/ should ship at least one policy file");
    List<String> problems = new ArrayList<>();
    for (Path file : files) {
      if (PolicyLoader.load(file) instanceof PolicyLoad.Invalid invalid) {
        problems.add(invalid.errors().toString());
      }
    }
    assertEquals(List.of(), problems);
  }

  @Test
  void everyTomlExampleInTheDocumentationLoads() throws IOException {
    String doc = Files.readString(RepositoryRoot.find().resolve("docs/policy.md"));
    Matcher block = Pattern.compile("```toml\n(.*?)```", Pattern.DOTALL).matcher(doc);
    List<String> problems = new ArrayList<>();
    int count = 0;
    Path directory = Files.createTempDirectory("policy-doc");
    try {
      while (block.find()) {
        Path file = directory.resolve("example-" + ++count + ".toml");
        Files.writeString(file, block.group(1));
        if (PolicyLoader.load(file) instanceof PolicyLoad.Invalid invalid) {
          problems.add(invalid.errors().toString());
        }
        Files.delete(file);
      }
    } finally {
      Files.delete(directory);
    }
    assertTrue(count >= 2, "docs/policy.md should hold TOML examples");
    assertEquals(List.of(), problems);
  }

  @Test
  void shippedCasesPassAgainstTheShippedPolicy() {
    PolicyTests tests = PolicyTests.discover(POLICY_DIR);
    assertTrue(tests.cases().size() >= 5, "config/policy.d/tests should ship example cases");
    PolicyTests.Report report = tests.run(shipped());
    assertTrue(report.passed(), () -> report.errors() + "\n" + report.failures());
  }

  @Test
  void loadsAHundredThousandRulesCorrectly(@org.junit.jupiter.api.io.TempDir Path temp)
      throws IOException {
    // 100 files of 1,000 rules each; each rule grants one user one directory.
    for (int f = 0; f < 100; f++) {
      StringBuilder text = new StringBuilder();
      for (int r = 0; r < 1000; r++) {
        int n = f * 1000 + r;
        text.append("[[allow]]\nname = \"r")
            .append(n)
            .append("\"\nusers = [")
            .append(100_000 + n)
            .append("]\npaths = [\"/srv/u")
            .append(n)
            .append("/**\"]\naccess = [\"read\"]\n\n");
      }
      Files.writeString(temp.resolve(String.format("%03d.toml", f)), text);
    }
    PolicyLoad load = PolicyLoader.load(temp);
    Policy policy = assertInstanceOf(PolicyLoad.Valid.class, load, load::toString).policy();
    assertEquals(100_000, policy.ruleCount());
    Caller last = new Caller(1, 199_999, 1, List.of(), Optional.empty(), Optional.empty());
    Decision decision =
        policy.decide(last, new AccessRequest("/srv/u99999/a", EnumSet.of(Permission.READ), false));
    assertEquals("r99999", assertInstanceOf(Decision.Allow.class, decision).rule().id());
    assertInstanceOf(
        Decision.Deny.class,
        policy.decide(
            last, new AccessRequest("/srv/u99998/a", EnumSet.of(Permission.READ), false)));
  }

  @Test
  void exampleLetsAnyoneReadHostIdentityOnly() {
    Policy policy = shipped();
    Caller nobody = new Caller(1, 65534, 65534, List.of(), Optional.empty(), Optional.empty());
    assertInstanceOf(
        Decision.Allow.class,
        policy.decide(
            nobody, new AccessRequest("/etc/hostname", EnumSet.of(Permission.READ), false)));
    assertInstanceOf(
        Decision.Allow.class,
        policy.decide(
            nobody, new AccessRequest("/usr/lib/os-release", EnumSet.of(Permission.READ), false)));
    assertInstanceOf(
        Decision.Deny.class,
        policy.decide(
            nobody, new AccessRequest("/etc/hostname", EnumSet.of(Permission.WRITE), false)));
    assertInstanceOf(
        Decision.Deny.class,
        policy.decide(
            nobody, new AccessRequest("/etc/shadow", EnumSet.of(Permission.READ), false)));
    assertInstanceOf(
        Decision.Deny.class,
        policy.decide(
            nobody,
            new AccessRequest("/srv/filebroker/shared/a", EnumSet.of(Permission.READ), false)));
  }

  @Test
  void exampleLetsGroupUsersReadTheSharedTreeExceptPrivate() {
    Policy policy = shipped();
    Caller member = new Caller(1, 1000, 1000, List.of(100), Optional.empty(), Optional.empty());
    assertInstanceOf(
        Decision.Allow.class,
        policy.decide(
            member,
            new AccessRequest("/srv/filebroker/shared/a/b", EnumSet.of(Permission.READ), false)));
    assertInstanceOf(
        Decision.Deny.class,
        policy.decide(
            member,
            new AccessRequest("/srv/filebroker/shared/a", EnumSet.of(Permission.WRITE), false)));
    assertInstanceOf(
        Decision.Deny.class,
        policy.decide(
            member,
            new AccessRequest(
                "/srv/filebroker/shared/private/k", EnumSet.of(Permission.READ), false)));
  }
}
