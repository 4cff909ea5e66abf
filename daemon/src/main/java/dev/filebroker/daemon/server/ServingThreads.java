package dev.filebroker.daemon.server;

import dev.filebroker.daemon.fs.SocketMessages;
import dev.filebroker.protocol.Protocol;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.BiConsumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A bounded pool of platform threads that serve active connections, one connection per thread at a
 * time, so that a request blocking in the kernel (an open on a hung FUSE or NFS mount, a close that
 * runs a file's release) holds up its own connection only. A thread is started when work arrives
 * and none is idle, up to {@code max}; an idle thread ends after {@code keepAlive}, and frees its
 * native buffers as it ends rather than leaving them to the garbage collector.
 *
 * <p>Connections beyond the number of threads wait in a first-come, first-served queue; a thread
 * that serves a connection while others wait serves one read's worth and then puts it at the back
 * of the queue (see {@link #othersWaiting()}).
 */
final class ServingThreads {
  private static final Logger log = LoggerFactory.getLogger(ServingThreads.class);

  /** A serving thread's own buffers: what one read and one write of a connection need. */
  record Buffers(SocketMessages io, ByteBuffer in, ByteBuffer out) implements AutoCloseable {
    static Buffers allocate(Closer closer) {
      // Heap buffers: the JVM copies nothing for them and the GC frees them with the thread;
      // SocketMessages copies through its native buffer, which close() frees at once.
      int outSize = 4 * Protocol.MAX_FRAME_SIZE;
      return new Buffers(
          new SocketMessages(outSize, closer::close),
          ByteBuffer.allocate(Protocol.MAX_FRAME_SIZE + Session.READ_QUANTUM),
          ByteBuffer.allocate(outSize));
    }

    @Override
    public void close() {
      io.close();
    }
  }

  private final LinkedBlockingQueue<Session> queue = new LinkedBlockingQueue<>();
  private final AtomicInteger idle = new AtomicInteger();
  private final Object lock = new Object();
  private final int max;
  private final long keepAliveNanos;
  private final Closer closer;
  private final BiConsumer<Session, Buffers> serve;
  private final AtomicInteger names = new AtomicInteger();
  private int threads;
  private volatile boolean stopped;

  ServingThreads(int max, Duration keepAlive, Closer closer, BiConsumer<Session, Buffers> serve) {
    if (max < 1) {
      throw new IllegalArgumentException("max must be positive: " + max);
    }
    this.max = max;
    this.keepAliveNanos = keepAlive.toNanos();
    this.closer = closer;
    this.serve = serve;
  }

  /** Serves {@code session} on a thread of the pool, now or once one is free. */
  void submit(Session session) {
    queue.add(session);
    if (idle.get() == 0) {
      synchronized (lock) {
        if (threads < max && !stopped) {
          threads++;
          Thread.ofPlatform()
              .name("filebroker-serve-" + names.incrementAndGet())
              .daemon(true)
              .start(this::work);
        }
      }
    }
  }

  /** Whether connections wait for a thread: then no thread keeps one that has nothing to do. */
  boolean othersWaiting() {
    return !queue.isEmpty();
  }

  /** Threads running now. */
  int threads() {
    synchronized (lock) {
      return threads;
    }
  }

  /** Lets idle threads end; sessions still queued are closed. Returns at once. */
  void stop() {
    stopped = true;
    Session s;
    while ((s = queue.poll()) != null) {
      s.close();
    }
  }

  private void work() {
    try (Buffers buffers = Buffers.allocate(closer)) {
      while (true) {
        idle.incrementAndGet();
        Session s;
        try {
          s = queue.poll(stopped ? 0 : keepAliveNanos, TimeUnit.NANOSECONDS);
        } catch (InterruptedException e) {
          s = null;
        } finally {
          idle.decrementAndGet();
        }
        if (s == null) {
          synchronized (lock) {
            if (queue.isEmpty()) {
              threads--;
              return;
            }
          }
          continue;
        }
        try {
          serve.accept(s, buffers);
        } catch (RuntimeException e) {
          log.error("Could not serve a connection; closing it", e);
          s.close();
        }
      }
    }
  }
}
