package dev.filebroker.daemon.systemd;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Child-process entry point for the logging tests: logs a few lines through the logging
 * configuration in force (the built-in one, or the file {@code -Dlogback.configurationFile} names).
 */
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

  /**
   * Runs the probe in a child JVM with {@code jvmOptions}, with stdout the journal ({@code
   * JOURNAL_STREAM} set) or not, and returns its output lines (stdout and stderr).
   */
  static List<String> run(boolean journal, String... jvmOptions)
      throws IOException, InterruptedException {
    List<String> command = new ArrayList<>();
    command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
    command.addAll(List.of(jvmOptions));
    command.addAll(
        List.of("-cp", System.getProperty("java.class.path"), LoggingProbe.class.getName()));
    ProcessBuilder builder = new ProcessBuilder(command).redirectErrorStream(true);
    builder.environment().remove("JOURNAL_STREAM");
    if (journal) {
      builder.environment().put("JOURNAL_STREAM", "8:12345");
    }
    Process process = builder.start();
    byte[] out = process.getInputStream().readAllBytes();
    assertTrue(process.waitFor(30, TimeUnit.SECONDS), "probe must exit");
    return new String(out, StandardCharsets.UTF_8).lines().toList();
  }
}
