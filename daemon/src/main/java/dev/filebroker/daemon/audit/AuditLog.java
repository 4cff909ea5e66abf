package dev.filebroker.daemon.audit;

import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
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
    void write(String line);

    /** Writes {@code event}'s line; a sink may encode it later, on its own thread. */
    default void write(AuditEvent event) {
      write(event.toJson());
    }

    @Override
    void close();
  }

  private final Sink sink;
  private final DenialCollapser collapser;
  private final Supplier<Instant> wallClock;
  private final ScheduledExecutorService flusher;

  /** An audit log writing to {@link #LOGGER_NAME}, with burst collapsing. */
  public AuditLog() {
    this(loggerSink(LoggerFactory.getLogger(LOGGER_NAME)), System::nanoTime, Instant::now, true);
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
    this.sink = Objects.requireNonNull(sink, "sink == null");
    this.wallClock = Objects.requireNonNull(wallClock, "wallClock == null");
    this.collapser = new DenialCollapser(BURST_WINDOW.toNanos(), nanoClock);
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
   * directly, in batches by a background thread exactly like {@link #toFile(Path)} (bounded queue;
   * lines beyond it are dropped, counted and reported rather than stalling requests): a logging
   * event per line would wake the appender's thread for every request. When a logging configuration
   * of the administrator's is in force ({@code -Dlogback.configurationFile}, which the launcher
   * passes for /etc/filebroker/logback.xml), lines go to the {@code filebroker.audit} logger so
   * that it decides where they go.
   */
  public static AuditLog stdout() {
    if (System.getProperty("logback.configurationFile") != null) {
      return new AuditLog();
    }
    FileSink sink = FileSink.stdout(FileSink.DEFAULT_CAPACITY);
    sink.start();
    return new AuditLog(sink, System::nanoTime, Instant::now, true);
  }

  /**
   * An audit log appending one line per event to {@code file} (created with mode 0640 when
   * missing). Lines are queued (at most {@value FileSink#DEFAULT_CAPACITY}) and written in batches
   * by a background thread; when the queue is full, lines are dropped and counted, and a later
   * {@code "event":"dropped"} line gives the count.
   *
   * @throws IOException when the file cannot be opened for appending
   */
  public static AuditLog toFile(Path file) throws IOException {
    FileSink sink = FileSink.open(file, FileSink.DEFAULT_CAPACITY);
    sink.start();
    return new AuditLog(sink, System::nanoTime, Instant::now, true);
  }

  /** Records one decision (or counts it, when it repeats a recent identical denial). */
  public void record(AuditEvent event) {
    Objects.requireNonNull(event, "event == null");
    DenialCollapser.Offered offered = collapser.offer(event, wallClock);
    for (String line : offered.summaries()) {
      sink.write(line);
    }
    if (offered.writeEvent()) {
      sink.write(event);
    }
  }

  /** Writes the summary line of every burst whose window has closed. */
  public void flush() {
    for (String line : collapser.expire(wallClock.get(), false)) {
      sink.write(line);
    }
  }

  /** Writes every pending summary, then stops the background threads and closes the file. */
  @Override
  public void close() {
    if (flusher != null) {
      flusher.shutdownNow();
    }
    List<String> pending = collapser.expire(wallClock.get(), true);
    pending.forEach(sink::write);
    sink.close();
  }

  private static Sink loggerSink(Logger logger) {
    return new Sink() {
      @Override
      public void write(String line) {
        if (logger.isInfoEnabled()) {
          logger.info(line);
        }
      }

      @Override
      public void close() {}
    };
  }
}
