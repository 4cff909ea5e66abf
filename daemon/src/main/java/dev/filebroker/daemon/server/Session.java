package dev.filebroker.daemon.server;

import dev.filebroker.daemon.fs.OpenedFile;
import dev.filebroker.daemon.policy.Caller;
import dev.filebroker.protocol.Decoded;
import dev.filebroker.protocol.ErrorCode;
import dev.filebroker.protocol.ErrorReply;
import dev.filebroker.protocol.FrameCodec;
import dev.filebroker.protocol.Protocol;
import dev.filebroker.protocol.Request;
import java.io.FileDescriptor;
import java.io.FileInputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.SelectionKey;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.newsclub.net.unix.AFUNIXSocketChannel;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One client connection, driven by its event loop: read, decode, hand each request to the
 * handler, write the replies with their descriptors. Malformed input ends the connection after a
 * protocol-error reply; refused or failed requests are answered and the connection stays.
 *
 * <p>Only its event loop's thread touches a session. Idle sessions hold no buffers: input that
 * ends mid-frame and output the socket would not take are copied aside until they complete.
 */
final class Session {
  private static final Logger log = LoggerFactory.getLogger(Session.class);

  /** The uid connection and rate limits are counted against. */
  static long uidOf(Optional<Caller> caller) {
    return caller.map(c -> Integer.toUnsignedLong(c.uid())).orElse(UidLimits.UNKNOWN_UID);
  }

  private final AFUNIXSocketChannel channel;
  private final Optional<Caller> caller;
  private final RequestHandler handler;
  private final Statistics statistics;
  private final UidLimits limits;
  private final long uid;
  private final int maxRequestsInFlight;
  private final long id;
  private SelectionKey key;

  /** Input received but not yet decoded (a partial frame, or frames held back by backpressure). */
  private byte[] pendingInput;
  /** Output the socket did not take yet. */
  private ByteBuffer backlog;
  /** The descriptors of {@link #backlog}'s OPENED frames, in order, with their frame offsets. */
  private List<PendingFile> backlogFiles = List.of();
  /** How many of {@link #backlogFiles} were sent (and closed) already. */
  private int backlogFilesSent;
  /** A protocol error was answered: close once the backlog is written. */
  private boolean closing;
  private boolean closed;
  private long lastActivityNanos;

  Session(
      long id,
      AFUNIXSocketChannel channel,
      Optional<Caller> caller,
      RequestHandler handler,
      Statistics statistics,
      UidLimits limits,
      int maxRequestsInFlight) {
    this.id = id;
    this.channel = channel;
    this.caller = caller;
    this.handler = handler;
    this.statistics = statistics;
    this.limits = limits;
    this.uid = uidOf(caller);
    this.maxRequestsInFlight = maxRequestsInFlight;
    this.lastActivityNanos = System.nanoTime();
  }

  void attach(SelectionKey key) {
    this.key = key;
  }

  AFUNIXSocketChannel channel() {
    return channel;
  }

  boolean isClosed() {
    return closed;
  }

  long lastActivityNanos() {
    return lastActivityNanos;
  }

  long uid() {
    return uid;
  }

  boolean hasPartialFrame() {
    return pendingInput != null && pendingInput.length > 0;
  }

  /** Reads what the socket has and answers every complete request in it. */
  void onReadable(ByteBuffer in, ByteBuffer out) {
    if (closed) {
      return;
    }
    lastActivityNanos = System.nanoTime();
    in.clear();
    if (pendingInput != null) {
      in.put(pendingInput);
      pendingInput = null;
    }
    int n;
    try {
      n = channel.read(in);
    } catch (IOException e) {
      log.debug("Could not read from connection {}: {}", id, e.toString());
      close();
      return;
    }
    if (receivedDescriptors()) {
      return;
    }
    in.flip();
    if (n < 0) {
      // The client half-closed or went away. Requests decoded so far were answered already.
      if (in.hasRemaining()) {
        log.debug("Connection {} closed mid-frame after {} bytes", id, in.remaining());
      }
      close();
      return;
    }
    process(in, out);
  }

