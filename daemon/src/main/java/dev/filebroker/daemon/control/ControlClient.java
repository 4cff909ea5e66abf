package dev.filebroker.daemon.control;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.SocketException;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.Objects;
import org.newsclub.net.unix.AFUNIXSocket;
import org.newsclub.net.unix.AFUNIXSocketAddress;

/** The command side of the control socket: sends one request and reads its one response. */
public final class ControlClient {
  /** How long to wait for a response; a reload of a large policy takes a while. */
  private static final Duration RESPONSE_TIMEOUT = Duration.ofSeconds(60);

  /** Longest response accepted (per-rule counters of a large policy). */
  private static final int MAX_RESPONSE_BYTES = 16 * 1024 * 1024;

  /** The outcome of one exchange. */
  public sealed interface Reply {
    /**
     * The daemon answered; {@code body} has {@code "ok"} and, when it is false, {@code "error"}.
     */
    record Answered(Map<String, Object> body) implements Reply {
      public Answered {
        body = Map.copyOf(body);
      }

      /** Whether the daemon did what was asked. */
      public boolean ok() {
        return Boolean.TRUE.equals(body.get("ok"));
      }

      /** The daemon's error message, or "" when there is none. */
      public String error() {
        return body.get("error") instanceof String s ? s : "";
      }
    }

    /** No answer: the daemon is not running, the caller may not connect, or the reply was bad. */
    record Failed(String message) implements Reply {
      public Failed {
        Objects.requireNonNull(message, "message == null");
      }
    }
  }

  private ControlClient() {}

  /** Sends {@code request} to the control socket at {@code socket} and reads the response. */
  public static Reply exchange(Path socket, ControlRequest request) {
    String line = ControlRequest.line(request) + "\n";
    if (!Files.exists(socket, LinkOption.NOFOLLOW_LINKS)) {
      return new Reply.Failed(
          "the daemon is not running: there is no control socket at "
              + socket
              + " (start it with systemctl start filebroker, or pass --control-socket)");
    }
    try (AFUNIXSocket s = AFUNIXSocket.connectTo(AFUNIXSocketAddress.of(socket))) {
      s.setSoTimeout((int) RESPONSE_TIMEOUT.toMillis());
      try {
        s.getOutputStream().write(line.getBytes(StandardCharsets.UTF_8));
        s.getOutputStream().flush();
      } catch (SocketException e) {
        // The daemon answers a refused peer at once and may close before reading; its error
        // line is still waiting to be read.
      }
      String response = readAll(s.getInputStream());
      if (response.isBlank()) {
        return new Reply.Failed("the daemon closed the control connection without answering");
      }
      return new Reply.Answered(Json.parseObject(response.strip()));
    } catch (Json.MalformedJsonException e) {
      return new Reply.Failed("the daemon's answer is not a JSON object: " + e.getMessage());
    } catch (SocketTimeoutException e) {
      return new Reply.Failed(
          "the daemon did not answer within " + RESPONSE_TIMEOUT.toSeconds() + " s");
    } catch (SocketException e) {
      String why = String.valueOf(e.getMessage());
      if (why.contains("Permission denied") || why.contains("EACCES")) {
        return new Reply.Failed(
            "permission denied: only root may use the control socket " + socket);
      }
      if (why.contains("Connection refused") || why.contains("ECONNREFUSED")) {
        return new Reply.Failed("the daemon is not running: nothing listens on " + socket);
      }
      return new Reply.Failed("could not talk to the daemon at " + socket + ": " + why);
    } catch (IOException e) {
      return new Reply.Failed("could not talk to the daemon at " + socket + ": " + e);
    }
  }

  /** The response line (or everything up to end of stream). */
  private static String readAll(InputStream in) throws IOException {
    ByteArrayOutputStream response = new ByteArrayOutputStream(4096);
    byte[] buffer = new byte[8192];
    while (true) {
      int n;
      try {
        n = in.read(buffer);
      } catch (SocketException e) {
        if (response.size() > 0) {
          break; // reset after the daemon's whole answer: it closed without reading everything
        }
        throw e;
      }
      if (n < 0) {
        break;
      }
      response.write(buffer, 0, n);
      if (response.size() > MAX_RESPONSE_BYTES) {
        throw new IOException("response longer than " + MAX_RESPONSE_BYTES + " bytes");
      }
      if (buffer[n - 1] == '\n') {
        break; // one response line per connection
      }
    }
    return response.toString(StandardCharsets.UTF_8);
  }
}
