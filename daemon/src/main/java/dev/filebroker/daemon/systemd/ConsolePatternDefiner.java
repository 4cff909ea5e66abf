package dev.filebroker.daemon.systemd;

import ch.qos.logback.core.PropertyDefinerBase;
import java.util.Map;

/**
 * Logback property definer that picks the console line format: journald's when stdout is the
 * journal, a conventional one otherwise.
 *
 * <p>Exists because the journal adds its own timestamp, host and pid, and reads the level from a
 * {@code <N>} prefix (see {@link SyslogPriorityConverter}), while a terminal or a file needs a
 * timestamp and the level in words. systemd sets {@code JOURNAL_STREAM} when a service's stdout or
 * stderr is connected to the journal. Logback's own {@code <if>} needs the Janino library, which
 * the daemon does not ship.
 */
public final class ConsolePatternDefiner extends PropertyDefinerBase {
  /** Line format when stdout is the journal: priority prefix, no timestamp. */
  static final String JOURNAL_PATTERN = "%syslogPriority%logger{36}: %msg%n";

  /** Line format anywhere else. */
  static final String CONSOLE_PATTERN =
      "%d{yyyy-MM-dd'T'HH:mm:ss.SSSXXX} %-5level [%thread] %logger{36}: %msg%n";

  /** Creates the definer; Logback instantiates it from the configuration. */
  public ConsolePatternDefiner() {}

  @Override
  public String getPropertyValue() {
    return pattern(System.getenv());
  }

  /** The pattern for a process with environment {@code env}. */
  static String pattern(Map<String, String> env) {
    String journal = env.get("JOURNAL_STREAM");
    return journal == null || journal.isEmpty() ? CONSOLE_PATTERN : JOURNAL_PATTERN;
  }
}
