package dev.filebroker.daemon.audit;

import java.io.IOException;
import java.nio.file.Path;
import java.util.Objects;
import java.util.Optional;

/**
 * Where audit lines go, as the daemon configuration says it: {@code [audit] destination = "stdout"}
 * (the default) or an absolute file path such as {@code "/var/log/filebroker/audit.log"}; and how
 * many lines may wait to be written ({@code queue_lines}); and whether clients are told why they
 * were refused ({@code reasons_to_clients}).
 *
 * @param file the file to append to; empty for stdout
 * @param queueLines how many lines may wait for the writer; a grant whose line finds no room is
 *     refused
 * @param reasonsToClients whether a refused client gets the reason the audit line records (rule
 *     names, policy file:line, the guard that failed); when false it gets the error code with a
 *     generic reason, and the reason stays in the audit log
 */
public record AuditConfig(Optional<Path> file, int queueLines, boolean reasonsToClients) {
  /** The value meaning the {@code filebroker.audit} logger (stdout under the shipped logging). */
  public static final String STDOUT = "stdout";

  /** The default of {@code queue_lines}. */
  public static final int DEFAULT_QUEUE_LINES = FileSink.DEFAULT_CAPACITY;

  /** The smallest {@code queue_lines}. */
  public static final int MIN_QUEUE_LINES = 16;

  /** The largest {@code queue_lines}. */
  public static final int MAX_QUEUE_LINES = 1 << 24;

  /** Reasons go to clients, as by default. */
  public AuditConfig(Optional<Path> file, int queueLines) {
    this(file, queueLines, true);
  }

  public AuditConfig {
    Objects.requireNonNull(file, "file == null");
    if (file.isPresent() && !file.get().isAbsolute()) {
      throw new IllegalArgumentException("file must be absolute");
    }
    if (queueLines < MIN_QUEUE_LINES || queueLines > MAX_QUEUE_LINES) {
      throw new IllegalArgumentException(
          "queueLines must be from " + MIN_QUEUE_LINES + " to " + MAX_QUEUE_LINES);
    }
  }

  /** This configuration with {@code queueLines}. */
  public AuditConfig withQueueLines(int queueLines) {
    return new AuditConfig(file, queueLines, reasonsToClients);
  }

  /** This configuration with {@code reasonsToClients}. */
  public AuditConfig withReasonsToClients(boolean reasonsToClients) {
    return new AuditConfig(file, queueLines, reasonsToClients);
  }

  /** What is wrong with {@code destination} as a configuration value, in words to act on. */
  public static Optional<String> problem(String destination) {
    Objects.requireNonNull(destination, "destination == null");
    if (destination.equals(STDOUT)) {
      return Optional.empty();
    }
    if (!destination.startsWith("/")
        || destination.endsWith("/")
        || destination.indexOf('\0') >= 0) {
      return Optional.of(
          "audit destination '"
              + destination
              + "' must be \"stdout\" or an absolute file path"
              + " such as \"/var/log/filebroker/audit.log\"");
    }
    return Optional.empty();
  }

  /**
   * The configuration for {@code destination}.
   *
   * @throws IllegalArgumentException when {@link #problem(String)} finds one
   */
  public static AuditConfig of(String destination) {
    Optional<String> problem = problem(destination);
    if (problem.isPresent()) {
      throw new IllegalArgumentException(problem.get());
    }
    return new AuditConfig(
        destination.equals(STDOUT) ? Optional.empty() : Optional.of(Path.of(destination)),
        DEFAULT_QUEUE_LINES);
  }

  /**
   * Opens the audit log this configuration names.
   *
   * @throws IOException when the file cannot be opened for appending
   */
  public AuditLog open() throws IOException {
    AuditLog log =
        file.isPresent() ? AuditLog.toFile(file.get(), queueLines) : AuditLog.stdout(queueLines);
    log.reasonsToClients(reasonsToClients);
    return log;
  }
}
