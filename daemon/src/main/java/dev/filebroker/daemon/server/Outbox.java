package dev.filebroker.daemon.server;

import dev.filebroker.daemon.fs.OpenedFile;
import dev.filebroker.daemon.fs.SocketMessages;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.ArrayDeque;
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
   * Sends what the socket takes, in order, without blocking.
   *
   * @return whether everything was sent
   * @throws IOException on a write error; the outbox is then closed, and every descriptor in it
   */
  boolean flush(SocketMessages io, int socket) throws IOException {
    while (!queue.isEmpty()) {
      Segment s = queue.peek();
      int before = s.data.remaining();
      try {
        io.send(socket, s.data, s.files);
      } catch (IOException | RuntimeException e) {
        close();
        throw e;
      }
      int sent = before - s.data.remaining();
      if (sent > 0) {
        bytes -= sent;
        // The descriptors went with the first byte: the kernel holds them now.
        descriptors -= s.files.size();
        s.release();
      }
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
