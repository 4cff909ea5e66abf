package dev.filebroker.daemon.control;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;

import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ControlClientTest {
  private static final String REFUSAL =
      "{\"ok\":false,\"error\":\"permission denied: the control socket serves root only\"}\n";

  /**
   * The daemon answers a refused peer at once and closes without reading: the client's write then
   * fails with EPIPE, yet the refusal it was sent must still reach the caller. The server here
   * closes as soon as it has written, so most rounds meet the broken pipe (a client that lost the
   * answer with its socket failed nearly all of them).
   */
  @Test
  void aRefusalSentBeforeTheRequestWasReadIsReported(@TempDir Path dir) throws Exception {
    Path socket = dir.resolve("control.sock");
    int rounds = 50;
    AtomicInteger served = new AtomicInteger();
    try (ServerSocketChannel server = ServerSocketChannel.open(StandardProtocolFamily.UNIX)) {
      server.bind(UnixDomainSocketAddress.of(socket));
      Thread acceptor =
          Thread.ofPlatform()
              .daemon()
              .start(
                  () -> {
                    try {
                      while (served.get() < rounds) {
                        try (SocketChannel peer = server.accept()) {
                          peer.write(ByteBuffer.wrap(REFUSAL.getBytes(StandardCharsets.UTF_8)));
                        }
                        served.incrementAndGet();
                      }
                    } catch (Exception e) {
                      // the test fails on the missing answers
                    }
                  });
      for (int i = 0; i < rounds; i++) {
        ControlClient.Reply reply = ControlClient.exchange(socket, new ControlRequest.Status());
        ControlClient.Reply.Answered answered =
            assertInstanceOf(ControlClient.Reply.Answered.class, reply, "round " + i);
        assertEquals("permission denied: the control socket serves root only", answered.error());
      }
      acceptor.join();
    } finally {
      Files.deleteIfExists(socket);
    }
  }
}
