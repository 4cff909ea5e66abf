package dev.filebroker.client;

import dev.filebroker.client.PendingRequests.PendingMany;
import dev.filebroker.client.PendingRequests.PendingOpen;
import dev.filebroker.client.PendingRequests.Sending;
import dev.filebroker.protocol.ErrorCode;
import dev.filebroker.protocol.ErrorReply;
import dev.filebroker.protocol.OpenManyRequest;
import dev.filebroker.protocol.OpenRequest;
import dev.filebroker.protocol.Protocol;
import dev.filebroker.protocol.RequestValidator;
import java.io.IOException;
import java.io.InterruptedIOException;
import java.net.SocketTimeoutException;
import java.nio.file.AccessDeniedException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.FileSystems;
import java.nio.file.NoSuchFileException;
import java.nio.file.NotDirectoryException;
import java.nio.file.OpenOption;
import java.nio.file.Path;
import java.nio.file.attribute.FileAttribute;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.EnumSet;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;

/**
 * A connection to the filebroker daemon, which opens files this process may not open itself and
 * passes their descriptors over an {@code AF_UNIX} socket.
 *
 * <pre>{@code
 * try (FileBroker broker = FileBroker.connect();
 *     BrokeredFile file = broker.open(Path.of("/var/log/app.log"), StandardOpenOption.READ)) {
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
 * {@code idle_timeout_seconds}, the library connects again, up to eight attempts with a short,
 * growing pause between them: at once when requests are waiting for an answer, otherwise with the
 * next request, so that an idle client holds no connection. It sends again the requests that were
 * never answered. A request was <em>never answered</em> when this library had not received its
 * whole reply frame when the connection ended; a request whose reply was received is never sent
 * again. (Linux and junixsocket caveat: a write that fails because the daemon hung up makes
 * junixsocket close the socket, so replies that had reached the socket but were not read yet are
 * lost with it, and their requests count as never answered.) The daemon may nevertheless have
 * carried out an unanswered request whose reply was lost (a daemon stopping with SIGTERM answers
 * everything it read before it closes, so a graceful restart loses no reply; a crash can). Only
 * requests that are harmless to carry out twice are therefore sent again: an {@link #open} without
 * {@code CREATE}, {@code CREATE_NEW} and {@code TRUNCATE_EXISTING} (no {@code O_CREAT}, no {@code
 * O_TRUNC}), and an {@link #openAll} under the same condition. Any other unanswered request fails
 * with {@link BrokerConnectionClosedException}, whose message says it may or may not have been
 * carried out. A request is sent at most three times. A protocol error, a failed reconnection or
 * {@link #close()} ends the {@code FileBroker} for good.
 *
 * <p>Linux only: the descriptors arrive as {@code SCM_RIGHTS} ancillary data through junixsocket,
 * whose native library this library loads on first use. No JVM option is needed on JDK 21 to 23.
 * From JDK 24 on, the JVM prints a four-line "restricted method" warning when that library is
 * loaded unless it runs with {@code --enable-native-access=ALL-UNNAMED} (class path) or {@code
 * --enable-native-access=org.newsclub.net.unix} (module path), or the application is a JAR run with
 * {@code java -jar} whose manifest says {@code Enable-Native-Access: ALL-UNNAMED}: Java lets no
 * library enable native access for itself. A JVM that denies native access makes {@link #connect}
 * and {@link #receiveFrom} throw {@link UnsupportedOperationException} naming the option.
 */
public final class FileBroker implements AutoCloseable {
  /** The socket the daemon listens on when {@value #SOCKET_ENVIRONMENT_VARIABLE} is not set. */
  public static final Path DEFAULT_SOCKET = Path.of("/run/filebroker/filebroker.sock");

  /** The environment variable {@link #connect()} reads the socket path from, when set. */
  public static final String SOCKET_ENVIRONMENT_VARIABLE = "FILEBROKER_SOCKET";

  /** The permission bits of a file created without a {@code posix:permissions} attribute. */
  public static final int DEFAULT_CREATE_MODE = 0600;

  /** How long {@link #receiveFrom(Path)} waits for a descriptor. */
  public static final Duration DEFAULT_RECEIVE_TIMEOUT = Duration.ofSeconds(30);

  private final PendingRequests pending;
  private final Connection connection;

