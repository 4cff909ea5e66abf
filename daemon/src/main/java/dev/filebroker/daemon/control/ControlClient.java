package dev.filebroker.daemon.control;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.net.SocketTimeoutException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.TimeUnit;

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
    byte[] line = (ControlRequest.line(request) + "\n").getBytes(StandardCharsets.UTF_8);
    if (!Files.exists(socket, LinkOption.NOFOLLOW_LINKS)) {
      return new Reply.Failed(
          "the daemon is not running: there is no control socket at "
              + socket
              + " (start it with systemctl start filebroker, or pass --control-socket)");
    }
    // The JDK's own Unix-domain channel, not junixsocket's: the daemon answers a refused peer at
    // once and closes, so the request's write may fail with EPIPE while the refusal still waits
    // to be read. junixsocket closes its socket on EPIPE and the refusal is lost with it; a
    // SocketChannel stays open and reads what the daemon sent.
    try (SocketChannel channel = SocketChannel.open(StandardProtocolFamily.UNIX)) {
      channel.connect(UnixDomainSocketAddress.of(socket));
      channel.configureBlocking(false);
      try (Selector selector = Selector.open()) {
        long deadline = System.nanoTime() + RESPONSE_TIMEOUT.toNanos();
        try {
          write(channel, selector, ByteBuffer.wrap(line), deadline);
        } catch (IOException e) {
          // Refused before the request was read: the answer is still waiting (see above).
        }
        String response = readLine(channel, selector, deadline);
        if (response.isBlank()) {
          return new Reply.Failed("the daemon closed the control connection without answering");
        }
        return new Reply.Answered(Json.parseObject(response.strip()));
      }
    } catch (Json.MalformedJsonException e) {
      return new Reply.Failed("the daemon's answer is not a JSON object: " + e.getMessage());
    } catch (SocketTimeoutException e) {
      return new Reply.Failed(
          "the daemon did not answer within " + RESPONSE_TIMEOUT.toSeconds() + " s");
    } catch (IOException e) {
      String why = String.valueOf(e.getMessage());
      if (why.contains("Permission denied") || why.contains("EACCES")) {
        return new Reply.Failed(
            "permission denied: only root may use the control socket " + socket);
      }
      if (why.contains("Connection refused") || why.contains("ECONNREFUSED")) {
        return new Reply.Failed("the daemon is not running: nothing listens on " + socket);
      }
      return new Reply.Failed("could not talk to the daemon at " + socket + ": " + why);
    }
  }

  private static void write(SocketChannel channel, Selector selector, ByteBuffer out, long deadline)
      throws IOException {
    SelectionKey key = channel.register(selector, SelectionKey.OP_WRITE);
    try {
      while (out.hasRemaining()) {
        if (channel.write(out) == 0) {
          await(selector, deadline);
        }
      }
    } finally {
      key.cancel();
      selector.selectNow(); // deregisters the cancelled key before the channel is registered again
    }
  }

  /** The response line (or everything up to end of stream). */
  private static String readLine(SocketChannel channel, Selector selector, long deadline)
      throws IOException {
    SelectionKey key = channel.register(selector, SelectionKey.OP_READ);
    ByteArrayOutputStream response = new ByteArrayOutputStream(4096);
    ByteBuffer buffer = ByteBuffer.allocate(8192);
    try {
      while (true) {
        buffer.clear();
        int n;
        try {
          n = channel.read(buffer);
        } catch (IOException e) {
          if (response.size() > 0) {
            break; // reset after the daemon's whole answer: it closed without reading everything
          }
          throw e;
        }
        if (n < 0) {
          break;
        }
        if (n == 0) {
          await(selector, deadline);
          continue;
        }
        response.write(buffer.array(), 0, n);
        if (response.size() > MAX_RESPONSE_BYTES) {
          throw new IOException("response longer than " + MAX_RESPONSE_BYTES + " bytes");
        }
        if (buffer.array()[n - 1] == '\n') {
          break; // one response line per connection
        }
      }
    } finally {
      key.cancel();
    }
    return response.toString(StandardCharsets.UTF_8);
  }

  private static void await(Selector selector, long deadline) throws IOException {
    long left = TimeUnit.NANOSECONDS.toMillis(deadline - System.nanoTime());
    if (left <= 0 || selector.select(left) == 0 && System.nanoTime() - deadline >= 0) {
      throw new SocketTimeoutException("no answer in time");
    }
    selector.selectedKeys().clear();
  }
}
