package dev.filebroker.client;

import dev.filebroker.protocol.ErrorCode;
import dev.filebroker.protocol.ErrorReply;
import dev.filebroker.protocol.FrameCodec;
import dev.filebroker.protocol.OpenFlags;
import dev.filebroker.protocol.OpenManyRequest;
import dev.filebroker.protocol.OpenRequest;
import dev.filebroker.protocol.OpenedManyReply;
import dev.filebroker.protocol.OpenedReply;
import dev.filebroker.protocol.Protocol;
import dev.filebroker.protocol.Reply;
import dev.filebroker.protocol.Request;
import dev.filebroker.protocol.RequestValidator;
import java.io.FileDescriptor;
import java.io.IOException;
import java.io.InputStream;
import java.io.InterruptedIOException;
import java.net.SocketException;
import java.net.SocketTimeoutException;
import java.nio.ByteBuffer;
import java.nio.file.AccessDeniedException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.FileSystems;
import java.nio.file.NoSuchFileException;
import java.nio.file.NotDirectoryException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import org.newsclub.net.unix.AFUNIXSocket;
import org.newsclub.net.unix.AFUNIXSocketAddress;
import org.newsclub.net.unix.AFUNIXSocketChannel;

/**
 * A connection to the filebroker daemon, which opens files this process may not open itself and
 * passes their descriptors over an {@code AF_UNIX} socket.
 *
 * <pre>{@code
 * try (FileBroker broker = FileBroker.connect();
 *     BrokeredFile file = broker.open(Path.of("/var/log/app.log"), Access.READ)) {
 *   FileChannel channel = file.channel();
 *   ...
 * }
 * }</pre>
 *
 * <p>Thread-safe: any number of threads may call {@link #open} at once. They share one connection;
 * their requests are pipelined (each carries its own request id) and the daemon may answer them in
 * any order. A background daemon thread reads the replies.
 *
 * <p>Closing the {@code FileBroker} does not close the files it opened: each {@link BrokeredFile}
 * owns its descriptor.
 *
 * <p><b>Reconnection.</b> When the daemon ends the connection (end of stream, {@code ECONNRESET},
 * {@code EPIPE}), as it does when it restarts or when the connection stayed idle longer than its
 * {@code idle_timeout_seconds}, the library connects again, up to {@value #RECONNECT_ATTEMPTS}
 * attempts with a short, growing pause between them: at once when requests are waiting for an
 * answer, otherwise with the next request, so that an idle client holds no connection. It sends
 * again the requests that were never answered. A request was <em>never answered</em> when this
 * library had not received its whole reply frame when the connection ended; a request whose reply
 * was received is never sent again. (Linux and junixsocket caveat: a write that fails because the
 * daemon hung up makes junixsocket close the socket, so replies that had reached the socket but
 * were not read yet are lost with it, and their requests count as never answered.) The daemon may
 * nevertheless have carried out an unanswered request whose reply was lost (a daemon stopping with
 * SIGTERM answers everything it read before it closes, so a graceful restart loses no reply; a
 * crash can). Only requests that are harmless to carry out twice are therefore sent again: an
 * {@link #open} without {@link Access#CREATE} and {@link Access#TRUNCATE} (no {@code O_CREAT}, no
 * {@code O_TRUNC}), and an {@link #openAll} under the same condition. Any other unanswered request
 * fails with {@link BrokerConnectionClosedException}, whose message says it may or may not have
 * been carried out. A request is sent at most {@value #MAX_SENDS} times. A protocol error, a failed
 * reconnection or {@link #close()} ends the {@code FileBroker} for good.
 *
 * <p>Linux only: the descriptors arrive as {@code SCM_RIGHTS} ancillary data through junixsocket.
 * The JVM needs {@code --add-opens=java.base/java.io=ALL-UNNAMED} for junixsocket to track the
 * descriptors it receives; without it, each received descriptor leaves a small bookkeeping entry
 * until the connection is closed.
 */
public final class FileBroker implements AutoCloseable {
  /** The socket the daemon listens on when {@value #SOCKET_ENVIRONMENT_VARIABLE} is not set. */
  public static final Path DEFAULT_SOCKET = Path.of("/run/filebroker/filebroker.sock");

  /** The environment variable {@link #connect()} reads the socket path from, when set. */
  public static final String SOCKET_ENVIRONMENT_VARIABLE = "FILEBROKER_SOCKET";

