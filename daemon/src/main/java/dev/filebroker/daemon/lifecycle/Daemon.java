package dev.filebroker.daemon.lifecycle;

import dev.filebroker.daemon.audit.AuditLog;
import dev.filebroker.daemon.config.DaemonConfig;
import dev.filebroker.daemon.control.ControlHandler;
import dev.filebroker.daemon.control.ControlServer;
import dev.filebroker.daemon.control.ExplainQuery;
import dev.filebroker.daemon.control.Explanation;
import dev.filebroker.daemon.control.ReloadOutcome;
import dev.filebroker.daemon.control.StatusReport;
import dev.filebroker.daemon.endpoint.EndpointBindException;
import dev.filebroker.daemon.endpoint.EndpointLimits;
import dev.filebroker.daemon.endpoint.Endpoints;
import dev.filebroker.daemon.fs.FileOpener;
import dev.filebroker.daemon.fs.OwnCapabilities;
import dev.filebroker.daemon.fs.SignalDisposition;
import dev.filebroker.daemon.policy.Policy;
import dev.filebroker.daemon.policy.PolicyError;
import dev.filebroker.daemon.policy.PolicyLoad;
import dev.filebroker.daemon.policy.Rule;
import dev.filebroker.daemon.server.EssentialThreads;
import dev.filebroker.daemon.server.ListeningSocket;
import dev.filebroker.daemon.server.PolicyHolder;
import dev.filebroker.daemon.server.Server;
import dev.filebroker.daemon.server.ServerSettings;
import dev.filebroker.daemon.server.Statistics;
import dev.filebroker.daemon.systemd.ActivatedSocket;
import dev.filebroker.daemon.systemd.SocketActivation;
import dev.filebroker.daemon.varlink.VarlinkServer;
import java.io.IOException;
import java.io.PrintStream;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Runs the daemon from start to exit: load and check the policy (refusing to start on any error),
 * listen, serve, reload on SIGHUP or {@code filebroker reload}, and stop on SIGTERM after answering
 * the requests in flight.
 */
public final class Daemon implements ControlHandler {
  // Logging is set up on another thread during start-up (StartupWork): the logger is made on
  // first use, which is after that.
  private static final class LogHolder {
    static final Logger LOG = LoggerFactory.getLogger(Daemon.class);
  }

  private static Logger log() {
    return LogHolder.LOG;
  }

  private static final Duration STOP_TIMEOUT = Duration.ofSeconds(4);

  /** The {@code FileDescriptorName=} of a socket unit's control socket. */
  private static final String CONTROL_SOCKET_NAME = "control";

  /** The {@code FileDescriptorName=} of a socket unit's Varlink socket. */
  private static final String VARLINK_SOCKET_NAME = "varlink";

  private static final int SIGHUP = 1;

  private final DaemonConfig config;
  private final PrintStream console;
  private final CountDownLatch stopRequested = new CountDownLatch(1);

  /** Set when a thread the server cannot do without ended: the daemon stops and exits 1. */
  private volatile boolean threadLost;

  private PolicyHolder policies;
  private volatile ServiceManager manager = new ServiceManager(java.util.Optional.empty());
  private volatile Statistics statistics = new Statistics();
  private final Instant startedAt = Instant.now();

  /** A daemon configured by {@code config}; {@code console} receives start-up errors. */
  public Daemon(DaemonConfig config, PrintStream console) {
    this.config = config;
    this.console = console;
  }

