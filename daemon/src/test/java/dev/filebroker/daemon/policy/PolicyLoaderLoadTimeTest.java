package dev.filebroker.daemon.policy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Loads a generated 100,000-rule policy as 100 files and prints how long each load takes
 * (docs/performance.md), and checks that the same rules in one 13 MB file are refused with a clear
 * error rather than parsed (docs/decisions/0016). Asserts only that the policy loads: timings vary
 * too much between machines to be a test. Run alone with {@code -Dtest=PolicyLoaderLoadTimeTest},
 * or {@link #main} for a load in a fresh JVM.
 */
class PolicyLoaderLoadTimeTest {
  private static final int RULES = 100_000;

  @Test
  void loads100000RulesFromAHundredFilesAndRefusesThemInOne(@TempDir Path temp) throws IOException {
    Path one = generate(Files.createDirectory(temp.resolve("one")), RULES, 1);
    PolicyLoad.Invalid refused = assertInstanceOf(PolicyLoad.Invalid.class, PolicyLoader.load(one));
    assertEquals(1, refused.errors().size());
    assertTrue(
        refused.errors().get(0).message().contains("split it into several files"),
        refused.errors().toString());
    Path hundred = generate(Files.createDirectory(temp.resolve("hundred")), RULES, 100);
    time("100 files", hundred, 1); // once: bench/policy-load is where timings are compared
  }

  /** Loads the policy directory given as argument once and prints the time: a cold load. */
  public static void main(String[] args) {
    time(args[0], Path.of(args[0]), 1);
  }

  private static void time(String label, Path directory, int run) {
    long start = System.nanoTime();
    PolicyLoad load = PolicyLoader.load(directory);
    long millis = (System.nanoTime() - start) / 1_000_000;
    if (load instanceof PolicyLoad.Invalid invalid) {
      throw new AssertionError(invalid.errors().subList(0, Math.min(5, invalid.errors().size())));
    }
    assertEquals(RULES, ((PolicyLoad.Valid) load).policy().ruleCount());
    System.out.printf("load+check %,d rules (%s), run %d: %,d ms%n", RULES, label, run, millis);
  }

  /**
   * Writes {@code rules} rules spread over {@code files} files: per-user rules naming a uid or an
   * account name, group rules, and deny rules, about 100 bytes each.
   */
  static Path generate(Path directory, int rules, int files) throws IOException {
    int perFile = rules / files;
    for (int f = 0; f < files; f++) {
      StringBuilder text = new StringBuilder("# generated policy, part ").append(f).append('\n');
      for (int r = f * perFile; r < (f + 1) * perFile; r++) {
        switch (r % 10) {
          case 9 ->
              text.append("[[deny]]\nname = \"d")
                  .append(r)
                  .append("\"\nusers = [")
                  .append(1000 + r)
                  .append("]\npaths = [\"/srv/users/u")
                  .append(r)
                  .append("/secret/**\"]\n\n");
          case 5 ->
              text.append("[[allow]]\nname = \"g")
                  .append(r)
                  .append("\"\ngroups = [\"root\", ")
                  .append(r)
                  .append("]\npaths = [\"/srv/groups/g")
                  .append(r)
                  .append("/*.csv\"]\naccess = [\"read\"]\ntypes = [\"regular\"]\n\n");
          default ->
              text.append("[[allow]]\nname = \"u")
                  .append(r)
                  .append("\"\nusers = [\"root\", ")
                  .append(1000 + r)
                  .append("]\npaths = [\"/srv/users/u")
                  .append(r)
                  .append(
                      "/**\"]\naccess = [\"read\", \"write\", \"create\"]\ncreate_mode ="
                          + " \"0640\"\n\n");
        }
      }
      Files.writeString(directory.resolve(String.format("%03d-rules.toml", f)), text);
    }
    return directory;
  }
}
