package dev.filebroker.daemon.endpoint;

import dev.filebroker.daemon.audit.AuditEvent;
import dev.filebroker.daemon.audit.AuditLog;
import dev.filebroker.daemon.fs.Descriptors;
import dev.filebroker.daemon.fs.Errno;
import dev.filebroker.daemon.fs.FileOpener;
import dev.filebroker.daemon.fs.OpenOutcome;
import dev.filebroker.daemon.fs.OpenSpec;
import dev.filebroker.daemon.fs.OpenedFile;
import dev.filebroker.daemon.fs.PeerCredentials;
import dev.filebroker.daemon.fs.PeerProcess;
import dev.filebroker.daemon.policy.Caller;
import dev.filebroker.daemon.server.ListeningSocket;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.ClosedChannelException;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.OptionalInt;
import org.newsclub.net.unix.AFUNIXSocketChannel;
import org.newsclub.net.unix.AFUNIXSocketCredentials;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Serves one fixed endpoint: a blocking acceptor thread that, for each connection, reads the peer's
 * credentials, checks them against the endpoint's subjects, opens the file afresh and sends it
 * attached to one byte (value 0), then closes the connection. A caller that is not a subject, or
 * whose file cannot be opened, gets no byte: only the end of the stream.
 *
 * <p>Connections are answered one at a time on the acceptor thread: each takes an open and a
 * non-blocking one-byte write, so a client that never reads cannot hold the thread.
 */
final class EndpointServer {
  private static final Logger log = LoggerFactory.getLogger(EndpointServer.class);
  private static final ByteBuffer ONE_BYTE = ByteBuffer.allocate(1).asReadOnlyBuffer();

  private final Endpoint endpoint;
  private final ListeningSocket listener;
  private final FileOpener opener;
  private final AuditLog audit;
  private final OpenSpec spec;
  private volatile boolean running = true;
  private Thread thread;

  EndpointServer(Endpoint endpoint, ListeningSocket listener, FileOpener opener, AuditLog audit) {
    this.endpoint = endpoint;
    this.listener = listener;
    this.opener = opener;
    this.audit = audit;
    this.spec = new OpenSpec(endpoint.access().wireFlags(), 0, endpoint.types(), false);
  }

  void start() {
    thread =
        Thread.ofPlatform()
            .name("filebroker-endpoint-" + endpoint.name())
            .daemon(true)
            .start(this::acceptLoop);
  }

  /** Stops accepting, removes the socket file and waits for the acceptor thread. */
  void stop() throws IOException, InterruptedException {
    running = false;
    listener.close();
    if (thread != null) {
      thread.join(2000);
    }
  }

  private void acceptLoop() {
    while (running) {
      AFUNIXSocketChannel channel;
      try {
        channel = listener.channel().accept();
      } catch (ClosedChannelException e) {
        return;
      } catch (IOException e) {
        if (!running) {
          return;
        }
        log.warn("Could not accept a connection on endpoint {}: {}", endpoint.name(), e.toString());
        pause();
        continue;
      }
      if (channel == null) {
        continue;
      }
      try (channel) {
        serve(channel);
      } catch (IOException | RuntimeException e) {
        log.warn("Could not serve endpoint {}: {}", endpoint.name(), e.toString());
      }
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
    switch (opener.open(endpoint.path(), spec)) {
      case OpenOutcome.Opened opened -> {
        try (OpenedFile file = opened.file()) {
          send(channel, file, caller);
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

  /** One byte with the descriptor; non-blocking, so a client that never reads cannot stall us. */
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
    if (written == 1) {
      audit(caller, "allow", "ok", "");
    } else {
      audit(caller, "allow", "IO_ERROR", "the client's receive buffer is full");
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
    AFUNIXSocketCredentials creds;
    Optional<int[]> groups;
    try {
      creds = channel.getPeerCredentials();
      if (creds == null || creds.getPid() <= 0 || creds.getUid() < 0 || creds.getGid() < 0) {
        return Optional.empty();
      }
      groups = PeerCredentials.supplementaryGroups(channel.getFileDescriptor());
    } catch (IOException e) {
      return Optional.empty();
    }
    if (groups.isEmpty()) {
      return Optional.empty();
    }
    List<Integer> list = new ArrayList<>();
    for (int g : groups.get()) {
      list.add(g);
    }
    int pid = (int) creds.getPid();
    Optional<PeerProcess> process = Optional.empty();
    OptionalInt pidfd;
    try {
      pidfd = PeerCredentials.peerPidfd(channel.getFileDescriptor());
    } catch (IOException e) {
      pidfd = OptionalInt.empty();
    }
    if (pidfd.isPresent()) {
      try {
        process = PeerProcess.inspect(pid, pidfd.getAsInt());
      } finally {
        Descriptors.close(pidfd.getAsInt());
      }
    }
    return Optional.of(
        new Caller(
            pid,
            (int) creds.getUid(),
            (int) creds.getGid(),
            list,
            process.flatMap(PeerProcess::executable),
            process.flatMap(PeerProcess::unit)));
  }

  private void audit(Optional<Caller> caller, String decision, String result, String reason) {
    audit.record(
        new AuditEvent(
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
            Optional.of(endpoint.name()),
            Optional.of(endpoint.source().fileAndLine()),
            result,
            reason));
  }

  private static void pause() {
    try {
      Thread.sleep(50);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
