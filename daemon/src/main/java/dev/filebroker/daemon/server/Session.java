package dev.filebroker.daemon.server;

import dev.filebroker.daemon.fs.SocketMessages;
import dev.filebroker.daemon.policy.Caller;
import dev.filebroker.protocol.Decoded;
import dev.filebroker.protocol.ErrorCode;
import dev.filebroker.protocol.ErrorReply;
import dev.filebroker.protocol.FrameCodec;
import dev.filebroker.protocol.Protocol;
import dev.filebroker.protocol.Request;
import java.io.IOException;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.function.BooleanSupplier;
import org.newsclub.net.unix.AFUNIXSocketChannel;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One client connection: read, decode, hand each request to the handler, write the replies with
 * their descriptors. Malformed input ends the connection after a protocol-error reply; refused or
 * failed requests are answered and the connection stays.
 *
 * <p>One thread at a time touches a session: a serving thread while the connection is active, its
 * parker while it is parked; it passes between them through concurrent queues. Parked sessions hold
 * no buffers: input that ends mid-frame and output the socket would not take are copied aside until
 * they complete.
 */
final class Session {
  private static final Logger log = LoggerFactory.getLogger(Session.class);

  /** The uid connection and rate limits are counted against. */
  static long uidOf(Optional<Caller> caller) {
    return caller.map(c -> Integer.toUnsignedLong(c.uid())).orElse(UidLimits.UNKNOWN_UID);
  }

  /** Bytes read from one connection per readiness event. */
  static final int READ_QUANTUM = 4096;

  private final AFUNIXSocketChannel channel;
  private final Optional<Caller> caller;
  private final RequestHandler handler;
  private final Statistics statistics;
  private final UidLimits limits;

  /** The uid's turns of processing ({@link FairShare}): taken per read's worth of requests. */
  private final FairShare.Gate gate;

  private final FairShare.Ticket ticket = new FairShare.Ticket();

  private final long uid;
  private final int maxRequestsInFlight;
  private final long id;
  private ParkingSlot registration;

  /** The socket I/O of the thread serving it now ({@link #bind}). */
  private SocketMessages io;

  private int socket = -1;

  /** Asked once per path of a request: the uid's rate limit (made once, not per request). */
  private final BooleanSupplier permit;

  /** The replies of one {@link #process} call; reused, as is the descriptor list of a write. */
  private final List<Response> replies = new ArrayList<>();

  /** Input received but not yet decoded (a partial frame, or frames held back by backpressure). */
  private byte[] pendingInput;

  /** Output the socket did not take yet, in order, and the owner of its descriptors. */
  private final Outbox outbox;

  /** Closes what may block; the connection itself too when descriptors can be queued on it. */
  private final Closer closer;

  private final boolean closeChannelOffThread;

  /** A protocol error was answered: close once the backlog is written. */
  private boolean closing;

  /** The daemon is stopping: answer what was sent, then close. */
  private boolean draining;

  /**
   * Set once, by the first {@link #close()}. Volatile and taken with a compare-and-set: a session
   * has one owner at a time, but on an error path (an Error thrown after the session was parked or
   * queued again) its old owner closes it while the new one may close it too, and the connection's
   * places (its uid's count, its fair-share gate, the open-connection figure) must be given back
   * once.
   */
  private volatile boolean closed;

  private static final VarHandle CLOSED;

  static {
    try {
      CLOSED = MethodHandles.lookup().findVarHandle(Session.class, "closed", boolean.class);
    } catch (ReflectiveOperationException e) {
      throw new ExceptionInInitializerError(e);
    }
  }

  private long lastActivityNanos;

  /** Whether a frame is incomplete, and since when its first byte is here. */
  private boolean frameOpen;

  private long frameStartedNanos;

  /** Whether replies wait for the client to read, and since when. */
  private boolean outputWaiting;

  private long outputWaitingSinceNanos;

  Session(
      long id,
      AFUNIXSocketChannel channel,
      Optional<Caller> caller,
      RequestHandler handler,
      Statistics statistics,
      UidLimits limits,
      FairShare.Gate gate,
      int maxRequestsInFlight,
      Closer closer,
      boolean descriptorsRefusedAtSocket) {
    this.id = id;
    this.closer = closer;
    this.outbox = new Outbox(closer);
    // Closing a socket whose queue holds descriptors a client sent releases them on this thread.
    this.closeChannelOffThread = !descriptorsRefusedAtSocket;
    this.channel = channel;
    this.caller = caller;
    this.handler = handler;
    this.statistics = statistics;
    this.limits = limits;
    this.gate = gate;
    this.uid = uidOf(caller);
    this.maxRequestsInFlight = maxRequestsInFlight;
    this.lastActivityNanos = System.nanoTime();
    this.permit = () -> limits.tryRequest(uid);
  }

