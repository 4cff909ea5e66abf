package dev.filebroker.daemon.varlink;

import dev.filebroker.daemon.policy.Caller;
import dev.filebroker.daemon.server.Gateway;
import dev.filebroker.daemon.server.ListeningSocket;
import java.io.IOException;
import java.nio.channels.ClosedChannelException;
import java.time.Duration;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import org.newsclub.net.unix.AFUNIXSocketChannel;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Serves {@code io.filebroker.Broker} on its own socket. Each connection is admitted against the
 * same daemon-wide and per-uid connection limits as the main socket's (a connection over them is
 * closed unanswered), gets the caller's identity read once, and is served on a thread of its own
 * until it closes, goes idle, or breaks the framing; requests go through the main socket's {@link
 * Gateway}. The binary protocol stays the fast path: this one trades its event loops for a thread
 * per connection, so it is capped on its own as well: {@value #MAX_CONNECTIONS} connections,
 * {@value #MAX_CONNECTIONS_PER_UID} per uid.
 */
public final class VarlinkServer implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(VarlinkServer.class);

  private final ListeningSocket listener;
  private final Gateway gateway;
  private final BrokerService service;
  private final long idleNanos;
  private final long messageNanos;
  private final Map<Long, Integer> perUid = new ConcurrentHashMap<>();
  private final Map<Long, VarlinkConnection> open = new ConcurrentHashMap<>();
  private final AtomicLong ids = new AtomicLong();
  private volatile boolean running;
  private Thread acceptor;

  /** A server on {@code listener}, answering through {@code gateway}. */
  public VarlinkServer(
      ListeningSocket listener,
      Gateway gateway,
      Duration idleTimeout,
      Duration messageTimeout,
      String version) {
    this.listener = listener;
    this.gateway = gateway;
    this.service = new BrokerService(gateway, version);
    this.idleNanos = idleTimeout.toNanos();
    this.messageNanos = messageTimeout.toNanos();
  }

  /** Connections served at once, on top of the daemon-wide limits (each holds a thread). */
  static final int MAX_CONNECTIONS = 64;

  /** Connections one uid may hold at once, on top of {@code max_connections_per_uid}. */
  static final int MAX_CONNECTIONS_PER_UID = 8;

  /** Starts accepting. */
  public synchronized void start() throws IOException {
    listener.channel().configureBlocking(true);
    running = true;
    acceptor =
        Thread.ofPlatform().name("filebroker-varlink-accept").daemon(true).start(this::acceptLoop);
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
        log.warn("Could not accept a Varlink connection: {}", e.toString());
        try {
          Thread.sleep(100);
        } catch (InterruptedException ie) {
          return;
        }
        continue;
      }
      if (channel != null) {
        admit(channel);
      }
    }
  }

  private void admit(AFUNIXSocketChannel channel) {
    Optional<Caller> caller = gateway.identify(channel);
    long uid = gateway.uidOf(caller);
    Optional<String> refused = reserve(uid);
    if (refused.isEmpty()) {
      refused = gateway.connect(uid);
      if (refused.isPresent()) {
        release(uid);
      }
    }
    if (refused.isPresent()) {
      log.debug("Refusing a Varlink connection: {}", refused.get());
      try {
        channel.close();
      } catch (IOException e) {
        log.debug("Could not close a refused Varlink connection: {}", e.toString());
      }
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
    open.put(id, c);
    try {
      Thread.ofPlatform().name("filebroker-varlink-" + id).daemon(true).start(c);
    } catch (RuntimeException | OutOfMemoryError e) {
      open.remove(id);
      gateway.disconnect(uid);
      release(uid);
      try {
        channel.close();
      } catch (IOException ce) {
        log.debug("Could not close a Varlink connection: {}", ce.toString());
      }
      log.warn("Could not start a thread for a Varlink connection: {}", e.toString());
    }
  }

  /** Counts a connection against this socket's own caps; empty when admitted, else why not. */
  private synchronized Optional<String> reserve(long uid) {
    int total = perUid.values().stream().mapToInt(Integer::intValue).sum();
    if (total >= MAX_CONNECTIONS) {
      return Optional.of("the Varlink socket has " + MAX_CONNECTIONS + " connections open");
    }
    if (perUid.getOrDefault(uid, 0) >= MAX_CONNECTIONS_PER_UID) {
      return Optional.of(
          "uid " + uid + " has " + MAX_CONNECTIONS_PER_UID + " Varlink connections open");
    }
    perUid.merge(uid, 1, Integer::sum);
    return Optional.empty();
  }

  private synchronized void release(long uid) {
    perUid.computeIfPresent(uid, (k, v) -> v == 1 ? null : v - 1);
  }

  /** Stops accepting and ends every connection (a reply being written is abandoned). */
  @Override
  public synchronized void close() {
    if (!running) {
      return;
    }
    running = false;
    try {
      listener.close();
    } catch (IOException e) {
      log.warn("Could not close the Varlink socket: {}", e.toString());
    }
    if (acceptor != null) {
      acceptor.interrupt();
    }
    for (VarlinkConnection c : open.values()) {
      c.stop();
    }
  }
}
