package dev.filebroker.daemon.server;

import dev.filebroker.protocol.Protocol;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Queue;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CountDownLatch;
import org.newsclub.net.unix.AFUNIXSelectorProvider;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One thread, one selector, many sessions. Requests are answered on this thread: opening a file
 * never blocks (O_NONBLOCK) and a hand-off to another thread would cost more than the work
 * itself. See docs/decisions/0003-threading.md.
 */
final class EventLoop implements Runnable {
  private static final Logger log = LoggerFactory.getLogger(EventLoop.class);
  /** Control buffer per connection: room to receive (and then close) a few stray descriptors. */
  private static final int ANCILLARY_BUFFER_SIZE = 256;

  private static final long SWEEP_INTERVAL_NANOS = Duration.ofMillis(500).toNanos();

  private final Selector selector;
  private final Queue<Session> incoming = new ConcurrentLinkedQueue<>();
  private final List<Session> sessions = new ArrayList<>();
  private final ByteBuffer in = ByteBuffer.allocateDirect(2 * Protocol.MAX_FRAME_SIZE);
  private final ByteBuffer out = ByteBuffer.allocate(4 * Protocol.MAX_FRAME_SIZE);
  private final long partialFrameTimeoutNanos;
  private final long idleTimeoutNanos;
  private final CountDownLatch stopped = new CountDownLatch(1);
  private volatile boolean running = true;
  private long lastSweep = System.nanoTime();

  EventLoop(Duration partialFrameTimeout, Duration idleTimeout) throws IOException {
    this.selector = AFUNIXSelectorProvider.provider().openSelector();
    this.partialFrameTimeoutNanos = partialFrameTimeout.toNanos();
    this.idleTimeoutNanos = idleTimeout.toNanos();
  }

  /** Hands a new session to this loop; safe from any thread. */
  void add(Session session) {
    incoming.add(session);
    selector.wakeup();
  }

  /** Asks the loop to close every session and stop; returns at once. */
  void stop() {
    running = false;
    selector.wakeup();
  }

  /** Waits until the loop has stopped. */
  boolean awaitStopped(Duration timeout) throws InterruptedException {
    return stopped.await(timeout.toMillis(), java.util.concurrent.TimeUnit.MILLISECONDS);
  }

  @Override
  public void run() {
    try {
      while (running) {
        selector.select(500);
        registerIncoming();
        Iterator<SelectionKey> keys = selector.selectedKeys().iterator();
        while (keys.hasNext()) {
          SelectionKey key = keys.next();
          keys.remove();
          Session session = (Session) key.attachment();
          if (!key.isValid()) {
            // The peer hung up: junixsocket's selector reports the cancelled key with the
            // channel still open. Close it here, or it leaks.
            session.close();
            continue;
          }
          try {
            if (key.isReadable()) {
              session.onReadable(in, out);
            } else if (key.isWritable()) {
              session.onWritable(in, out);
            }
          } catch (RuntimeException e) {
            log.error("Could not serve a connection; closing it", e);
            session.close();
          }
        }
        sweep();
      }
    } catch (IOException | RuntimeException e) {
      log.error("Could not keep the event loop running", e);
    } finally {
      registerIncoming();
      for (Session s : sessions) {
        s.close();
      }
      sessions.clear();
      try {
        selector.close();
      } catch (IOException e) {
        log.debug("Could not close selector: {}", e.toString());
      }
      stopped.countDown();
    }
  }

  private void registerIncoming() {
    Session s;
    while ((s = incoming.poll()) != null) {
      if (!running) {
        s.close();
        continue;
      }
      try {
        s.channel().configureBlocking(false);
        // Without a control buffer the kernel silently discards descriptors a client attaches
        // (MSG_CTRUNC), and the protocol error UNEXPECTED_DESCRIPTOR could never be detected.
        s.channel().setAncillaryReceiveBufferSize(ANCILLARY_BUFFER_SIZE);
        SelectionKey key = s.channel().register(selector, SelectionKey.OP_READ, s);
        s.attach(key);
        sessions.add(s);
      } catch (IOException e) {
        log.warn("Could not register a connection: {}", e.toString());
        s.close();
      }
    }
  }

  /** Drops closed sessions and times out those stalled mid-frame or idle for too long. */
  private void sweep() {
    long now = System.nanoTime();
    if (now - lastSweep < SWEEP_INTERVAL_NANOS) {
      return;
    }
    lastSweep = now;
    Iterator<Session> it = sessions.iterator();
    while (it.hasNext()) {
      Session s = it.next();
      if (!s.isClosed()) {
        long silent = now - s.lastActivityNanos();
        if (s.hasPartialFrame() && silent > partialFrameTimeoutNanos) {
          s.timeOut(out, "connection stalled in the middle of a frame for too long");
        } else if (silent > idleTimeoutNanos) {
          s.timeOut(out, "connection idle for too long");
        }
      }
      if (s.isClosed()) {
        it.remove();
      }
    }
  }
}
