package dev.filebroker.daemon.server;

import dev.filebroker.daemon.fs.Descriptors;
import dev.filebroker.daemon.fs.Poller;
import dev.filebroker.daemon.fs.SocketMessages;
import dev.filebroker.protocol.Protocol;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Queue;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One thread, one epoll set, many sessions. Requests are answered on this thread: opening a file
 * never blocks (O_PATH first, then O_NONBLOCK) and a hand-off to another thread would cost more
 * than the work itself. See docs/decisions/0003-threading.md.
 */
final class EventLoop implements Runnable {
  private static final Logger log = LoggerFactory.getLogger(EventLoop.class);

  private static final long SWEEP_INTERVAL_NANOS = Duration.ofMillis(500).toNanos();
  private static final int MAX_EVENTS = 256;

  private final Poller poller;
  private final Queue<Session> incoming = new ConcurrentLinkedQueue<>();
  private final Map<Long, Session> sessions = new HashMap<>();
  private final ByteBuffer in = ByteBuffer.allocateDirect(2 * Protocol.MAX_FRAME_SIZE);
  private final ByteBuffer out = ByteBuffer.allocateDirect(4 * Protocol.MAX_FRAME_SIZE);
  private final SocketMessages io;
  private final long[] tokens = new long[MAX_EVENTS];
  private final int[] ready = new int[MAX_EVENTS];
  private final long partialFrameTimeoutNanos;
  private final long idleTimeoutNanos;
  private final CountDownLatch stopped = new CountDownLatch(1);
  private volatile boolean running = true;
  private volatile long drainDeadline;
  private long lastSweep = System.nanoTime();

  EventLoop(Duration partialFrameTimeout, Duration idleTimeout, Closer closer) throws IOException {
    // A descriptor a client attached may be the last reference to a file whose release blocks.
    this.io = new SocketMessages(4 * Protocol.MAX_FRAME_SIZE, closer::close);
    this.poller = Poller.open(MAX_EVENTS);
    this.partialFrameTimeoutNanos = partialFrameTimeout.toNanos();
    this.idleTimeoutNanos = idleTimeout.toNanos();
  }

  /** Hands a new session to this loop; safe from any thread. */
  void add(Session session) {
    incoming.add(session);
    poller.wakeup();
  }

  /**
   * Asks the loop to stop: it answers the requests its clients already sent, for at most {@code
   * drainTimeout}, then closes every session. Returns at once.
   */
  void stop(Duration drainTimeout) {
    this.drainDeadline = System.nanoTime() + drainTimeout.toNanos();
    running = false;
    poller.wakeup();
  }

  /**
   * Answers what was already sent on every connection, then lets them close, until the deadline.
   */
  private void drain() throws IOException {
    registerIncoming();
    for (Session s : sessions.values()) {
      s.drain(in, out);
    }
    while (System.nanoTime() < drainDeadline
        && sessions.values().stream().anyMatch(s -> !s.isClosed())) {
      int n = poller.poll(tokens, ready, 50);
      for (Session s : newlyRegistered()) {
        s.drain(in, out);
      }
      dispatch(n, true);
    }
  }

  /** Waits until the loop has stopped. */
  boolean awaitStopped(Duration timeout) throws InterruptedException {
    return stopped.await(timeout.toMillis(), TimeUnit.MILLISECONDS);
  }

  @Override
  public void run() {
    try {
      while (running) {
        int n = poller.poll(tokens, ready, 500);
        registerIncoming();
        dispatch(n, false);
        sweep();
      }
      drain();
    } catch (IOException | RuntimeException e) {
      log.error("Could not keep the event loop running", e);
    } finally {
      for (Session s : incoming) {
        s.close();
      }
      incoming.clear();
      for (Session s : sessions.values().toArray(Session[]::new)) {
        s.close();
      }
      sessions.clear();
      poller.close();
      stopped.countDown();
    }
  }

  /** Serves the {@code n} ready sessions of the last poll; while draining, reads to the end. */
  private void dispatch(int n, boolean draining) {
    for (int i = 0; i < n; i++) {
      Session session = sessions.get(tokens[i]);
      if (session == null || session.isClosed()) {
        continue;
      }
      try {
        if ((ready[i] & Poller.WRITE) != 0) {
          session.onWritable(in, out);
        } else if (draining) {
          session.drain(in, out);
        } else {
          session.onReadable(in, out);
        }
      } catch (RuntimeException e) {
        log.error("Could not serve a connection; closing it", e);
        session.close();
      }
    }
  }

  private void registerIncoming() {
    Session s;
    while ((s = incoming.poll()) != null) {
      register(s);
    }
  }

  private boolean register(Session s) {
    try {
      s.channel().configureBlocking(false);
      int fd = Descriptors.fdOf(s.channel().getFileDescriptor());
      if (fd < 0) {
        throw new IOException("connection has no descriptor");
      }
      PollerRegistration r = new PollerRegistration(fd, s);
      poller.add(fd, s.id(), Poller.READ);
      s.attach(r, io, fd);
      sessions.put(s.id(), s);
      return true;
    } catch (IOException e) {
      log.warn("Could not register a connection: {}", e.toString());
      s.close();
      return false;
    }
  }

  /** Registers sessions handed over while stopping, and returns them. */
  private List<Session> newlyRegistered() {
    List<Session> added = new ArrayList<>();
    Session s;
    while ((s = incoming.poll()) != null) {
      if (register(s)) {
        added.add(s);
      }
    }
    return added;
  }

  /** Drops closed sessions and times out those stalled mid-frame or idle for too long. */
  private void sweep() {
    long now = System.nanoTime();
    if (now - lastSweep < SWEEP_INTERVAL_NANOS) {
      return;
    }
    lastSweep = now;
    Iterator<Session> it = sessions.values().iterator();
    while (it.hasNext()) {
      Session s = it.next();
      if (!s.isClosed()) {
        if (s.outputAge(now) > partialFrameTimeoutNanos) {
          s.timeOut(out, "the client did not read its replies for too long");
        } else if (s.frameAge(now) > partialFrameTimeoutNanos) {
          s.timeOut(out, "a frame took too long to arrive");
        } else if (now - s.lastActivityNanos() > idleTimeoutNanos) {
          s.timeOut(out, "connection idle for too long");
        }
      }
      if (s.isClosed()) {
        it.remove();
      }
    }
  }

  /** A session's registration in this loop's epoll set. */
  private final class PollerRegistration implements Registration {
    private final int fd;
    private final Session session;
    private boolean cancelled;

    PollerRegistration(int fd, Session session) {
      this.fd = fd;
      this.session = session;
    }

    @Override
    public void wantRead() {
      change(Poller.READ);
    }

    @Override
    public void wantWrite() {
      change(Poller.WRITE);
    }

    private void change(int interest) {
      if (cancelled) {
        return;
      }
      try {
        poller.modify(fd, session.id(), interest);
      } catch (IOException e) {
        log.warn("Could not change what connection {} waits for: {}", session.id(), e.toString());
        session.close();
      }
    }

    @Override
    public void cancel() {
      if (!cancelled) {
        cancelled = true;
        // Before the channel closes, so a reused descriptor number never inherits this entry.
        poller.remove(fd);
      }
    }
  }
}
