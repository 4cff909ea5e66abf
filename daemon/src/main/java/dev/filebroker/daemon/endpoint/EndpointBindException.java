package dev.filebroker.daemon.endpoint;

import java.io.IOException;

/**
 * An endpoint socket could not be bound (a live socket or another file is at its path, or its
 * directory cannot be created): the daemon refuses to start rather than run without it.
 */
public final class EndpointBindException extends IOException {
  private static final long serialVersionUID = 1L;

  /** An exception whose message names the endpoint, where it is declared, and the cause. */
  public EndpointBindException(String message, IOException cause) {
    super(message, cause);
  }
}
