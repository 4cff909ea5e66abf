package dev.filebroker.daemon.audit;

import dev.filebroker.daemon.json.JsonString;
import java.time.Instant;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;
import java.util.function.LongSupplier;
import java.util.function.Supplier;

/**
 * Collapses bursts of identical denials so that a client cannot flood the audit log by repeating a
 * denied request: the first of a burst is written, the rest are counted, and one summary line
 * follows when the burst's window closes.
 *
 * <p>At most {@link #MAX_BURSTS} bursts are tracked; beyond that the oldest is closed early. The
 * methods that touch bursts are synchronized (the work under the lock is a map lookup); an event
 * that is not a denial, while no burst is open, takes no lock, so grants from several event loops
 * never wait for each other here.
 */
final class DenialCollapser {
  /** How many distinct bursts are tracked at once. */
  static final int MAX_BURSTS = 4096;

  private record Key(long uid, String path, String access, Optional<String> rule, String result) {}

  private static final class Burst {
    final AuditEvent first;
    final long startNanos;
    long suppressed;
    Instant last;

    Burst(AuditEvent first, long startNanos) {
      this.first = first;
      this.startNanos = startNanos;
      this.last = first.time();
    }
  }

  private final long windowNanos;
  private final LongSupplier nanoClock;
  // Insertion order is start order, so expired bursts are found at the head.
  private final Map<Key, Burst> bursts = new LinkedHashMap<>();

  /** How many bursts are open; written under the lock, read without it. */
  private volatile int open;

  DenialCollapser(long windowNanos, LongSupplier nanoClock) {
    this.windowNanos = windowNanos;
    this.nanoClock = nanoClock;
  }

  /**
   * Writes what {@code event} calls for to {@code sink}: the summary lines of bursts that closed,
   * then the event itself unless it repeats an open burst. Summaries and denials are handed to the
   * sink under this object's lock, so a summary is always queued after the denial that opened its
   * burst; {@code now} is asked only when a burst is open or begins.
   *
   * @return whether the event's line was taken: always true for a denial (written, counted in a
   *     summary, or counted by the sink as dropped), the sink's answer for anything else
   */
  boolean offer(AuditEvent event, Supplier<Instant> now, AuditLog.Sink sink) {
    boolean deny = event.decision().equals("deny");
    if (open == 0 && !deny) {
      // Nothing to close and nothing to count: the periodic flush closes bursts opened meanwhile.
      return sink.write(event);
    }
    if (!deny) {
      expire(now.get(), false, sink);
      return sink.write(event);
    }
    offerDenial(event, now.get(), sink);
    return true;
  }

  private synchronized void offerDenial(AuditEvent event, Instant now, AuditLog.Sink sink) {
    long nanos = nanoClock.getAsLong();
    expireAt(nanos, now, false, sink);
    Key key = new Key(event.uid(), event.path(), event.access(), event.rule(), event.result());
    Burst burst = bursts.get(key);
    if (burst != null) {
      burst.suppressed++;
      burst.last = event.time();
      return;
    }
    if (bursts.size() >= MAX_BURSTS) {
      Iterator<Burst> oldest = bursts.values().iterator();
      summary(oldest.next(), now).ifPresent(sink::write);
      oldest.remove();
    }
    bursts.put(key, new Burst(event, nanos));
    open = bursts.size();
    // A line the sink cannot take is counted there: the burst's own count stays exact.
    sink.write(event);
  }

  /**
   * Writes the summary line of bursts whose window has closed, or of all bursts when {@code all}.
   */
  synchronized void expire(Instant now, boolean all, AuditLog.Sink sink) {
    expireAt(nanoClock.getAsLong(), now, all, sink);
  }

  private void expireAt(long nanos, Instant now, boolean all, AuditLog.Sink sink) {
    Iterator<Burst> iterator = bursts.values().iterator();
    while (iterator.hasNext()) {
      Burst burst = iterator.next();
      if (!all && nanos - burst.startNanos < windowNanos) {
        break;
      }
      summary(burst, now).ifPresent(sink::write);
      iterator.remove();
    }
    open = bursts.size();
  }

  private static Optional<String> summary(Burst burst, Instant now) {
    if (burst.suppressed == 0) {
      return Optional.empty();
    }
    AuditEvent first = burst.first;
    StringBuilder b = new StringBuilder(256);
    b.append("{\"event\":\"suppressed\",\"time\":");
    JsonString.append(b, now.toString());
    b.append(",\"count\":").append(burst.suppressed);
    b.append(",\"since\":");
    JsonString.append(b, first.time().toString());
    b.append(",\"last\":");
    JsonString.append(b, burst.last.toString());
    b.append(",\"uid\":").append(first.uid());
    b.append(",\"path\":");
    JsonString.append(b, first.path());
    b.append(",\"access\":");
    JsonString.append(b, first.access());
    b.append(",\"decision\":\"deny\"");
    if (first.rule().isPresent()) {
      b.append(",\"rule\":");
      JsonString.append(b, first.rule().get());
    }
    if (first.source().isPresent()) {
      b.append(",\"source\":");
      JsonString.append(b, first.source().get());
    }
    b.append(",\"result\":");
    JsonString.append(b, first.result());
    return Optional.of(b.append('}').toString());
  }
}
