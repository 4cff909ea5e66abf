package dev.filebroker.client;

import dev.filebroker.protocol.Decoded;
import dev.filebroker.protocol.ErrorCode;
import dev.filebroker.protocol.ErrorReply;
import dev.filebroker.protocol.FrameCodec;
import dev.filebroker.protocol.Protocol;
import dev.filebroker.protocol.Reply;
import java.io.FileDescriptor;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.newsclub.net.unix.AFUNIXSocketChannel;

/**
 * The one thread that reads a connection: frames in, descriptors in, replies handed to the {@link
 * Connection}. It applies the descriptor rule of docs/protocol.md: descriptors are queued in the
 * order they arrive, collected after every read, and each reply takes as many from the head of the
 * queue as its type carries. A reply that finds too few, or descriptors that no reply can claim,
 * break the protocol, and so does a read whose control message was truncated ({@code MSG_CTRUNC},
 * see {@link Descriptors#isControlTruncation}). Every descriptor is made close-on-exec as soon as
 * the read that brought it returns ({@link Descriptors#takeOwnership}).
 *
 * <p>A dedicated platform thread, rather than "whoever waits reads": descriptors must be drained
 * from the socket even when no caller is waiting (a caller may have given up), and junixsocket's
 * reads are native calls that would pin a virtual thread's carrier anyway.
 */
final class ReplyReader implements Runnable {
  private final AFUNIXSocketChannel channel;
  private final Connection connection;
  private final long generation;
  private final ArrayDeque<FileDescriptor> descriptors = new ArrayDeque<>();
  // The daemon's TIMEOUT notice, when it sent one before closing.
  private Optional<String> timedOut = Optional.empty();
  // A frame is at most MAX_FRAME_SIZE; after compact() at most one partial frame remains.
  private final ByteBuffer buffer = ByteBuffer.allocateDirect(Protocol.MAX_FRAME_SIZE);

  ReplyReader(AFUNIXSocketChannel channel, Connection connection, long generation) {
    this.channel = channel;
    this.connection = connection;
    this.generation = generation;
  }

  @Override
  public void run() {
    BrokerConnectionClosedException lost = null;
    try {
      readLoop();
      lost =
          new BrokerConnectionClosedException(
              timedOut
                  .map(why -> "The daemon closed the connection: " + why)
                  .orElse("The daemon closed the connection"),
              null);
    } catch (BrokerProtocolException e) {
      connection.fail(e);
    } catch (IOException e) {
      // ECONNRESET and the like: the connection is gone, as at the end of the stream.
      lost =
          new BrokerConnectionClosedException(
              "Could not read from the filebroker daemon: " + e.getMessage(), e);
    } catch (RuntimeException | Error e) {
      connection.fail(
          new BrokerConnectionClosedException("The reply reader failed unexpectedly: " + e, e));
      throw e;
    } finally {
      closeUnclaimed();
      connection.readerStopped(channel);
    }
    if (lost != null) {
      // Every reply that arrived is delivered: what still waits was never answered.
      connection.connectionLost(generation, lost);
    }
  }

  private void readLoop() throws IOException {
    while (true) {
      int read;
      try {
        read = channel.read(buffer);
      } catch (IOException e) {
        if (Descriptors.isControlTruncation(e)) {
          // Not a lost connection to recover from by sending again: replies and their
          // descriptors were destroyed.
          throw truncated();
        }
        throw e;
      }
      collectDescriptors();
      if (read < 0) {
        if (buffer.position() > 0 || !descriptors.isEmpty()) {
          throw new BrokerProtocolException(
              "The daemon closed the connection in the middle of a reply ("
                  + buffer.position()
                  + " bytes, "
                  + descriptors.size()
                  + " descriptors unclaimed)");
        }
        return;
      }
      buffer.flip();
      decodeFrames();
      checkUnclaimed();
      buffer.compact();
    }
  }

  private BrokerProtocolException truncated() {
    return new BrokerProtocolException(
        "The daemon attached more descriptors to one message than a read can receive"
            + " (MSG_CTRUNC): the kernel discarded some, and the bytes of that read were lost");
  }

  private void collectDescriptors() throws IOException {
    for (FileDescriptor received : channel.getReceivedFileDescriptors()) {
      descriptors.add(Descriptors.takeOwnership(received));
    }
  }

  private void decodeFrames() throws IOException {
    while (true) {
      Decoded<Reply> decoded = FrameCodec.decodeReply(buffer);
      switch (decoded) {
        case Decoded.NeedMore<Reply> more -> {
          return;
        }
        case Decoded.Frame<Reply> frame -> deliver(frame.message());
        case Decoded.Fatal<Reply> fatal ->
            throw new BrokerProtocolException(
                "Malformed reply from the daemon: " + fatal.code() + ": " + fatal.message());
        case Decoded.Rejected<Reply> rejected ->
            throw new BrokerProtocolException(
                "Refused reply from the daemon: " + rejected.code() + ": " + rejected.message());
      }
    }
  }

  private void deliver(Reply reply) throws IOException {
    if (reply instanceof ErrorReply error && error.code() == ErrorCode.TIMEOUT.code()) {
      // The daemon ends a connection it considers idle (or stalled) with this notice, then
      // closes it: an end of the connection like any other, not a broken protocol.
      timedOut = Optional.of(error.message());
      return;
    }
    int count = reply.descriptorCount();
    if (descriptors.size() < count) {
      throw new BrokerProtocolException(
          "Reply "
              + Integer.toUnsignedString(reply.requestId())
              + " should carry "
              + count
              + " descriptor(s) but only "
              + descriptors.size()
              + " arrived with it");
    }
    List<FileDescriptor> mine = new ArrayList<>(count);
    for (int i = 0; i < count; i++) {
      mine.add(descriptors.poll());
    }
    try {
      connection.deliver(reply, mine);
    } catch (IOException | RuntimeException e) {
      for (FileDescriptor d : mine) {
        Descriptors.closeQuietly(d, e);
      }
      throw e;
    }
  }

  /**
   * After the complete frames are handed out, a queued descriptor can only belong to the partial
   * frame left in the buffer: Linux delivers a message's descriptors with the read that returns its
   * first byte, never later.
   */
  private void checkUnclaimed() throws BrokerProtocolException {
    int partial = buffer.remaining();
    int claimable;
    if (partial == 0) {
      claimable = 0;
    } else if (partial > 5) {
      int type = buffer.get(buffer.position() + 5) & 0xFF;
      if (type == Protocol.TYPE_OPENED) {
        claimable = 1;
      } else if (type == Protocol.TYPE_OPENED_MANY) {
        // The descriptor count is in band at offset 14, once that much of the frame is here.
        claimable =
            partial >= 16
                ? (buffer.get(buffer.position() + 14) & 0xFF)
                    | (buffer.get(buffer.position() + 15) & 0xFF) << 8
                : Protocol.MAX_DESCRIPTORS_PER_REPLY;
      } else {
        claimable = 0;
      }
    } else {
      claimable = Protocol.MAX_DESCRIPTORS_PER_REPLY;
    }
    if (descriptors.size() > claimable) {
      throw new BrokerProtocolException(
          descriptors.size() + " descriptor(s) arrived that no reply claims");
    }
  }

  private void closeUnclaimed() {
    FileDescriptor descriptor;
    while ((descriptor = descriptors.poll()) != null) {
      try {
        Descriptors.close(descriptor);
      } catch (IOException e) {
        // Nothing else can be done with a descriptor that failed to close.
      }
    }
  }
}
