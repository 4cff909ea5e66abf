package dev.filebroker.daemon.server;

import dev.filebroker.daemon.control.ExplainQuery;
import dev.filebroker.daemon.control.Explanation;
import dev.filebroker.daemon.fs.OpenedFile;
import dev.filebroker.daemon.policy.AccessRequest;
import dev.filebroker.daemon.policy.Caller;
import dev.filebroker.protocol.Reply;
import dev.filebroker.protocol.Request;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import org.newsclub.net.unix.AFUNIXSocketChannel;

/**
 * The binary protocol's decision path for another front end on the same daemon (the Varlink
 * socket): the same peer identity, per-uid connection and request limits, request handler (policy,
 * opener, audit) and counters as the main socket's sessions, so that a request decided here is
 * decided, limited and recorded exactly as the same request sent as a frame.
 */
public final class Gateway {
  private final RequestHandler handler;
  private final UidLimits limits;
  private final Statistics statistics;
  private final PolicyHolder policies;
  private final int maxConnections;

  /** Held by {@link #connect} from its check to its count. */
  private final Object admitting = new Object();

  Gateway(
      RequestHandler handler,
      UidLimits limits,
      Statistics statistics,
      PolicyHolder policies,
      int maxConnections) {
    this.handler = Objects.requireNonNull(handler, "handler == null");
    this.limits = Objects.requireNonNull(limits, "limits == null");
    this.statistics = Objects.requireNonNull(statistics, "statistics == null");
    this.policies = Objects.requireNonNull(policies, "policies == null");
    this.maxConnections = maxConnections;
  }

  /**
   * A reply and the descriptors it carries; whoever holds it owns the files and closes them once,
   * after sending or instead of it.
   */
  public record Answer(Reply reply, List<OpenedFile> files) implements AutoCloseable {
    public Answer {
      Objects.requireNonNull(reply, "reply == null");
      files = List.copyOf(files);
    }

    @Override
    public void close() {
      for (OpenedFile f : files) {
        f.close();
      }
    }
  }

  /** The caller on {@code channel}, read once at accept; empty when any credential is unknown. */
  public Optional<Caller> identify(AFUNIXSocketChannel channel) {
    return PeerIdentity.read(channel);
  }

  /** The uid limits count {@code caller} against (unknown callers share one bucket). */
  public long uidOf(Optional<Caller> caller) {
    return Session.uidOf(caller);
  }

  /**
   * Why a connection would be refused now because the daemon has {@code max_connections} open
   * (counted as limited), or empty. Only {@link #connect} admits: this lets a front end refuse
   * before it reads the caller's credentials.
   */
  public Optional<String> full() {
    if (statistics.openConnections() >= maxConnections) {
      statistics.limited();
      return Optional.of("the daemon has " + maxConnections + " connections open");
    }
    return Optional.empty();
  }

  /**
   * Admits one connection of {@code uid} against the daemon's and the uid's connection limits;
   * empty when admitted (then {@link #disconnect} once when it closes), else why not.
   */
  public Optional<String> connect(long uid) {
    // The check and the count as one step, so that no two admits here both take the last place.
    synchronized (admitting) {
      Optional<String> full = full();
      if (full.isPresent()) {
        return full;
      }
      if (!limits.tryConnect(uid)) {
        statistics.limited();
        return Optional.of(
            "uid " + uid + " has " + limits.maxConnectionsPerUid() + " connections open");
      }
      statistics.connectionOpened();
      return Optional.empty();
    }
  }

  /** Counts a connection refused over a limit of the front end's own. */
  public void limited() {
    statistics.limited();
  }

  /** Ends a connection {@link #connect} admitted. */
  public void disconnect(long uid) {
    limits.disconnect(uid);
    statistics.connectionClosed();
  }

  /**
   * Answers {@code request} as the main socket would: validated, each path counted against the
   * uid's request rate, decided, opened and audited.
   */
  public Answer handle(Optional<Caller> caller, Request request) {
    long uid = Session.uidOf(caller);
    Response r = handler.handle(caller, request, () -> limits.tryRequest(uid));
    return new Answer(r.reply(), r.files());
  }

  /**
   * Decides {@code request} from {@code caller} against the policy in force without opening
   * anything; empty when the uid is over its request rate.
   */
  public Optional<Explanation> explain(Caller caller, AccessRequest request) {
    if (!limits.tryRequest(Integer.toUnsignedLong(caller.uid()))) {
      statistics.limited();
      return Optional.empty();
    }
    return Optional.of(Explanation.evaluate(policies.current(), new ExplainQuery(caller, request)));
  }
}
