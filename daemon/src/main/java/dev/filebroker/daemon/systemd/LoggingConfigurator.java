package dev.filebroker.daemon.systemd;

import ch.qos.logback.classic.AsyncAppender;
import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.PatternLayout;
import ch.qos.logback.classic.spi.Configurator;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.ConsoleAppender;
import ch.qos.logback.core.encoder.LayoutWrappingEncoder;
import ch.qos.logback.core.spi.ContextAwareBase;

/**
 * The daemon's built-in logging configuration, set up in code; Logback finds it through {@code
 * META-INF/services/ch.qos.logback.classic.spi.Configurator}.
 *
 * <p>Exists because reading the same configuration from a {@code logback.xml} loaded Logback's XML
 * machinery (Joran and the JDK's SAX parser, about 500 classes) on every start, a sixth of the
 * daemon's start-up. The result is what {@code config/logback.xml} describes, line for line:
 *
 * <ul>
 *   <li>operational messages go to stdout at INFO and above, in the journal's format ({@code <N>}
 *       priority prefix, no timestamp; see {@link SyslogPriorityConverter}) when {@code
 *       JOURNAL_STREAM} is set, with timestamp, level, thread and logger otherwise (see {@link
 *       ConsolePatternDefiner});
 *   <li>the {@code filebroker.audit} logger writes each message as a bare line to stdout behind an
 *       asynchronous queue of 8192 records that drops rather than blocks.
 * </ul>
 *
 * <p>An administrator's configuration ({@code -Dlogback.configurationFile}, which the launcher
 * passes for /etc/filebroker/logback.xml) takes precedence: this configurator then steps aside and
 * Logback reads that file as usual.
 */
public final class LoggingConfigurator extends ContextAwareBase implements Configurator {
  /** The audit logger, whose messages are already complete JSON lines. */
  static final String AUDIT_LOGGER = "filebroker.audit";

  /** Creates the configurator; Logback instantiates it through the service loader. */
  public LoggingConfigurator() {}

  @Override
  public ExecutionStatus configure(LoggerContext context) {
    if (System.getProperty("logback.configurationFile") != null) {
      return ExecutionStatus.INVOKE_NEXT_IF_ANY;
    }
    ConsoleAppender<ILoggingEvent> console =
        consoleAppender(context, "CONSOLE", ConsolePatternDefiner.pattern(System.getenv()));
    Logger root = context.getLogger(Logger.ROOT_LOGGER_NAME);
    root.setLevel(Level.INFO);
    root.addAppender(console);

    ConsoleAppender<ILoggingEvent> auditLines = consoleAppender(context, "AUDIT_STDOUT", "%msg%n");
    AsyncAppender audit = new AsyncAppender();
    audit.setContext(context);
    audit.setName("AUDIT");
    audit.setQueueSize(8192);
    audit.setDiscardingThreshold(0);
    audit.setNeverBlock(true);
    audit.setIncludeCallerData(false);
    audit.addAppender(auditLines);
    audit.start();
    Logger auditLogger = context.getLogger(AUDIT_LOGGER);
    auditLogger.setLevel(Level.INFO);
    auditLogger.setAdditive(false);
    auditLogger.addAppender(audit);
    return ExecutionStatus.DO_NOT_INVOKE_NEXT_IF_ANY;
  }

  private static ConsoleAppender<ILoggingEvent> consoleAppender(
      LoggerContext context, String name, String pattern) {
    PatternLayout layout = new PatternLayout();
    layout.setContext(context);
    layout.setPattern(pattern);
    layout.getInstanceConverterMap().put("syslogPriority", SyslogPriorityConverter::new);
    layout.start();
    LayoutWrappingEncoder<ILoggingEvent> encoder = new LayoutWrappingEncoder<>();
    encoder.setContext(context);
    encoder.setLayout(layout);
    encoder.start();
    ConsoleAppender<ILoggingEvent> appender = new ConsoleAppender<>();
    appender.setContext(context);
    appender.setName(name);
    appender.setEncoder(encoder);
    appender.start();
    return appender;
  }
}
