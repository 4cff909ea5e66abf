package dev.filebroker.daemon.server;

import dev.filebroker.daemon.fs.Descriptors;
import dev.filebroker.daemon.fs.Poller;
import java.io.IOException;
import java.time.Duration;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import org.newsclub.net.unix.AFUNIXSocketChannel;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Accepts connections on one listening socket and hands each over: the main sockets' to the server,
 * the fixed endpoints' to their workers, the Varlink socket's to its connections. The hand-over may
 * refuse a connection (answer it over a limit and close it); it then owns the connection either
 * way; one that throws has the connection closed here, and accepting goes on. When the daemon
 * stops, the acceptor first accepts every connection still waiting in the kernel's backlog and
 * hands it over too, so a client that connected and sent a request before SIGTERM is answered
 * rather than reset. A failed accept (EMFILE and friends) backs off briefly and keeps serving; one
 * thread runs {@link #run} per listening socket.
 */
public final class Acceptor implements Runnable {
  private static final Logger log = LoggerFactory.getLogger(Acceptor.class);
  private static final long LISTENER = 1;

  private final ListeningSocket listener;
  private final Consumer<AFUNIXSocketChannel> admit;
  private final Poller poller;
  private final long[] tokens = new long[1];
  private final int[] ready = new int[1];
  private final CountDownLatch stopped = new CountDownLatch(1);
  private volatile boolean running = true;

  /**
   * An acceptor for {@code listener} (made non-blocking here) handing each connection to {@code
   * admit}, which owns it from then on; run it on a thread of its own.
   */
  public Acceptor(ListeningSocket listener, Consumer<AFUNIXSocketChannel> admit)
      throws IOException {
    this.listener = listener;
    this.admit = admit;
    listener.channel().configureBlocking(false);
    int fd = Descriptors.fdOf(listener.channel().getFileDescriptor());
    if (fd < 0) {
      throw new IOException("listening socket has no descriptor");
    }
    this.poller = Poller.open(1);
    try {
      poller.add(fd, LISTENER, Poller.READ);
    } catch (IOException e) {
      poller.close();
      throw e;
    }
  }

  @Override
  public void run() {
    try {
      while (running) {
        if (poller.poll(tokens, ready, -1) > 0) {
          acceptWaiting();
        }
      }
      acceptWaiting();
    } catch (IOException | RuntimeException e) {
      log.error("Could not keep accepting connections", e);
    } finally {
      poller.close();
      stopped.countDown();
    }
  }

  /** Accepts until the backlog is empty. */
  private void acceptWaiting() {
    while (true) {
      AFUNIXSocketChannel channel;
      try {
        channel = listener.channel().accept();
      } catch (IOException e) {
        if (listener.channel().isOpen()) {
          // EMFILE and friends: back off briefly instead of spinning, then keep serving.
          log.warn("Could not accept a connection: {}", e.toString());
          sleepQuietly(Duration.ofMillis(50));
        }
        return;
      }
      if (channel == null) {
        return;
      }
      try {
        admit.accept(channel);
      } catch (RuntimeException e) {
        // A bug in one hand-over must not end accepting on this socket, nor leak the connection.
        log.error("Could not hand over a connection; closing it", e);
        close(channel);
      } catch (Error e) {
        // The JVM's own trouble (out of memory, say): this thread ends, and the daemon with it.
        close(channel);
        throw e;
      }
    }
  }

  private static void close(AFUNIXSocketChannel channel) {
    try {
      channel.close();
    } catch (IOException closeFailed) {
      log.debug("Could not close a connection: {}", closeFailed.toString());
    }
  }

  /**
   * Stops after accepting and handing over what is waiting; returns at once. The owner closes the
   * listening socket once {@link #awaitStopped} says the acceptor is done.
   */
  public void stop() {
    running = false;
    poller.wakeup();
  }

  /** Waits up to {@code timeout} for {@link #run} to end; false if it has not. */
  public boolean awaitStopped(Duration timeout) throws InterruptedException {
    return stopped.await(timeout.toMillis(), TimeUnit.MILLISECONDS);
  }

  private static void sleepQuietly(Duration d) {
    try {
      Thread.sleep(d);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
