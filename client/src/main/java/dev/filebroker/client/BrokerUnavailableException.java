package dev.filebroker.client;

import java.io.IOException;
import java.nio.file.Path;
import java.util.Objects;

/**
 * The daemon could not be reached: its socket does not exist ({@code ENOENT}), nothing listens on
 * it ({@code ECONNREFUSED}) or this process may not connect to it ({@code EACCES}). The message
 * names the socket and what to check.
 */
public final class BrokerUnavailableException extends IOException {
  private final Path socket;

  /**
   * Creates the exception.
   *
   * @param socket the socket path a connection was attempted on
   * @param message what went wrong and what to check, naming the socket
   * @param cause the exception of the failed {@code connect(2)}
   */
  public BrokerUnavailableException(Path socket, String message, Throwable cause) {
    super(message, cause);
    this.socket = Objects.requireNonNull(socket, "socket == null");
  }

  /** The socket path a connection was attempted on. */
  public Path socket() {
    return socket;
  }
}
