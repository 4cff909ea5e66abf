package dev.filebroker.client;

import dev.filebroker.protocol.FrameCodec;
import dev.filebroker.protocol.OpenFlags;
import dev.filebroker.protocol.Protocol;
import dev.filebroker.protocol.Reply;
import dev.filebroker.protocol.Request;
import java.io.FileDescriptor;
import java.io.IOException;
import java.io.InterruptedIOException;
import java.net.SocketException;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import org.newsclub.net.unix.AFUNIXSocketAddress;
import org.newsclub.net.unix.AFUNIXSocketChannel;

/**
 * The socket of one {@link FileBroker} and its reply reader, made again when the daemon ends the
 * connection: writes requests, learns from the reader when a connection ended, and sends again what
 * may run twice. See {@link FileBroker}'s "Reconnection" paragraph for the rules.
 */
final class Connection {
  /** How many times the library tries to connect again after the daemon ended the connection. */
  static final int RECONNECT_ATTEMPTS = 8;

  /** Most times one request is sent: once, and again after each of two lost connections. */
  static final int MAX_SENDS = 3;

  // Ancillary buffer per read. junixsocket receives no descriptor at all unless this is set
  // before reading, and caps it at 256 bytes (60 descriptors); one read carries at most
  // MAX_DESCRIPTORS_PER_MESSAGE (32), which need CMSG_SPACE(32 * 4) = 144 bytes.
  static final int ANCILLARY_BUFFER_SIZE = 256;

  private static final long READER_STOP_MILLIS = 5_000;

  /** Pause before the first reconnection attempt; it doubles up to {@link #MAX_RECONNECT_PAUSE}. */
  private static final Duration FIRST_RECONNECT_PAUSE = Duration.ofMillis(20);

  private static final Duration MAX_RECONNECT_PAUSE = Duration.ofMillis(500);

  private final Path socket;
  private final PendingRequests pending;
  // Replaced, under sendLock, when the connection is made again.
  private volatile AFUNIXSocketChannel channel;
  private volatile Thread reader;
  private long generation = 1;
  // Set, under sendLock, when a connection ended with nothing left to send again: the next request
  // connects first. A client that stays idle past the daemon's idle timeout holds no connection.
  private Optional<BrokerConnectionClosedException> disconnected = Optional.empty();
  private final Object sendLock = new Object();
  private final ByteBuffer sendBuffer = ByteBuffer.allocateDirect(Protocol.MAX_FRAME_SIZE);

  private Connection(Path socket, AFUNIXSocketChannel channel, PendingRequests pending) {
    this.socket = socket;
    this.channel = channel;
    this.pending = pending;
    this.reader = newReader(channel, generation);
  }

  /**
   * Connects to the daemon on this socket and starts reading replies for {@code pending}.
   *
   * @throws BrokerUnavailableException if nothing accepts connections there
   * @throws UnsupportedOperationException if junixsocket's native library cannot be loaded; the
   *     message names the JVM option that may be missing
   */
  static Connection open(Path socket, PendingRequests pending) throws IOException {
    NativeAccess.require();
    AFUNIXSocketChannel channel;
    try {
      channel = AFUNIXSocketChannel.open(AFUNIXSocketAddress.of(socket));
    } catch (SocketException e) {
      throw new BrokerUnavailableException(
          socket,
          "Could not connect to the filebroker daemon at "
              + socket
              + ": "
              + e.getMessage()
              + ". Check that the daemon is running (systemctl status filebroker), that "
              + FileBroker.SOCKET_ENVIRONMENT_VARIABLE
              + " names its socket, and that this user may write to the socket",
          e);
    }
    Connection connection = new Connection(socket, channel, pending);
    connection.reader.start();
    return connection;
  }

  /** Whether carrying out a request with these open flags twice has the effect of once. */
  static boolean isRetryable(int flags) {
    return (flags & (OpenFlags.O_CREAT | OpenFlags.O_TRUNC)) == 0;
  }

  private Thread newReader(AFUNIXSocketChannel on, long onGeneration) {
    on.setAncillaryReceiveBufferSize(ANCILLARY_BUFFER_SIZE);
    Thread t =
        new Thread(new ReplyReader(on, this, onGeneration), "filebroker-reply-reader " + socket);
    t.setDaemon(true);
    return t;
  }

  Path socket() {
    return socket;
  }

  /**
   * Writes a request on the current connection and records which one. A failed write leaves the
   * request waiting: the write failed because the connection is gone, and the reader, which sees
   * the end of the connection after every reply that did arrive, decides what becomes of it.
   */
  void send(Request request, PendingRequests.Sending sending) {
    synchronized (sendLock) {
      if (disconnected.isPresent() && !connectAgain(disconnected.get())) {
        return; // fail() has failed this request with everything else
      }
      sending.generation = generation;
      sending.sends++;
      write(request);
    }
  }