  /** Writes what the socket did not take before, then goes back to processing input. */
  void onWritable(ByteBuffer in, ByteBuffer out) {
    if (closed) {
      return;
    }
    if (!flushBacklog()) {
      return;
    }
    if (closing) {
      close();
      return;
    }
    if (pendingInput != null) {
      in.clear();
      in.put(pendingInput);
      pendingInput = null;
      in.flip();
      process(in, out);
    }
    if (!closed && backlog == null) {
      key.interestOps(SelectionKey.OP_READ);
    }
  }

  /** Ends the connection with a TIMEOUT error: stalled mid-frame, or idle for too long. */
  void timeOut(ByteBuffer out, String why) {
    List<Response> replies = new ArrayList<>(1);
    replies.add(Response.of(ErrorReply.of(0, ErrorCode.TIMEOUT, 0, why)));
    statistics.protocolError();
    closing = true;
    if (write(replies, out)) {
      close();
    }
  }

  private void process(ByteBuffer in, ByteBuffer out) {
    List<Response> replies = new ArrayList<>(Math.min(maxRequestsInFlight, 8));
    while (!closing) {
      Decoded<Request> decoded = FrameCodec.decodeRequest(in);
      switch (decoded) {
        case Decoded.NeedMore<Request> more -> {
          flushOrHoldBack(replies, in, out);
          return;
        }
        case Decoded.Frame<Request> frame -> {
          if (limits.tryRequest(uid)) {
            replies.add(handler.handle(caller, frame.message()));
          } else {
            statistics.limited();
            replies.add(
                Response.of(
                    ErrorReply.of(
                        frame.message().requestId(),
                        ErrorCode.LIMIT_EXCEEDED,
                        0,
                        "uid " + uid + " is over its request rate; retry later")));
          }
        }
        case Decoded.Rejected<Request> rejected -> {
          statistics.rejected();
          replies.add(
              Response.of(
                  ErrorReply.of(rejected.requestId(), rejected.code(), 0, rejected.message())));
        }
        case Decoded.Fatal<Request> fatal -> {
          log.info(
              "Could not decode a request on connection {}: {}: {}",
              id,
              fatal.code(),
              fatal.message());
          statistics.protocolError();
          replies.add(
              Response.of(ErrorReply.of(fatal.requestId(), fatal.code(), 0, fatal.message())));
          closing = true;
          in.position(in.limit());
        }
      }
      if (replies.size() >= maxRequestsInFlight) {
        if (!write(replies, out)) {
          holdBack(in);
          return;
        }
        replies.clear();
      }
    }
    if (write(replies, out)) {
      close();
    }
  }

  private void flushOrHoldBack(List<Response> replies, ByteBuffer in, ByteBuffer out) {
    write(replies, out);
    holdBack(in);
  }

  /** Keeps undecoded input (a partial frame, or frames waiting for the backlog) for later. */
  private void holdBack(ByteBuffer in) {
    if (in.hasRemaining()) {
      byte[] rest = new byte[in.remaining()];
      in.get(rest);
      pendingInput = rest;
    }
  }

  /**
   * Encodes and sends {@code replies}. Each OPENED frame's descriptor travels alone, attached to
   * that frame's first byte (docs/protocol.md, "Descriptors"): a client sizes its control buffer
   * for a few descriptors, and the kernel drops (closes) whatever does not fit. Returns whether
   * everything was written; otherwise the rest waits in the backlog and the session waits for the
   * socket to become writable.
   */
  private boolean write(List<Response> replies, ByteBuffer out) {
    if (replies.isEmpty()) {
      return true;
    }
    out.clear();
    List<PendingFile> files = new ArrayList<>(replies.size());
    for (Response r : replies) {
      int frameStart = out.position();
      FrameCodec.encode(r.reply(), out);
      r.file().ifPresent(f -> files.add(new PendingFile(frameStart, f)));
    }
    out.flip();
    ByteBuffer bytes = ByteBuffer.allocate(out.remaining());
    bytes.put(out).flip();
    backlog = bytes;
    backlogFiles = files;
    backlogFilesSent = 0;
    return flushBacklog();
  }

