package dev.filebroker.daemon.systemd;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The pattern choice, and the built-in logging configuration end to end in a child JVM (its
 * environment is the only way to set JOURNAL_STREAM).
 */
@Timeout(60)
class ConsolePatternDefinerTest {
  @Test
  void usesJournalPatternWhenStdoutIsTheJournal() {
    assertEquals(
        ConsolePatternDefiner.JOURNAL_PATTERN,
        ConsolePatternDefiner.pattern(Map.of("JOURNAL_STREAM", "8:12345")));
  }

  @Test
  void usesTimestampedPatternElsewhere() {
    assertEquals(ConsolePatternDefiner.CONSOLE_PATTERN, ConsolePatternDefiner.pattern(Map.of()));
    assertEquals(
        ConsolePatternDefiner.CONSOLE_PATTERN,
        ConsolePatternDefiner.pattern(Map.of("JOURNAL_STREAM", "")));
  }

  @Test
  void writesPriorityPrefixedLinesAndRawAuditToTheJournal() throws Exception {
    List<String> lines = LoggingProbe.run(true);
    assertEquals(
        List.of(
            "<6>dev.filebroker.daemon.server.Server: Listening on /run/filebroker/filebroker.sock",
            "<4>dev.filebroker.daemon.server.Server: Could not read policy file: x.toml",
            "<3>dev.filebroker.daemon.server.Server: Could not bind socket"),
        lines.stream().filter(l -> !l.startsWith("{")).toList());
    assertEquals(
        List.of("{\"decision\":\"allow\",\"uid\":65534}"),
        lines.stream().filter(l -> l.startsWith("{")).toList(),
        "audit lines are the raw JSON message");
  }

  @Test
  void writesTimestampLevelThreadAndLoggerOnATerminal() throws Exception {
    List<String> lines = LoggingProbe.run(false);
    assertEquals(4, lines.size(), "lines: " + lines);
    assertTrue(
        lines
            .get(0)
            .matches(
                "\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\d\\.\\d{3}(Z|[+-]\\d\\d:\\d\\d) INFO "
                    + " \\[main\\] dev\\.filebroker\\.daemon\\.server\\.Server: Listening on"
                    + " /run/filebroker/filebroker\\.sock"),
        "line: " + lines.get(0));
    assertTrue(lines.get(1).contains(" WARN  [main] "), "line: " + lines.get(1));
    assertTrue(lines.contains("{\"decision\":\"allow\",\"uid\":65534}"), "lines: " + lines);
  }
}
