package dev.filebroker.daemon.systemd;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** Child-process entry point for {@link ConsolePatternDefinerTest}: logs through logback.xml. */
final class LoggingProbe {
  private LoggingProbe() {}

  public static void main(String[] args) {
    Logger log = LoggerFactory.getLogger("dev.filebroker.daemon.server.Server");
    log.info("Listening on {}", "/run/filebroker/filebroker.sock");
    log.warn("Could not read policy file: {}", "x.toml");
    log.error("Could not bind socket");
    log.debug("not shown at the default level");
    LoggerFactory.getLogger("filebroker.audit").info("{\"decision\":\"allow\",\"uid\":65534}");
    // Stopping Logback flushes the asynchronous audit queue before the JVM exits.
    ((ch.qos.logback.classic.LoggerContext) LoggerFactory.getILoggerFactory()).stop();
  }
}
