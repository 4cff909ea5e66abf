package dev.filebroker.daemon.server;

import dev.filebroker.daemon.fs.OpenedFile;
import dev.filebroker.daemon.fs.SocketMessages;
import dev.filebroker.protocol.FrameCodec;
import dev.filebroker.protocol.Protocol;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;

/**
 * The output of one connection on its way to the socket, and the single owner of every descriptor
 * in it. A descriptor handed to {@link #add} belongs to the outbox from then on: it is closed
 * exactly once, either when the first byte it travels with has been sent (the kernel then holds its
 * own reference, so the close is cheap) or when the outbox is closed (a write error, a timeout, the
 * end of the connection), whichever comes first. Abandoned descriptors are the last reference to
 * their file, whose release may block (a FUSE flush): they go to the outbox's closer.
 *
 * <p>Segments are sent in order. A segment may view a buffer the caller reuses; {@link #keep()}
 * copies such segments before the caller touches its buffer again. Not thread-safe: one thread at a
 * time, as for its session.
 */
final class Outbox implements AutoCloseable {
  private final ArrayDeque<Segment> queue = new ArrayDeque<>();
  private final Closer closer;

  /** The descriptors of one chunk being put together by {@link #send}; reused. */
  private final List<OpenedFile> chunkFiles = new ArrayList<>();

  private int descriptors;
  private long bytes;
  private boolean closed;

  /** An empty outbox whose abandoned descriptors {@code closer} closes. */
  Outbox(Closer closer) {
    this.closer = closer;
  }

  /**
   * Queues {@code data}'s remaining bytes with {@code files} attached to the first of them. Takes
   * ownership of the files in every case: once closed, the outbox closes them at once.
   */
  void add(ByteBuffer data, List<OpenedFile> files) {
    Segment s = new Segment(data, List.copyOf(files), false);
    if (closed) {
      s.abandon(closer);
      return;
    }
    queue.add(s);
    descriptors += s.files.size();
    bytes += data.remaining();
  }

  /**
   * Encodes {@code replies}, takes their descriptors and sends what the socket takes. Replies go
   * out in chunks of as many frames as fit {@code out} and carry at most {@link
   * Protocol#MAX_DESCRIPTORS_PER_MESSAGE} descriptors together; each chunk's descriptors travel
   * with its first byte. A reply with more descriptors than that (a large OPENED_MANY) goes alone:
   * its first byte carries the first {@code MAX_DESCRIPTORS_PER_MESSAGE}, its second byte the rest.
   * Each reply's descriptors pass to the outbox in one step, before anything of it is sent; replies
   * not handed over yet are closed here on every path. What the socket does not take stays queued,
   * copied out of {@code out}.
   *
   * @throws IOException on a write error; the outbox is then closed, and every descriptor in it
   */
  void send(List<Response> replies, ByteBuffer out, SocketMessages io, int socket)
      throws IOException {
    int handed = 0;
    int n = replies.size();
    int perMessage = Protocol.MAX_DESCRIPTORS_PER_MESSAGE;
    List<OpenedFile> files = chunkFiles;
    try {
      while (handed < n) {
        out.clear();
        files.clear();
        Response first = replies.get(handed);
        if (first.files().size() > perMessage) {
          FrameCodec.encode(first.reply(), out);
          out.flip();
          List<OpenedFile> all = first.files();
          add(out.duplicate().limit(1), all.subList(0, perMessage));
          add(out.duplicate().position(1), all.subList(perMessage, all.size()));
          handed++;
        } else {
          int end = handed;
          while (end < n) {
            Response r = replies.get(end);
            int fds = r.files().size();
            // A reply's descriptors travel with that reply's own first byte (docs/protocol.md),
            // so a reply that carries any starts a new sendmsg; replies without them follow it.
            if (out.position() > 0
                && (fds > 0 || out.remaining() < FrameCodec.encodedSize(r.reply()))) {
              break;
            }
            FrameCodec.encode(r.reply(), out);
            files.addAll(r.files());
            end++;
          }
          out.flip();
          add(out, files);
          handed = end;
        }
        files.clear();
        flush(io, socket);
        // What the socket did not take must outlive this call's use of the shared buffer.
        keep();
      }
    } finally {
      files.clear();
      for (int j = handed; j < n; j++) {
        replies.get(j).close();
      }
    }
  }

  /**
   * Sends what the socket takes, in order, without blocking.
   *
   * @return whether everything was sent
   * @throws IOException on a write error; the outbox is then closed, and every descriptor in it
   */
  boolean flush(SocketMessages io, int socket) throws IOException {
    while (!queue.isEmpty()) {
      Segment s = queue.peek();
      int sent;
      do {
        // A send takes at most what SocketMessages copies per call from a heap segment: a part
        // sent is not a full socket, so send again until the socket takes nothing more.
        int before = s.data.remaining();
        try {
          io.send(socket, s.data, s.files);
        } catch (IOException | RuntimeException e) {
          close();
          throw e;
        }
        sent = before - s.data.remaining();
        if (sent > 0) {
          bytes -= sent;
          // The descriptors went with the first byte: the kernel holds them now.
          descriptors -= s.files.size();
          s.release();
        }
      } while (sent > 0 && s.data.hasRemaining());
      if (s.data.hasRemaining()) {
        return false;
      }
      queue.poll();
    }
    return true;
  }

  /** Copies every queued segment that still views a caller's buffer, so the caller may reuse it. */
  void keep() {
    if (queue.isEmpty()) {
      return;
    }
    ArrayDeque<Segment> copied = new ArrayDeque<>(queue.size());
    for (Segment s : queue) {
      if (s.owned) {
        copied.add(s);
      } else {
        ByteBuffer copy = ByteBuffer.allocate(s.data.remaining());
        copy.put(s.data).flip();
        copied.add(new Segment(copy, s.files, true));
      }
    }
    queue.clear();
    queue.addAll(copied);
  }

  boolean isEmpty() {
    return queue.isEmpty();
  }

  /** Descriptors queued and not sent yet. */
  int descriptors() {
    return descriptors;
  }

  /** Bytes queued and not sent yet. */
  long bytes() {
    return bytes;
  }

  /** Drops what is queued and closes every descriptor in it; later additions are closed at once. */
  @Override
  public void close() {
    closed = true;
    Segment s;
    while ((s = queue.poll()) != null) {
      s.abandon(closer);
    }
    descriptors = 0;
    bytes = 0;
  }

  /** Bytes to send and the descriptors their first byte carries, until they are released. */
  private static final class Segment {
    final ByteBuffer data;
    final boolean owned;
    List<OpenedFile> files;

    Segment(ByteBuffer data, List<OpenedFile> files, boolean owned) {
      this.data = data;
      this.files = files;
      this.owned = owned;
    }

    /** Closes the descriptors once they were sent; later calls do nothing. */
    void release() {
      List<OpenedFile> held = files;
      files = List.of();
      for (OpenedFile f : held) {
        f.close();
      }
    }

    /** Hands descriptors that were never sent to {@code closer}; later calls do nothing. */
    void abandon(Closer closer) {
      List<OpenedFile> held = files;
      files = List.of();
      for (OpenedFile f : held) {
        closer.close(f);
      }
    }
  }
}
