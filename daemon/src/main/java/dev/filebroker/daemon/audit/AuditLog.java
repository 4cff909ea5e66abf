package dev.filebroker.daemon.audit;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Writes one JSON line per decision to the {@code filebroker.audit} logger. The logging
 * configuration routes that logger to its own destination through an asynchronous appender, so a
 * request never waits for the audit write.
 */
public final class AuditLog {
  /** Name of the logger audit lines go to; logging configuration routes it. */
  public static final String LOGGER_NAME = "filebroker.audit";

  private final Logger logger;

  /** An audit log writing to {@link #LOGGER_NAME}. */
  public AuditLog() {
    this(LoggerFactory.getLogger(LOGGER_NAME));
  }

  AuditLog(Logger logger) {
    this.logger = logger;
  }

  /** Records one decision. */
  public void record(AuditEvent event) {
    if (logger.isInfoEnabled()) {
      logger.info(event.toJson());
    }
  }
}
