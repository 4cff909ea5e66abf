package dev.filebroker.client;

import java.io.IOException;

/**
 * The daemon and this library disagree about the protocol: a malformed reply, a reply to a request
 * that was never sent, a missing or surplus descriptor, or an ERROR reply with a protocol-error
 * code. The connection is closed and every request waiting on it fails with this exception; connect
 * again to go on.
 */
public final class BrokerProtocolException extends IOException {
  /**
   * Creates the exception.
   *
   * @param message which rule was broken
   */
  public BrokerProtocolException(String message) {
    super(message);
  }
}
