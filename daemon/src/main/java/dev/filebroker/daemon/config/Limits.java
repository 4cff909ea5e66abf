package dev.filebroker.daemon.config;

import java.time.Duration;

/**
 * The {@code [limits]} table of the daemon configuration. Every limit has a safe default; see
 * config/filebroker.toml (the shipped file, commented) and filebroker(8) for what each protects
 * against.
 *
 * @param eventLoops threads serving connections, 0 for one per CPU
 * @param maxConnections connections open at once
 * @param maxConnectionsPerUid connections one uid may hold open at once
 * @param requestsPerSecondPerUid sustained requests per second per uid
 * @param requestBurstPerUid requests a uid may make at once before the rate applies
 * @param maxRequestsInFlight replies answered ahead on a connection before the daemon waits for the
 *     client to read them
 * @param partialFrameTimeout how long a client may stall mid-frame
 * @param idleTimeout how long a connection may stay silent
 */
public record Limits(
    int eventLoops,
    int maxConnections,
    int maxConnectionsPerUid,
    int requestsPerSecondPerUid,
    int requestBurstPerUid,
    int maxRequestsInFlight,
    Duration partialFrameTimeout,
    Duration idleTimeout) {
  /** The defaults: sized for a busy desktop or server, well below what exhausts the daemon. */
  public static Limits defaults() {
    return new Limits(
        0, 65536, 1024, 20000, 2000, 64, Duration.ofSeconds(10), Duration.ofSeconds(600));
  }
}
