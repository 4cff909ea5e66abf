package dev.filebroker.daemon.server;

import dev.filebroker.daemon.fs.Descriptors;
import dev.filebroker.daemon.fs.Poller;
import java.io.IOException;
import java.time.Duration;
import java.util.HashMap;
import java.util.Iterator;
import java.util.Map;
import java.util.Queue;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Watches connections no serving thread holds, in one epoll set: new connections until their first
 * request, connections idle past their park delay, and connections waiting for a client to read.
 * When one is ready it goes to the serving threads; it answers nothing itself. It also times out
 * the connections it holds (a frame too slow to arrive, replies unread, idleness). Ten thousand
 * idle connections cost an epoll entry each and no thread. See docs/decisions/0011-threading.md.
 */
final class Parker implements Runnable {
  private static final Logger log = LoggerFactory.getLogger(Parker.class);

  private static final long SWEEP_INTERVAL_NANOS = Duration.ofMillis(500).toNanos();
  private static final int MAX_EVENTS = 256;

  private final Poller poller;
  private final ServingThreads<Session> serving;
  private final Closer closer;
  private final Queue<Session> incoming = new ConcurrentLinkedQueue<>();
  private final Map<Long, Session> parked = new HashMap<>();
  private final long[] tokens = new long[MAX_EVENTS];
  private final int[] ready = new int[MAX_EVENTS];
  private final long frameTimeoutNanos;
  private final long idleTimeoutNanos;
  private final CountDownLatch stopped = new CountDownLatch(1);
  private volatile boolean running = true;
  private volatile long drainDeadline;
  private volatile BooleanSupplier allClosed = () -> true;
  private long lastSweep = System.nanoTime();

  Parker(
      ServingThreads<Session> serving, Closer closer, Duration frameTimeout, Duration idleTimeout)
      throws IOException {
    this.poller = Poller.open(MAX_EVENTS);
    this.serving = serving;
    this.closer = closer;
    this.frameTimeoutNanos = frameTimeout.toNanos();
    this.idleTimeoutNanos = idleTimeout.toNanos();
  }

  /** Hands a session to this parker until its socket is ready; safe from any thread. */
  void park(Session session) {
    incoming.add(session);
    poller.wakeup();
  }

  /** Removes {@code fd} from the epoll set; safe from any thread. */
  void remove(int fd) {
    poller.remove(fd);
  }

  /**
   * Stops parking: every connection it holds goes to the serving threads to answer what its client
   * already sent; connections that still wait for their client to read are watched until {@code
   * allClosed} or the deadline, then closed. Returns at once.
   */
  void stop(Duration drainTimeout, BooleanSupplier allClosed) {
    this.allClosed = allClosed;
    this.drainDeadline = System.nanoTime() + drainTimeout.toNanos();
    running = false;
    poller.wakeup();
  }

  boolean awaitStopped(Duration timeout) throws InterruptedException {
    return stopped.await(timeout.toMillis(), TimeUnit.MILLISECONDS);
  }

  @Override
  public void run() {
    ServingThreads.Buffers buffers = ServingThreads.Buffers.allocate(closer);
    try {
      while (running) {
        int n = poller.poll(tokens, ready, 500);
        registerIncoming();
        dispatch(n);
        sweep(buffers);
      }
      // Stopping: every parked connection goes to a serving thread, which drains it.
      registerIncoming();
      dispatchAll();
      while (System.nanoTime() < drainDeadline && !allClosed.getAsBoolean()) {
        int n = poller.poll(tokens, ready, 50);
        registerIncoming();
        dispatch(n);
      }
    } catch (IOException | RuntimeException e) {
      log.error("Could not keep watching idle connections", e);
    } finally {
      Session s;
      while ((s = incoming.poll()) != null) {
        s.close();
      }
      for (Session p : parked.values()) {
        p.close();
      }
      parked.clear();
      poller.close();
      buffers.close();
      stopped.countDown();
    }
  }

  private void registerIncoming() {
    Session s;
    long now = System.nanoTime();
    while ((s = incoming.poll()) != null) {
      if (s.isClosed()) {
        continue;
      }
      try {
        ParkingSlot slot = s.slot();
        if (slot == null) {
          slot = attach(s);
        }
        int interest = (slot.wantsWrite() ? Poller.WRITE : Poller.READ) | Poller.ONCE;
        if (slot.inEpoll()) {
          poller.modify(slot.fd, s.id(), interest);
        } else {
          poller.add(slot.fd, s.id(), interest);
          slot.addedToEpoll();
        }
        slot.delay.parked(now);
        parked.put(s.id(), s);
      } catch (IOException e) {
        log.warn("Could not watch connection {}: {}", s.id(), e.toString());
        s.close();
      }
    }
  }

  /** A new connection's place: blocking mode (serving threads wait in recvmsg), its slot. */
  private ParkingSlot attach(Session s) throws IOException {
    s.channel().configureBlocking(true);
    int fd = Descriptors.fdOf(s.channel().getFileDescriptor());
    if (fd < 0) {
      throw new IOException("connection has no descriptor");
    }
    ParkingSlot slot = new ParkingSlot(fd, this);
    s.attach(slot, fd);
    return slot;
  }

  private void dispatch(int n) {
    long now = System.nanoTime();
    for (int i = 0; i < n; i++) {
      Session s = parked.remove(tokens[i]);
      if (s == null || s.isClosed()) {
        continue;
      }
      if (!s.slot().wantsWrite()) {
        s.slot().delay.woke(now);
      }
      serving.submit(s);
    }
  }

  private void dispatchAll() {
    for (Session s : parked.values()) {
      if (!s.isClosed()) {
        serving.submit(s);
      }
    }
    parked.clear();
  }

  /** Drops closed sessions and times out those too slow mid-frame, not reading, or idle. */
  private void sweep(ServingThreads.Buffers buffers) {
    long now = System.nanoTime();
    if (now - lastSweep < SWEEP_INTERVAL_NANOS) {
      return;
    }
    lastSweep = now;
    Iterator<Session> it = parked.values().iterator();
    while (it.hasNext()) {
      Session s = it.next();
      if (!s.isClosed()) {
        s.bind(buffers.io());
        if (s.outputAge(now) > frameTimeoutNanos) {
          s.timeOut(buffers.out(), "the client did not read its replies for too long");
        } else if (s.frameAge(now) > frameTimeoutNanos) {
          s.timeOut(buffers.out(), "a frame took too long to arrive");
        } else if (now - s.lastActivityNanos() > idleTimeoutNanos) {
          s.timeOut(buffers.out(), "connection idle for too long");
        }
      }
      if (s.isClosed()) {
        it.remove();
      }
    }
  }
}
