package dev.filebroker.daemon.systemd;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.pattern.ClassicConverter;
import ch.qos.logback.classic.spi.ILoggingEvent;

/**
 * Logback converter ({@code %syslogPriority}) that prefixes a line with its syslog priority, as
 * {@code sd-daemon(3)} describes: {@code <3>} for ERROR, {@code <4>} WARN, {@code <6>} INFO and
 * {@code <7>} DEBUG and TRACE.
 *
 * <p>Exists because journald reads such a prefix on each stdout line of a service and stores the
 * line with that priority, so {@code journalctl -p warning -u filebroker} works without a journal
 * library.
 */
public final class SyslogPriorityConverter extends ClassicConverter {
  /** Creates the converter; Logback instantiates it from the configuration. */
  public SyslogPriorityConverter() {}

  @Override
  public String convert(ILoggingEvent event) {
    return prefix(event.getLevel());
  }

  /** The prefix for {@code level}, for example {@code "<6>"} for INFO. */
  static String prefix(Level level) {
    return switch (level.toInt()) {
      case Level.ERROR_INT -> "<3>";
      case Level.WARN_INT -> "<4>";
      case Level.INFO_INT -> "<6>";
      default -> "<7>";
    };
  }
}