  /** Serves until SIGTERM or SIGINT; returns the process exit status. */
  public int run() throws IOException, InterruptedException {
    StartupWork startup = StartupWork.begin();
    PolicyLoad load;
    try {
      load = CheckedPolicyLoader.load(config.policy());
    } catch (RuntimeException | Error e) {
      startup.abandon();
      throw e;
    }
    if (load instanceof PolicyLoad.Invalid invalid) {
      startup.abandon();
      console.println("filebroker: refusing to start: the policy has errors");
      for (PolicyError e : invalid.errors()) {
        console.println(e);
      }
      return 1;
    }
    FileOpener createdOpener = startup.opener();
    PolicyLoad.Valid loaded = (PolicyLoad.Valid) load;
    policies =
        new PolicyHolder(new PolicyHolder.Loaded(loaded.policy(), config.policy(), Instant.now()));
    ServerSettings settings = config.limits();
    Statistics statistics = new Statistics();
    this.statistics = statistics;
    List<ListeningSocket> listeners = new ArrayList<>();
    // The threads that accept connections (main, Varlink, endpoints) and watch idle ones: one that
    // ends before a stop ends the daemon with a failure.
    EssentialThreads essential = new EssentialThreads(this::threadLost);
    // The opener is closed before the audit log, as requests still in flight after the stop
    // timeout must fail rather than hand out a file that is never audited; listed first as well
    // (closing it twice is harmless), so that it is closed if the service manager or the audit
    // log cannot be opened.
    try (createdOpener;
        ServiceManager manager = ServiceManager.fromEnvironment();
        AuditLog audit = config.audit().open();
        FileOpener opener = createdOpener;
        Endpoints endpoints =
            Endpoints.start(
                config.endpoints(),
                opener,
                audit,
                policies,
                endpointLimits(config.limits()),
                essential)) {
      this.manager = manager;
      List<ActivatedSocket> inherited = SocketActivation.inherit();
      // Control socket: systemd's socket named "control" if passed, else bound at control_socket.
      Optional<ActivatedSocket> passedControl =
          inherited.stream().filter(s -> s.name().equals(CONTROL_SOCKET_NAME)).findFirst();
      Optional<ActivatedSocket> passedVarlink =
          inherited.stream().filter(s -> s.name().equals(VARLINK_SOCKET_NAME)).findFirst();
      inherited =
          inherited.stream()
              .filter(s -> !s.name().equals(CONTROL_SOCKET_NAME))
              .filter(s -> !s.name().equals(VARLINK_SOCKET_NAME))
              .toList();
      String where;
      if (inherited.isEmpty()) {
        listeners.add(ListeningSocket.bind(config.socket(), config.socketMode()));
        where = config.socket().toString();
      } else {
        for (ActivatedSocket s : inherited) {
          listeners.add(ListeningSocket.inherited(s.channel()));
        }
        where =
            "socket-activated "
                + String.join(", ", inherited.stream().map(ActivatedSocket::name).toList());
      }
      ControlServer control =
          passedControl.isPresent()
              ? ControlServer.inherited(passedControl.get().channel())
              : ControlServer.bind(config.controlSocket());
      Server server = new Server(listeners, settings, policies, opener, audit, statistics);
      if (SignalDisposition.restoreDefaultIfIgnored(SIGHUP)) {
        // Started under nohup or with SIGHUP otherwise ignored: the JVM would leave it ignored
        // and reloads would be lost without a word. Until the next line installs the handler
        // (microseconds, before the daemon says it is ready), a SIGHUP would end the daemon.
        log().info("SIGHUP was ignored at start; installing the reload handler anyway");
      }
      Signals.handle("HUP", this::reload);
      Signals.handle("TERM", stopRequested::countDown);
      Signals.handle("INT", stopRequested::countDown);
      server.start(essential);
      Optional<VarlinkServer> varlink =
          VarlinkStart.start(passedVarlink, config, server, settings, essential);
      control.start(this);
      log().info("Control socket on {}", control.where());
      log().info("Kernel open flags: {}", opener.openPath());
      log()
          .info(
              "Listening on {} with {} rules from {}",
              where,
              loaded.policy().ruleCount(),
              config.policy());
      log().info("Serving {} fixed endpoints", endpoints.size());
      logWarnings(loaded);
      warnIfExecutablesAreUnseen(loaded.policy());
      // Not on the console, which is for the reasons to refuse to start (at priority err).
      System.err.println("filebroker: listening on " + where);
      manager.ready(statistics.summary());
      ScheduledExecutorService timers =
          Executors.newSingleThreadScheduledExecutor(
              Thread.ofPlatform().name("filebroker-timers").daemon(true).factory());
      try {
        if (manager.active()) {
          timers.scheduleAtFixedRate(
              () -> manager.status(statistics.summary()), 5, 5, TimeUnit.SECONDS);
        }
        manager
            .watchdogInterval()
            .ifPresent(
                interval -> {
                  long half = Math.max(1, interval.toMillis() / 2);
                  timers.scheduleAtFixedRate(manager::watchdog, 0, half, TimeUnit.MILLISECONDS);
                });
        stopRequested.await();
      } finally {
        timers.shutdownNow();
        control.close();
      }
      log().info("Stopping: {}", statistics.summary());
      manager.stopping();
      varlink.ifPresent(VarlinkServer::close);
      server.stop(STOP_TIMEOUT);
    } catch (EndpointBindException e) {
      console.println("filebroker: refusing to start: " + e.getMessage());
      return 1;
    }
    return threadLost ? 1 : 0;
  }

