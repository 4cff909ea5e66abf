package dev.filebroker.daemon.server;

import java.time.Duration;
import java.util.Objects;

/**
 * Tunables of the connection machinery and the limits that keep one client from starving others.
 *
 * @param eventLoops threads watching connections no serving thread holds (idle ones); each owns an
 *     epoll set
 * @param maxConnections connections open at once; more are answered LIMIT_EXCEEDED and closed
 * @param maxConnectionsPerUid connections one uid may hold open at once
 * @param requestsPerSecondPerUid sustained request rate per uid; more are answered LIMIT_EXCEEDED
 * @param requestBurstPerUid requests a uid may make at once before the rate applies
 * @param maxRequestsInFlight requests answered ahead on one connection whose replies the client has
 *     not read yet; past it the daemon stops reading from that connection until the client reads
 * @param partialFrameTimeout how long a client may stall in the middle of a frame
 * @param idleTimeout how long a connection may stay silent before the daemon closes it
 */
public record ServerSettings(
    int eventLoops,
    int maxConnections,
    int maxConnectionsPerUid,
    int requestsPerSecondPerUid,
    int requestBurstPerUid,
    int maxRequestsInFlight,
    Duration partialFrameTimeout,
    Duration idleTimeout) {
  public ServerSettings {
    if (eventLoops < 1 || eventLoops > 256) {
      throw new IllegalArgumentException("eventLoops must be within 1..256: " + eventLoops);
    }
    positive("maxConnections", maxConnections);
    positive("maxConnectionsPerUid", maxConnectionsPerUid);
    positive("requestsPerSecondPerUid", requestsPerSecondPerUid);
    positive("requestBurstPerUid", requestBurstPerUid);
    positive("maxRequestsInFlight", maxRequestsInFlight);
    positive("partialFrameTimeout", partialFrameTimeout);
    positive("idleTimeout", idleTimeout);
  }

  /**
   * The most threads serving active connections at once: 32 per CPU, at least 128. More active
   * connections than this wait their turn, served one read's worth at a time.
   */
  public int servingThreads() {
    return Math.max(128, 32 * Runtime.getRuntime().availableProcessors());
  }

  private static void positive(String name, int value) {
    if (value < 1) {
      throw new IllegalArgumentException(name + " must be positive: " + value);
    }
  }

  private static void positive(String name, Duration value) {
    Objects.requireNonNull(value, name + " == null");
    if (value.isNegative() || value.isZero()) {
      throw new IllegalArgumentException(name + " must be positive: " + value);
    }
  }
}
