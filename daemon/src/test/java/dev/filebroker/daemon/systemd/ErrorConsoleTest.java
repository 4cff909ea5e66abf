package dev.filebroker.daemon.systemd;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import org.junit.jupiter.api.Test;

class ErrorConsoleTest {
  @Test
  void prefixesEveryLineWithErrWhenStderrIsTheJournal() {
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    PrintStream stderr = new PrintStream(bytes, true, StandardCharsets.UTF_8);
    PrintStream console = ErrorConsole.of(stderr, Map.of("JOURNAL_STREAM", "8:12345"));
    console.println("filebroker: refusing to start: the policy has errors");
    console.print("policy.d/10.toml:3:1: unknown key\nsecond");
    console.println();
    console.flush();
    assertEquals(
        "<3>filebroker: refusing to start: the policy has errors\n"
            + "<3>policy.d/10.toml:3:1: unknown key\n"
            + "<3>second\n",
        bytes.toString(StandardCharsets.UTF_8));
  }

  @Test
  void leavesStderrAloneOutsideTheJournal() {
    PrintStream stderr = new PrintStream(new ByteArrayOutputStream(), true, StandardCharsets.UTF_8);
    assertSame(stderr, ErrorConsole.of(stderr, Map.of()));
    assertSame(stderr, ErrorConsole.of(stderr, Map.of("JOURNAL_STREAM", "")));
  }
}
