package dev.filebroker.daemon.control;

import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The control socket's contract: one request line in, one JSON response line out, then close. Every
 * response is an object with {@code "ok"}; when it is false, {@code "error"} says why. See
 * docs/protocol.md, "Control socket".
 */
public final class ControlProtocol {
  /** Longest request line accepted, newline included. */
  public static final int MAX_REQUEST_BYTES = 64 * 1024;

  /**
   * How long a client may take to send its whole request line, counted from when the connection was
   * accepted: a deadline, not a silence timeout, so that dripping bytes does not stretch it.
   */
  public static final Duration READ_TIMEOUT = Duration.ofSeconds(5);

  /** The only uid served. */
  public static final long ROOT_UID = 0;

  private ControlProtocol() {}

  /** Decodes {@code line}, dispatches it to {@code handler}, and returns the response line. */
  public static String answer(String line, ControlHandler handler) {
    Map<String, Object> response =
        switch (ControlRequest.parse(line)) {
          case ControlRequest.Reload r -> handler.reload().toJson();
          case ControlRequest.Status s -> handler.status().toJson();
          case ControlRequest.Explain e -> handler.explain(e.query()).toJson();
          case ControlRequest.Malformed m -> error("malformed request: " + m.problem());
        };
    return Json.write(response);
  }

  /** A response with {@code "ok": false} and {@code message} as its error. */
  public static Map<String, Object> error(String message) {
    Map<String, Object> o = new LinkedHashMap<>();
    o.put("ok", false);
    o.put("error", message);
    return o;
  }
}
