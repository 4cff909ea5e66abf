package dev.filebroker.daemon.control;

import dev.filebroker.daemon.server.ListeningSocket;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Objects;
import java.util.Optional;
import org.newsclub.net.unix.AFUNIXServerSocket;
import org.newsclub.net.unix.AFUNIXServerSocketChannel;
import org.newsclub.net.unix.AFUNIXSocket;
import org.newsclub.net.unix.AFUNIXSocketCredentials;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The control socket: a second AF_UNIX listener, root only, for {@code filebroker reload} and
 * {@code status}. It is separate from the public socket so that no message a client can send there
 * ever reaches an administrative operation, and it checks every peer's uid (SO_PEERCRED) itself
 * rather than trusting the socket file's mode.
 *
 * <p>One platform thread accepts and answers connections one at a time: this is admin traffic, and
 * a slow client is cut off by {@link ControlProtocol#READ_TIMEOUT}.
 */
public final class ControlServer implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(ControlServer.class);
  private static final java.time.Duration HANG_UP_TIMEOUT = java.time.Duration.ofSeconds(1);

  private final AFUNIXServerSocket server;
  private final Optional<ListeningSocket> bound; // empty for a socket-activated one
  private final String where;
  private volatile boolean closed;
  private Thread thread;

  private ControlServer(AFUNIXServerSocket server, Optional<ListeningSocket> bound, String where) {
    this.server = server;
    this.bound = bound;
    this.where = where;
  }

  /** Takes over a control socket passed by the service manager; it is left in place at close. */
  public static ControlServer inherited(AFUNIXServerSocketChannel channel) {
    Objects.requireNonNull(channel, "channel == null");
    return new ControlServer(
        (AFUNIXServerSocket) channel.socket(), Optional.empty(), "socket-activated control");
  }

  /**
   * Binds {@code path} with mode 0600. A stale socket left by a daemon that died is replaced; one
   * another process still listens on is not. bind(2) creates the file with 0777 & ~umask; until the
   * chmod that follows only the umask guards it, which is why every connection's uid is checked as
   * well.
   */
  public static ControlServer bind(Path path) throws IOException {
    ListeningSocket listening = ListeningSocket.bind(path, 0600, "--control-socket");
    return new ControlServer(
        (AFUNIXServerSocket) listening.channel().socket(), Optional.of(listening), path.toString());
  }

  /** Where it listens, for log lines. */
  public String where() {
    return where;
  }

  /** Starts answering requests with {@code handler} on a thread of its own. */
  public synchronized void start(ControlHandler handler) {
    Objects.requireNonNull(handler, "handler == null");
    if (thread != null) {
      throw new IllegalStateException("already started");
    }
    thread =
        Thread.ofPlatform()
            .name("filebroker-control")
            .daemon(true)
            .start(() -> acceptLoop(handler));
  }

  private void acceptLoop(ControlHandler handler) {
    while (!closed) {
      AFUNIXSocket connection;
      try {
        connection = server.accept();
      } catch (IOException e) {
        if (!closed) {
          log.error("Could not accept a control connection: {}", e.toString());
        }
        continue;
      }
      if (closed) {
        // The wake-up connection from close(), or a request that raced with it.
        closeQuietly(connection);
        break;
      }
      try (connection) {
        serve(connection, handler);
        awaitHangUp(connection);
      } catch (IOException e) {
        log.warn("Could not answer a control request: {}", e.toString());
      }
    }
  }

  private static void serve(AFUNIXSocket connection, ControlHandler handler) throws IOException {
    AFUNIXSocketCredentials peer = connection.getPeerCredentials();
    long uid = peer == null ? -1 : peer.getUid();
    long pid = peer == null ? -1 : peer.getPid();
    OutputStream out = connection.getOutputStream();
    if (uid != ControlProtocol.ROOT_UID) {
      log.warn("Refused a control connection from uid {} (pid {}): only root may use it", uid, pid);
      respond(
          out,
          ControlProtocol.error(
              "permission denied: the control socket serves root only, not uid " + uid));
      return;
    }
    connection.setSoTimeout((int) ControlProtocol.READ_TIMEOUT.toMillis());
    String line;
    try {
      Optional<String> read = readLine(connection.getInputStream());
      if (read.isEmpty()) {
        respond(
            out,
            ControlProtocol.error(
                "request longer than " + ControlProtocol.MAX_REQUEST_BYTES + " bytes"));
        return;
      }
      line = read.get();
    } catch (SocketTimeoutException e) {
      respond(
          out,
          ControlProtocol.error(
              "no request line within " + ControlProtocol.READ_TIMEOUT.toSeconds() + " s"));
      return;
    }
    String response;
    try {
      response = ControlProtocol.answer(line, handler);
    } catch (RuntimeException e) {
      log.error("Could not answer a control request from pid {}", pid, e);
      respond(out, ControlProtocol.error("internal error: " + e));
      return;
    }
    log.info("Answered a control request from pid {}: {}", pid, commandOf(line));
    out.write((response + "\n").getBytes(StandardCharsets.UTF_8));
    out.flush();
  }

  /**
   * Reads and drops whatever the peer sent beyond its request line until it hangs up (at most 64
   * KiB, at most a second of silence). A refused or oversized request is answered before it is
   * read, and Linux resets an AF_UNIX connection closed with unread data, which would destroy the
   * answer before the peer read it.
   */
  private static void awaitHangUp(AFUNIXSocket connection) {
    try {
      connection.setSoTimeout((int) HANG_UP_TIMEOUT.toMillis());
      InputStream in = connection.getInputStream();
      byte[] buffer = new byte[4096];
      long total = 0;
      int n;
      while (total < ControlProtocol.MAX_REQUEST_BYTES && (n = in.read(buffer)) >= 0) {
        total += n;
      }
    } catch (IOException e) {
      log.debug("Stopped waiting for a control client to hang up: {}", e.toString());
    }
  }

  /** The request line up to its newline or end of stream; empty when it is too long. */
  private static Optional<String> readLine(InputStream in) throws IOException {
    ByteArrayOutputStream line = new ByteArrayOutputStream(256);
    byte[] buffer = new byte[4096];
    while (true) {
      int n = in.read(buffer);
      if (n < 0) {
        break;
      }
      int newline = -1;
      for (int i = 0; i < n; i++) {
        if (buffer[i] == '\n') {
          newline = i;
          break;
        }
      }
      int take = newline >= 0 ? newline : n;
      if (line.size() + take >= ControlProtocol.MAX_REQUEST_BYTES) {
        return Optional.empty();
      }
      line.write(buffer, 0, take);
      if (newline >= 0) {
        break;
      }
    }
    return Optional.of(line.toString(StandardCharsets.UTF_8));
  }

  private static String commandOf(String line) {
    return switch (ControlRequest.parse(line)) {
      case ControlRequest.Reload r -> "reload";
      case ControlRequest.Status s -> "status";
      case ControlRequest.Explain e -> "explain";
      case ControlRequest.Malformed m -> "malformed";
    };
  }

  private static void respond(OutputStream out, java.util.Map<String, Object> response)
      throws IOException {
    out.write((Json.write(response) + "\n").getBytes(StandardCharsets.UTF_8));
    out.flush();
  }

  /**
   * Stops accepting, waits for the request being answered, and removes the socket file when this
   * daemon bound it.
   *
   * <p>An inherited socket is not closed: junixsocket's close calls {@code shutdown(SHUT_RDWR)}
   * first, and shutting down a listening socket the service manager shares makes every later {@code
   * connect(2)} fail with {@code ECONNREFUSED}, for the next daemon too (the same rule as the
   * public socket's {@code ListeningSocket}). The accepting thread is woken by a connection of our
   * own instead, and the descriptor is released when the process exits.
   */
  @Override
  public void close() throws IOException {
    closed = true;
    if (bound.isEmpty()) {
      wakeAcceptor();
    } else {
      bound.get().close(); // closes the socket and removes its file
    }
    Thread t;
    synchronized (this) {
      t = thread;
    }
    if (t != null) {
      try {
        t.join(ControlProtocol.READ_TIMEOUT.toMillis() + 1000);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }
  }

  private void wakeAcceptor() {
    synchronized (this) {
      if (thread == null) {
        return;
      }
    }
    try {
      // Once connected, the acceptor returns from accept(2), sees closed and stops.
      AFUNIXSocket.connectTo(server.getLocalSocketAddress()).close();
    } catch (IOException e) {
      log.debug("Could not wake the control socket's acceptor: {}", e.toString());
    }
  }

  private static void closeQuietly(AFUNIXSocket connection) {
    try {
      connection.close();
    } catch (IOException e) {
      log.debug("Could not close a control connection: {}", e.toString());
    }
  }
}
