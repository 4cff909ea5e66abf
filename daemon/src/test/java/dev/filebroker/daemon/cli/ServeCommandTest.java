package dev.filebroker.daemon.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.filebroker.daemon.testing.TrustedTempDir;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ServeCommandTest {
  @TempDir(factory = TrustedTempDir.class)
  Path dir;

  private record Run(int status, String err) {}

  private Run serve(String... args) {
    PrintStream saved = System.err;
    ByteArrayOutputStream err = new ByteArrayOutputStream();
    System.setErr(new PrintStream(err, true, StandardCharsets.UTF_8));
    try {
      String[] all = new String[args.length + 1];
      all[0] = "serve";
      System.arraycopy(args, 0, all, 1, args.length);
      return new Run(Main.execute(all), err.toString(StandardCharsets.UTF_8));
    } finally {
      System.setErr(saved);
    }
  }

  @Test
  void aSocketThatCannotBeBoundIsAStatedRefusalNotAStackTrace() throws IOException {
    Path policy = Files.writeString(dir.resolve("p.toml"), "");
    Path notADirectory = Files.writeString(dir.resolve("file"), "x");
    Run r =
        serve(
            "--config",
            Files.writeString(dir.resolve("c.toml"), "").toString(),
            "--policy",
            policy.toString(),
            "--socket",
            notADirectory.resolve("broker.sock").toString(),
            "--control-socket",
            dir.resolve("control.sock").toString());
    assertEquals(1, r.status(), r.err());
    assertTrue(r.err().startsWith("filebroker: refusing to start: "), r.err());
    assertFalse(r.err().contains("\tat "), "no stack trace: " + r.err());
  }

  @Test
  void aPolicyWithErrorsIsRefusedWithEveryErrorListed() throws IOException {
    Path policy = Files.writeString(dir.resolve("p.toml"), "[[allow]]\nusers = [0]\n");
    Run r =
        serve(
            "--config",
            Files.writeString(dir.resolve("c.toml"), "").toString(),
            "--policy",
            policy.toString(),
            "--socket",
            dir.resolve("broker.sock").toString());
    assertEquals(1, r.status(), r.err());
    assertTrue(r.err().contains("refusing to start: the policy has errors"), r.err());
    assertTrue(r.err().contains(policy + ":1:1: "), r.err());
  }
}