  private FileBroker(PendingRequests pending, Connection connection) {
    this.pending = pending;
    this.connection = connection;
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
   * @throws UnsupportedOperationException if junixsocket's native library cannot be loaded, as in a
   *     JVM that denies native access; the message names the JVM option to add
   */
  public static FileBroker connect(Path socket) throws IOException {
    Objects.requireNonNull(socket, "socket == null");
    PendingRequests pending = new PendingRequests();
    return new FileBroker(pending, Connection.open(socket, pending));
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
   * <p>Linux caveats: more than one descriptor is refused. A message with more than the 256-byte
   * ancillary buffer holds (about 60) is reported as {@code MSG_CTRUNC} with a {@link
   * BrokerProtocolException}; the kernel closed the descriptors that did not fit, and junixsocket
   * does not report those that did (they stay open in this process). A descriptor sent in a later
   * message than the first one that carried descriptors is never read.
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
    return EndpointReceiver.receive(socketPath, timeout);
  }

  /** The socket path this connection was made to. */
  public Path socket() {
    return connection.socket();
  }

  /**
   * Asks the daemon to open a file, and waits for its answer. The options are read as {@link
   * java.nio.channels.FileChannel#open(Path, Set, FileAttribute...)} reads them, with the
   * differences below, and become the request's open flags:
   *
   * <table class="striped">
   *   <caption>Options and the open flags they send</caption>
   *   <thead><tr><th>Option</th><th>Open flag</th></tr></thead>
   *   <tbody>
   *     <tr><td>{@code READ}, or no {@code WRITE} and no {@code APPEND}</td>
   *         <td>{@code O_RDONLY}; {@code O_RDWR} with {@code WRITE}</td></tr>
   *     <tr><td>{@code WRITE}</td><td>{@code O_WRONLY}</td></tr>
   *     <tr><td>{@code APPEND} (implies {@code WRITE})</td><td>{@code O_WRONLY|O_APPEND}</td></tr>
   *     <tr><td>{@code CREATE}</td><td>{@code O_CREAT}</td></tr>
   *     <tr><td>{@code CREATE_NEW} (wins over {@code CREATE})</td>
   *         <td>{@code O_CREAT|O_EXCL}</td></tr>
   *     <tr><td>{@code TRUNCATE_EXISTING}</td><td>{@code O_TRUNC}</td></tr>
   *     <tr><td>{@link BrokerOpenOption#DIRECTORY}</td><td>{@code O_DIRECTORY}, read-only</td></tr>
   *     <tr><td>{@link java.nio.file.LinkOption#NOFOLLOW_LINKS}</td>
   *         <td>none: no symbolic link is ever followed</td></tr>
   *   </tbody>
   * </table>
   *
   * <p>Unlike {@code FileChannel.open}, {@code CREATE}, {@code CREATE_NEW} and {@code
   * TRUNCATE_EXISTING} without {@code WRITE} or {@code APPEND} are refused rather than ignored, and
   * so is a permissions attribute without {@code CREATE} or {@code CREATE_NEW}. The daemon grants
   * each part on its own: the policy must allow {@code write}, {@code create}, {@code truncate} or
   * {@code append} as asked. A created file gets the permissions of the {@code posix:permissions}
   * attribute ({@link java.nio.file.attribute.PosixFilePermissions#asFileAttribute}), or {@link
   * #DEFAULT_CREATE_MODE} without one, masked by the rule's {@code create_mode}.
   *
   * <pre>{@code
   * broker.open(path, Set.of(StandardOpenOption.WRITE, StandardOpenOption.CREATE_NEW),
   *     PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-r-----")));
   * }</pre>
   *
   * @param path an absolute, canonical path: no {@code .} or {@code ..} component; symbolic links
   *     are never followed
   * @param options how to open the file
   * @param attributes at most the {@code posix:permissions} of a file to create (if several, the
   *     last)
   * @return the opened file, which the caller must close
   * @throws AccessDeniedException if no policy rule grants the request (code {@code DENIED})
   * @throws NoSuchFileException if the file or a directory on its path does not exist
   * @throws FileAlreadyExistsException if {@code CREATE_NEW} was given and the file exists
   * @throws NotDirectoryException if a component of the path is not a directory
   * @throws BrokerRequestException for every other refusal, including a path that is not absolute
   *     and canonical (code {@code INVALID_PATH}, raised here before sending, as the daemon would)
   * @throws UnsupportedOperationException for an option ({@code DELETE_ON_CLOSE}, {@code SPARSE},
   *     {@code SYNC}, {@code DSYNC}, options of other providers) or an attribute other than {@code
   *     posix:permissions}; the message names it
   * @throws IllegalArgumentException for options that cannot be combined; the message names them
   * @throws BrokerProtocolException if the daemon broke the protocol; the connection is closed
   * @throws BrokerConnectionClosedException if the connection is closed or was lost
   * @throws InterruptedIOException if the thread was interrupted while waiting; a descriptor that
   *     arrives later is closed
   */
  public BrokeredFile open(
      Path path, Set<? extends OpenOption> options, FileAttribute<?>... attributes)
      throws IOException {
    Objects.requireNonNull(path, "path == null");
    OpenOptions read = OpenOptions.of(options, attributes);
    return open(path, read.flags(), read.createMode());
  }

  /**
   * Asks the daemon to open a file for reading, as {@code open(path, StandardOpenOption.READ)}.
   *
   * @param path an absolute, canonical path
   * @return the opened file, which the caller must close
   * @throws IOException as {@link #open(Path, Set, FileAttribute...)} does
   */
  public BrokeredFile open(Path path) throws IOException {
    return open(path, Set.<OpenOption>of());
  }

  /**
   * Asks the daemon to open a file, as {@link #open(Path, Set, FileAttribute...)} does with these
   * options and no attribute; a created file gets {@link #DEFAULT_CREATE_MODE}.
   *
   * @param path an absolute, canonical path
   * @param options how to open the file; none opens it for reading
   * @return the opened file, which the caller must close
   * @throws IOException as {@link #open(Path, Set, FileAttribute...)} does
   */
  public BrokeredFile open(Path path, OpenOption... options) throws IOException {
    Objects.requireNonNull(path, "path == null");
    OpenOptions read = OpenOptions.of(Set.of(options));
    return open(path, read.flags(), read.createMode());
  }

  /**
   * Asks the daemon to open a file, and waits for its answer. See {@link Access} for how the
   * accesses map to open flags. A file created with {@link Access#CREATE} gets {@link
   * #DEFAULT_CREATE_MODE}, less the daemon's umask.
   *
   * @param path an absolute, canonical path, as for {@link #open(Path, Set, FileAttribute...)}
   * @param access what the caller wants to do with the file; at least one
   * @return the opened file, which the caller must close
   * @throws IOException as {@link #open(Path, Set, FileAttribute...)} does
   * @throws IllegalArgumentException if the accesses form a combination the daemon refuses
   * @deprecated The accesses mix access modes with open options, the C way. Use {@link #open(Path,
   *     Set, FileAttribute...)} with {@link java.nio.file.StandardOpenOption}s: {@code READ},
   *     {@code WRITE}, {@code APPEND} as here, {@code CREATE} for {@code CREATE}, {@code
   *     CREATE_NEW} for {@code CREATE} with {@code EXCLUSIVE}, {@code TRUNCATE_EXISTING} for {@code
   *     TRUNCATE}, {@code READ} and {@code WRITE} for {@code READ_WRITE}, {@link
   *     BrokerOpenOption#DIRECTORY} for {@code DIRECTORY}.
   */
  @Deprecated
  public BrokeredFile open(Path path, Access... access) throws IOException {
    Set<Access> set = EnumSet.noneOf(Access.class);
    set.addAll(List.of(access));
    return open(path, set, set.contains(Access.CREATE) ? DEFAULT_CREATE_MODE : 0);
  }

  /**
   * Asks the daemon to open a file with an explicit create mode, and waits for its answer.
   *
   * @param path an absolute, canonical path, as for {@link #open(Path, Set, FileAttribute...)}
   * @param access what the caller wants to do with the file; at least one
   * @param createMode the permission bits for a file created by {@link Access#CREATE} (at most
   *     {@code 0777}, less the daemon's umask); must be 0 without {@code CREATE}
   * @return the opened file, which the caller must close
   * @throws IOException as {@link #open(Path, Set, FileAttribute...)} does
   * @deprecated Use {@link #open(Path, Set, FileAttribute...)}, the create mode given as {@code
   *     PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-r-----"))}; see
   *     {@link #open(Path, Access...)} for the options that replace each access.
   */
  @Deprecated
  public BrokeredFile open(Path path, Set<Access> access, int createMode) throws IOException {
    Objects.requireNonNull(access, "access == null");
    int flags = Access.toFlags(access.isEmpty() ? Set.of() : EnumSet.copyOf(access));
    if (createMode != 0 && !access.contains(Access.CREATE)) {
      throw new IllegalArgumentException(
          "create mode 0" + Integer.toOctalString(createMode) + " given without Access.CREATE");
    }
    Optional<String> flagProblem = RequestValidator.flagProblem(flags, createMode);
    if (flagProblem.isPresent()) {
      throw new IllegalArgumentException(flagProblem.get());
    }
    return open(path, flags, createMode);
  }

  private BrokeredFile open(Path path, int flags, int createMode) throws IOException {
    Objects.requireNonNull(path, "path == null");
    String text = checkedPath(path);
    Optional<String> pathProblem = RequestValidator.pathProblem(text);
    if (pathProblem.isPresent()) {
      throw new BrokerRequestException(
          text, ErrorReply.of(0, ErrorCode.INVALID_PATH, 0, pathProblem.get()));
    }
    PendingOpen open =
        new PendingOpen(
            new OpenRequest(pending.nextId(), flags, createMode, text),
            text,
            flags,
            new CompletableFuture<>(),
            new Sending());
    pending.register(open);
    connection.send(open.request(), open.sending());
    return Waiting.await(open);
  }

  private static String checkedPath(Path path) {
    if (path.getFileSystem() != FileSystems.getDefault()) {
      throw new IllegalArgumentException("path must belong to the default file system: " + path);
    }
    return path.toString();
  }

  /**
   * Asks the daemon to open several files in one round trip (one OPEN_MANY request), all with the
   * same options, and waits for its answer. Each path is decided, opened and audited on its own:
   * the result for each path is the opened file or the exception {@link #open(Path, Set,
   * FileAttribute...)} would have thrown for it, so one denied or missing path does not fail the
   * others. Paths that are not absolute and canonical fail here without being sent.
   *
   * @param paths 1 to {@link Protocol#MAX_PATHS_PER_REQUEST} (64) paths; the same path may appear
   *     more than once
   * @param options how to open every file, as for {@link #open(Path, Set, FileAttribute...)}
   * @param attributes at most the {@code posix:permissions} of files to create
   * @return one result per path, in the order of {@code paths}; the caller closes every opened file
   * @throws IllegalArgumentException if there are no paths or more than 64, or for options that
   *     cannot be combined
   * @throws UnsupportedOperationException for an option or attribute filebroker does not support
   * @throws BrokerProtocolException if the daemon broke the protocol; the connection is closed
   * @throws BrokerConnectionClosedException if the connection is closed or was lost
   * @throws InterruptedIOException if the thread was interrupted while waiting; descriptors that
   *     arrive later are closed
   */
  public List<OpenResult> openAll(
      List<Path> paths, Set<? extends OpenOption> options, FileAttribute<?>... attributes)
      throws IOException {
    Objects.requireNonNull(paths, "paths == null");
    OpenOptions read = OpenOptions.of(options, attributes);
    return openAll(paths, read.flags(), read.createMode());
  }

  /**
   * Asks the daemon to open several files in one round trip, as {@link #openAll(List, Set,
   * FileAttribute...)} does.
   *
   * @param paths 1 to 64 paths
   * @param access what the caller wants to do with every file; at least one
   * @return one result per path, in the order of {@code paths}; the caller closes every opened file
   * @throws IOException as {@link #openAll(List, Set, FileAttribute...)} does
   * @deprecated Use {@link #openAll(List, Set, FileAttribute...)}; see {@link #open(Path,
   *     Access...)} for the options that replace each access.
   */
  @Deprecated
  public List<OpenResult> openAll(List<Path> paths, Access... access) throws IOException {
    Objects.requireNonNull(paths, "paths == null");
    Set<Access> set = EnumSet.noneOf(Access.class);
    set.addAll(List.of(access));
    return openAll(
        paths, Access.toFlags(set), set.contains(Access.CREATE) ? DEFAULT_CREATE_MODE : 0);
  }

  private List<OpenResult> openAll(List<Path> paths, int flags, int createMode) throws IOException {
    if (paths.isEmpty() || paths.size() > Protocol.MAX_PATHS_PER_REQUEST) {
      throw new IllegalArgumentException(
          "paths must number 1 to " + Protocol.MAX_PATHS_PER_REQUEST + ": " + paths.size());
    }
    List<Path> copy = List.copyOf(paths);
    OpenResult[] results = new OpenResult[copy.size()];
    List<OpenManyRequest.Entry> entries = new ArrayList<>(copy.size());
    int[] sent = new int[copy.size()];
    for (int i = 0; i < copy.size(); i++) {
      Path path = copy.get(i);
      String text = checkedPath(path);
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
            new OpenManyRequest(pending.nextId(), entries),
            copy,
            Arrays.copyOf(sent, entries.size()),
            results,
            flags,
            new CompletableFuture<>(),
            new Sending());
    pending.register(many);
    connection.send(many.request(), many.sending());
    return Waiting.await(many);
  }

  /** Whether the connection can still carry requests. */
  public boolean isOpen() {
    return !pending.hasFailed();
  }

  /**
   * Closes the connection. Requests still waiting fail with {@link
   * BrokerConnectionClosedException}. Files already opened stay open. Further calls do nothing.
   */
  @Override
  public void close() throws IOException {
    connection.close();
  }

  @Override
  public String toString() {
    return "FileBroker[" + socket() + (isOpen() ? "" : ", closed") + "]";
  }
}