  /** The permission bits of a file created with {@link Access#CREATE} unless a mode is given. */
  public static final int DEFAULT_CREATE_MODE = 0600;

  // Ancillary buffer per read. junixsocket receives no descriptor at all unless this is set
  // before reading, and caps it at 256 bytes (60 descriptors); one read carries at most
  // MAX_DESCRIPTORS_PER_MESSAGE (32), which need CMSG_SPACE(32 * 4) = 144 bytes.
  private static final int ANCILLARY_BUFFER_SIZE = 256;

  private static final long READER_STOP_MILLIS = 5_000;

  /** How many times the library tries to connect again after the daemon ended the connection. */
  public static final int RECONNECT_ATTEMPTS = 8;

  /** Most times one request is sent: once, and again after each of two lost connections. */
  public static final int MAX_SENDS = 3;

  /** Pause before the first reconnection attempt; it doubles up to {@link #MAX_RECONNECT_PAUSE}. */
  private static final Duration FIRST_RECONNECT_PAUSE = Duration.ofMillis(20);

  private static final Duration MAX_RECONNECT_PAUSE = Duration.ofMillis(500);

  /** How long {@link #receiveFrom(Path)} waits for a descriptor. */
  public static final Duration DEFAULT_RECEIVE_TIMEOUT = Duration.ofSeconds(30);

  // The status flags receiveFrom reports as openFlags(); the rest of /proc's flags line is noise
  // (O_CLOEXEC, O_LARGEFILE) or does not survive open(2) (O_CREAT, O_TRUNC).
  private static final int RECEIVED_FLAGS =
      OpenFlags.O_ACCMODE
          | OpenFlags.O_APPEND
          | OpenFlags.O_NONBLOCK
          | OpenFlags.O_DIRECTORY
          | OpenFlags.O_PATH;

  private final Path socket;
  // Replaced, under sendLock, when the connection is made again.
  private volatile AFUNIXSocketChannel channel;
  private volatile Thread reader;
  private long generation = 1;
  // Set, under sendLock, when a connection ended with nothing left to send again: the next request
  // connects first. A client that stays idle past the daemon's idle timeout holds no connection.
  private Optional<BrokerConnectionClosedException> disconnected = Optional.empty();
  private final ConcurrentHashMap<Integer, PendingOpen> pending = new ConcurrentHashMap<>();
  private final AtomicInteger lastRequestId = new AtomicInteger();
  private final AtomicReference<IOException> failure = new AtomicReference<>();
  private final Object sendLock = new Object();
  private final ByteBuffer sendBuffer = ByteBuffer.allocateDirect(Protocol.MAX_FRAME_SIZE);

  /**
   * Where a request stands on the wire, changed under sendLock only: the connection generation it
   * was last written to (0 while not yet written) and how often it was written.
   */
  private static final class Sending {
    long generation;
    int sends;
  }

  /** One request waiting for its reply: what the reply needs to build a result. */
  private record PendingOpen(
      OpenRequest request,
      String path,
      int flags,
      CompletableFuture<BrokeredFile> result,
      Sending sending) {}

  private final ConcurrentHashMap<Integer, PendingMany> pendingMany = new ConcurrentHashMap<>();

  /**
   * One OPEN_MANY waiting for its reply: the caller's paths, which of them were sent (in order),
   * the results of those refused before sending, and where the whole answer goes.
   */
  private record PendingMany(
      List<Path> paths,
      int[] sent,
      OpenResult[] results,
      int flags,
      CompletableFuture<List<OpenResult>> result,
      Sending sending) {}

  /** Whether carrying out a request with these open flags twice has the effect of once. */
  static boolean isRetryable(int flags) {
    return (flags & (OpenFlags.O_CREAT | OpenFlags.O_TRUNC)) == 0;
  }

  private FileBroker(Path socket, AFUNIXSocketChannel channel) {
    this.socket = socket;
    this.channel = channel;
    this.reader = newReader(channel, generation);
  }

  private Thread newReader(AFUNIXSocketChannel on, long onGeneration) {
    on.setAncillaryReceiveBufferSize(ANCILLARY_BUFFER_SIZE);
    Thread t =
        new Thread(new ReplyReader(on, this, onGeneration), "filebroker-reply-reader " + socket);
    t.setDaemon(true);
    return t;
  }

