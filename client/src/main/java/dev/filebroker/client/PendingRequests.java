package dev.filebroker.client;

import dev.filebroker.protocol.ErrorCode;
import dev.filebroker.protocol.ErrorReply;
import dev.filebroker.protocol.OpenManyRequest;
import dev.filebroker.protocol.OpenRequest;
import dev.filebroker.protocol.OpenedManyReply;
import dev.filebroker.protocol.OpenedReply;
import dev.filebroker.protocol.Reply;
import dev.filebroker.protocol.Request;
import java.io.FileDescriptor;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;

/**
 * The requests of one {@link FileBroker} that wait for their replies: their request ids, what each
 * reply needs to build its result, and where the result goes. The reply reader hands every reply
 * here; the connection asks here which requests a lost connection left unanswered.
 */
final class PendingRequests {
  /**
   * Where a request stands on the wire, changed under the connection's send lock only: the
   * connection generation it was last written to (0 while not yet written) and how often it was
   * written.
   */
  static final class Sending {
    long generation;
    int sends;
  }

  /** One OPEN waiting for its reply: what the reply needs to build a result. */
  record PendingOpen(
      OpenRequest request,
      String path,
      int flags,
      CompletableFuture<BrokeredFile> result,
      Sending sending) {}

  /**
   * One OPEN_MANY waiting for its reply: the request, the caller's paths, which of them were sent
   * (in order), the results of those refused before sending, and where the whole answer goes.
   */
  record PendingMany(
      OpenManyRequest request,
      List<Path> paths,
      int[] sent,
      OpenResult[] results,
      int flags,
      CompletableFuture<List<OpenResult>> result,
      Sending sending) {}

  /** A request to write again on a new connection, and its record of sends. */
  record Resend(Request request, Sending sending) {}

  private final ConcurrentHashMap<Integer, PendingOpen> opens = new ConcurrentHashMap<>();
  private final ConcurrentHashMap<Integer, PendingMany> manys = new ConcurrentHashMap<>();
  private final AtomicInteger lastRequestId = new AtomicInteger();
  private final AtomicReference<IOException> failure = new AtomicReference<>();

  /** A request id no request in flight uses (ids wrap around; 0 is never used). */
  int nextId() {
    int id;
    do {
      id = lastRequestId.incrementAndGet();
    } while (id == 0 || opens.containsKey(id) || manys.containsKey(id));
    return id;
  }

  /** Records an OPEN as waiting, unless the broker has failed. */
  void register(PendingOpen open) throws IOException {
    throwIfFailed();
    int id = open.request().requestId();
    if (opens.putIfAbsent(id, open) != null || manys.containsKey(id)) {
      throw new IllegalStateException("request id " + id + " is in use");
    }
    // failAll() may have swept the map before this entry was added: check again.
    IOException failed = failure.get();
    if (failed != null && opens.remove(id, open)) {
      throw CallerStack.rethrown(failed);
    }
  }

  /** Records an OPEN_MANY as waiting, unless the broker has failed. */
  void register(PendingMany many) throws IOException {
    throwIfFailed();
    int id = many.request().requestId();
    if (manys.putIfAbsent(id, many) != null || opens.containsKey(id)) {
      throw new IllegalStateException("request id " + id + " is in use");
    }
    IOException failed = failure.get();
    if (failed != null && manys.remove(id, many)) {
      throw CallerStack.rethrown(failed);
    }
  }

  /** Throws, on the caller's thread, why the broker failed, if it did. */
  void throwIfFailed() throws IOException {
    IOException failed = failure.get();
    if (failed != null) {
      throw CallerStack.rethrown(failed);
    }
  }

  /** Whether the broker has failed or was closed. */
  boolean hasFailed() {
    return failure.get() != null;
  }

