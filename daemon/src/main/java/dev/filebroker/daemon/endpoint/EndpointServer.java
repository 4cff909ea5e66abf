package dev.filebroker.daemon.endpoint;

import dev.filebroker.daemon.audit.AuditEvent;
import dev.filebroker.daemon.audit.AuditLog;
import dev.filebroker.daemon.fs.Errno;
import dev.filebroker.daemon.fs.FileOpener;
import dev.filebroker.daemon.fs.OpenOutcome;
import dev.filebroker.daemon.fs.OpenSpec;
import dev.filebroker.daemon.fs.OpenedFile;
import dev.filebroker.daemon.policy.AccessRequest;
import dev.filebroker.daemon.policy.Caller;
import dev.filebroker.daemon.policy.Decision;
import dev.filebroker.daemon.policy.Rule;
import dev.filebroker.daemon.policy.SourceLocation;
import dev.filebroker.daemon.server.Acceptor;
import dev.filebroker.daemon.server.Closer;
import dev.filebroker.daemon.server.EssentialThreads;
import dev.filebroker.daemon.server.ListeningSocket;
import dev.filebroker.daemon.server.PeerIdentity;
import dev.filebroker.daemon.server.PolicyHolder;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import org.newsclub.net.unix.AFUNIXSocketChannel;
import org.newsclub.net.unix.AFUNIXSocketCredentials;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Serves one fixed endpoint. Its {@link Acceptor} thread only accepts, reads the peer's uid
 * (SO_PEERCRED, which does not block) and counts the connection against that uid's limits, then
 * hands it to the {@link EndpointWorkers}. A worker reads the rest of the caller's identity, checks
 * it against the endpoint's subjects and the policy's deny rules, opens the file afresh, records
 * the grant and only then sends the file attached to one byte (value 0), then closes the
 * connection. A caller that is refused, over a limit, whose file cannot be opened, or whose grant
 * the audit log cannot record (LIMIT_EXCEEDED, as on the main socket) gets no byte: only the end of
 * the stream.
 *
 * <p>Nothing here waits for the client: the daemon never reads from an endpoint connection and its
 * one-byte write is non-blocking. What can take long is the kernel's: an open on a hung file system
 * holds one worker; the closes of the connection (which releases whatever descriptor the client
 * attached, where the kernel lacks SO_PASSRIGHTS) and of the opened file run on the {@link Closer}.
 */
final class EndpointServer {
  private static final Logger log = LoggerFactory.getLogger(EndpointServer.class);
  private static final ByteBuffer ONE_BYTE = ByteBuffer.allocate(1).asReadOnlyBuffer();

  /** Why a granted file was not handed out after all (the main socket's words). */
  static final String UNRECORDED =
      "the audit log cannot record the grant now, so the file was not handed out; retry later";

  private final Endpoint endpoint;
  private final ListeningSocket listener;
  private final FileOpener opener;
  private final AuditLog audit;
  private final PolicyHolder policies;
  private final EndpointLimits limits;
  private final EndpointWorkers workers;
  private final Closer closer;
  private final OpenSpec spec;
  private final AccessRequest request;
  private Acceptor acceptor;
  private Thread thread;
  private EssentialThreads essential;

  /** How long {@link #stop} waits for the acceptor, twice at most. */
  private static final Duration STOP_WAIT = Duration.ofSeconds(1);

  EndpointServer(
      Endpoint endpoint,
      ListeningSocket listener,
      FileOpener opener,
      AuditLog audit,
      PolicyHolder policies,
      EndpointLimits limits,
      EndpointWorkers workers,
      Closer closer) {
    this.endpoint = endpoint;
    this.listener = listener;
    this.opener = opener;
    this.audit = audit;
    this.policies = policies;
    this.limits = limits;
    this.workers = workers;
    this.closer = closer;
    this.spec = new OpenSpec(endpoint.access().wireFlags(), 0, endpoint.types(), false);
    this.request = AccessRequest.fromOpenFlags(endpoint.path(), endpoint.access().wireFlags());
  }

