package dev.filebroker.daemon.audit;

import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.Objects;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.LongSupplier;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Writes one JSON line per decision, to the {@code filebroker.audit} logger ({@link #stdout()}) or
 * to a file ({@link #toFile(Path)}), collapsing bursts of identical denials.
 *
 * <p>Identical denials (same uid, path, access, rule and result) within {@link #BURST_WINDOW} of
 * the first are not written; when the window closes, one {@code "event":"suppressed"} line says how
 * many there were. A client repeating a denied request therefore adds at most two lines per window
 * per distinct request. Neither destination makes the request path wait for a write. Safe to use
 * from any number of threads.
 */
public final class AuditLog implements AutoCloseable {
  /** Name of the logger audit lines go to; logging configuration routes it. */
  public static final String LOGGER_NAME = "filebroker.audit";

  /** How long identical denials are collapsed after the first one. */
  public static final Duration BURST_WINDOW = Duration.ofSeconds(1);

  /** Where lines go. Implementations must not block the caller on I/O. */
  interface Sink extends AutoCloseable {
    /**
     * Writes (or queues) a line that records no grant: a denial, a failed open, a summary.
     *
     * @return whether the line was taken; one that was not is counted by the sink
     */
    boolean write(String line);

    /**
     * Writes (or queues) {@code event}'s line; a sink may encode it later, on its own thread. A
     * grant's line may use room the sink keeps for grants, which other lines cannot fill.
     *
     * @return whether the line was taken; one that was not is counted by the sink
     */
    default boolean write(AuditEvent event) {
      return write(event.toJson());
    }

    @Override
    void close();
  }

  private final Sink sink;
  private final DenialCollapser collapser;
  private final Supplier<Instant> wallClock;
  private final ScheduledExecutorService flusher;
  private volatile boolean reasonsToClients = true;

  /** An audit log writing to {@link #LOGGER_NAME}, with burst collapsing. */
  public AuditLog() {
    this(
        loggerSink(LoggerFactory.getLogger(LOGGER_NAME)),
        System::nanoTime,
        Instant::now,
        true,
        UserNames.SYSTEM);
  }

  /** An audit log writing to the given logger, for tests. */
  AuditLog(Logger logger) {
    this(loggerSink(logger), System::nanoTime, Instant::now, false);
  }

  /**
   * An audit log over {@code sink}; {@code flushPeriodically} starts a daemon thread that closes
   * expired bursts once per window even when no further event arrives.
   */
  AuditLog(
      Sink sink, LongSupplier nanoClock, Supplier<Instant> wallClock, boolean flushPeriodically) {
    this(sink, nanoClock, wallClock, flushPeriodically, UserNames.NONE);
  }

  /** As above; summary lines name users from {@code names}. */
  AuditLog(
      Sink sink,
      LongSupplier nanoClock,
      Supplier<Instant> wallClock,
      boolean flushPeriodically,
      UserNames names) {
    this.sink = Objects.requireNonNull(sink, "sink == null");
    this.wallClock = Objects.requireNonNull(wallClock, "wallClock == null");
    this.collapser = new DenialCollapser(BURST_WINDOW.toNanos(), nanoClock, names);
    if (flushPeriodically) {
      flusher =
          Executors.newSingleThreadScheduledExecutor(
              task -> {
                Thread thread = new Thread(task, "filebroker-audit-flush");
                thread.setDaemon(true);
                return thread;
              });
      long period = BURST_WINDOW.toMillis();
      flusher.scheduleWithFixedDelay(this::flush, period, period, TimeUnit.MILLISECONDS);
    } else {
      flusher = null;
    }
  }

  /**
   * The audit log for standard output. Under the shipped logging configuration, which sends the
   * {@code filebroker.audit} logger to stdout as bare lines, the lines are written to descriptor 1
   * directly, in batches by a background thread exactly like {@link #toFile(Path, int)} (bounded
   * queue; lines beyond it are counted and reported rather than stalling requests, and grants
   * beyond it refused): a logging event per line would wake the appender's thread for every
   * request. When a logging configuration of the administrator's is in force ({@code
   * -Dlogback.configurationFile}, which the launcher passes for /etc/filebroker/logback.xml), lines
   * go to the {@code filebroker.audit} logger so that it decides where they go.
   */
  public static AuditLog stdout(int queueLines) {
    if (System.getProperty("logback.configurationFile") != null) {
      return new AuditLog();
    }
    FileSink sink = FileSink.stdout(queueLines);
    sink.start();
    return new AuditLog(sink, System::nanoTime, Instant::now, true, UserNames.SYSTEM);
  }

  /**
   * An audit log appending one line per event to {@code file} (created with mode 0640 when
   * missing). Lines are queued (at most {@code queueLines}) and written in batches by a background
   * thread; when the queue is full, lines are dropped and counted, and a later {@code
   * "event":"dropped"} line gives the count (a grant's line is never dropped: {@link #record}
   * refuses it, and the grant is not handed out). A quarter of the queue is kept for grants.
   *
   * @throws IOException when the file cannot be opened for appending
   */
  public static AuditLog toFile(Path file, int queueLines) throws IOException {
    FileSink sink = FileSink.open(file, queueLines);
    sink.start();
    return new AuditLog(sink, System::nanoTime, Instant::now, true, UserNames.SYSTEM);
  }

  /**
   * Records one decision (or counts it, when it repeats a recent identical denial).
   *
   * <p>Denials are written, collapsed into a later {@code "suppressed"} line, or (when the sink is
   * full) counted in a later {@code "dropped"} line: either way the record's counts are exact, and
   * a summary line is queued after the line of the denial it follows. Any other event is recorded
   * only if its line could be taken: the caller must not hand out a grant for which this returns
   * false.
   *
   * @return whether the event's line was taken (always true for a denial, which is then written,
   *     collapsed or counted)
   */
  public boolean record(AuditEvent event) {
    Objects.requireNonNull(event, "event == null");
    return collapser.offer(event, wallClock, sink);
  }

  /**
   * Whether refused clients are told the reason this log records ({@code [audit]
   * reasons_to_clients}, true by default); when false they get their error code with a generic
   * reason, and the reason (rule names, policy file:line) is in the audit log only.
   */
  public boolean reasonsToClients() {
    return reasonsToClients;
  }

  /** Sets {@link #reasonsToClients()}; call it before the log is shared. */
  void reasonsToClients(boolean tell) {
    this.reasonsToClients = tell;
  }

  /** Writes the summary line of every burst whose window has closed. */
  public void flush() {
    collapser.expire(wallClock, false, sink);
  }

  /** Writes every pending summary, then stops the background threads and closes the file. */
  @Override
  public void close() {
    if (flusher != null) {
      flusher.shutdownNow();
    }
    collapser.expire(wallClock, true, sink);
    sink.close();
  }

  private static Sink loggerSink(Logger logger) {
    return new Sink() {
      @Override
      public boolean write(String line) {
        // The logging configuration decides what happens next (an asynchronous appender of the
        // administrator's may drop lines; the shipped configuration does not use this sink).
        if (logger.isInfoEnabled()) {
          logger.info(line);
        }
        return true;
      }

      @Override
      public void close() {}
    };
  }
}
