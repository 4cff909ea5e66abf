package dev.filebroker.daemon.server;

import dev.filebroker.daemon.audit.AuditLog;
import dev.filebroker.daemon.fs.FileOpener;
import dev.filebroker.daemon.policy.Caller;
import dev.filebroker.protocol.ErrorCode;
import dev.filebroker.protocol.ErrorReply;
import dev.filebroker.protocol.FrameCodec;
import dev.filebroker.protocol.Protocol;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicLong;
import org.newsclub.net.unix.AFUNIXSocketChannel;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The daemon's connection machinery: one acceptor thread per listening socket reads each peer's
 * credentials and hands the connection to a parker (round robin), which watches it in epoll until
 * it sends; a bounded pool of serving threads then answers it, one connection per thread at a time,
 * until it goes idle again. See docs/decisions/0011-threading.md.
 */
public final class Server implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(Server.class);

  private final List<ListeningSocket> listeners;
  private final ServerSettings settings;
  private final Statistics statistics;
  private final RequestHandler handler;
  private final List<Parker> parkers = new ArrayList<>();
  private ServeLoop serveLoop;
  private ServingThreads<Session> serving;
  private final List<Acceptor> acceptors = new ArrayList<>();
  private EssentialThreads essential;
  private final AtomicLong nextSession = new AtomicLong();
  private final UidLimits limits;

  /** A uid's share of the CPUs: one serving thread per CPU processing its requests at once. */
  private final FairShare fairShare = FairShare.perCpu(FAIR_SHARE_MAX_WAIT);

  private final Gateway gateway;
  private final Closer closer = new Closer();
  private final RefusalLog refusals = new RefusalLog(REFUSAL_LOG_INTERVAL.toNanos());
  private volatile boolean running;

  /** How long a serving thread with nothing to do waits before it ends. */
  static final Duration SERVING_THREAD_KEEP_ALIVE = Duration.ofSeconds(10);

  /**
   * A turn of a uid ({@link FairShare}) held longer than this is taken to be stuck in the kernel,
   * and may be lent once to the uid's first waiting thread: what a uid whose turns are held by
   * opens blocked in the kernel pays per read.
   */
  static final Duration FAIR_SHARE_MAX_WAIT = Duration.ofMillis(10);

  /** At most one log line per this interval for connections refused over a limit. */
  static final Duration REFUSAL_LOG_INTERVAL = Duration.ofSeconds(10);

  /** A server answering from {@code policies}; call {@link #start(EssentialThreads)} to serve. */
  public Server(
      List<ListeningSocket> listeners,
      ServerSettings settings,
      PolicyHolder policies,
      FileOpener opener,
      AuditLog audit,
      Statistics statistics) {
    if (listeners.isEmpty()) {
      throw new IllegalArgumentException("listeners must not be empty");
    }
    this.listeners = List.copyOf(listeners);
    this.settings = Objects.requireNonNull(settings, "settings == null");
    this.statistics = Objects.requireNonNull(statistics, "statistics == null");
    this.handler = new RequestHandler(policies, opener, audit, statistics);
    this.limits =
        new UidLimits(
            settings.maxConnectionsPerUid(),
            settings.requestsPerSecondPerUid(),
            settings.requestBurstPerUid());
    this.gateway = new Gateway(handler, limits, statistics, policies, settings.maxConnections());
  }

  /** The same decision path, limits and counters, for the daemon's other front ends. */
  public Gateway gateway() {
    return gateway;
  }

  /**
   * Starts the parkers and the acceptors as {@code essential} threads, which report one that ends
   * before a stop (the server no longer accepts or watches connections); returns once they run.
   */
  public synchronized void start(EssentialThreads essential) throws IOException {
    if (running) {
      throw new IllegalStateException("already started");
    }
    running = true;
    this.essential = essential;
    serveLoop = new ServeLoop(settings.partialFrameTimeout());
    serving =
        new ServingThreads<>(
            settings.servingThreads(),
            SERVING_THREAD_KEEP_ALIVE,
            closer,
            Session::uid,
            serveLoop::serve,
            Session::close,
            HeapReturn.forThisJvm());
    serveLoop.use(serving);
    for (int i = 0; i < settings.eventLoops(); i++) {
      Parker parker =
          new Parker(serving, closer, settings.partialFrameTimeout(), settings.idleTimeout());
      parkers.add(parker);
      essential.start("filebroker-park-" + i, parker);
    }
    for (int i = 0; i < listeners.size(); i++) {
      ListeningSocket listener = listeners.get(i);
      Acceptor acceptor = new Acceptor(listener, c -> admit(c, listener.refusesDescriptors()));
      acceptors.add(acceptor);
      essential.start("filebroker-accept-" + i, acceptor);
    }
  }

  private void admit(AFUNIXSocketChannel channel, boolean descriptorsRefused) {
    // A daemon at its limit refuses before it reads credentials (three getsockopt calls and the
    // caller's /proc entries); the gateway's connect below is the check that admits.
    Optional<String> full = gateway.full();
    if (full.isPresent()) {
      refuse(channel, full.get());
      return;
    }
    Optional<Caller> caller = PeerIdentity.read(channel);
    long uid = Session.uidOf(caller);
    // The daemon's and the uid's limits, checked and counted in one step with every other
    // acceptor's and front end's admits, so that no two take the last place.
    Optional<String> refused = gateway.connect(uid);
    if (refused.isPresent()) {
      refuse(channel, refused.get());
      return;
    }
    long id = nextSession.incrementAndGet();
    Session session =
        new Session(
            id,
            channel,
            caller,
            handler,
            statistics,
            limits,
            fairShare.gate(uid),
            settings.maxRequestsInFlight(),
            closer,
            descriptorsRefused);
    parkers.get((int) (id % parkers.size())).park(session);
  }

  /** Answers a connection over a limit (counted by the gateway) with LIMIT_EXCEEDED; closes it. */
  private void refuse(AFUNIXSocketChannel channel, String why) {
    refusals.refused(why, System.nanoTime()).ifPresent(log::warn);
    ByteBuffer frame = ByteBuffer.allocate(Protocol.HEADER_SIZE + Protocol.ERROR_FIXED_SIZE + 256);
    FrameCodec.encode(ErrorReply.of(0, ErrorCode.LIMIT_EXCEEDED, 0, why), frame);
    frame.flip();
    try (channel) {
      // A fresh connection's send buffer is empty: this small write completes at once.
      channel.write(frame);
    } catch (IOException e) {
      log.debug("Could not answer a refused connection: {}", e.toString());
    }
  }

  /**
   * Stops accepting, lets the serving threads answer what was sent and close the connections, and
   * waits up to {@code timeout} for them. Requests already decoded are answered before their
   * connection closes.
   */
  public synchronized void stop(Duration timeout) {
    if (!running) {
      return;
    }
    running = false;
    essential.stopping();
    long deadline = System.nanoTime() + timeout.toNanos();
    // Accept what already waits in the backlog, then stop listening.
    for (Acceptor a : acceptors) {
      a.stop();
    }
    try {
      for (Acceptor a : acceptors) {
        a.awaitStopped(timeout.dividedBy(4));
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    for (ListeningSocket l : listeners) {
      try {
        l.close();
      } catch (IOException e) {
        log.warn("Could not close listening socket: {}", e.toString());
      }
    }
    serveLoop.drain();
    for (Parker parker : parkers) {
      parker.stop(
          Duration.ofNanos(Math.max(0, deadline - System.nanoTime())).multipliedBy(3).dividedBy(4),
          () -> statistics.openConnections() == 0);
    }
    for (Parker parker : parkers) {
      try {
        parker.awaitStopped(Duration.ofNanos(Math.max(0, deadline - System.nanoTime())));
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        return;
      }
    }
    serving.stop();
    closer.stop();
  }

  /** The counters this server maintains. */
  public Statistics statistics() {
    return statistics;
  }

  @Override
  public void close() {
    stop(Duration.ofSeconds(5));
  }
}
