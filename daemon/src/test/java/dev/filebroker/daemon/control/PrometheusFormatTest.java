package dev.filebroker.daemon.control;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Instant;
import java.util.Map;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

class PrometheusFormatTest {
  /** A sample line: name, optional labels with escaped values, an integer value. */
  static final Pattern SAMPLE =
      Pattern.compile(
          "[a-zA-Z_:][a-zA-Z0-9_:]*(\\{([a-zA-Z_][a-zA-Z0-9_]*=\"([^\"\\\\\\n"
              + "]|\\\\[\\\\\"n])*\",?)*\\})? -?[0-9]+");

  private static StatusReport report(Map<String, Long> grants, Map<String, Long> denials) {
    return new StatusReport(
        42,
        "1.2.3",
        Instant.ofEpochSecond(1000),
        Instant.ofEpochSecond(1100),
        "/etc/filebroker/policy.d",
        Instant.ofEpochSecond(1050),
        7,
        1,
        2,
        3,
        4,
        5,
        6,
        8,
        9,
        30,
        grants,
        denials);
  }

  @Test
  void everyLineIsACommentOrASample() {
    String text =
        PrometheusFormat.render(report(Map.of("a\"b\\c\nd", 3L), Map.of("(default deny)", 4L)));
    assertTrue(text.endsWith("\n"));
    for (String line : text.split("\n")) {
      assertTrue(
          line.startsWith("# HELP filebroker_")
              || line.startsWith("# TYPE filebroker_")
              || (line.startsWith("filebroker_") && SAMPLE.matcher(line).matches()),
          "not a comment or sample: " + line);
    }
  }

  @Test
  void labelsPerRuleAreEscaped() {
    String text = PrometheusFormat.render(report(Map.of("a\"b\\c\nd", 3L), Map.of()));
    assertTrue(text.contains("filebroker_rule_grants_total{rule=\"a\\\"b\\\\c\\nd\"} 3\n"), text);
  }

  @Test
  void countersAndGaugesCarryTheReportsFigures() {
    String text = PrometheusFormat.render(report(Map.of(), Map.of()));
    assertTrue(
        text.contains("# TYPE filebroker_grants_total counter\nfilebroker_grants_total 3\n"));
    assertTrue(text.contains("filebroker_uptime_seconds 100\n"));
    assertTrue(text.contains("filebroker_policy_rules 7\n"));
    assertTrue(text.contains("filebroker_open_descriptors 30\n"));
    assertTrue(text.contains("filebroker_info{version=\"1.2.3\",pid=\"42\"} 1\n"));
  }

  @Test
  void escapeHandlesBackslashQuoteAndNewline() {
    assertEquals("\\\\ \\\" \\n", PrometheusFormat.escape("\\ \" \n"));
  }
}
