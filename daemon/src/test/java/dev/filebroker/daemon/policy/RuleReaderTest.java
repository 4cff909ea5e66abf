package dev.filebroker.daemon.policy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * The fast parse and the exact (tomlj) parse read valid policy files into the same rules, and every
 * file the fast parse cannot vouch for, or finds an error in, is read the exact way.
 */
class RuleReaderTest {
  private static List<Path> validFiles() throws IOException {
    List<Path> files = new ArrayList<>();
    for (Path directory :
        List.of(
            PolicyLoaderTest.fixture("valid"),
            PolicyLoaderTest.fixture("multi"),
            RepositoryRoot.find().resolve("config/policy.d"))) {
      try (Stream<Path> list = Files.list(directory)) {
        list.filter(p -> p.getFileName().toString().endsWith(".toml"))
            .filter(p -> !p.getFileName().toString().startsWith("."))
            .sorted()
            .forEach(files::add);
      }
    }
    return files;
  }

  private static Accounts accounts() throws IOException {
    return Accounts.read(Accounts.PASSWD, Accounts.GROUP);
  }

  private static List<String> idsAndSources(RuleReader.Result result) {
    return result.drafts().stream()
        .map(d -> d.toRule(0).id() + " " + d.source() + " " + d.source().fileAndLine())
        .toList();
  }

  @Test
  void fastAndExactParsesReadEveryValidFileIntoTheSameRules() throws IOException {
    Accounts accounts = accounts();
    int fastFiles = 0;
    for (Path file : validFiles()) {
      String text = Files.readString(file);
      RuleReader.Result exact = RuleReader.readExact(file, text, accounts);
      assertEquals(List.of(), exact.errors(), file + " is a valid fixture");
      Optional<RuleReader.Result> fast = RuleReader.readFast(file, text, accounts);
      assertTrue(fast.isPresent(), () -> "the fast parse should vouch for " + file);
      if (text.contains("create_mode = 0o")) {
        // An integer mode needs its source text (0o640 or 640): only the exact parse has it.
        assertFalse(fast.get().errors().isEmpty(), () -> file + " has an integer create_mode");
      } else {
        assertEquals(List.of(), fast.get().errors(), () -> file + " through the fast parse");
        assertEquals(idsAndSources(exact), idsAndSources(fast.get()), file.toString());
        assertEquals(exact.drafts(), fast.get().drafts(), file.toString());
        fastFiles++;
      }
      RuleReader.Result read = RuleReader.read(file, text, accounts);
      assertEquals(exact.drafts(), read.drafts(), file.toString());
      assertEquals(List.of(), read.errors(), file.toString());
    }
    assertTrue(fastFiles >= 3, "most valid fixtures should take the fast parse");
  }

  @Test
  void fastAndExactLoadsOfValidPoliciesDecideAlike() throws IOException {
    Accounts accounts = accounts();
    for (Path file : validFiles()) {
      String text = Files.readString(file);
      List<Rule> exact = rules(RuleReader.readExact(file, text, accounts));
      List<Rule> read = rules(RuleReader.read(file, text, accounts));
      Policy exactPolicy = new Policy(exact, List.of(file), accounts.accountsByUid());
      Policy readPolicy = new Policy(read, List.of(file), accounts.accountsByUid());
      for (AccessRequest request : requestsFor(exact)) {
        for (Caller caller :
            List.of(caller(0, 0, ""), caller(1000, 100, "/usr/bin/app"), caller(44, 44, ""))) {
          assertEquals(
              exactPolicy.decide(caller, request).toString(),
              readPolicy.decide(caller, request).toString(),
              file + " " + request);
        }
      }
    }
  }

  @Test
  void readsTheExactWayWhenTheFastParseFindsAnError() throws IOException {
    Path file = PolicyLoaderTest.fixture("invalid/unknown-key.toml");
    String text = Files.readString(file);
    Optional<RuleReader.Result> fast = RuleReader.readFast(file, text, accounts());
    assertTrue(fast.isPresent() && !fast.get().errors().isEmpty());
    assertEquals(
        RuleReader.readExact(file, text, accounts()).errors(),
        RuleReader.read(file, text, accounts()).errors());
  }

  @Test
  void fastParseDeclinesFilesItCannotPlaceRulesIn() throws IOException {
    // Valid (an inline array of tables) or not, these are read the exact way.
    Path file = Path.of("x.toml");
    for (String text :
        List.of(
            "allow = [{ any = true, paths = [\"/a\"], access = [\"read\"] }]\n",
            "[[allow]]\nany = true\npaths = [\"/a\"]\naccess = [\"read\"]\n[allow.x]\n",
            "[[allow]]\nany = true\npaths = [\"/a\"]\naccess = [\"read\"]\nname = \"a\r\"\n",
            "[[allow]\n",
            "[[allow]]\nname = 1979-05-27\nany = true\npaths = [\"/a\"]\naccess = [\"read\"]\n")) {
      Optional<RuleReader.Result> fast = RuleReader.readFast(file, text, accounts());
      assertTrue(
          fast.isEmpty() || !fast.get().errors().isEmpty(),
          () -> "the fast parse should not accept " + text);
      assertEquals(
          RuleReader.readExact(file, text, accounts()), RuleReader.read(file, text, accounts()));
    }
  }

  private static List<Rule> rules(RuleReader.Result result) {
    List<Rule> rules = new ArrayList<>();
    for (RuleReader.Draft draft : result.drafts()) {
      rules.add(draft.toRule(rules.size()));
    }
    return rules;
  }

  /** For each pattern, a path below it (or the path itself) with every kind of access. */
  private static List<AccessRequest> requestsFor(List<Rule> rules) {
    List<AccessRequest> requests = new ArrayList<>();
    for (Rule rule : rules) {
      for (PathPattern pattern : rule.paths()) {
        String path =
            pattern
                .toString()
                .replace("${home}", "/root")
                .replaceAll("\\$\\{[a-z]+}", "0")
                .replace("**", "a/b")
                .replace("*", "x");
        if (PathPattern.isCanonical(path)) {
          for (Permission permission : Permission.values()) {
            requests.add(new AccessRequest(path, Set.of(permission), false));
          }
        }
      }
    }
    return requests;
  }

  private static Caller caller(int uid, int gid, String executable) {
    return new Caller(
        1,
        uid,
        gid,
        List.of(gid, 44),
        Optional.of(executable).filter(e -> !e.isEmpty()),
        Optional.of("app.service"));
  }
}
