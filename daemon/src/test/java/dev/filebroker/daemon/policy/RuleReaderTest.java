package dev.filebroker.daemon.policy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * The fast parse and the exact (tomlj) parse read valid policy files into the same rules, and every
 * file the fast parse cannot vouch for, or finds an error in, is read the exact way.
 */
class RuleReaderTest {
  static List<Path> validFiles() throws IOException {
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
  void sectionedFastParseReadsEveryValidFileIntoTheSameRulesAsTheExactParse() throws IOException {
    Accounts accounts = accounts();
    Map<String, String> texts = new LinkedHashMap<>();
    for (Path file : validFiles()) {
      texts.put(file.toString(), Files.readString(file));
    }
    texts.putAll(TRICKY_VALID);
    texts.put("CRLF", String.join("\r\n", TRICKY_VALID.get("strings").split("\n", -1)));
    for (Map.Entry<String, String> entry : texts.entrySet()) {
      Path file = Path.of(entry.getKey());
      String text = entry.getValue();
      RuleReader.Result exact = RuleReader.readExact(file, text, accounts);
      assertEquals(List.of(), exact.errors(), file + " is valid");
      assertFalse(exact.drafts().isEmpty(), file + " has rules");
      for (int size : new int[] {1, 2, 3, 1000}) {
        Optional<RuleReader.Result> fast = RuleReader.readFast(file, text, accounts, size);
        assertTrue(fast.isPresent(), () -> "the fast parse should vouch for " + file);
        if (text.contains("create_mode = 0o")) {
          assertFalse(fast.get().errors().isEmpty(), () -> file + " has an integer create_mode");
        } else {
          assertEquals(List.of(), fast.get().errors(), file + " in sections of " + size);
          assertEquals(idsAndSources(exact), idsAndSources(fast.get()), file + " / " + size);
          assertEquals(exact.drafts(), fast.get().drafts(), file + " in sections of " + size);
        }
      }
    }
  }

  @Test
  void sectionedFastParseLeavesEveryInvalidFileToTheExactParse() throws IOException {
    Accounts accounts = accounts();
    Path file = Path.of("x.toml");
    for (String text : TRICKY_INVALID) {
      RuleReader.Result exact = RuleReader.readExact(file, text, accounts);
      assertFalse(exact.errors().isEmpty(), () -> "should be invalid: " + text);
      for (int size : new int[] {1, 2, 1000}) {
        Optional<RuleReader.Result> fast = RuleReader.readFast(file, text, accounts, size);
        assertTrue(
            fast.isEmpty() || !fast.get().errors().isEmpty(),
            () -> "the fast parse should not accept " + text);
      }
      assertEquals(exact, RuleReader.read(file, text, accounts), text);
    }
  }

  /** Valid files with text around and inside rules that a cut between rules must not split. */
  private static final Map<String, String> TRICKY_VALID =
      Map.of(
          "strings",
          "# [[allow]] in a comment before the first rule\n"
              + "\n"
              + "[[allow]] # [[deny]]\n"
              + "name = \"\"\"\nr1\"\"\"\n"
              + "paths = [\"\"\"/srv/a/\\\n"
              + "    b\"\"\", '''\n/srv/# deny = 1''', \"/srv/#\"]\n"
              + "access = ['read'] # [[allow]]\n"
              + "any = true\n"
              + "  [[deny]]\n"
              + "users = [\n  \"root\", # [[allow]]\n  0,\n]\n"
              + "paths = ['/srv/b/**']\n"
              + "\t[[ \"allow\" ]]\n"
              + "uids = [\"0-10\"]\n"
              + "paths = [\"\"\"\n/srv/c\"\"\"]\n"
              + "access = [\"read\", \"write\"]\n"
              + "[['deny']]\n"
              + "any = true\n"
              + "paths = [\"/srv/c/secret\"]",
          "dotted and inline",
          "[[allow]]\n"
              + "\"name\" = \"dotted\"\n"
              + "any = true\n"
              + "paths = [ \"/srv/d\" ,\n\n  \"/srv/e\" ]\n"
              + "access = [\"read\"]\n"
              + "[[allow]]\n"
              + "groups = [\"root\"]\n"
              + "paths = [\"/srv/f\"]\n"
              + "access = [\"read\"]\n"
              + "\n# trailing comment\n\n",
          "deny first, blank lines with blanks",
          "\t \n[[deny]]\t\nany = true\npaths = [\"/x\"]\n \n\t\n"
              + "[[allow]]\nuids = [0, \"1-2\"]\ngids = [\n# none\n0]\npaths = [\"/y/*\"]\n"
              + "access = [\"read\", \"directory\"]\n \t");

  /** Invalid files, some of them valid in each section on its own. */
  private static final List<String> TRICKY_INVALID =
      List.of(
          "allow = 1\n[[allow]]\nany = true\npaths = [\"/a\"]\naccess = [\"read\"]\n",
          "x = 1\n[[allow]]\nany = true\npaths = [\"/a\"]\naccess = [\"read\"]\n",
          "[[allow]]\nany = true\nany = true\npaths = [\"/a\"]\naccess = [\"read\"]\n",
          "[[allow]]\nany = true\npaths = [\"/a\"]\naccess = [\"read\"]\n"
              + "[[deny]]\nany = true\npaths = [\"/a\"\n[[deny]]\nany = true\n",
          "[[allow]]\nany = true\npaths = [\"/a\"]\naccess = [\"read\"]\n"
              + "[[deny]]\nany = true\npaths = \"\"\"/a\n[[deny]]\nany = true\n",
          "[[deny]]\nany = true\npaths = [\"/a\"]\n[[deny]]\nany = 1\npaths = [\"/b\"]\n");

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
