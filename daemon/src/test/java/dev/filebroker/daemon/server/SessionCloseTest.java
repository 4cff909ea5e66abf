package dev.filebroker.daemon.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.filebroker.daemon.testing.ConnectedSockets;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.newsclub.net.unix.AFUNIXSocketChannel;

/**
 * A session closed by two threads at once (its old owner on an error path, its new one) gives back
 * what the connection holds once: its uid's connection count, its fair-share gate, the
 * open-connection figure.
 */
class SessionCloseTest {
  private static final long UID = UidLimits.UNKNOWN_UID;
  private static final int ROUNDS = 2_000;

  @TempDir Path temp;

  @Test
  void aSessionClosedByTwoThreadsAtOnceGivesItsPlacesBackOnce() throws Exception {
    Statistics statistics = new Statistics();
    // One connection per uid: a place given back twice would let two more in.
    UidLimits limits = new UidLimits(1, 1_000_000, 1_000_000);
    FairShare share = new FairShare(1, Duration.ofSeconds(1));
    Closer closer = new Closer();
    ExecutorService two = Executors.newFixedThreadPool(2);
    long descriptors = -1;
    try {
      for (int i = 0; i < ROUNDS; i++) {
        if (i == 1) {
          // After a first round: what the socket library and the executor open once is open.
          descriptors = openDescriptors();
        }
        try (ConnectedSockets sockets = ConnectedSockets.open(temp, "s" + i)) {
          AFUNIXSocketChannel peer = sockets.client();
          AFUNIXSocketChannel accepted = sockets.accepted();
          assertTrue(limits.tryConnect(UID), "round " + i);
          statistics.connectionOpened();
          // Another connection of the uid holds the gate throughout.
          FairShare.Gate other = share.gate(UID);
          Session session =
              new Session(
                  i,
                  accepted,
                  Optional.empty(),
                  null,
                  statistics,
                  limits,
                  share.gate(UID),
                  1,
                  closer,
                  true);
          // Both threads spin until the other is there too, then close: the two calls overlap as
          // closely as two CPUs allow, where a barrier's wake-up would put microseconds between.
          AtomicInteger arrived = new AtomicInteger();
          Callable<Void> close =
              () -> {
                arrived.incrementAndGet();
                while (arrived.get() < 2) {
                  Thread.onSpinWait();
                }
                session.close();
                return null;
              };
          Future<Void> a = two.submit(close);
          Future<Void> b = two.submit(close);
          a.get();
          b.get();
          assertTrue(session.isClosed());
          assertFalse(accepted.isOpen());
          assertEquals(-1, peer.read(ByteBuffer.allocate(1)), "the client sees the end");
          assertEquals(0, statistics.openConnections(), "round " + i);
          assertTrue(limits.tryConnect(UID), "the place is free again, round " + i);
          assertFalse(limits.tryConnect(UID), "once, round " + i);
          limits.disconnect(UID);
          assertEquals(other, share.gate(UID), "the other connection's gate stays, round " + i);
          // Given back: the hold the assertion's gate() took, then the other connection's.
          other.release();
          other.release();
        }
      }
      // One descriptor left open per round would show as thousands; the margin leaves room for
      // what other threads of the test run open meanwhile.
      long grown = openDescriptors() - descriptors;
      assertTrue(grown < ROUNDS / 4, "every connection's descriptor closed, grown by " + grown);
    } finally {
      two.shutdownNow();
    }
  }

  private static long openDescriptors() throws IOException {
    try (Stream<Path> fds = Files.list(Path.of("/proc/self/fd"))) {
      return fds.count();
    }
  }
}
