package dev.filebroker.daemon.server;

import java.time.Duration;
import java.util.Objects;

/**
 * Tunables of the connection machinery.
 *
 * @param eventLoops threads serving connections; each owns a selector
 * @param maxConnections connections open at once; more are accepted and closed at once
 * @param partialFrameTimeout how long a client may stall in the middle of a frame
 */
public record ServerSettings(int eventLoops, int maxConnections, Duration partialFrameTimeout) {
  public ServerSettings {
    if (eventLoops < 1 || eventLoops > 256) {
      throw new IllegalArgumentException("eventLoops must be within 1..256: " + eventLoops);
    }
    if (maxConnections < 1) {
      throw new IllegalArgumentException("maxConnections must be positive: " + maxConnections);
    }
    Objects.requireNonNull(partialFrameTimeout, "partialFrameTimeout == null");
    if (partialFrameTimeout.isNegative() || partialFrameTimeout.isZero()) {
      throw new IllegalArgumentException("partialFrameTimeout must be positive");
    }
  }

  /** One loop per CPU, 65,536 connections, 10 seconds to finish a frame. */
  public static ServerSettings defaults() {
    return new ServerSettings(
        Math.max(1, Runtime.getRuntime().availableProcessors()), 65536, Duration.ofSeconds(10));
  }
}
