package dev.filebroker.daemon.audit;

import java.io.FileDescriptor;
import java.io.FileOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.WritableByteChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Appends audit lines to a file (or to standard output) from a background thread, so that recording
 * an event is a queue insertion, never a system call.
 *
 * <p>The writer polls the bounded queue (no producer ever wakes it, which would be a futex call per
 * event) and writes whatever accumulated in one {@code write}. It sleeps {@value
 * #SHORTEST_SLEEP_MILLIS} ms after a batch, so that a busy daemon's batches stay small, and twice
 * as long after each look that finds nothing, up to {@value #LONGEST_SLEEP_MILLIS} ms, so that an
 * idle one hardly wakes (see {@link WriterPacing}).
 *
 * <p>A quarter of the queue is kept for grants: other lines (denials, failed opens, summaries) are
 * refused once only that quarter is left, so that a flood of denied requests cannot crowd grants
 * out of the record. A line that is refused (a grant's only when the whole queue is full) is
 * counted, and the count is written as an {@code "event":"dropped"} line with the next batch; the
 * caller of a refused grant must not hand the file out (see {@link AuditLog#record}).
 */
final class FileSink implements AuditLog.Sink {
  static final int DEFAULT_CAPACITY = 65_536;
  static final int SHORTEST_SLEEP_MILLIS = 3;
  static final int LONGEST_SLEEP_MILLIS = 64;
  private static final int OUTPUT_BUFFER_SIZE = 256 * 1024;
  private static final int LINE_BUFFER_SIZE = 16 * 1024;
  private static final Logger LOG = LoggerFactory.getLogger(FileSink.class);

  private final String file;
  private final WritableByteChannel channel;
  private final boolean ownsChannel;

  /** Lines (String) and events (AuditEvent), which the writer encodes itself. */
  private final ArrayBlockingQueue<Object> queue;

  /** Room only grants may take. */
  private final int grantReserve;

  private final AtomicLong dropped = new AtomicLong();

  /** What the writer sends in one write(2); only the writer thread (or close) touches it. */
  private final ByteBuffer out = ByteBuffer.allocateDirect(OUTPUT_BUFFER_SIZE);

  /**
   * Where a line is encoded before one copy into {@link #out}: the encoders write a heap buffer's
   * array directly, several times faster than byte by byte into a direct buffer. A longer line is
   * encoded straight into {@link #out}.
   */
  private final ByteBuffer line = ByteBuffer.allocate(LINE_BUFFER_SIZE);

  private final Thread writer;
  private volatile boolean closing;

  private FileSink(String file, WritableByteChannel channel, boolean ownsChannel, int capacity) {
    this.file = file;
    this.channel = channel;
    this.ownsChannel = ownsChannel;
    this.queue = new ArrayBlockingQueue<>(capacity);
    this.grantReserve = capacity / 4;
    this.writer = new Thread(this::run, "filebroker-audit-writer");
    this.writer.setDaemon(true);
  }

  /** Opens {@code file} for appending (creating it with mode 0640); the writer is not started. */
  static FileSink open(Path file, int capacity) throws IOException {
    FileChannel channel =
        FileChannel.open(
            file,
            java.util.Set.of(
                StandardOpenOption.CREATE, StandardOpenOption.WRITE, StandardOpenOption.APPEND),
            PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-r-----")));
    return new FileSink(file.toString(), channel, true, capacity);
  }

  /**
   * A sink writing to the process's standard output (descriptor 1), which it leaves open. Each
   * batch is one {@code write}, of whole lines, so lines are never split.
   */
  static FileSink stdout(int capacity) {
    return new FileSink(
        "(standard output)",
        new FileOutputStream(FileDescriptor.out).getChannel(),
        false,
        capacity);
  }

  /** Starts the writer thread. */
  void start() {
    writer.start();
  }

  @Override
  public boolean write(String line) {
    return offer(line, grantReserve);
  }

  /** Queues the event itself: the writer encodes it straight into its output buffer. */
  @Override
  public boolean write(AuditEvent event) {
    return offer(event, event.isGrant() ? 0 : grantReserve);
  }

  /** Queues {@code item} if more than {@code keepFree} places are left; counts it otherwise. */
  private boolean offer(Object item, int keepFree) {
    // Several threads may pass the check at once and take a few places of the reserve: the
    // reserve shrinks by at most the number of event loops, and grants are still refused, never
    // lost, when the queue is full.
    if (queue.remainingCapacity() > keepFree && queue.offer(item)) {
      return true;
    }
    dropped.incrementAndGet();
    return false;
  }

  /** How many lines were dropped and not yet reported. */
  long dropped() {
    return dropped.get();
  }

  /** Writes what is queued, then stops the writer and closes the file. */
  @Override
  public void close() {
    closing = true;
    if (writer.isAlive()) {
      LockSupport.unpark(writer);
      try {
        writer.join(TimeUnit.SECONDS.toMillis(10));
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    } else {
      drainOnce(new ArrayList<>());
    }
    if (!ownsChannel) {
      return;
    }
    try {
      channel.close();
    } catch (IOException e) {
      LOG.warn("Could not close audit file {}: {}", file, e.toString());
    }
  }

  private void run() {
    List<Object> batch = new ArrayList<>(1024);
    WriterPacing pacing =
        new WriterPacing(
            TimeUnit.MILLISECONDS.toNanos(SHORTEST_SLEEP_MILLIS),
            TimeUnit.MILLISECONDS.toNanos(LONGEST_SLEEP_MILLIS));
    while (true) {
      boolean wrote = drainOnce(batch);
      if (!wrote && closing) {
        return;
      }
      LockSupport.parkNanos(wrote ? pacing.afterLines() : pacing.afterNothing());
    }
  }

  /**
   * Adds one line and its newline to the output buffer, writing the buffer out first when the line
   * does not fit (so every write holds whole lines); a line larger than the buffer goes alone.
   */
  private void append(String line) throws IOException {
    byte[] bytes = line.getBytes(StandardCharsets.UTF_8);
    if (bytes.length + 1 > out.remaining()) {
      flushOut();
    }
    if (bytes.length + 1 > out.remaining()) {
      ByteBuffer alone = ByteBuffer.allocate(bytes.length + 1).put(bytes).put((byte) '\n').flip();
      while (alone.hasRemaining()) {
        channel.write(alone);
      }
      return;
    }
    out.put(bytes).put((byte) '\n');
  }

  /** Adds one event's line and its newline to the output buffer, like {@link #append(String)}. */
  private void append(AuditEvent event) throws IOException {
    if (appendWhole(event)) {
      return;
    }
    flushOut();
    if (!appendWhole(event)) {
      // Larger than the whole buffer: the String way writes it alone.
      append(event.toJson());
    }
  }

  /** Adds the event's line and newline if both fit; otherwise leaves the buffer as it was. */
  private boolean appendWhole(AuditEvent event) {
    ByteBuffer encoded = line.clear();
    if (event.writeJson(encoded) && encoded.hasRemaining()) {
      encoded.put((byte) '\n').flip();
      if (encoded.remaining() > out.remaining()) {
        return false;
      }
      out.put(encoded);
      return true;
    }
    int start = out.position();
    if (event.writeJson(out) && out.hasRemaining()) {
      out.put((byte) '\n');
      return true;
    }
    out.position(start);
    return false;
  }

  private void flushOut() throws IOException {
    out.flip();
    while (out.hasRemaining()) {
      channel.write(out);
    }
    out.clear();
  }

  /** Writes one batch; false when there was nothing to write. */
  private boolean drainOnce(List<Object> batch) {
    batch.clear();
    queue.drainTo(batch, 4096);
    long lost = dropped.getAndSet(0);
    if (batch.isEmpty() && lost == 0) {
      return false;
    }
    out.clear();
    try {
      for (Object item : batch) {
        if (item instanceof AuditEvent event) {
          append(event);
        } else {
          append((String) item);
        }
      }
      if (lost > 0) {
        append("{\"event\":\"dropped\",\"time\":\"" + Instant.now() + "\",\"count\":" + lost + "}");
      }
      flushOut();
    } catch (IOException e) {
      dropped.addAndGet(batch.size());
      LOG.error("Could not write audit file {}: {}", file, e.toString());
      if (closing) {
        throw new UncheckedIOException(e);
      }
    }
    return true;
  }
}
