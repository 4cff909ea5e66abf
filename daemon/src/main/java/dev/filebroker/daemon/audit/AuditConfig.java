package dev.filebroker.daemon.audit;

import java.io.IOException;
import java.nio.file.Path;
import java.util.Objects;
import java.util.Optional;

/**
 * Where audit lines go, as the daemon configuration says it: {@code [audit] destination = "stdout"}
 * (the default) or an absolute file path such as {@code "/var/log/filebroker/audit.log"}.
 *
 * @param file the file to append to; empty for stdout
 */
public record AuditConfig(Optional<Path> file) {
  /** The value meaning the {@code filebroker.audit} logger (stdout under the shipped logging). */
  public static final String STDOUT = "stdout";

  public AuditConfig {
    Objects.requireNonNull(file, "file == null");
    if (file.isPresent() && !file.get().isAbsolute()) {
      throw new IllegalArgumentException("file must be absolute");
    }
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
        destination.equals(STDOUT) ? Optional.empty() : Optional.of(Path.of(destination)));
  }

  /**
   * Opens the audit log this configuration names.
   *
   * @throws IOException when the file cannot be opened for appending
   */
  public AuditLog open() throws IOException {
    return file.isPresent() ? AuditLog.toFile(file.get()) : AuditLog.stdout();
  }
}