  /**
   * Connects to the daemon at the socket named by the environment variable {@value
   * #SOCKET_ENVIRONMENT_VARIABLE} if it is set and not empty, else at {@link #DEFAULT_SOCKET}.
   *
   * @throws BrokerUnavailableException if nothing accepts connections there
   */
  public static FileBroker connect() throws IOException {
    String fromEnvironment = System.getenv(SOCKET_ENVIRONMENT_VARIABLE);
    Path socket =
        fromEnvironment == null || fromEnvironment.isEmpty()
            ? DEFAULT_SOCKET
            : Path.of(fromEnvironment);
    return connect(socket);
  }

  /**
   * Connects to the daemon listening on this socket path.
   *
   * @throws BrokerUnavailableException if the socket does not exist ({@code ENOENT}), nothing
   *     listens on it ({@code ECONNREFUSED}) or this process may not connect ({@code EACCES}); the
   *     message names the socket and what to check
   */
  public static FileBroker connect(Path socket) throws IOException {
    Objects.requireNonNull(socket, "socket == null");
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
              + SOCKET_ENVIRONMENT_VARIABLE
              + " names its socket, and that this user may write to the socket",
          e);
    }
    FileBroker broker = new FileBroker(socket, channel);
    broker.reader.start();
    return broker;
  }

  /**
   * Receives one descriptor from a program that passes descriptors the classic way, without the
   * filebroker protocol: connects to its {@code SOCK_STREAM} socket and reads until a descriptor
   * arrives as {@code SCM_RIGHTS} attached to at least one byte, or the sender closes the
   * connection. Waits at most {@link #DEFAULT_RECEIVE_TIMEOUT}.
   *
   * @param socketPath the sender's {@code AF_UNIX} socket
   * @return the received file, which the caller must close
   * @throws IOException as {@link #receiveFrom(Path, Duration)} does
   */
  public static BrokeredFile receiveFrom(Path socketPath) throws IOException {
    return receiveFrom(socketPath, DEFAULT_RECEIVE_TIMEOUT);
  }

  /**
   * Receives one descriptor from a program that passes descriptors the classic way, without the
   * filebroker protocol: connects to its {@code SOCK_STREAM} socket and reads, discarding the
   * bytes, until a descriptor arrives as {@code SCM_RIGHTS} attached to at least one byte, or the
   * sender closes the connection. Nothing is sent. The connection is closed before this returns.
   *
   * <p>The returned file owns a close-on-exec duplicate of the received descriptor. Its {@link
   * BrokeredFile#path()} is {@code socketPath}; its {@link BrokeredFile#openFlags()} (and so {@link
   * BrokeredFile#isReadable()} and {@link BrokeredFile#isWritable()}) are read from the {@code
   * flags:} line of {@code /proc/self/fdinfo/<fd>}, its {@link BrokeredFile#fileMode()} from {@code
   * stat(2)} on {@code /proc/self/fd/<fd>}.
   *
   * <p>Linux caveats: finding the descriptor's number needs the JVM option {@code
   * --add-opens=java.base/java.io=ALL-UNNAMED}. More than one descriptor is refused. A message with
   * more than the 256-byte ancillary buffer holds (about 60) is reported as {@code MSG_CTRUNC} with
   * a {@link BrokerProtocolException}; the kernel closed the descriptors that did not fit, and
   * junixsocket does not report those that did (they stay open in this process). A descriptor sent
   * in a later message than the first one that carried descriptors is never read.
   *
   * @param socketPath the sender's {@code AF_UNIX} socket
   * @param timeout how long to wait for the connection and for the descriptor, in all; positive
   * @return the received file, which the caller must close
   * @throws BrokerUnavailableException if the connection cannot be made ({@code ENOENT}, {@code
   *     ECONNREFUSED}, {@code EACCES}, or no connection within the timeout)
   * @throws AccessDeniedException if the sender closed the connection without sending a descriptor,
   *     which is how such programs usually refuse
   * @throws BrokerProtocolException if more than one descriptor arrived (all of them are closed),
   *     or a control message was truncated ({@code MSG_CTRUNC})
   * @throws SocketTimeoutException if no descriptor arrived within the timeout
   * @throws IllegalArgumentException if the timeout is zero or negative
   */
  public static BrokeredFile receiveFrom(Path socketPath, Duration timeout) throws IOException {
    Objects.requireNonNull(socketPath, "socketPath == null");
    Objects.requireNonNull(timeout, "timeout == null");
    if (timeout.isNegative() || timeout.isZero()) {
      throw new IllegalArgumentException("timeout must be positive: " + timeout);
    }
    long deadline = System.nanoTime() + timeout.toNanos();
    AFUNIXSocketAddress address = AFUNIXSocketAddress.of(socketPath);
    try (AFUNIXSocket socket = AFUNIXSocket.newInstance()) {
      socket.setAncillaryReceiveBufferSize(ANCILLARY_BUFFER_SIZE);
      try {
        socket.connect(address, remainingMillis(deadline, socketPath, timeout));
      } catch (IOException e) {
        throw new BrokerUnavailableException(
            socketPath,
            "Could not connect to the descriptor sender at "
                + socketPath
                + ": "
                + e.getMessage()
                + ". Check that the sender is running and that this user may write to the socket",
            e);
      }
      FileDescriptor received = readOneDescriptor(socket, socketPath, timeout, deadline);
      FileDescriptor owned = Descriptors.takeOwnership(received);
      try {
        int flags = Descriptors.statusFlags(owned) & RECEIVED_FLAGS;
        return new BrokeredFile(owned, socketPath.toString(), flags, Descriptors.fileMode(owned));
      } catch (IOException | RuntimeException e) {
        Descriptors.closeQuietly(owned, e);
        throw e;
      }
    }
  }

  private static FileDescriptor readOneDescriptor(
      AFUNIXSocket socket, Path socketPath, Duration timeout, long deadline) throws IOException {
    InputStream in = socket.getInputStream();
    byte[] discard = new byte[256];
    while (true) {
      socket.setSoTimeout(remainingMillis(deadline, socketPath, timeout));
      int read;
      try {
        read = in.read(discard);
      } catch (SocketTimeoutException e) {
        SocketTimeoutException timedOut = timedOut(socketPath, timeout);
        timedOut.initCause(e);
        throw timedOut;
      } catch (IOException e) {
        if (Descriptors.isControlTruncation(e)) {
          BrokerProtocolException truncated =
              new BrokerProtocolException(
                  socketPath
                      + " attached more descriptors to one message than a read can receive"
                      + " (MSG_CTRUNC); exactly one was expected");
          truncated.initCause(e);
          throw truncated;
        }
        throw e;
      }
      FileDescriptor[] descriptors = socket.getReceivedFileDescriptors();
      if (descriptors != null && descriptors.length == 1) {
        return descriptors[0];
      }
      if (descriptors != null && descriptors.length > 1) {
        BrokerProtocolException surplus =
            new BrokerProtocolException(
                socketPath
                    + " sent "
                    + descriptors.length
                    + " descriptors at once; exactly one was expected. All were closed");
        for (FileDescriptor descriptor : descriptors) {
          Descriptors.closeQuietly(descriptor, surplus);
        }
        throw surplus;
      }
      if (read < 0) {
        throw new AccessDeniedException(
            socketPath.toString(),
            null,
            "the endpoint closed the connection without sending a descriptor (denied?)");
      }
    }
  }

  /** Milliseconds left until the deadline, at least 1: 0 means "forever" to SO_TIMEOUT. */
  private static int remainingMillis(long deadline, Path socketPath, Duration timeout)
      throws SocketTimeoutException {
    long left = Duration.ofNanos(deadline - System.nanoTime()).toMillis();
    if (left <= 0) {
      throw timedOut(socketPath, timeout);
    }
    return (int) Math.min(Integer.MAX_VALUE, left);
  }

  private static SocketTimeoutException timedOut(Path socketPath, Duration timeout) {
    return new SocketTimeoutException(
        "No descriptor arrived from " + socketPath + " within " + timeout);
  }

  /** The socket path this connection was made to. */
  public Path socket() {
    return socket;
  }

  /**
   * Asks the daemon to open a file, and waits for its answer. See {@link Access} for how the
   * accesses map to open flags. A file created with {@link Access#CREATE} gets {@link
   * #DEFAULT_CREATE_MODE}, less the daemon's umask.
   *
   * @param path an absolute, canonical path: no {@code .} or {@code ..} component; symbolic links
   *     are never followed
   * @param access what the caller wants to do with the file; at least one
   * @return the opened file, which the caller must close
   * @throws AccessDeniedException if no policy rule grants the request (code {@code DENIED})
   * @throws NoSuchFileException if the file or a directory on its path does not exist
   * @throws FileAlreadyExistsException if {@link Access#EXCLUSIVE} was given and the file exists
   * @throws NotDirectoryException if a component of the path is not a directory
   * @throws BrokerRequestException for every other refusal, including a path that is not absolute
   *     and canonical (code {@code INVALID_PATH}, raised here before sending, as the daemon would)
   * @throws IllegalArgumentException if the accesses form a combination the daemon refuses
   * @throws BrokerProtocolException if the daemon broke the protocol; the connection is closed
   * @throws BrokerConnectionClosedException if the connection is closed or was lost
   * @throws InterruptedIOException if the thread was interrupted while waiting; a descriptor that
   *     arrives later is closed
   */
  public BrokeredFile open(Path path, Access... access) throws IOException {
    Set<Access> set = EnumSet.noneOf(Access.class);
    set.addAll(List.of(access));
    return open(path, set, set.contains(Access.CREATE) ? DEFAULT_CREATE_MODE : 0);
  }

  /**
   * Asks the daemon to open a file with an explicit create mode, and waits for its answer.
   *
   * @param path an absolute, canonical path, as for {@link #open(Path, Access...)}
   * @param access what the caller wants to do with the file; at least one
   * @param createMode the permission bits for a file created by {@link Access#CREATE} (at most
   *     {@code 07777}, less the daemon's umask); must be 0 without {@code CREATE}
   * @return the opened file, which the caller must close
   * @throws IOException as {@link #open(Path, Access...)} does
   */
  public BrokeredFile open(Path path, Set<Access> access, int createMode) throws IOException {
    Objects.requireNonNull(path, "path == null");
    Objects.requireNonNull(access, "access == null");
    if (path.getFileSystem() != FileSystems.getDefault()) {
      throw new IllegalArgumentException("path must belong to the default file system: " + path);
    }
    String text = path.toString();
    Optional<String> pathProblem = RequestValidator.pathProblem(text);
    if (pathProblem.isPresent()) {
      throw new BrokerRequestException(
          text, ErrorReply.of(0, ErrorCode.INVALID_PATH, 0, pathProblem.get()));
    }
    int flags = Access.toFlags(access.isEmpty() ? Set.of() : EnumSet.copyOf(access));
    Optional<String> flagProblem = RequestValidator.flagProblem(flags, createMode);
    if (flagProblem.isPresent()) {
      throw new IllegalArgumentException(flagProblem.get());
    }
    int id = nextId();
    PendingOpen open =
        new PendingOpen(
            new OpenRequest(id, flags, createMode, text),
            text,
            flags,
            new CompletableFuture<>(),
            new Sending());
    register(id, open);
    send(open.request(), open.sending());
    return await(open);
  }

  /** A request id no request in flight uses (ids wrap around; 0 is never used). */
  private int nextId() {
    int id;
    do {
      id = lastRequestId.incrementAndGet();
    } while (id == 0 || pending.containsKey(id) || pendingMany.containsKey(id));
    return id;
  }

  private void register(int id, PendingOpen open) throws IOException {
    throwIfFailed();
    if (pending.putIfAbsent(id, open) != null || pendingMany.containsKey(id)) {
      throw new IllegalStateException("request id " + id + " is in use");
    }
    // fail() may have swept the map before this entry was added: check again.
    IOException failed = failure.get();
    if (failed != null && pending.remove(id, open)) {
      throw failed;
    }
  }

  /**
   * Writes a request on the current connection and records which one. A failed write leaves the
   * request waiting: the write failed because the connection is gone, and the reader, which sees
   * the end of the connection after every reply that did arrive, decides what becomes of it.
   */
  private void send(Request request, Sending sending) {
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

  private static BrokeredFile await(PendingOpen open) throws IOException {
    try {
      return open.result().get();
    } catch (InterruptedException e) {
      if (!open.result().cancel(false)) {
        // The reply won the race: close what it brought, nobody will use it.
        try {
          open.result().join().close();
        } catch (CompletionException | CancellationException ignored) {
          // It failed instead: nothing to close.
        }
      }
      Thread.currentThread().interrupt();
      InterruptedIOException interrupted =
          new InterruptedIOException(
              "Interrupted while waiting for the daemon to open " + open.path());
      interrupted.initCause(e);
      throw interrupted;
    } catch (ExecutionException e) {
      if (e.getCause() instanceof IOException io) {
        throw io;
      }
      throw new IllegalStateException("Unexpected failure opening " + open.path(), e.getCause());
    }
  }

  /**
   * Asks the daemon to open several files in one round trip (one OPEN_MANY request), and waits for
   * its answer. Each path is decided, opened and audited on its own: the result for each path is
   * the opened file or the exception {@link #open(Path, Access...)} would have thrown for it, so
   * one denied or missing path does not fail the others. Paths that are not absolute and canonical
   * fail here without being sent.
   *
   * @param paths 1 to {@link Protocol#MAX_PATHS_PER_REQUEST} (64) paths; the same path may appear
   *     more than once
   * @param access what the caller wants to do with every file; at least one
   * @return one result per path, in the order of {@code paths}; the caller closes every opened file
   * @throws IllegalArgumentException if there are no paths or more than 64, or the accesses form a
   *     combination the daemon refuses
   * @throws BrokerProtocolException if the daemon broke the protocol; the connection is closed
   * @throws BrokerConnectionClosedException if the connection is closed or was lost
   * @throws InterruptedIOException if the thread was interrupted while waiting; descriptors that
   *     arrive later are closed
   */
  public List<OpenResult> openAll(List<Path> paths, Access... access) throws IOException {
    Objects.requireNonNull(paths, "paths == null");
    if (paths.isEmpty() || paths.size() > Protocol.MAX_PATHS_PER_REQUEST) {
      throw new IllegalArgumentException(
          "paths must number 1 to " + Protocol.MAX_PATHS_PER_REQUEST + ": " + paths.size());
    }
    Set<Access> set = EnumSet.noneOf(Access.class);
    set.addAll(List.of(access));
    int createMode = set.contains(Access.CREATE) ? DEFAULT_CREATE_MODE : 0;
    int flags = Access.toFlags(set);
    Optional<String> flagProblem = RequestValidator.flagProblem(flags, createMode);
    if (flagProblem.isPresent()) {
      throw new IllegalArgumentException(flagProblem.get());
    }
    List<Path> copy = List.copyOf(paths);
    OpenResult[] results = new OpenResult[copy.size()];
    List<OpenManyRequest.Entry> entries = new ArrayList<>(copy.size());
    int[] sent = new int[copy.size()];
    for (int i = 0; i < copy.size(); i++) {
      Path path = copy.get(i);
      if (path.getFileSystem() != FileSystems.getDefault()) {
        throw new IllegalArgumentException("path must belong to the default file system: " + path);
      }
      String text = path.toString();
      Optional<String> pathProblem = RequestValidator.pathProblem(text);
      if (pathProblem.isPresent()) {
        results[i] =
            new OpenResult.Failed(
                path,
                new BrokerRequestException(
                    text, ErrorReply.of(0, ErrorCode.INVALID_PATH, 0, pathProblem.get())));
      } else {
        sent[entries.size()] = i;
        entries.add(new OpenManyRequest.Entry(flags, createMode, text));
      }
    }
    if (entries.isEmpty()) {
      return List.of(results);
    }
    PendingMany many =
        new PendingMany(
            copy,
            java.util.Arrays.copyOf(sent, entries.size()),
            results,
            flags,
            new CompletableFuture<>(),
            new Sending());
    int id = registerMany(many);
    manyRequests.put(id, new OpenManyRequest(id, entries));
    send(manyRequests.get(id), many.sending());
    return awaitMany(many);
  }

  // The OPEN_MANY requests in flight, kept to send them again after a lost connection.
  private final ConcurrentHashMap<Integer, OpenManyRequest> manyRequests =
      new ConcurrentHashMap<>();

  private int registerMany(PendingMany many) throws IOException {
    throwIfFailed();
    int id = nextId();
    if (pendingMany.putIfAbsent(id, many) != null || pending.containsKey(id)) {
      throw new IllegalStateException("request id " + id + " is in use");
    }
    IOException failed = failure.get();
    if (failed != null && pendingMany.remove(id, many)) {
      throw failed;
    }
    return id;
  }

  private static List<OpenResult> awaitMany(PendingMany many) throws IOException {
    try {
      return many.result().get();
    } catch (InterruptedException e) {
      if (!many.result().cancel(false)) {
        try {
          closeOpened(many.result().join());
        } catch (CompletionException | CancellationException ignored) {
          // It failed instead: nothing to close.
        }
      }
      Thread.currentThread().interrupt();
      InterruptedIOException interrupted =
          new InterruptedIOException(
              "Interrupted while waiting for the daemon to open " + many.paths().size() + " files");
      interrupted.initCause(e);
      throw interrupted;
    } catch (ExecutionException e) {
      if (e.getCause() instanceof IOException io) {
        throw io;
      }
      throw new IllegalStateException("Unexpected failure opening files", e.getCause());
    }
  }

  private static void closeOpened(List<OpenResult> results) {
    for (OpenResult r : results) {
      if (r instanceof OpenResult.Opened opened) {
        try {
          opened.file().close();
        } catch (IOException e) {
          // Nothing else can be done with a descriptor that failed to close.
        }
      }
    }
  }

  /**
   * Hands a decoded reply and the descriptors that travelled with it to the request it answers. The
   * reader calls this for every reply; replies to OPEN_MANY are handled here.
   */
  void deliverAll(Reply reply, List<FileDescriptor> descriptors) throws IOException {
    if (reply instanceof OpenedManyReply many) {
      deliverMany(many, descriptors);
      return;
    }
    if (reply instanceof ErrorReply error && error.code() < 100) {
      PendingMany many = pendingMany.remove(error.requestId());
      manyRequests.remove(error.requestId());
      if (many != null) {
        // The whole request was refused (over a limit, undecodable path): every sent path fails.
        OpenResult[] results = many.results().clone();
        for (int index : many.sent()) {
          Path path = many.paths().get(index);
          results[index] =
              new OpenResult.Failed(path, ErrorReplies.toException(path.toString(), error));
        }
        many.result().complete(List.of(results));
        return;
      }
    }
    deliver(reply, descriptors.isEmpty() ? Optional.empty() : Optional.of(descriptors.get(0)));
  }

  private void deliverMany(OpenedManyReply reply, List<FileDescriptor> descriptors)
      throws IOException {
    manyRequests.remove(reply.requestId());
    PendingMany many = pendingMany.remove(reply.requestId());
    if (many == null) {
      throw new BrokerProtocolException(
          "The daemon answered request id "
              + Integer.toUnsignedString(reply.requestId())
              + ", which no request is waiting for");
    }
    if (reply.results().size() != many.sent().length) {
      BrokerProtocolException e =
          new BrokerProtocolException(
              "The daemon answered "
                  + reply.results().size()
                  + " paths of an OPEN_MANY that named "
                  + many.sent().length);
      many.result().completeExceptionally(e);
      throw e;
    }
    OpenResult[] results = many.results().clone();
    int next = 0;
    for (int k = 0; k < many.sent().length; k++) {
      int index = many.sent()[k];
      Path path = many.paths().get(index);
      OpenedManyReply.Result r = reply.results().get(k);
      if (r.isOpened()) {
        results[index] =
            new OpenResult.Opened(
                path,
                new BrokeredFile(
                    descriptors.get(next++), path.toString(), many.flags(), r.fileMode()));
      } else {
        ErrorReply error =
            new ErrorReply(
                reply.requestId(),
                r.code(),
                r.errno(),
                ErrorCode.fromCode(r.code()).map(Enum::name).orElse("UNKNOWN(" + r.code() + ")")
                    + (r.errno() != 0 ? " (errno " + r.errno() + ")" : ""));
        results[index] =
            new OpenResult.Failed(path, ErrorReplies.toException(path.toString(), error));
      }
    }
    List<OpenResult> list = List.of(results);
    if (!many.result().complete(list)) {
      // The caller gave up waiting (interrupted): the descriptors are nobody's.
      closeOpened(list);
    }
  }

  /** Hands a decoded reply and its descriptor, if it carries one, to the request it answers. */
  void deliver(Reply reply, Optional<FileDescriptor> descriptor) throws IOException {
    switch (reply) {
      case OpenedReply opened -> {
        PendingOpen open = claim(reply);
        BrokeredFile file =
            new BrokeredFile(
                descriptor.orElseThrow(), open.path(), open.flags(), opened.fileMode());
        if (!open.result().complete(file)) {
          // The caller gave up waiting (interrupted): the descriptor is nobody's.
          file.close();
        }
      }
      case ErrorReply error -> {
        if (error.code() >= 100) {
          throw new BrokerProtocolException(
              "The daemon reported a protocol error and closes the connection: "
                  + error.codeName()
                  + ": "
                  + error.message());
        }
        PendingOpen open = claim(reply);
        open.result().completeExceptionally(ErrorReplies.toException(open.path(), error));
      }
      case OpenedManyReply many -> deliverMany(many, descriptor.stream().toList());
    }
  }

  private PendingOpen claim(Reply reply) throws BrokerProtocolException {
    PendingOpen open = pending.remove(reply.requestId());
    if (open == null) {
      throw new BrokerProtocolException(
          "The daemon answered request id "
              + Integer.toUnsignedString(reply.requestId())
              + ", which no request is waiting for");
    }
    return open;
  }

  /**
   * Marks the connection failed (the first cause wins), fails every waiting request with the cause
   * and stops the reader by shutting the socket down.
   */
  void fail(IOException cause) {
    failure.compareAndSet(null, cause);
    IOException failed = failure.get();
    for (Integer id : pending.keySet()) {
      PendingOpen open = pending.remove(id);
      if (open != null) {
        open.result().completeExceptionally(failed);
      }
    }
    for (Integer id : pendingMany.keySet()) {
      PendingMany many = pendingMany.remove(id);
      manyRequests.remove(id);
      if (many != null) {
        many.result().completeExceptionally(failed);
      }
    }
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
      if (failure.get() != null || lostGeneration != generation) {
        fail(cause);
        return;
      }
      List<Request> resend = new ArrayList<>();
      List<Sending> resending = new ArrayList<>();
      for (var e : pending.entrySet()) {
        PendingOpen open = e.getValue();
        if (open.sending().generation != lostGeneration) {
          continue; // not written yet: its caller writes it on the new connection
        }
        if (isRetryable(open.flags()) && open.sending().sends < MAX_SENDS) {
          resend.add(open.request());
          resending.add(open.sending());
        } else if (pending.remove(e.getKey(), open)) {
          open.result()
              .completeExceptionally(maybeCarriedOut("OPEN " + open.path(), open.flags(), cause));
        }
      }
      for (var e : pendingMany.entrySet()) {
        PendingMany many = e.getValue();
        OpenManyRequest request = manyRequests.get(e.getKey());
        if (many.sending().generation != lostGeneration || request == null) {
          continue;
        }
        if (isRetryable(many.flags()) && many.sending().sends < MAX_SENDS) {
          resend.add(request);
          resending.add(many.sending());
        } else if (pendingMany.remove(e.getKey(), many)) {
          manyRequests.remove(e.getKey());
          many.result()
              .completeExceptionally(
                  maybeCarriedOut(
                      "OPEN_MANY of " + many.paths().size() + " paths", many.flags(), cause));
        }
      }
      if (resend.isEmpty()) {
        disconnected = Optional.of(cause);
        return;
      }
      if (!connectAgain(cause)) {
        return;
      }
      for (int i = 0; i < resend.size(); i++) {
        resending.get(i).generation = generation;
        resending.get(i).sends++;
        write(resend.get(i));
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
      if (failure.get() != null) {
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

  private static BrokerConnectionClosedException maybeCarriedOut(
      String what, int flags, BrokerConnectionClosedException cause) {
    String why =
        isRetryable(flags)
            ? "it was already sent " + MAX_SENDS + " times"
            : "it creates or truncates, so it is not sent again";
    return new BrokerConnectionClosedException(
        "The connection to the filebroker daemon was lost before the reply to "
            + what
            + " arrived; the daemon may or may not have carried it out ("
            + why
            + ")",
        cause);
  }

  /** Connects to the socket again, pausing a little longer before each further attempt. */
  private AFUNIXSocketChannel reconnect() throws IOException {
    Duration pause = FIRST_RECONNECT_PAUSE;
    IOException last = null;
    for (int attempt = 1; attempt <= RECONNECT_ATTEMPTS; attempt++) {
      if (failure.get() != null) {
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

  private void throwIfFailed() throws IOException {
    IOException failed = failure.get();
    if (failed != null) {
      throw failed;
    }
  }

  /** Whether the connection can still carry requests. */
  public boolean isOpen() {
    return failure.get() == null;
  }

  /**
   * Closes the connection. Requests still waiting fail with {@link
   * BrokerConnectionClosedException}. Files already opened stay open. Further calls do nothing.
   */
  @Override
  public void close() throws IOException {
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

  @Override
  public String toString() {
    return "FileBroker[" + socket + (isOpen() ? "" : ", closed") + "]";
  }
}