  /**
   * A thread that accepts or watches connections ended: stop, and exit with a failure, so that the
   * service manager restarts the daemon (Restart=on-failure) and the watchdog is not answered by a
   * daemon that no longer serves.
   */
  private void threadLost(String name) {
    threadLost = true;
    log().error("Stopping: thread {} ended; the daemon cannot serve without it", name);
    stopRequested.countDown();
  }

  /** The per-uid limits of {@code [limits]}, for the fixed endpoints' connections. */
  static EndpointLimits endpointLimits(ServerSettings limits) {
    return new EndpointLimits(
        limits.maxConnectionsPerUid(),
        limits.requestsPerSecondPerUid(),
        limits.requestBurstPerUid());
  }

  /**
   * Re-reads the policy (SIGHUP and {@code filebroker reload}); a policy with errors is rejected
   * and the old one stays in force.
   */
  @Override
  public synchronized ReloadOutcome reload() {
    manager.reloading();
    try {
      return reloadPolicy();
    } finally {
      manager.ready(statistics.summary());
    }
  }

  /** The figures {@code filebroker status} shows. */
  @Override
  public StatusReport status() {
    return StatusReport.of(statistics, policies.current(), startedAt);
  }

  /** Decides a described request against the policy in force. */
  @Override
  public Explanation explain(ExplainQuery query) {
    return Explanation.evaluate(policies.current(), query);
  }

  private ReloadOutcome reloadPolicy() {
    PolicyLoad load = CheckedPolicyLoader.load(config.policy());
    return switch (load) {
      case PolicyLoad.Invalid invalid -> {
        log()
            .error(
                "Could not reload the policy from {}: {} errors; the previous policy stays in"
                    + " force",
                config.policy(),
                invalid.errors().size());
        for (PolicyError e : invalid.errors()) {
          log().error("Could not reload the policy: {}", e);
        }
        yield new ReloadOutcome.Rejected(config.policy(), invalid.errors());
      }
      case PolicyLoad.Valid loaded -> {
        policies.replace(new PolicyHolder.Loaded(loaded.policy(), config.policy(), Instant.now()));
        log()
            .info(
                "Reloaded the policy from {}: {} rules",
                config.policy(),
                loaded.policy().ruleCount());
        logWarnings(loaded);
        warnIfExecutablesAreUnseen(loaded.policy());
        yield new ReloadOutcome.Reloaded(config.policy(), loaded.policy().ruleCount());
      }
    };
  }

  /**
   * Logs the policy's warnings (allow rules a deny shadows), each in the words {@code filebroker
   * check} prints, at start and at every reload: the policy is in force all the same.
   */
  private static void logWarnings(PolicyLoad.Valid loaded) {
    for (PolicyError warning : loaded.warnings()) {
      log().warn("{}", warning);
    }
  }

  /**
   * Says so when rules name executables that the daemon cannot see: without CAP_SYS_PTRACE, another
   * user's /proc/PID/exe cannot be opened, the caller has no known executable, and such a rule
   * never applies to it (the shipped unit does not grant the capability).
   */
  private static void warnIfExecutablesAreUnseen(Policy policy) {
    List<Rule> naming = policy.rules().stream().filter(r -> !r.executables().isEmpty()).toList();
    if (!naming.isEmpty() && !OwnCapabilities.effective(OwnCapabilities.CAP_SYS_PTRACE)) {
      log()
          .warn(
              "{} rules name executables (first: {}), but the daemon lacks CAP_SYS_PTRACE: it"
                  + " cannot read the executable of another user's process, so these rules apply"
                  + " only to processes of its own uid; see executables in filebroker-policy(5)",
              naming.size(),
              naming.get(0).source());
    }
  }
}