  /** Joins the machinery: its slot, and the connection's descriptor. */
  void attach(ParkingSlot slot, int socket) {
    this.registration = slot;
    this.socket = socket;
  }

  /** The slot from {@link #attach}; null before. */
  ParkingSlot slot() {
    return registration;
  }

  /** Uses the socket I/O of the thread that serves the session from now on. */
  void bind(SocketMessages io) {
    this.io = io;
  }

  long id() {
    return id;
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

  /** The uid's turns of processing. */
  FairShare.Gate gate() {
    return gate;
  }

  /**
   * Reads what the socket has (with {@code wait}, waiting up to the socket's receive timeout) and
   * answers every complete request in it; returns the bytes read (0: none, -1: closed).
   */
  int onReadable(ByteBuffer in, ByteBuffer out, boolean wait) {
    return readOnce(in, out, wait);
  }

  private int readOnce(ByteBuffer in, ByteBuffer out) {
    return readOnce(in, out, false);
  }

  /** One read and everything it completes; returns the bytes read (0: none, -1: closed). */
  private int readOnce(ByteBuffer in, ByteBuffer out, boolean wait) {
    if (closed || !outbox.isEmpty()) {
      // Backpressure: replies wait for the client; read nothing more until they are written.
      return 0;
    }
    in.clear();
    if (pendingInput != null) {
      in.put(pendingInput);
      pendingInput = null;
    }
    // Read a bounded slice per round: what stays in the kernel is read on a later round, so a
    // connection pipelining without pause cannot keep a thread from others waiting for one.
    in.limit(Math.min(in.capacity(), in.position() + READ_QUANTUM));
    int n;
    try {
      n = io.receive(socket, in, wait);
    } catch (IOException e) {
      log.debug("Could not read from connection {}: {}", id, e.toString());
      close();
      return -1;
    }
    if (n != 0) {
      lastActivityNanos = System.nanoTime();
    }
    if (io.receivedDescriptors() > 0 || io.descriptorsTruncated()) {
      refuseDescriptors(io.receivedDescriptors(), io.descriptorsTruncated());
      return -1;
    }
    in.flip();
    if (n < 0) {
      // The client half-closed or went away: answer what it sent, then end the connection.
      if (in.hasRemaining()) {
        process(in, out);
      }
      if (pendingInput != null) {
        log.debug("Connection {} closed mid-frame after {} bytes", id, pendingInput.length);
        pendingInput = null;
      }
      if (outbox.isEmpty()) {
        close();
      } else {
        closing = true;
      }
      return -1;
    }
    process(in, out);
    return n;
  }

  /**
   * Shutting down: answers every request the client already sent (reading until the socket has
   * nothing more), then closes once the replies are written. The parker bounds how long.
   */
  void drain(ByteBuffer in, ByteBuffer out) {
    draining = true;
    while (!closed && outbox.isEmpty() && !closing) {
      if (readOnce(in, out) <= 0) {
        break;
      }
    }
    if (!closed && outbox.isEmpty()) {
      close();
    }
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
    if (!closed && outbox.isEmpty()) {
      if (draining) {
        drain(in, out);
      } else {
        registration.wantRead();
      }
    }
  }

  /**
   * Ends the connection: a frame took too long to arrive, or the connection was idle for too long.
   * The TIMEOUT error saying why is sent if the socket takes it at once; the connection closes
   * either way, and with it every descriptor still waiting for the client.
   */
  void timeOut(ByteBuffer out, String why) {
    statistics.protocolError();
    if (!closed && outbox.isEmpty()) {
      closing = true;
      List<Response> replies = new ArrayList<>(1);
      replies.add(Response.of(ErrorReply.of(0, ErrorCode.TIMEOUT, 0, why)));
      write(replies, out);
    }
    log.debug("Closing connection {}: {}", id, why);
    close();
  }

  /**
   * How long the frame still incomplete has been arriving, in nanoseconds since its first byte; 0
   * when no frame is incomplete. Bounded in total, not per silence, so a client dripping a byte now
   * and then cannot hold a frame open.
   */
  long frameAge(long now) {
    return frameOpen ? now - frameStartedNanos : 0;
  }

  /** How long replies have waited for a client that does not read them; 0 when none wait. */
  long outputAge(long now) {
    return outputWaiting && !outbox.isEmpty() ? now - outputWaitingSinceNanos : 0;
  }

  /**
   * Answers what {@code in} holds, on one of the uid's turns ({@link FairShare}): taken once the
   * requests are read, given back once their replies are written (or left waiting in the outbox).
   */
  private void process(ByteBuffer in, ByteBuffer out) {
    boolean turn = gate.enter(ticket);
    try {
      decodeAndAnswer(in, out);
    } catch (RuntimeException e) {
      // A bug: the replies answered so far are closed here, then the connection ends.
      for (Response r : replies) {
        r.close();
      }
      replies.clear();
      throw e;
    } finally {
      if (turn) {
        gate.leave(ticket);
      }
    }
  }

  private void decodeAndAnswer(ByteBuffer in, ByteBuffer out) {
    List<Response> replies = this.replies;
    replies.clear();
    int descriptors = 0;
    while (!closing) {
      Decoded<Request> decoded = FrameCodec.decodeRequest(in);
      switch (decoded) {
        case Decoded.NeedMore<Request> more -> {
          flushOrHoldBack(replies, in, out);
          replies.clear();
          return;
        }
        case Decoded.Frame<Request> frame -> {
          frameOpen = false;
          // Every path counts against the rate: one for OPEN, one per entry of OPEN_MANY.
          Response r = handler.handle(caller, frame.message(), permit);
          replies.add(r);
          descriptors += r.files().size();
        }
        case Decoded.Rejected<Request> rejected -> {
          frameOpen = false;
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
      // What one connection holds for its client is capped: max_requests_in_flight replies, and
      // fewer than 2 * MAX_DESCRIPTORS_PER_REPLY descriptors (then nothing more is read from it).
      if (replies.size() >= maxRequestsInFlight
          || descriptors >= Protocol.MAX_DESCRIPTORS_PER_REPLY) {
        boolean written = write(replies, out);
        replies.clear();
        descriptors = 0;
        if (!written) {
          holdBack(in);
          return;
        }
      }
    }
    boolean written = write(replies, out);
    replies.clear();
    if (written) {
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
      if (!frameOpen) {
        // The first byte of this frame arrived with the read just processed.
        frameOpen = true;
        frameStartedNanos = System.nanoTime();
      }
    }
  }

  /**
   * Encodes and sends {@code replies} through the outbox ({@link Outbox#send}), which owns their
   * descriptors from then on; replies not handed over are closed on every path. Returns whether
   * everything was written; otherwise the rest waits in the outbox and the session waits for the
   * socket to become writable.
   */
  private boolean write(List<Response> replies, ByteBuffer out) {
    try {
      outbox.send(replies, out, io, socket);
    } catch (IOException e) {
      log.debug("Could not write to connection {}: {}", id, e.toString());
      close();
      return false;
    }
    if (!outbox.isEmpty()) {
      if (!outputWaiting) {
        outputWaiting = true;
        outputWaitingSinceNanos = System.nanoTime();
      }
      registration.wantWrite();
      return false;
    }
    return true;
  }

  /** Sends what waits in the outbox; returns whether it is now empty. Closes on a write error. */
  private boolean flushBacklog() {
    try {
      if (outbox.flush(io, socket)) {
        outputWaiting = false;
        return true;
      }
    } catch (IOException e) {
      log.debug("Could not write to connection {}: {}", id, e.toString());
      close();
      return false;
    }
    registration.wantWrite();
    return false;
  }

  /**
   * A client that attaches descriptors breaks the protocol (possible only where the kernel lacks
   * SO_PASSRIGHTS): they are being closed off this thread already; answer, hang up.
   */
  private void refuseDescriptors(int received, boolean truncated) {
    log.info(
        "Client on connection {} sent {} descriptors{}; closing",
        id,
        received,
        truncated ? " and more than fit the control buffer" : "");
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
                "clients must not send descriptors; "
                    + received
                    + (truncated ? " or more" : "")
                    + " received and closed")));
    if (write(replies, ByteBuffer.allocate(Protocol.MAX_FRAME_SIZE))) {
      close();
    }
  }

  /** Closes the connection and every descriptor still waiting to be sent. */
  void close() {
    if (!CLOSED.compareAndSet(this, false, true)) {
      return;
    }
    outbox.close();
    pendingInput = null;
    limits.disconnect(uid);
    gate.release();
    if (registration != null) {
      registration.cancel();
    }
    if (closeChannelOffThread) {
      closer.close(channel);
    } else {
      try {
        channel.close();
      } catch (IOException e) {
        log.debug("Could not close connection {}: {}", id, e.toString());
      }
    }
    statistics.connectionClosed();
  }
}
