package dev.filebroker.daemon.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code filebroker explain} against a policy directory. */
class ExplainCommandTest {
  @TempDir Path temp;

  record Run(int status, String out) {}

  static Run run(String... args) {
    PrintStream saved = System.out;
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    System.setOut(new PrintStream(out, true, StandardCharsets.UTF_8));
    try {
      int status = Main.execute(args);
      return new Run(status, out.toString(StandardCharsets.UTF_8));
    } finally {
      System.setOut(saved);
    }
  }

  private Path policy() throws Exception {
    Path dir = Files.createDirectories(temp.resolve("policy.d"));
    Files.writeString(
        dir.resolve("10.toml"),
        "[[allow]]\nname = \"r\"\nusers = [\"root\"]\npaths = [\"/srv/x\"]\naccess = [\"read\"]\n");
    return dir;
  }

  @Test
  void printsTheDecidingRuleAndExitsZeroWhenAllowed() throws Exception {
    Run run =
        run(
            "explain",
            "--user",
            "root",
            "--access",
            "read",
            "--policy",
            policy().toString(),
            "/srv/x");
    assertEquals(0, run.status());
    assertTrue(
        run.out().startsWith("allow /srv/x (read) for uid 0\n  decided by allow r ("), run.out());
  }

  @Test
  void printsNearMissesAsJsonAndExitsOneWhenDenied() throws Exception {
    Run run =
        run(
            "explain",
            "--uid",
            "1000",
            "--gid",
            "1000",
            "--access",
            "read,write",
            "--format",
            "json",
            "--policy",
            policy().toString(),
            "/srv/x");
    assertEquals(1, run.status());
    assertTrue(
        run.out()
            .contains(
                "\"why_not\":[\"caller is not user root (0) (uid 1000, gid" + " 1000, groups "),
        run.out());
    assertTrue(run.out().contains("\"grants read only, not write\"]"), run.out());
  }

  @Test
  void exitsTwoOnAnUnknownAccessWord() throws Exception {
    assertEquals(
        2,
        run("explain", "--uid", "0", "--access", "exec", "--policy", policy().toString(), "/srv/x")
            .status());
  }

  @Test
  void unknownAccessWordListsTheValidOnesAndTheClosest() throws Exception {
    PrintStream saved = System.err;
    ByteArrayOutputStream err = new ByteArrayOutputStream();
    System.setErr(new PrintStream(err, true, StandardCharsets.UTF_8));
    int status;
    try {
      status =
          Main.execute(
              "explain", "--uid", "0", "--access", "reed", "--policy", policy().toString(), "/x");
    } finally {
      System.setErr(saved);
    }
    assertEquals(2, status);
    assertEquals(
        "filebroker explain: unknown access 'reed' (did you mean 'read'?); expected one of read,"
            + " write, append, create, truncate, directory\n",
        err.toString(StandardCharsets.UTF_8));
  }
}
