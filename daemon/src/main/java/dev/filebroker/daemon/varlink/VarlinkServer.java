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
 * Gateway}. The binary protocol stays the fast path: this one trades its event loops for simple
 * blocking turns, bounded by max_connections.
 */
public final class VarlinkServer implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(VarlinkServer.class);

  private final ListeningSocket listener;
  private final Gateway gateway;
  private final BrokerService service;
  private final long idleNanos;
  private final Map<Long, VarlinkConnection> open = new ConcurrentHashMap<>();
  private final AtomicLong ids = new AtomicLong();
  private volatile boolean running;
  private Thread acceptor;

  /** A server on {@code listener}, answering through {@code gateway}. */
  public VarlinkServer(
      ListeningSocket listener, Gateway gateway, Duration idleTimeout, String version) {
    this.listener = listener;
    this.gateway = gateway;
    this.service = new BrokerService(gateway, version);
    this.idleNanos = idleTimeout.toNanos();
  }

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
    Optional<String> refused = gateway.connect(uid);
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
            () -> {
              open.remove(id);
              gateway.disconnect(uid);
            });
    open.put(id, c);
    try {
      Thread.ofPlatform().name("filebroker-varlink-" + id).daemon(true).start(c);
    } catch (RuntimeException | OutOfMemoryError e) {
      open.remove(id);
      gateway.disconnect(uid);
      try {
        channel.close();
      } catch (IOException ce) {
        log.debug("Could not close a Varlink connection: {}", ce.toString());
      }
      log.warn("Could not start a thread for a Varlink connection: {}", e.toString());
    }
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
