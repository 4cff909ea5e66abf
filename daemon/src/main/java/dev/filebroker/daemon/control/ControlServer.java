package dev.filebroker.daemon.control;

import dev.filebroker.daemon.server.Closer;
import dev.filebroker.daemon.server.ListeningSocket;
import java.io.ByteArrayOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
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
 * <p>One platform thread accepts. It refuses a peer that is not root at once: one error line, then
 * close, without reading anything from it. The close itself runs on a {@link Closer}'s thread, not
 * the accepting one: on a kernel without SO_PASSRIGHTS a refused client may have attached a
 * descriptor whose release blocks (a TCP socket with SO_LINGER and unsent data) before the daemon
 * accepted, and closing the connection releases it. A root connection is answered on a thread of
 * its own, at most {@link #MAX_CONNECTIONS} at a time (one more is answered "busy" and closed), and
 * each has a deadline for its whole request line ({@link ControlProtocol#READ_TIMEOUT}) and for its
 * whole response ({@link #WRITE_TIMEOUT}), so that no client, however slow, delays another.
 */
public final class ControlServer implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(ControlServer.class);

  /** Root connections answered at once; more are refused as busy. */
  public static final int MAX_CONNECTIONS = 4;

  /** How long a response may take to be written in all, however slowly the client reads. */
  static final Duration WRITE_TIMEOUT = Duration.ofSeconds(10);

  /** How long a refusal line may take to be written; it fits any fresh socket's send buffer. */
  private static final int REFUSAL_WRITE_MILLIS = 100;

  private static final long REFUSAL_LOG_NANOS = 1_000_000_000L;

  /** Responses are written in pieces of this size, each with the time left as its timeout. */
  private static final int WRITE_CHUNK = 16 * 1024;

  private final AFUNIXServerSocket server;
  private final Optional<ListeningSocket> bound; // empty for a socket-activated one
  private final String where;
  private final Semaphore slots = new Semaphore(MAX_CONNECTIONS);
  private final Closer closer = new Closer();
  // Refusal log lines, on the accepting thread only (see refusalLogDue).
  private boolean refusalsLogged;
  private long lastRefusalLine;
  private long unloggedRefusals;
  private volatile boolean closed;
  private Thread thread;

  private ControlServer(AFUNIXServerSocket server, Optional<ListeningSocket> bound, String where) {
    this.server = server;
    this.bound = bound;
    this.where = where;
  }

  /**
   * Takes over a control socket passed by the service manager; it is left in place at close. It is
   * told to refuse descriptors (SO_PASSRIGHTS = 0) like every listening socket.
   */
  public static ControlServer inherited(AFUNIXServerSocketChannel channel) {
    Objects.requireNonNull(channel, "channel == null");
    ListeningSocket.inherited(channel);
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

  /** Starts accepting on a thread of its own and answering requests with {@code handler}. */
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
          pause();
        }
        continue;
      }
      if (closed) {
        // The wake-up connection from close(), or a request that raced with it.
        closer.close(connection);
        break;
      }
      admit(connection, handler);
    }
  }

  /** Refuses {@code connection} at once, or hands it to a thread of its own; never blocks. */
  private void admit(AFUNIXSocket connection, ControlHandler handler) {
    long uid;
    long pid;
    try {
      AFUNIXSocketCredentials peer = connection.getPeerCredentials();
      uid = peer == null ? -1 : peer.getUid();
      pid = peer == null ? -1 : peer.getPid();
    } catch (IOException e) {
      uid = -1;
      pid = -1;
    }
    if (uid != ControlProtocol.ROOT_UID) {
      if (refusalLogDue()) {
        log.warn(
            "Refused a control connection from uid {} (pid {}): only root may use it{}",
            uid,
            pid,
            unloggedSince());
      }
      refuse(connection, "permission denied: the control socket serves root only, not uid " + uid);
      return;
    }
    if (!slots.tryAcquire()) {
      if (refusalLogDue()) {
        log.warn(
            "Refused a control connection from pid {}: {} requests are being answered{}",
            pid,
            MAX_CONNECTIONS,
            unloggedSince());
      }
      refuse(
          connection,
          "busy: "
              + MAX_CONNECTIONS
              + " control requests are being answered; try again in a few seconds");
      return;
    }
    long deadline = System.nanoTime() + ControlProtocol.READ_TIMEOUT.toNanos();
    long peerPid = pid;
    try {
      Thread.ofPlatform()
          .name("filebroker-control-request")
          .daemon(true)
          .start(
              () -> {
                try (connection) {
                  serve(connection, handler, peerPid, deadline);
                } catch (IOException e) {
                  log.warn("Could not answer a control request: {}", e.toString());
                } finally {
                  slots.release();
                }
              });
    } catch (RuntimeException | OutOfMemoryError e) {
      slots.release();
      log.error("Could not start a thread for a control request: {}", e.toString());
      closer.close(connection);
    }
  }

  /**
   * Whether a refusal gets a log line: the first, then at most one per {@link #REFUSAL_LOG_NANOS},
   * so that a client connecting as fast as it can cannot flood the journal. Called on the accepting
   * thread only.
   */
  private boolean refusalLogDue() {
    long now = System.nanoTime();
    if (refusalsLogged && now - lastRefusalLine < REFUSAL_LOG_NANOS) {
      unloggedRefusals++;
      return false;
    }
    refusalsLogged = true;
    lastRefusalLine = now;
    return true;
  }

  /** The suffix of a refusal line that counts the refusals not logged since the last one. */
  private String unloggedSince() {
    long n = unloggedRefusals;
    unloggedRefusals = 0;
    return n == 0 ? "" : " (" + n + " more refused since the last such line)";
  }

  /**
   * One error line, then close, without reading: whatever the peer sent or still sends is not
   * waited for. The line is written under a short send timeout, as a full send buffer (which a
   * fresh connection never has) must not hold the accepting thread; the close is the closer's.
   */
  private void refuse(AFUNIXSocket connection, String why) {
    try {
      connection.setSoTimeout(REFUSAL_WRITE_MILLIS);
      OutputStream out = connection.getOutputStream();
      out.write(line(ControlProtocol.error(why)));
      out.flush();
    } catch (IOException e) {
      log.debug("Could not send a control refusal: {}", e.toString());
    } finally {
      closer.close(connection);
    }
  }

  private static void serve(
      AFUNIXSocket connection, ControlHandler handler, long pid, long readDeadline)
      throws IOException {
    Optional<String> line;
    try {
      line = readLine(connection, readDeadline);
    } catch (EOFException e) {
      return; // connected and hung up without a word: nothing to answer
    } catch (SocketTimeoutException e) {
      respond(
          connection,
          line(
              ControlProtocol.error(
                  "no complete request line within "
                      + ControlProtocol.READ_TIMEOUT.toSeconds()
                      + " s")));
      return;
    }
    if (line.isEmpty()) {
      respond(
          connection,
          line(
              ControlProtocol.error(
                  "request longer than " + ControlProtocol.MAX_REQUEST_BYTES + " bytes")));
      return;
    }
    String response;
    try {
      response = ControlProtocol.answer(line.get(), handler);
    } catch (RuntimeException e) {
      log.error("Could not answer a control request from pid {}", pid, e);
      respond(connection, line(ControlProtocol.error("internal error: " + e)));
      return;
    }
    log.info("Answered a control request from pid {}: {}", pid, commandOf(line.get()));
    respond(connection, (response + "\n").getBytes(StandardCharsets.UTF_8));
  }

  /**
   * Writes {@code bytes} within {@link #WRITE_TIMEOUT} in all: in pieces, each with the time left
   * as its send timeout (junixsocket's SO_TIMEOUT sets SO_SNDTIMEO as well as SO_RCVTIMEO), so a
   * client that reads a byte now and then cannot stretch it.
   */
  private static void respond(AFUNIXSocket connection, byte[] bytes) throws IOException {
    long deadline = System.nanoTime() + WRITE_TIMEOUT.toNanos();
    OutputStream out = connection.getOutputStream();
    for (int offset = 0; offset < bytes.length; offset += WRITE_CHUNK) {
      connection.setSoTimeout(remainingMillis(deadline));
      out.write(bytes, offset, Math.min(WRITE_CHUNK, bytes.length - offset));
    }
    out.flush();
  }

  /** Milliseconds until {@code deadline}, at least 1 (0 would mean no timeout at all). */
  private static int remainingMillis(long deadline) throws SocketTimeoutException {
    long left = (deadline - System.nanoTime()) / 1_000_000;
    if (left <= 0) {
      throw new SocketTimeoutException("the deadline has passed");
    }
    return (int) Math.min(Integer.MAX_VALUE, left);
  }

  /**
   * The request line up to its newline or end of stream; empty when it is too long.
   *
   * @throws EOFException when the client hung up before sending anything
   * @throws SocketTimeoutException when no whole line arrived before {@code deadline}, however the
   *     client spread its bytes over the time
   */
  private static Optional<String> readLine(AFUNIXSocket connection, long deadline)
      throws IOException {
    InputStream in = connection.getInputStream();
    ByteArrayOutputStream line = new ByteArrayOutputStream(256);
    byte[] buffer = new byte[4096];
    while (true) {
      connection.setSoTimeout(remainingMillis(deadline));
      int n = in.read(buffer);
      if (n < 0) {
        if (line.size() == 0) {
          throw new EOFException("hung up before sending a request");
        }
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

  private static byte[] line(Map<String, Object> response) {
    return (Json.write(response) + "\n").getBytes(StandardCharsets.UTF_8);
  }

  /**
   * Stops accepting, waits a while for the requests being answered, and removes the socket file
   * when this daemon bound it.
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
    try {
      if (t != null) {
        t.join(1000);
      }
      // Requests in progress end within their deadlines, a handler's own work aside.
      if (slots.tryAcquire(
          MAX_CONNECTIONS, ControlProtocol.READ_TIMEOUT.toMillis() + 1000, TimeUnit.MILLISECONDS)) {
        slots.release(MAX_CONNECTIONS);
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    } finally {
      closer.stop();
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

  private static void pause() {
    try {
      Thread.sleep(50); // EMFILE and friends: do not spin
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