  /** Starts accepting on one of the daemon's {@code essential} threads. */
  void start(EssentialThreads essential) throws IOException {
    this.essential = essential;
    acceptor = new Acceptor(listener, this::handOver);
    thread = essential.start("filebroker-endpoint-" + endpoint.name(), acceptor);
  }

  /**
   * Stops accepting once the connections waiting in the backlog are handed over (they are served
   * like any other), then removes the socket file. An acceptor that cannot hand over within the
   * wait, because every worker is stuck and the queue is full, is interrupted: what it still
   * accepts is closed unanswered.
   */
  void stop() throws IOException, InterruptedException {
    if (acceptor != null) {
      essential.stopping();
      acceptor.stop();
      if (!acceptor.awaitStopped(STOP_WAIT)) {
        thread.interrupt();
        acceptor.awaitStopped(STOP_WAIT);
      }
    }
    listener.close();
  }

  /**
   * Counts the connection against its uid's limits and queues it for a worker, which serves or
   * refuses it and closes it. Interrupted while the queue is full (the daemon is stopping), it
   * closes the connection instead.
   */
  private void handOver(AFUNIXSocketChannel channel) {
    long uid = peerUid(channel);
    EndpointLimits.Admission admission =
        uid < 0 ? EndpointLimits.Admission.ADMITTED : limits.admit(uid);
    Runnable task =
        switch (admission) {
          case ADMITTED -> () -> serveAndClose(channel, uid);
          case TOO_MANY_CONNECTIONS ->
              () ->
                  refuseAndClose(
                      channel,
                      "uid "
                          + uid
                          + " has as many endpoint connections open as max_connections_per_uid"
                          + " allows");
          case TOO_FAST ->
              () ->
                  refuseAndClose(
                      channel,
                      "uid " + uid + " connects faster than requests_per_second_per_uid allows");
        };
    try {
      workers.submit(task);
    } catch (InterruptedException e) {
      if (admission == EndpointLimits.Admission.ADMITTED && uid >= 0) {
        limits.release(uid);
      }
      closer.close(channel);
      Thread.currentThread().interrupt();
    }
  }

  /** The uid SO_PEERCRED reports, or -1 when it cannot be read (the worker then refuses). */
  private static long peerUid(AFUNIXSocketChannel channel) {
    try {
      AFUNIXSocketCredentials creds = channel.getPeerCredentials();
      return creds == null ? -1 : creds.getUid();
    } catch (IOException e) {
      return -1;
    }
  }

  private void serveAndClose(AFUNIXSocketChannel channel, long uid) {
    try {
      serve(channel);
    } catch (IOException | RuntimeException e) {
      log.warn("Could not serve endpoint {}: {}", endpoint.name(), e.toString());
    } finally {
      // The connection counts against its uid until its close, which may linger, is done.
      closer.close(
          () -> {
            try {
              channel.close();
            } finally {
              if (uid >= 0) {
                limits.release(uid);
              }
            }
          });
    }
  }

  private void refuseAndClose(AFUNIXSocketChannel channel, String reason) {
    try {
      audit(caller(channel), "deny", "LIMIT_EXCEEDED", reason);
    } catch (RuntimeException e) {
      log.warn("Could not refuse a connection on endpoint {}: {}", endpoint.name(), e.toString());
    } finally {
      closer.close(channel);
    }
  }

