package dev.filebroker.daemon.systemd;

import java.util.Objects;
import org.newsclub.net.unix.AFUNIXServerSocketChannel;

/**
 * A listening AF_UNIX stream socket the service manager passed to this process.
 *
 * <p>The daemon owns the socket from now on: closing {@code channel} closes {@code fd}.
 *
 * @param name the name from {@code LISTEN_FDNAMES} ({@code FileDescriptorName=} in the socket
 *     unit), or {@code "unknown"} when the service manager did not name it
 * @param fd the descriptor number, 3 or above
 * @param channel the listening channel wrapping {@code fd}
 */
public record ActivatedSocket(String name, int fd, AFUNIXServerSocketChannel channel) {
  /** Checks the components. */
  public ActivatedSocket {
    Objects.requireNonNull(name, "name == null");
    Objects.requireNonNull(channel, "channel == null");
    if (fd < SocketActivation.FIRST_FD) {
      throw new IllegalArgumentException("fd must be >= 3, got " + fd);
    }
  }
}