  private void write(Request request) {
    AFUNIXSocketChannel on = channel;
    try {
      sendBuffer.clear();
      FrameCodec.encode(request, sendBuffer);
      sendBuffer.flip();
      while (sendBuffer.hasRemaining()) {
        on.write(sendBuffer);
      }
    } catch (IOException e) {
      try {
        on.shutdownOutput();
      } catch (IOException ignored) {
        // Already shut down or closed: the reader sees the end either way.
      }
    }
  }

  /** Hands a reply the reader decoded, with its descriptors, to the request it answers. */
  void deliver(Reply reply, List<FileDescriptor> descriptors) throws IOException {
    pending.deliver(reply, descriptors);
  }

  /**
   * Marks the broker failed (the first cause wins), fails every waiting request with the cause and
   * stops the reader by shutting the socket down.
   */
  void fail(IOException cause) {
    pending.failAll(cause);
    shutDown(channel);
  }

  private static void shutDown(AFUNIXSocketChannel on) {
    try {
      on.shutdownInput();
      on.shutdownOutput();
    } catch (IOException e) {
      // Already shut down or closed: the reader stops either way.
    }
  }

  /** Called by a reader as it exits: its socket is no longer needed. */
  void readerStopped(AFUNIXSocketChannel on) {
    try {
      on.close();
    } catch (IOException e) {
      // Closing a socket nobody reads or writes can only fail harmlessly.
    }
  }

  /**
   * Called by the reader of connection {@code lostGeneration} once it has read everything the
   * daemon sent before the connection ended: every request still waiting was never answered on it.
   * Fails those that must not run twice, connects again and sends the others again; fails
   * everything if no connection can be made.
   */
  void connectionLost(long lostGeneration, BrokerConnectionClosedException cause) {
    synchronized (sendLock) {
      if (pending.hasFailed() || lostGeneration != generation) {
        fail(cause);
        return;
      }
      List<PendingRequests.Resend> resend = pending.unanswered(lostGeneration, MAX_SENDS, cause);
      if (resend.isEmpty()) {
        disconnected = Optional.of(cause);
        return;
      }
      if (!connectAgain(cause)) {
        return;
      }
      for (PendingRequests.Resend r : resend) {
        r.sending().generation = generation;
        r.sending().sends++;
        write(r.request());
      }
    }
  }

  /**
   * Connects again after the connection ended with {@code cause}, under sendLock; false when no
   * connection could be made (everything waiting has then failed) or the broker was closed.
   */
  private boolean connectAgain(BrokerConnectionClosedException cause) {
    synchronized (sendLock) {
      AFUNIXSocketChannel fresh;
      try {
        fresh = reconnect();
      } catch (IOException e) {
        fail(
            new BrokerConnectionClosedException(
                "The connection to the filebroker daemon at "
                    + socket
                    + " was lost ("
                    + cause.getMessage()
                    + ") and could not be made again in "
                    + RECONNECT_ATTEMPTS
                    + " attempts: "
                    + e.getMessage(),
                e));
        return false;
      }
      if (pending.hasFailed()) {
        // Closed while connecting.
        readerStopped(fresh);
        return false;
      }
      generation++;
      disconnected = Optional.empty();
      channel = fresh;
      reader = newReader(fresh, generation);
      reader.start();
      return true;
    }
  }

  /** Connects to the socket again, pausing a little longer before each further attempt. */
  private AFUNIXSocketChannel reconnect() throws IOException {
    Duration pause = FIRST_RECONNECT_PAUSE;
    IOException last = null;
    for (int attempt = 1; attempt <= RECONNECT_ATTEMPTS; attempt++) {
      if (pending.hasFailed()) {
        throw new BrokerConnectionClosedException("The FileBroker was closed", null);
      }
      try {
        return AFUNIXSocketChannel.open(AFUNIXSocketAddress.of(socket));
      } catch (IOException e) {
        last = e;
      }
      try {
        Thread.sleep(pause);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        InterruptedIOException interrupted =
            new InterruptedIOException("Interrupted while reconnecting");
        interrupted.initCause(e);
        throw interrupted;
      }
      pause =
          pause.multipliedBy(2).compareTo(MAX_RECONNECT_PAUSE) > 0
              ? MAX_RECONNECT_PAUSE
              : pause.multipliedBy(2);
    }
    throw last;
  }

  /** Fails what still waits, stops the reader and closes the socket. */
  void close() throws IOException {
    fail(new BrokerConnectionClosedException("The FileBroker was closed", null));
    Thread current = reader;
    if (Thread.currentThread() != current) {
      try {
        current.join(READER_STOP_MILLIS);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }
    channel.close();
  }
}
