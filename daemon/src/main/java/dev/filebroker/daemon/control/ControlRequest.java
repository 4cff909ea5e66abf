package dev.filebroker.daemon.control;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;

/**
 * One decoded control request. A request line is a JSON object whose {@code "command"} is {@code
 * "reload"}, {@code "status"} or {@code "explain"} (with the keys of {@link ExplainQuery}).
 */
public sealed interface ControlRequest {
  /** Re-read the policy. */
  record Reload() implements ControlRequest {}

  /** Report the daemon's figures. */
  record Status() implements ControlRequest {}

  /** Decide a described request against the policy in force. */
  record Explain(ExplainQuery query) implements ControlRequest {
    public Explain {
      Objects.requireNonNull(query, "query == null");
    }
  }

  /** The line is not a valid request; {@code problem} says why. */
  record Malformed(String problem) implements ControlRequest {
    public Malformed {
      Objects.requireNonNull(problem, "problem == null");
    }
  }

  /** Decodes one request line (without its newline). */
  static ControlRequest parse(String line) {
    try {
      Map<String, Object> o = Json.parseObject(line);
      String command = Fields.string(o, "command");
      return switch (command) {
        case "reload" -> new Reload();
        case "status" -> new Status();
        case "explain" -> new Explain(ExplainQuery.fromJson(o));
        default ->
            new Malformed(
                "unknown command '" + command + "'; expected one of: explain, reload, status");
      };
    } catch (Json.MalformedJsonException e) {
      return new Malformed(e.getMessage());
    } catch (IllegalArgumentException e) {
      // ExplainQuery's records check their components (a path that is empty, ...).
      return new Malformed(e.getMessage());
    }
  }

  /** The request line for {@code request} (not for {@link Malformed}). */
  static String line(ControlRequest request) {
    Map<String, Object> o = new LinkedHashMap<>();
    switch (request) {
      case Reload r -> o.put("command", "reload");
      case Status s -> o.put("command", "status");
      case Explain e -> {
        o.put("command", "explain");
        o.putAll(e.query().toJson());
      }
      case Malformed m -> throw new IllegalArgumentException("a malformed request has no line");
    }
    return Json.write(o);
  }
}