  private void serve(AFUNIXSocketChannel channel) throws IOException {
    Optional<Caller> caller = caller(channel);
    if (caller.isEmpty()) {
      audit(caller, "deny", "DENIED", "the caller's credentials could not be read from the kernel");
      return;
    }
    if (!endpoint.admits(caller.get())) {
      audit(caller, "deny", "DENIED", "the caller is not a subject of endpoint " + endpoint.name());
      return;
    }
    // The endpoint is the grant; the policy's deny rules still refuse it, as on the main socket.
    if (policies.current().policy().decide(caller.get(), request) instanceof Decision.Deny deny
        && deny.rule().isPresent()) {
      auditDenial(caller, deny.rule().get(), deny.reason());
      return;
    }
    switch (opener.open(endpoint.path(), spec)) {
      case OpenOutcome.Opened opened -> {
        OpenedFile file = opened.file();
        try {
          // Recorded first: a grant the audit log cannot take is not handed out.
          if (audit(caller, "allow", "ok", "")) {
            send(channel, file, caller);
          } else {
            audit(caller, "allow", "LIMIT_EXCEEDED", UNRECORDED);
          }
        } finally {
          closer.close(file);
        }
      }
      case OpenOutcome.Refused refused ->
          audit(caller, "allow", refused.refusal().code().name(), refused.refusal().reason());
      case OpenOutcome.WrongType wrong ->
          audit(
              caller,
              "allow",
              "WRONG_FILE_TYPE",
              "'" + endpoint.path() + "' is a " + wrong.actual().policyName());
      case OpenOutcome.Failed failed ->
          audit(
              caller,
              "allow",
              codeFor(failed.errno()),
              failed.operation() + " failed: " + Errno.name(failed.errno()));
    }
  }

  /**
   * One byte with the descriptor, for a grant already recorded; non-blocking, so a client that
   * never reads cannot stall us. When the byte does not go out, a second line says so.
   */
  private void send(AFUNIXSocketChannel channel, OpenedFile file, Optional<Caller> caller)
      throws IOException {
    channel.configureBlocking(false);
    int written;
    try {
      channel.setOutboundFileDescriptors(file.fileDescriptor());
      written = channel.write(ONE_BYTE.duplicate());
    } finally {
      channel.setOutboundFileDescriptors();
    }
    if (written != 1) {
      audit(
          caller,
          "allow",
          "IO_ERROR",
          "the client's receive buffer is full; the grant recorded before was not sent");
    }
  }

  private static String codeFor(int errno) {
    return switch (errno) {
      case Errno.ENOENT -> "NOT_FOUND";
      case Errno.ELOOP -> "SYMLINK_IN_PATH";
      case Errno.ENOTDIR -> "NOT_A_DIRECTORY";
      case Errno.EXDEV -> "CROSSES_MOUNT";
      case Errno.EISDIR -> "WRONG_FILE_TYPE";
      case Errno.EMFILE, Errno.ENFILE, Errno.ENOMEM -> "LIMIT_EXCEEDED";
      default -> "IO_ERROR";
    };
  }

  /** The peer as the kernel reported it at connect(); empty when anything cannot be read. */
  private static Optional<Caller> caller(AFUNIXSocketChannel channel) {
    return PeerIdentity.read(channel);
  }

  private void auditDenial(Optional<Caller> caller, Rule rule, String reason) {
    audit.record(event(caller, "deny", Optional.of(rule.id()), rule.source(), "DENIED", reason));
  }

  /** Records one decision; false when its line could not be taken (see AuditLog#record). */
  private boolean audit(Optional<Caller> caller, String decision, String result, String reason) {
    return audit.record(
        event(caller, decision, Optional.of(endpoint.name()), endpoint.source(), result, reason));
  }

  private AuditEvent event(
      Optional<Caller> caller,
      String decision,
      Optional<String> rule,
      SourceLocation source,
      String result,
      String reason) {
    return (new AuditEvent(
        Instant.now(),
        caller.map(Caller::pid).orElse(-1),
        caller.map(c -> Integer.toUnsignedLong(c.uid())).orElse(-1L),
        caller.map(c -> Integer.toUnsignedLong(c.gid())).orElse(-1L),
        caller.map(Caller::groups).orElse(List.of()),
        caller.flatMap(Caller::executable),
        caller.flatMap(Caller::unit),
        endpoint.path(),
        endpoint.access().configName(),
        decision,
        rule,
        Optional.of(source.fileAndLine()),
        result,
        reason));
  }
}
