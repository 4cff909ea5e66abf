package dev.filebroker.daemon.config;

import dev.filebroker.daemon.audit.AuditConfig;
import dev.filebroker.daemon.endpoint.Endpoint;
import dev.filebroker.daemon.endpoint.EndpointReader;
import dev.filebroker.daemon.server.ServerSettings;
import dev.filebroker.daemon.toml.KeyNames;
import dev.filebroker.daemon.toml.Position;
import dev.filebroker.daemon.toml.TomlTable;
import dev.filebroker.daemon.toml.TomlText;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;

/**
 * Reads {@link DaemonConfig} from TOML. Every problem is reported with file:line:column; unknown
 * keys are errors, so a typo never silently leaves a default in force.
 */
public final class DaemonConfigLoader {
  private static final Set<String> TOP_KEYS =
      Set.of(
          "socket",
          "socket_mode",
          "control_socket",
          "varlink_socket",
          "policy",
          "limits",
          "audit",
          EndpointReader.KEY);
  private static final Set<String> AUDIT_KEYS =
      Set.of("destination", "queue_lines", "reasons_to_clients");
  private static final Set<String> LIMIT_KEYS =
      Set.of(
          "event_loops",
          "max_connections",
          "max_connections_per_uid",
          "requests_per_second_per_uid",
          "request_burst_per_uid",
          "max_requests_in_flight",
          "partial_frame_timeout_seconds",
          "idle_timeout_seconds");

  /** The outcome of loading: the configuration, or every error found. */
  public sealed interface Result {
    /** The file is valid. */
    record Loaded(DaemonConfig config) implements Result {}

    /** The file has errors, each "file:line:column: message". */
    record Invalid(List<String> errors) implements Result {
      public Invalid {
        errors = List.copyOf(errors);
      }
    }
  }

  private DaemonConfigLoader() {}

  /**
   * Loads {@code file}; relative paths inside it are resolved against its directory. A file that
   * anyone but root could have written (see {@link TrustedFiles}) is refused unread.
   */
  public static Result load(Path file) {
    List<TrustedFiles.Untrusted> untrusted = TrustedFiles.check(file);
    if (!untrusted.isEmpty()) {
      return new Result.Invalid(untrusted.stream().map(TrustedFiles.Untrusted::toString).toList());
    }
    return parse(file);
  }

  /** Reads {@code file} whoever may have written it: for tests of the format only. */
  static Result parse(Path file) {
    String text;
    try {
      text = Files.readString(file);
    } catch (IOException e) {
      return new Result.Invalid(List.of(file + ": could not read: " + e.getMessage()));
    }
    return switch (TomlText.parse(text)) {
      case TomlText.Parsed.Valid valid -> read(file, valid.toml());
      case TomlText.Parsed.Invalid invalid ->
          new Result.Invalid(
              invalid.problems().stream()
                  .map(p -> at(file, p.position()) + ": " + p.message())
                  .toList());
    };
  }

  /** The configuration in the parsed file {@code toml}, or every error in it. */
  private static Result read(Path file, TomlTable toml) {
    List<String> errors = new ArrayList<>();
    DaemonConfig d = DaemonConfig.defaults();
    unknownKeys(file, toml, TOP_KEYS, "the top level", errors);
    Path base = file.toAbsolutePath().getParent();
    Path socket = path(file, toml, "socket", base, d.socket(), errors);
    int mode = (int) octal(file, toml, "socket_mode", d.socketMode(), 0777, errors);
    Path policy = path(file, toml, "policy", base, d.policy(), errors);
    Path controlSocket = path(file, toml, "control_socket", base, d.controlSocket(), errors);
    Optional<Path> varlinkSocket =
        toml.contains("varlink_socket")
            ? Optional.of(path(file, toml, "varlink_socket", base, d.socket(), errors))
            : Optional.empty();
    if (varlinkSocket.isPresent()
        && (varlinkSocket.get().equals(socket) || varlinkSocket.get().equals(controlSocket))) {
      errors.add(
          at(file, toml.positionOf("varlink_socket"))
              + ": 'varlink_socket' must differ from 'socket' and 'control_socket'");
    }
    ServerSettings limits = d.limits();
    if (toml.contains("limits")) {
      if (!toml.isTable("limits")) {
        errors.add(at(file, toml.positionOf("limits")) + ": 'limits' must be a table");
      } else {
        limits = limits(file, toml.getTable("limits"), limits, errors);
      }
    }
    AuditConfig audit = d.audit();
    if (toml.contains("audit")) {
      if (!toml.isTable("audit")) {
        errors.add(at(file, toml.positionOf("audit")) + ": 'audit' must be a table");
      } else {
        audit = audit(file, toml.getTable("audit"), audit, errors);
      }
    }
    List<Endpoint> endpoints = List.of();
    if (toml.contains(EndpointReader.KEY)) {
      endpoints =
          EndpointReader.read(
              file, toml.get(EndpointReader.KEY), toml.positionOf(EndpointReader.KEY), errors);
      endpoints.stream()
          .filter(e -> e.socket().equals(socket))
          .forEach(
              e ->
                  errors.add(
                      e.source() + ": endpoint " + e.name() + " uses the daemon's own socket"));
    }
    if (!errors.isEmpty()) {
      return new Result.Invalid(errors);
    }
    return new Result.Loaded(
        new DaemonConfig(
            socket, mode, policy, limits, controlSocket, endpoints, audit, varlinkSocket));
  }

