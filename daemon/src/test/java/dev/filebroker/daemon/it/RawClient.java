package dev.filebroker.daemon.it;

import dev.filebroker.protocol.Decoded;
import dev.filebroker.protocol.FrameCodec;
import dev.filebroker.protocol.OpenRequest;
import dev.filebroker.protocol.Protocol;
import dev.filebroker.protocol.Reply;
import dev.filebroker.protocol.Request;
import java.io.EOFException;
import java.io.FileDescriptor;
import java.io.FileInputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.newsclub.net.unix.AFUNIXSocketAddress;
import org.newsclub.net.unix.AFUNIXSocketChannel;

/**
 * A protocol-level test client: sends arbitrary bytes, reads replies with their descriptors. The
 * integration tests use it where the client library would refuse to send what they need.
 */
final class RawClient implements AutoCloseable {
  /** A reply with the descriptors that travelled with it. */
  record Received(Reply reply, List<FileDescriptor> descriptors) {}

  private final AFUNIXSocketChannel channel;
  private final ByteBuffer in = ByteBuffer.allocate(4 * Protocol.MAX_FRAME_SIZE);
  private final ArrayDeque<FileDescriptor> fds = new ArrayDeque<>();

  RawClient(Path socket) throws IOException {
    channel = AFUNIXSocketChannel.open(AFUNIXSocketAddress.of(socket));
    channel.setAncillaryReceiveBufferSize(4096);
    in.flip();
  }

  AFUNIXSocketChannel channel() {
    return channel;
  }

  void send(byte[] bytes) throws IOException {
    ByteBuffer b = ByteBuffer.wrap(bytes);
    while (b.hasRemaining()) {
      channel.write(b);
    }
  }

  void send(Request request) throws IOException {
    ByteBuffer b = ByteBuffer.allocate(Protocol.MAX_FRAME_SIZE);
    FrameCodec.encode(request, b);
    b.flip();
    while (b.hasRemaining()) {
      channel.write(b);
    }
  }

  /** Reads one reply; empty when the daemon closed the connection. */
  Optional<Received> receive() throws IOException {
    while (true) {
      Decoded<Reply> d = FrameCodec.decodeReply(in);
      switch (d) {
        case Decoded.Frame<Reply> f -> {
          List<FileDescriptor> mine = new ArrayList<>();
          for (int i = 0; i < f.message().descriptorCount(); i++) {
            FileDescriptor fd = fds.poll();
            if (fd == null) {
              throw new IOException("reply without its descriptor: " + f.message());
            }
            mine.add(fd);
          }
          return Optional.of(new Received(f.message(), mine));
        }
        case Decoded.NeedMore<Reply> more -> {
          in.compact();
          int n = channel.read(in);
          FileDescriptor[] got = channel.getReceivedFileDescriptors();
          if (got != null) {
            fds.addAll(List.of(got));
          }
          in.flip();
          if (n < 0) {
            if (in.hasRemaining()) {
              throw new EOFException("connection closed mid-frame");
            }
            return Optional.empty();
          }
        }
        default -> throw new IOException("undecodable reply: " + d);
      }
    }
  }

  /** Sends one OPEN and reads its reply. */
  Received open(int id, int flags, String path) throws IOException {
    send(new OpenRequest(id, flags, 0, path));
    return receive().orElseThrow(() -> new EOFException("daemon closed the connection"));
  }

  /** Descriptors received but not claimed by any reply. */
  int strayDescriptors() {
    return fds.size();
  }

  static void close(List<FileDescriptor> descriptors) throws IOException {
    for (FileDescriptor fd : descriptors) {
      new FileInputStream(fd).close();
    }
  }

  @Override
  public void close() throws IOException {
    for (FileDescriptor fd : fds) {
      new FileInputStream(fd).close();
    }
    channel.close();
  }
}
