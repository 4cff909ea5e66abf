package dev.filebroker.client;

import dev.filebroker.protocol.Decoded;
import dev.filebroker.protocol.FrameCodec;
import dev.filebroker.protocol.OpenRequest;
import dev.filebroker.protocol.Protocol;
import dev.filebroker.protocol.Reply;
import dev.filebroker.protocol.Request;
import java.io.Closeable;
import java.io.File;
import java.io.FileOutputStream;
import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Function;
import org.newsclub.net.unix.AFUNIXServerSocketChannel;
import org.newsclub.net.unix.AFUNIXSocketAddress;
import org.newsclub.net.unix.AFUNIXSocketChannel;

/**
 * A stand-in daemon on a real socket: decodes requests with the real codec, answers each with what
 * the test's handler says, attaching a real descriptor of a real file to OPENED replies. Requests
 * that arrive in one read are answered in reverse order, so pipelined replies come out of order.
 */
final class TestBroker implements AutoCloseable {
  /**
   * One answer: a reply and, for OPENED, the file and RandomAccessFile's mode or "append"; or,
   * without a reply, an order to drop the connection at once, leaving the request unanswered.
   */
  record Answer(Reply reply, Optional<Path> file, String mode) {
    /** Close the connection instead of answering (this and the requests after it in the read). */
    static Answer drop() {
      return new Answer(null, Optional.empty(), "drop");
    }

    static Answer of(Reply reply) {
      return new Answer(reply, Optional.empty(), "r");
    }

    static Answer file(Reply reply, Path file, String mode) {
      return new Answer(reply, Optional.of(file), mode);
    }
  }

  final AtomicInteger reordered = new AtomicInteger();
  final AtomicInteger connections = new AtomicInteger();
  private final AFUNIXServerSocketChannel server;
  private final Function<OpenRequest, Answer> handler;
  private final Thread thread;
  private final List<AFUNIXSocketChannel> clients = Collections.synchronizedList(new ArrayList<>());

  TestBroker(Path socket, Function<OpenRequest, Answer> handler) throws IOException {
    this.server = AFUNIXServerSocketChannel.open();
    server.bind(AFUNIXSocketAddress.of(socket));
    this.handler = handler;
    this.thread = new Thread(this::acceptLoop, "test-broker");
    thread.setDaemon(true);
    thread.start();
  }

  private void acceptLoop() {
    try {
      while (true) {
        AFUNIXSocketChannel client = server.accept();
        connections.incrementAndGet();
        clients.add(client);
        Thread serve = new Thread(() -> serve(client), "test-broker-connection");
        serve.setDaemon(true);
        serve.start();
      }
    } catch (IOException e) {
      // Closed by the test.
    }
  }

  private void serve(AFUNIXSocketChannel client) {
    ByteBuffer in = ByteBuffer.allocate(Protocol.MAX_FRAME_SIZE * 4);
    try (client) {
      while (client.read(in) >= 0) {
        in.flip();
        List<OpenRequest> batch = new ArrayList<>();
        while (FrameCodec.decodeRequest(in) instanceof Decoded.Frame<Request> frame) {
          batch.add((OpenRequest) frame.message());
        }
        in.compact();
        if (batch.size() > 1) {
          reordered.incrementAndGet();
        }
        Collections.reverse(batch);
        for (OpenRequest request : batch) {
          Answer answer = handler.apply(request);
          if (answer.reply() == null) {
            // Dropped: the try closes the connection. The pause lets the client read the replies
            // already written first (junixsocket closes a socket whose write fails with EPIPE,
            // and what it had not read yet is lost with it).
            Thread.sleep(100);
            return;
          }
          answer(client, answer);
        }
      }
    } catch (IOException e) {
      // The client went away.
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  private static void answer(AFUNIXSocketChannel client, Answer answer) throws IOException {
    ByteBuffer out = ByteBuffer.allocate(FrameCodec.encodedSize(answer.reply()));
    FrameCodec.encode(answer.reply(), out);
    out.flip();
    if (answer.file().isPresent()) {
      File file = answer.file().get().toFile();
      try (Closeable opened =
          answer.mode().equals("append")
              ? new FileOutputStream(file, true)
              : new RandomAccessFile(file, answer.mode())) {
        client.setOutboundFileDescriptors(
            opened instanceof FileOutputStream stream
                ? stream.getFD()
                : ((RandomAccessFile) opened).getFD());
        client.write(out);
        client.setOutboundFileDescriptors();
      }
    }
    while (out.hasRemaining()) {
      client.write(out);
    }
  }

  @Override
  public void close() throws IOException {
    server.close();
    synchronized (clients) {
      for (AFUNIXSocketChannel client : clients) {
        client.close();
      }
    }
  }
}
