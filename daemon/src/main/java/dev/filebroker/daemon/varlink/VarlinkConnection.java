package dev.filebroker.daemon.varlink;

import dev.filebroker.daemon.fs.Descriptors;
import dev.filebroker.daemon.fs.Poller;
import dev.filebroker.daemon.fs.SocketMessages;
import dev.filebroker.daemon.policy.Caller;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.Arrays;
import java.util.Optional;
import org.newsclub.net.unix.AFUNIXSocketChannel;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One Varlink connection on its own thread: read up to a NUL, decode, answer, write the reply with
 * its descriptors on the reply's first byte, and only then read the next call (a client that does
 * not read its replies stops being read). A malformed message, one over {@link
 * VarlinkCodec#MAX_MESSAGE_SIZE}, a descriptor sent by the client, silence longer than the idle
 * timeout, or a message that does not arrive whole within the partial-frame timeout ends the
 * connection without an answer. Every descriptor of a reply is closed exactly once: after its first
 * byte is sent, or when the connection ends before that.
 *
 * <p>When the daemon stops ({@link #stop}), the calls already received or waiting in the socket are
 * answered, for at most {@link #DRAIN}, and the connection closes once nothing more waits to be
 * read or sent.
 */
final class VarlinkConnection implements Runnable {
  private static final Logger log = LoggerFactory.getLogger(VarlinkConnection.class);
  private static final int READ_SIZE = 16384;
  private static final long TOKEN = 1;

  private final long id;
  private final AFUNIXSocketChannel channel;
  private final Optional<Caller> caller;
  private final BrokerService service;
  private final long idleNanos;
  private final long messageNanos;
  private final Runnable onClose;

  /** How long a stopping connection may take to answer what its client sent before the stop. */
  static final Duration DRAIN = Duration.ofSeconds(2);

  private volatile boolean stopping;
  private volatile Poller poller;

  private byte[] input = new byte[READ_SIZE];
  private int used;

  /** When the first byte of the message now arriving came. */
  private long messageStarted;

  /** The reply being sent: its files until its first byte went out, then only bytes. */
  private VarlinkReply pendingReply;

  private ByteBuffer pendingBytes;

  VarlinkConnection(
      long id,
      AFUNIXSocketChannel channel,
      Optional<Caller> caller,
      BrokerService service,
      long idleNanos,
      long messageNanos,
      Runnable onClose) {
    this.id = id;
    this.channel = channel;
    this.caller = caller;
    this.service = service;
    this.idleNanos = idleNanos;
    this.messageNanos = messageNanos;
    this.onClose = onClose;
  }

  /** Answers what the client has sent, then ends the connection (the daemon is stopping). */
  void stop() {
    stopping = true;
    Poller p = poller;
    if (p != null) {
      p.wakeup();
    }
  }

  @Override
  public void run() {
    try (channel;
        // Two slots: the wake-up's event must never hide the socket's.
        Poller p = Poller.open(2);
        SocketMessages io = new SocketMessages(READ_SIZE)) {
      poller = p;
      channel.configureBlocking(false);
      int fd = Descriptors.fdOf(channel.getFileDescriptor());
      p.add(fd, TOKEN, Poller.READ);
      serve(p, io, fd);
    } catch (IOException e) {
      log.debug("Varlink connection {} ended: {}", id, e.toString());
    } finally {
      if (pendingReply != null) {
        pendingReply.close();
        pendingReply = null;
      }
      onClose.run();
    }
  }

  private void serve(Poller p, SocketMessages io, int fd) throws IOException {
    long[] tokens = new long[2];
    int[] ready = new int[2];
    long lastActivity = System.nanoTime();
    long drainUntil = 0;
    ByteBuffer in = ByteBuffer.allocate(READ_SIZE);
    int interest = Poller.READ;
    while (true) {
      if (pendingBytes == null && !answerComplete(io, fd)) {
        return;
      }
      long now = System.nanoTime();
      boolean draining = stopping;
      if (draining && drainUntil == 0) {
        drainUntil = now + DRAIN.toNanos();
      }
      int want = pendingBytes != null ? Poller.WRITE : Poller.READ;
      if (want != interest) {
        p.modify(fd, TOKEN, want);
        interest = want;
      }
      long left;
      if (draining) {
        left = drainUntil - now;
      } else {
        left = idleNanos - (now - lastActivity);
        if (used > 0) {
          // A message must arrive whole within the partial-frame timeout of its first byte.
          left = Math.min(left, messageNanos - (now - messageStarted));
        }
      }
      if (left <= 0) {
        log.debug("Closing Varlink connection {}: idle, a message took too long, or stopping", id);
        return;
      }
      // Draining with nothing to send, read at once (the socket is non-blocking): a read that
      // finds nothing ends the connection. Not through the poller, whose wake-up may be all it
      // reports while calls still wait in the socket.
      if (!(draining && pendingBytes == null)) {
        int wait = (int) Math.max(1, Math.min(Integer.MAX_VALUE, left / 1_000_000));
        if (p.poll(tokens, ready, wait) == 0) {
          continue;
        }
      }
      if (pendingBytes != null) {
        if (!send(io, fd)) {
          return;
        }
        lastActivity = System.nanoTime();
        continue;
      }
      in.clear();
      int n = io.receive(fd, in);
      if (io.receivedDescriptors() > 0 || io.descriptorsTruncated()) {
        log.info("Varlink client on connection {} sent descriptors; closing", id);
        return;
      }
      if (n < 0) {
        return;
      }
      if (n > 0) {
        lastActivity = System.nanoTime();
        if (used == 0) {
          messageStarted = lastActivity;
        }
        append(in.array(), n);
      } else if (draining) {
        return;
      }
    }
  }

  private void append(byte[] data, int n) {
    if (used + n > input.length) {
      input =
          Arrays.copyOf(
              input,
              Math.max(
                  used + n, Math.min(2 * input.length, VarlinkCodec.MAX_MESSAGE_SIZE + READ_SIZE)));
    }
    System.arraycopy(data, 0, input, used, n);
    used += n;
  }

  /**
   * Answers every complete message received, until a reply waits for the socket; false when the
   * connection must end (malformed or oversized input, a write error).
   */
  private boolean answerComplete(SocketMessages io, int fd) throws IOException {
    while (pendingBytes == null) {
      int end = -1;
      for (int i = 0; i < used; i++) {
        if (input[i] == 0) {
          end = i;
          break;
        }
      }
      if (end < 0) {
        if (used > VarlinkCodec.MAX_MESSAGE_SIZE) {
          log.info(
              "Varlink client on connection {} sent a message over {} bytes; closing",
              id,
              VarlinkCodec.MAX_MESSAGE_SIZE);
          return false;
        }
        return true;
      }
      if (end > VarlinkCodec.MAX_MESSAGE_SIZE) {
        log.info(
            "Varlink client on connection {} sent a message over {} bytes; closing",
            id,
            VarlinkCodec.MAX_MESSAGE_SIZE);
        return false;
      }
      VarlinkCodec.Decoded decoded = VarlinkCodec.decode(input, 0, end);
      System.arraycopy(input, end + 1, input, 0, used - end - 1);
      used -= end + 1;
      // What follows the NUL is the start of the next message: its clock starts now.
      messageStarted = System.nanoTime();
      switch (decoded) {
        case VarlinkCodec.Malformed bad -> {
          log.info("Could not decode a Varlink message on connection {}: {}", id, bad.reason());
          return false;
        }
        case VarlinkCodec.Call call -> {
          VarlinkReply reply = service.answer(caller, call);
          if (call.oneway()) {
            reply.close();
          } else {
            pendingReply = reply;
            pendingBytes = ByteBuffer.wrap(reply.message());
            if (!send(io, fd)) {
              return false;
            }
          }
        }
      }
    }
    return true;
  }

  /**
   * Sends what the pending reply still has; its descriptors travel with its first byte and are
   * closed once that byte is sent (or when the connection ends first). False on a write error.
   */
  private boolean send(SocketMessages io, int fd) {
    try {
      int n =
          pendingReply != null
              ? io.send(fd, pendingBytes, pendingReply.files())
              : io.send(fd, pendingBytes, new int[0], 0);
      if (n > 0 && pendingReply != null) {
        pendingReply.close();
        pendingReply = null;
      }
    } catch (IOException e) {
      log.debug("Could not write to Varlink connection {}: {}", id, e.toString());
      return false;
    }
    if (!pendingBytes.hasRemaining()) {
      pendingBytes = null;
    }
    return true;
  }
}
