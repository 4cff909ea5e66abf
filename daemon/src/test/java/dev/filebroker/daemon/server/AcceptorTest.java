package dev.filebroker.daemon.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.newsclub.net.unix.AFUNIXSocketAddress;
import org.newsclub.net.unix.AFUNIXSocketChannel;

/**
 * The accept loop the main sockets, the fixed endpoints and the Varlink socket share: every
 * connection is handed over, a hand-over may refuse, and a stop hands over the backlog first.
 */
class AcceptorTest {
  private static final Duration TIMEOUT = Duration.ofSeconds(30);

  @TempDir Path dir;

  @Test
  void handsOverEveryConnectionAndTheHandOverMayAnswerAndRefuse() throws Exception {
    assertTimeoutPreemptively(
        TIMEOUT,
        () -> {
          Path path = dir.resolve("a.sock");
          ListeningSocket listener = ListeningSocket.bind(path, 0600);
          Acceptor acceptor =
              new Acceptor(
                  listener,
                  c -> {
                    try (c) {
                      c.write(ByteBuffer.wrap(new byte[] {'n'}));
                    } catch (IOException e) {
                      throw new IllegalStateException(e);
                    }
                  });
          Thread t = Thread.ofPlatform().start(acceptor);
          try {
            for (int i = 0; i < 20; i++) {
              try (AFUNIXSocketChannel c = AFUNIXSocketChannel.open(AFUNIXSocketAddress.of(path))) {
                ByteBuffer b = ByteBuffer.allocate(2);
                assertEquals(1, c.read(b), "the refusal's byte");
                assertEquals('n', b.get(0));
                assertEquals(-1, c.read(b.clear()), "then the end of the stream");
              }
            }
          } finally {
            acceptor.stop();
            assertTrue(acceptor.awaitStopped(Duration.ofSeconds(10)), "the acceptor stops");
            listener.close();
          }
          t.join();
          assertFalse(Files.exists(path), "the socket file is removed");
        });
  }

  @Test
  void aStopHandsOverTheConnectionsWaitingInTheBacklogThenEnds() throws Exception {
    assertTimeoutPreemptively(
        TIMEOUT,
        () -> {
          Path path = dir.resolve("b.sock");
          ListeningSocket listener = ListeningSocket.bind(path, 0600);
          LinkedBlockingQueue<AFUNIXSocketChannel> handed = new LinkedBlockingQueue<>();
          Acceptor acceptor = new Acceptor(listener, handed::add);
          List<AFUNIXSocketChannel> clients = new ArrayList<>();
          try {
            // Nobody accepts yet: these wait in the kernel's backlog.
            for (int i = 0; i < 5; i++) {
              clients.add(AFUNIXSocketChannel.open(AFUNIXSocketAddress.of(path)));
            }
            acceptor.stop(); // before it runs: it must still take what waits
            Thread t = Thread.ofPlatform().start(acceptor);
            assertTrue(acceptor.awaitStopped(Duration.ofSeconds(10)), "the acceptor stops");
            t.join();
            assertEquals(5, handed.size(), "every connection in the backlog is handed over");
            listener.close();
            assertThrows(
                IOException.class,
                () -> AFUNIXSocketChannel.open(AFUNIXSocketAddress.of(path)).close(),
                "nothing listens once stopped");
          } finally {
            for (AFUNIXSocketChannel c : clients) {
              c.close();
            }
            AFUNIXSocketChannel c;
            while ((c = handed.poll(0, TimeUnit.SECONDS)) != null) {
              c.close();
            }
          }
        });
  }

  /**
   * A hand-over that throws (a bug) has its connection closed and the next one handed over: before,
   * the exception ended the accept loop, leaked the connection and left the socket unserved.
   */
  @Test
  void aHandOverThatThrowsHasItsConnectionClosedAndAcceptingGoesOn() throws Exception {
    assertTimeoutPreemptively(
        TIMEOUT,
        () -> {
          Path path = dir.resolve("c.sock");
          ListeningSocket listener = ListeningSocket.bind(path, 0600);
          LinkedBlockingQueue<AFUNIXSocketChannel> handed = new LinkedBlockingQueue<>();
          boolean[] first = {true};
          Acceptor acceptor =
              new Acceptor(
                  listener,
                  c -> {
                    if (first[0]) {
                      first[0] = false;
                      throw new IllegalStateException("a bug in the hand-over");
                    }
                    handed.add(c);
                  });
          Thread t = Thread.ofPlatform().start(acceptor);
          try (AFUNIXSocketChannel broken =
              AFUNIXSocketChannel.open(AFUNIXSocketAddress.of(path))) {
            assertEquals(-1, broken.read(ByteBuffer.allocate(1)), "the connection is closed");
            try (AFUNIXSocketChannel next =
                AFUNIXSocketChannel.open(AFUNIXSocketAddress.of(path))) {
              assertTrue(next.isConnected());
              handed.take().close();
            }
          } finally {
            acceptor.stop();
            assertTrue(acceptor.awaitStopped(Duration.ofSeconds(10)), "the acceptor stops");
            listener.close();
          }
          t.join();
        });
  }
}