  /** Fails every waiting request with the first cause ever given, which stays the failure. */
  void failAll(IOException cause) {
    failure.compareAndSet(null, cause);
    IOException failed = failure.get();
    for (Integer id : opens.keySet()) {
      PendingOpen open = opens.remove(id);
      if (open != null) {
        open.result().completeExceptionally(failed);
      }
    }
    for (Integer id : manys.keySet()) {
      PendingMany many = manys.remove(id);
      if (many != null) {
        many.result().completeExceptionally(failed);
      }
    }
  }

  /**
   * The requests last written on connection {@code lostGeneration}, which ended before their
   * replies arrived: those that may run again (see {@link Connection#isRetryable}) and were sent
   * fewer than {@code maxSends} times are returned to be sent again; the others fail here.
   */
  List<Resend> unanswered(
      long lostGeneration, int maxSends, BrokerConnectionClosedException cause) {
    List<Resend> resend = new ArrayList<>();
    for (var e : opens.entrySet()) {
      PendingOpen open = e.getValue();
      if (open.sending().generation != lostGeneration) {
        continue; // not written yet: its caller writes it on the new connection
      }
      if (Connection.isRetryable(open.flags()) && open.sending().sends < maxSends) {
        resend.add(new Resend(open.request(), open.sending()));
      } else if (opens.remove(e.getKey(), open)) {
        open.result()
            .completeExceptionally(
                maybeCarriedOut("OPEN " + open.path(), open.flags(), maxSends, cause));
      }
    }
    for (var e : manys.entrySet()) {
      PendingMany many = e.getValue();
      if (many.sending().generation != lostGeneration) {
        continue;
      }
      if (Connection.isRetryable(many.flags()) && many.sending().sends < maxSends) {
        resend.add(new Resend(many.request(), many.sending()));
      } else if (manys.remove(e.getKey(), many)) {
        many.result()
            .completeExceptionally(
                maybeCarriedOut(
                    "OPEN_MANY of " + many.paths().size() + " paths",
                    many.flags(),
                    maxSends,
                    cause));
      }
    }
    return resend;
  }

  private static BrokerConnectionClosedException maybeCarriedOut(
      String what, int flags, int maxSends, BrokerConnectionClosedException cause) {
    String why =
        Connection.isRetryable(flags)
            ? "it was already sent " + maxSends + " times"
            : "it creates or truncates, so it is not sent again";
    return new BrokerConnectionClosedException(
        "The connection to the filebroker daemon was lost before the reply to "
            + what
            + " arrived; the daemon may or may not have carried it out ("
            + why
            + ")",
        cause);
  }

  /**
   * Hands a decoded reply and the descriptors that travelled with it to the request it answers. The
   * reader calls this for every reply.
   */
  void deliver(Reply reply, List<FileDescriptor> descriptors) throws IOException {
    switch (reply) {
      case OpenedManyReply many -> deliverMany(many, descriptors);
      case OpenedReply opened -> {
        PendingOpen open = claim(reply);
        BrokeredFile file =
            new BrokeredFile(descriptors.get(0), open.path(), open.flags(), opened.fileMode());
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
        PendingMany many = manys.remove(error.requestId());
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
        PendingOpen open = claim(reply);
        open.result().completeExceptionally(ErrorReplies.toException(open.path(), error));
      }
    }
  }

  private void deliverMany(OpenedManyReply reply, List<FileDescriptor> descriptors)
      throws IOException {
    PendingMany many = manys.remove(reply.requestId());
    if (many == null) {
      throw unknownId(reply);
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

  private PendingOpen claim(Reply reply) throws BrokerProtocolException {
    return Optional.ofNullable(opens.remove(reply.requestId())).orElseThrow(() -> unknownId(reply));
  }

  private static BrokerProtocolException unknownId(Reply reply) {
    return new BrokerProtocolException(
        "The daemon answered request id "
            + Integer.toUnsignedString(reply.requestId())
            + ", which no request is waiting for");
  }

  /** Closes every file of these results, for results nobody will take. */
  static void closeOpened(List<OpenResult> results) {
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
}