  private static AuditConfig audit(
      Path file, TomlTable t, AuditConfig fallback, List<String> errors) {
    unknownKeys(file, t, AUDIT_KEYS, "[audit]", errors);
    int queueLines =
        (int)
            integer(
                file,
                t,
                "queue_lines",
                fallback.queueLines(),
                AuditConfig.MIN_QUEUE_LINES,
                AuditConfig.MAX_QUEUE_LINES,
                errors);
    boolean reasons = fallback.reasonsToClients();
    if (t.contains("reasons_to_clients")) {
      if (t.isBoolean("reasons_to_clients")) {
        reasons = t.getBoolean("reasons_to_clients");
      } else {
        errors.add(
            at(file, t.positionOf("reasons_to_clients"))
                + ": 'reasons_to_clients' must be true or false");
      }
    }
    if (!t.contains("destination")) {
      return fallback.withQueueLines(queueLines).withReasonsToClients(reasons);
    }
    if (!t.isString("destination")) {
      errors.add(
          at(file, t.positionOf("destination"))
              + ": 'destination' must be a string: \"stdout\" or an absolute file path");
      return fallback;
    }
    String destination = t.getString("destination");
    var problem = AuditConfig.problem(destination);
    if (problem.isPresent()) {
      errors.add(at(file, t.positionOf("destination")) + ": " + problem.get());
      return fallback;
    }
    return AuditConfig.of(destination).withQueueLines(queueLines).withReasonsToClients(reasons);
  }

  /** {@code event_loops}: 0 stands for one per CPU. */
  private static int eventLoops(int configured) {
    return configured == 0 ? DaemonConfig.eventLoopsPerCpu() : configured;
  }

  private static ServerSettings limits(
      Path file, TomlTable t, ServerSettings d, List<String> errors) {
    unknownKeys(file, t, LIMIT_KEYS, "[limits]", errors);
    return new ServerSettings(
        eventLoops((int) integer(file, t, "event_loops", d.eventLoops(), 0, 256, errors)),
        (int) integer(file, t, "max_connections", d.maxConnections(), 1, 1 << 20, errors),
        (int)
            integer(
                file, t, "max_connections_per_uid", d.maxConnectionsPerUid(), 1, 1 << 20, errors),
        (int)
            integer(
                file,
                t,
                "requests_per_second_per_uid",
                d.requestsPerSecondPerUid(),
                1,
                10_000_000,
                errors),
        (int)
            integer(
                file, t, "request_burst_per_uid", d.requestBurstPerUid(), 1, 10_000_000, errors),
        (int) integer(file, t, "max_requests_in_flight", d.maxRequestsInFlight(), 1, 1024, errors),
        Duration.ofSeconds(
            integer(
                file,
                t,
                "partial_frame_timeout_seconds",
                d.partialFrameTimeout().toSeconds(),
                1,
                3600,
                errors)),
        Duration.ofSeconds(
            integer(
                file, t, "idle_timeout_seconds", d.idleTimeout().toSeconds(), 1, 86400, errors)));
  }

  private static void unknownKeys(
      Path file, TomlTable table, Set<String> known, String where, List<String> errors) {
    for (String key : table.keySet()) {
      if (!known.contains(key)) {
        errors.add(
            at(file, table.positionOf(key))
                + ": unknown key '"
                + key
                + "' in "
                + where
                + "; expected one of: "
                + String.join(", ", new TreeSet<>(known))
                + KeyNames.closest(key, List.copyOf(new TreeSet<>(known)))
                    .map(k -> " (did you mean '" + k + "'?)")
                    .orElse(""));
      }
    }
  }

  private static Path path(
      Path file, TomlTable t, String key, Path base, Path fallback, List<String> errors) {
    if (!t.contains(key)) {
      return fallback;
    }
    if (!t.isString(key) || t.getString(key).isEmpty()) {
      errors.add(at(file, t.positionOf(key)) + ": '" + key + "' must be a non-empty string");
      return fallback;
    }
    Path p = Path.of(t.getString(key));
    return p.isAbsolute() || base == null ? p : base.resolve(p).normalize();
  }

  private static long octal(
      Path file, TomlTable t, String key, long fallback, long max, List<String> errors) {
    if (!t.contains(key)) {
      return fallback;
    }
    String text = t.isString(key) ? t.getString(key) : null;
    if (text == null || !text.matches("0[0-7]{1,4}")) {
      errors.add(
          at(file, t.positionOf(key)) + ": '" + key + "' must be an octal string such as \"0666\"");
      return fallback;
    }
    long value = Long.parseLong(text, 8);
    if (value > max) {
      errors.add(
          at(file, t.positionOf(key)) + String.format(": '%s' must be at most 0%o", key, max));
      return fallback;
    }
    return value;
  }

  private static long integer(
      Path file, TomlTable t, String key, long fallback, long min, long max, List<String> errors) {
    if (!t.contains(key)) {
      return fallback;
    }
    if (!t.isLong(key) || t.getLong(key) < min || t.getLong(key) > max) {
      errors.add(
          at(file, t.positionOf(key))
              + ": '"
              + key
              + "' must be an integer from "
              + min
              + " to "
              + max);
      return fallback;
    }
    return t.getLong(key);
  }

  private static String at(Path file, Position position) {
    return position == null
        ? file.toString()
        : file + ":" + position.line() + ":" + position.column();
  }
}
