package dev.filebroker.client;

import dev.filebroker.protocol.OpenFlags;
import java.io.FileDescriptor;
import java.io.IOException;
import java.io.InputStream;
import java.net.SocketTimeoutException;
import java.nio.file.AccessDeniedException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Objects;
import org.newsclub.net.unix.AFUNIXSocket;
import org.newsclub.net.unix.AFUNIXSocketAddress;

/**
 * {@link FileBroker#receiveFrom}: one descriptor from a program that passes descriptors the classic
 * way (a fixed endpoint of the daemon, or any other sender), without the filebroker protocol.
 */
final class EndpointReceiver {
  // The status flags receiveFrom reports as openFlags(); the rest of /proc's flags line is noise
  // (O_CLOEXEC, O_LARGEFILE) or does not survive open(2) (O_CREAT, O_TRUNC).
  private static final int RECEIVED_FLAGS =
      OpenFlags.O_ACCMODE
          | OpenFlags.O_APPEND
          | OpenFlags.O_NONBLOCK
          | OpenFlags.O_DIRECTORY
          | OpenFlags.O_PATH;

  private EndpointReceiver() {}

  /** As {@link FileBroker#receiveFrom(Path, Duration)}, which documents it. */
  static BrokeredFile receive(Path socketPath, Duration timeout) throws IOException {
    Objects.requireNonNull(socketPath, "socketPath == null");
    Objects.requireNonNull(timeout, "timeout == null");
    if (timeout.isNegative() || timeout.isZero()) {
      throw new IllegalArgumentException("timeout must be positive: " + timeout);
    }
    NativeAccess.require();
    long deadline = System.nanoTime() + timeout.toNanos();
    AFUNIXSocketAddress address = AFUNIXSocketAddress.of(socketPath);
    try (AFUNIXSocket socket = AFUNIXSocket.newInstance()) {
      socket.setAncillaryReceiveBufferSize(Connection.ANCILLARY_BUFFER_SIZE);
      try {
        socket.connect(address, remainingMillis(deadline, socketPath, timeout));
      } catch (IOException e) {
        throw new BrokerUnavailableException(
            socketPath,
            "Could not connect to the descriptor sender at "
                + socketPath
                + ": "
                + e.getMessage()
                + ". Check that the sender is running and that this user may write to the socket",
            e);
      }
      FileDescriptor received = readOneDescriptor(socket, socketPath, timeout, deadline);
      FileDescriptor owned = Descriptors.takeOwnership(received);
      try {
        int flags = Descriptors.statusFlags(owned) & RECEIVED_FLAGS;
        return new BrokeredFile(owned, socketPath.toString(), flags, Descriptors.fileMode(owned));
      } catch (IOException | RuntimeException e) {
        Descriptors.closeQuietly(owned, e);
        throw e;
      }
    }
  }

  private static FileDescriptor readOneDescriptor(
      AFUNIXSocket socket, Path socketPath, Duration timeout, long deadline) throws IOException {
    InputStream in = socket.getInputStream();
    byte[] discard = new byte[256];
    while (true) {
      socket.setSoTimeout(remainingMillis(deadline, socketPath, timeout));
      int read;
      try {
        read = in.read(discard);
      } catch (SocketTimeoutException e) {
        SocketTimeoutException timedOut = timedOut(socketPath, timeout);
        timedOut.initCause(e);
        throw timedOut;
      } catch (IOException e) {
        if (Descriptors.isControlTruncation(e)) {
          BrokerProtocolException truncated =
              new BrokerProtocolException(
                  socketPath
                      + " attached more descriptors to one message than a read can receive"
                      + " (MSG_CTRUNC); exactly one was expected");
          truncated.initCause(e);
          throw truncated;
        }
        throw e;
      }
      FileDescriptor[] descriptors = socket.getReceivedFileDescriptors();
      if (descriptors != null && descriptors.length == 1) {
        return descriptors[0];
      }
      if (descriptors != null && descriptors.length > 1) {
        BrokerProtocolException surplus =
            new BrokerProtocolException(
                socketPath
                    + " sent "
                    + descriptors.length
                    + " descriptors at once; exactly one was expected. All were closed");
        for (FileDescriptor descriptor : descriptors) {
          Descriptors.closeQuietly(descriptor, surplus);
        }
        throw surplus;
      }
      if (read < 0) {
        throw new AccessDeniedException(
            socketPath.toString(),
            null,
            "the endpoint closed the connection without sending a descriptor (denied?)");
      }
    }
  }

  /** Milliseconds left until the deadline, at least 1: 0 means "forever" to SO_TIMEOUT. */
  private static int remainingMillis(long deadline, Path socketPath, Duration timeout)
      throws SocketTimeoutException {
    long left = Duration.ofNanos(deadline - System.nanoTime()).toMillis();
    if (left <= 0) {
      throw timedOut(socketPath, timeout);
    }
    return (int) Math.min(Integer.MAX_VALUE, left);
  }

  private static SocketTimeoutException timedOut(Path socketPath, Duration timeout) {
    return new SocketTimeoutException(
        "No descriptor arrived from " + socketPath + " within " + timeout);
  }
}
