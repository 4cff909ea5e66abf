package dev.filebroker.daemon.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.filebroker.daemon.fs.Descriptors;
import dev.filebroker.daemon.fs.SocketMessages;
import dev.filebroker.daemon.testing.ConnectedSockets;
import dev.filebroker.protocol.Protocol;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The outbox over a real connection: what the socket has room for goes out in one flush. */
class OutboxTest {
  private final Closer closer = new Closer();
  @TempDir Path sockets;
  private ConnectedSockets pair;
  private int daemonSide;

  @BeforeEach
  void open() throws IOException {
    pair = ConnectedSockets.open(sockets, "s");
    pair.accepted().configureBlocking(false);
    pair.client().configureBlocking(false);
    daemonSide = Descriptors.fdOf(pair.accepted().getFileDescriptor());
  }

  @AfterEach
  void close() throws IOException {
    pair.close();
    closer.stop();
  }

  /** A kept segment: output the client had not taken, copied to the heap by the outbox. */
  private Outbox keptFrame(int size) {
    Outbox outbox = new Outbox(closer);
    ByteBuffer frame = ByteBuffer.allocateDirect(size);
    for (int i = 0; i < size; i++) {
      frame.put((byte) i);
    }
    outbox.add(frame.flip(), List.of());
    outbox.keep();
    frame.clear();
    while (frame.hasRemaining()) {
      frame.put((byte) 0xEE); // the caller reuses its buffer: the outbox must not see this
    }
    return outbox;
  }

  private int drainPeer(int expected) throws IOException {
    ByteBuffer got = ByteBuffer.allocate(expected + 1);
    int total = 0;
    int n;
    while ((n = pair.client().read(got)) > 0) {
      total += n;
    }
    for (int i = 0; i < total; i++) {
      assertEquals((byte) i, got.get(i), "byte " + i + " in order and as queued");
    }
    return total;
  }

  @Test
  void aKeptFrameGoesOutInOneFlushOnAServingThreadsBuffers() throws IOException {
    // The peer's receive buffer has room for far more than a frame: no reason to wait for epoll.
    try (ServingThreads.Buffers buffers = ServingThreads.Buffers.allocate(closer)) {
      Outbox outbox = keptFrame(Protocol.MAX_FRAME_SIZE);
      assertTrue(outbox.flush(buffers.io(), daemonSide), "everything sent in one flush");
      assertTrue(outbox.isEmpty());
      assertEquals(0, outbox.bytes());
      assertEquals(Protocol.MAX_FRAME_SIZE, drainPeer(Protocol.MAX_FRAME_SIZE));
    }
  }

  @Test
  void aPartSentIsNotAFullSocket() throws IOException {
    // A copy area smaller than the segment: each sendmsg takes 4 KiB, and flush sends on while
    // the socket takes more instead of reporting a full socket after the first part.
    try (SocketMessages io = new SocketMessages(4096)) {
      Outbox outbox = keptFrame(4 * 4096 + 100);
      assertTrue(outbox.flush(io, daemonSide), "everything sent in one flush");
      assertTrue(outbox.isEmpty());
      assertEquals(4 * 4096 + 100, drainPeer(4 * 4096 + 100));
    }
  }

  @Test
  void aFullSocketKeepsTheRestQueued() throws IOException {
    // The peer reads nothing: flush stops when the socket takes no more, and says so.
    try (SocketMessages io = new SocketMessages(4096)) {
      Outbox outbox = keptFrame(Protocol.MAX_FRAME_SIZE);
      ByteBuffer filler = ByteBuffer.allocateDirect(1 << 16);
      while (io.send(daemonSide, filler.clear(), List.of()) > 0) {
        // fill the socket
      }
      assertEquals(false, outbox.flush(io, daemonSide), "the socket is full");
      assertEquals(Protocol.MAX_FRAME_SIZE, outbox.bytes(), "nothing of the frame was lost");
    }
  }
}
