package dev.filebroker.daemon.lifecycle;

import dev.filebroker.daemon.audit.AuditLog;
import dev.filebroker.daemon.config.DaemonConfig;
import dev.filebroker.daemon.config.Limits;
import dev.filebroker.daemon.fs.FileOpener;
import dev.filebroker.daemon.policy.PolicyError;
import dev.filebroker.daemon.policy.PolicyLoad;
import dev.filebroker.daemon.policy.PolicyLoader;
import dev.filebroker.daemon.server.ListeningSocket;
import dev.filebroker.daemon.server.PolicyHolder;
import dev.filebroker.daemon.server.Server;
import dev.filebroker.daemon.server.ServerSettings;
import dev.filebroker.daemon.server.Statistics;
import java.io.IOException;
import java.io.PrintStream;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Runs the daemon from start to exit: load and check the policy (refusing to start on any error),
 * listen, serve, reload on SIGHUP, and stop on SIGTERM after answering the requests in flight.
 */
public final class Daemon {
  private static final Logger log = LoggerFactory.getLogger(Daemon.class);
  private static final Duration STOP_TIMEOUT = Duration.ofSeconds(4);

  private final DaemonConfig config;
  private final PrintStream console;
  private final CountDownLatch stopRequested = new CountDownLatch(1);
  private PolicyHolder policies;

  /** A daemon configured by {@code config}; {@code console} receives start-up errors. */
  public Daemon(DaemonConfig config, PrintStream console) {
    this.config = config;
    this.console = console;
  }

  /** Serves until SIGTERM or SIGINT; returns the process exit status. */
  public int run() throws IOException, InterruptedException {
    PolicyLoad load = PolicyLoader.load(config.policy());
    if (load instanceof PolicyLoad.Invalid invalid) {
      console.println("filebroker: refusing to start: the policy has errors");
      for (PolicyError e : invalid.errors()) {
        console.println(e);
      }
      return 1;
    }
    PolicyLoad.Loaded loaded = (PolicyLoad.Loaded) load;
    policies =
        new PolicyHolder(new PolicyHolder.Loaded(loaded.policy(), config.policy(), Instant.now()));
    ServerSettings settings = settings(config.limits());
    Statistics statistics = new Statistics();
    try (FileOpener opener = FileOpener.create()) {
      ListeningSocket listener = ListeningSocket.bind(config.socket(), config.socketMode());
      Server server =
          new Server(List.of(listener), settings, policies, opener, new AuditLog(), statistics);
      Signals.handle("HUP", this::reload);
      Signals.handle("TERM", stopRequested::countDown);
      Signals.handle("INT", stopRequested::countDown);
      server.start();
      log.info(
          "Listening on {} with {} rules from {}",
          config.socket(),
          loaded.policy().ruleCount(),
          config.policy());
      console.println("filebroker: listening on " + config.socket());
      console.flush();
      stopRequested.await();
      log.info("Stopping: {}", statistics.summary());
      server.stop(STOP_TIMEOUT);
    }
    return 0;
  }

  static ServerSettings settings(Limits limits) {
    int loops =
        limits.eventLoops() == 0
            ? Math.max(1, Runtime.getRuntime().availableProcessors())
            : limits.eventLoops();
    return new ServerSettings(
        loops,
        limits.maxConnections(),
        limits.maxConnectionsPerUid(),
        limits.requestsPerSecondPerUid(),
        limits.requestBurstPerUid(),
        limits.maxRequestsInFlight(),
        limits.partialFrameTimeout(),
        limits.idleTimeout());
  }

  /** Re-reads the policy; a policy with errors is rejected and the old one stays in force. */
  void reload() {
    PolicyLoad load = PolicyLoader.load(config.policy());
    switch (load) {
      case PolicyLoad.Invalid invalid -> {
        log.error(
            "Could not reload the policy from {}: {} errors; the previous policy stays in force",
            config.policy(),
            invalid.errors().size());
        for (PolicyError e : invalid.errors()) {
          log.error("Could not reload the policy: {}", e);
        }
      }
      case PolicyLoad.Loaded loaded -> {
        policies.replace(new PolicyHolder.Loaded(loaded.policy(), config.policy(), Instant.now()));
        log.info(
            "Reloaded the policy from {}: {} rules", config.policy(), loaded.policy().ruleCount());
      }
    }
  }
}