  /**
   * Sends the backlog, one write per descriptor-carrying frame so that each descriptor is attached
   * to its own frame's first byte; returns whether the backlog is now empty. Closes on a write
   * error.
   */
  private boolean flushBacklog() {
    if (backlog == null) {
      return true;
    }
    int total = backlog.limit();
    try {
      while (backlog.hasRemaining()) {
        PendingFile head =
            backlogFilesSent < backlogFiles.size() ? backlogFiles.get(backlogFilesSent) : null;
        boolean attach = head != null && head.offset() == backlog.position();
        int following = attach ? backlogFilesSent + 1 : backlogFilesSent;
        int end = following < backlogFiles.size() ? backlogFiles.get(following).offset() : total;
        if (attach) {
          channel.setOutboundFileDescriptors(head.file().fileDescriptor());
        }
        int n;
        backlog.limit(end);
        try {
          n = channel.write(backlog);
        } finally {
          backlog.limit(total);
          if (attach) {
            // Never let a descriptor linger for a later write: it may be closed and reused by then.
            channel.setOutboundFileDescriptors();
          }
        }
        if (attach && n > 0) {
          head.file().close();
          backlogFilesSent++;
        }
        if (backlog.position() < end) {
          key.interestOps(SelectionKey.OP_WRITE);
          return false;
        }
      }
    } catch (IOException e) {
      log.debug("Could not write to connection {}: {}", id, e.toString());
      close();
      return false;
    }
    backlog = null;
    backlogFiles = List.of();
    backlogFilesSent = 0;
    return true;
  }

  /** A descriptor in the backlog and the offset of its OPENED frame's first byte. */
  private record PendingFile(int offset, OpenedFile file) {}

  /** A client that attaches descriptors breaks the protocol: close them, answer, hang up. */
  private boolean receivedDescriptors() {
    FileDescriptor[] received;
    try {
      received = channel.getReceivedFileDescriptors();
    } catch (IOException e) {
      close();
      return true;
    }
    if (received == null || received.length == 0) {
      return false;
    }
    for (FileDescriptor fd : received) {
      try {
        new FileInputStream(fd).close();
      } catch (IOException e) {
        log.warn("Could not close a descriptor the client sent: {}", e.toString());
      }
    }
    log.info("Client on connection {} sent {} descriptors; closing", id, received.length);
    statistics.protocolError();
    pendingInput = null;
    closing = true;
    List<Response> replies = new ArrayList<>(1);
    replies.add(
        Response.of(
            ErrorReply.of(
                0,
                ErrorCode.UNEXPECTED_DESCRIPTOR,
                0,
                "clients must not send descriptors; " + received.length + " received and closed")));
    if (write(replies, ByteBuffer.allocate(Protocol.MAX_FRAME_SIZE))) {
      close();
    }
    return true;
  }

  /** Closes the connection and every descriptor still waiting to be sent. */
  void close() {
    if (closed) {
      return;
    }
    closed = true;
    for (PendingFile f : backlogFiles.subList(backlogFilesSent, backlogFiles.size())) {
      f.file().close();
    }
    backlogFiles = List.of();
    backlogFilesSent = 0;
    backlog = null;
    pendingInput = null;
    limits.disconnect(uid);
    if (key != null) {
      key.cancel();
    }
    try {
      channel.close();
    } catch (IOException e) {
      log.debug("Could not close connection {}: {}", id, e.toString());
    }
    statistics.connectionClosed();
  }
}
