package dev.filebroker.client;

import java.io.IOException;

/**
 * The connection to the daemon is gone: the {@link FileBroker} was closed, the daemon closed the
 * connection, or reading or writing the socket failed. Requests waiting on the connection fail with
 * this exception; connect again to go on.
 */
public final class BrokerConnectionClosedException extends IOException {
  /**
   * Creates the exception.
   *
   * @param message why the connection is gone
   * @param cause the I/O failure behind it, or {@code null} when there was none
   */
  public BrokerConnectionClosedException(String message, Throwable cause) {
    super(message, cause);
  }
}
