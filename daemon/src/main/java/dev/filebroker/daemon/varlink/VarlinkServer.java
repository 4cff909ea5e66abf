package dev.filebroker.daemon.varlink;

import dev.filebroker.daemon.policy.Caller;
import dev.filebroker.daemon.server.Acceptor;
import dev.filebroker.daemon.server.Closer;
import dev.filebroker.daemon.server.EssentialThreads;
import dev.filebroker.daemon.server.Gateway;
import dev.filebroker.daemon.server.ListeningSocket;
import dev.filebroker.daemon.server.RefusalLog;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import org.newsclub.net.unix.AFUNIXSocketChannel;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Serves {@code io.filebroker.Broker} on its own socket. The shared {@link Acceptor} hands each
 * connection here; it is admitted against the daemon's {@code [limits]} through the {@link Gateway}
 * (max_connections, counted together with the main socket's connections, and
 * max_connections_per_uid), and against the serving threads: each Varlink connection is served on a
 * thread of its own until it closes, goes idle, or breaks the framing, and there are at most as
 * many as the binary protocol's serving pool has threads, a quarter of them per uid, as in that
 * pool. Requests go through the gateway too, so each path counts against the uid's request rate. A
 * connection over any limit is answered with {@code io.filebroker.Broker.LimitExceeded} (the reply
 * to its first call) and closed.
 *
 * <p>A refused connection is closed on the closer thread (a client may have attached a descriptor
 * whose release blocks, where the kernel lacks SO_PASSRIGHTS), but at most {@link
 * #MAX_REFUSED_CLOSING} of them wait for that thread at once: with that many waiting, the accept
 * thread closes the next one itself, and accepts nothing meanwhile (the kernel's backlog then
 * refuses new connections), so refused connections never pile up to EMFILE for the daemon.
 *
 * <p>At stop, connections waiting in the backlog are accepted, and every connection's calls that
 * arrived before the stop are answered (within {@link VarlinkConnection#DRAIN}) before it closes.
 */
public final class VarlinkServer implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(VarlinkServer.class);

  /** How long {@link #close} waits for the acceptor to hand over the backlog, twice at most. */
  private static final Duration ACCEPTOR_STOP = Duration.ofSeconds(1);

  /** Refused connections waiting for the closer thread at most; the next is closed at once. */
  static final int MAX_REFUSED_CLOSING = 256;

  private final ListeningSocket listener;
  private final Gateway gateway;
  private final BrokerService service;
  private final long idleNanos;
  private final long messageNanos;
  private final int maxThreads;
  private final int maxThreadsPerUid;
  private final Closer closer = new Closer();

  /** At most one line per 10 s for refused connections, as for the main socket's. */
  private final RefusalLog refusals = new RefusalLog(Duration.ofSeconds(10).toNanos());

  /** Guards {@link #perUid} and {@link #served}; held for no wait. */
  private final Object counts = new Object();

  /** Connections served, by uid and in all; guarded by {@link #counts}. */
  private final Map<Long, Integer> perUid = new HashMap<>();

  private int served;

  /** Refused connections handed to the closer and not yet closed. */
  private final AtomicInteger refusedClosing = new AtomicInteger();

  private final Map<Long, Served> open = new ConcurrentHashMap<>();
  private final AtomicLong ids = new AtomicLong();
  private final AtomicBoolean closed = new AtomicBoolean();

  /** Set at the start of {@link #close}: a connection admitted after it is stopped at once. */
  private volatile boolean stopping;

  private Acceptor acceptor;
  private Thread acceptThread;
  private EssentialThreads essential;

  private record Served(VarlinkConnection connection, Thread thread) {}

  /**
   * A server on {@code listener}, answering through {@code gateway}, with at most {@code threads}
   * connections served at once (a quarter of them, at least one, per uid).
   */
  public VarlinkServer(
      ListeningSocket listener,
      Gateway gateway,
      Duration idleTimeout,
      Duration messageTimeout,
      int threads,
      String version) {
    if (threads < 1) {
      throw new IllegalArgumentException("threads must be positive: " + threads);
    }
    this.listener = listener;
    this.gateway = gateway;
    this.service = new BrokerService(gateway, version);
    this.idleNanos = idleTimeout.toNanos();
    this.messageNanos = messageTimeout.toNanos();
    this.maxThreads = threads;
    this.maxThreadsPerUid = Math.max(1, threads / 4);
  }

  /** Starts accepting on one of the daemon's {@code essential} threads. */
  public synchronized void start(EssentialThreads essential) throws IOException {
    if (acceptor != null) {
      throw new IllegalStateException("already started");
    }
    acceptor = new Acceptor(listener, this::admit);
    this.essential = essential;
    acceptThread = essential.start("filebroker-varlink-accept", acceptor);
  }

  private void admit(AFUNIXSocketChannel channel) {
    Optional<Caller> caller = gateway.identify(channel);
    long uid = gateway.uidOf(caller);
    // The thread share first: a connection refused for it is not counted as accepted.
    Optional<String> refused = reserve(uid);
    if (refused.isPresent()) {
      gateway.limited();
    } else {
      refused = gateway.connect(uid);
      if (refused.isPresent()) {
        release(uid);
      }
    }
    if (refused.isPresent()) {
      refuse(channel, refused.get());
      return;
    }
    long id = ids.incrementAndGet();
    VarlinkConnection c =
        new VarlinkConnection(
            id,
            channel,
            caller,
            service,
            idleNanos,
            messageNanos,
            () -> {
              open.remove(id);
              gateway.disconnect(uid);
              release(uid);
            });
    try {
      Thread t = Thread.ofPlatform().name("filebroker-varlink-" + id).daemon(true).unstarted(c);
      open.put(id, new Served(c, t));
      if (stopping) {
        // Admitted while close() runs (the backlog): it answers what it sent, then ends.
        c.stop();
      }
      t.start();
    } catch (RuntimeException | OutOfMemoryError e) {
      open.remove(id);
      gateway.disconnect(uid);
      release(uid);
      closer.close(channel);
      log.warn("Could not start a thread for a Varlink connection: {}", e.toString());
    }
  }

  /**
   * Answers a connection over a limit with LimitExceeded, the reply to the first call it sends (a
   * Varlink client reads replies in the order of its calls), and closes it on the closer thread.
   */
  private void refuse(AFUNIXSocketChannel channel, String why) {
    refusals.refused("Varlink: " + why, System.nanoTime()).ifPresent(log::warn);
    try {
      channel.configureBlocking(false);
      // A fresh connection's send buffer is empty: this small write completes at once.
      channel.write(ByteBuffer.wrap(service.limitExceeded(why + "; retry later").message()));
    } catch (IOException e) {
      log.debug("Could not answer a refused Varlink connection: {}", e.toString());
    }
    if (refusedClosing.incrementAndGet() > MAX_REFUSED_CLOSING) {
      // The closer is behind (a close lingers): close here, and accept nothing meanwhile.
      try {
        channel.close();
      } catch (IOException e) {
        log.debug("Could not close a refused Varlink connection: {}", e.toString());
      } finally {
        refusedClosing.decrementAndGet();
      }
      return;
    }
    closer.close(
        () -> {
          try {
            channel.close();
          } finally {
            refusedClosing.decrementAndGet();
          }
        });
  }

  /** Counts a connection against the serving threads; empty when admitted, else why not. */
  private Optional<String> reserve(long uid) {
    synchronized (counts) {
      return reserveLocked(uid);
    }
  }

  private Optional<String> reserveLocked(long uid) {
    if (served >= maxThreads) {
      return Optional.of("the Varlink socket is serving " + maxThreads + " connections");
    }
    if (perUid.getOrDefault(uid, 0) >= maxThreadsPerUid) {
      return Optional.of(
          "uid " + uid + " has " + maxThreadsPerUid + " Varlink connections being served");
    }
    perUid.merge(uid, 1, Integer::sum);
    served++;
    return Optional.empty();
  }

  private void release(long uid) {
    synchronized (counts) {
      perUid.computeIfPresent(uid, (k, v) -> v == 1 ? null : v - 1);
      served--;
    }
  }

  /**
   * Stops accepting once the backlog is handed over (an acceptor that cannot within its wait is
   * interrupted), answers what every connection sent before now, and closes them; waits for their
   * threads up to {@link VarlinkConnection#DRAIN}. Holds no lock while it waits.
   */
  @Override
  public void close() {
    if (acceptor == null || !closed.compareAndSet(false, true)) {
      return;
    }
    stopping = true;
    essential.stopping();
    for (Served s : open.values()) {
      s.connection().stop();
    }
    acceptor.stop();
    try {
      if (!acceptor.awaitStopped(ACCEPTOR_STOP)) {
        log.warn("The Varlink acceptor did not stop in time; interrupting it");
        acceptThread.interrupt();
        acceptor.awaitStopped(ACCEPTOR_STOP);
      }
      acceptThread.join(ACCEPTOR_STOP);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    try {
      listener.close();
    } catch (IOException e) {
      log.warn("Could not close the Varlink socket: {}", e.toString());
    }
    // Those admitted from the backlog were stopped as they came; stopping twice is harmless.
    for (Served s : open.values()) {
      s.connection().stop();
    }
    long deadline = System.nanoTime() + VarlinkConnection.DRAIN.toNanos() + 100_000_000L;
    try {
      for (Served s : open.values()) {
        long left = deadline - System.nanoTime();
        if (left > 0) {
          s.thread().join(Duration.ofNanos(left));
        }
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    int left = open.size();
    if (left > 0) {
      log.warn("{} Varlink connections did not close in time", left);
    }
    closer.stop();
  }
}
