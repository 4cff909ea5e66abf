package dev.filebroker.daemon.audit;

import java.time.Instant;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
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
   * What to write for one event, in order: the summary lines of bursts that closed, then the event
   * itself unless it is suppressed.
   *
   * @param summaries summary lines to write before the event
   * @param writeEvent whether the event's own line is written
   */
  record Offered(List<String> summaries, boolean writeEvent) {
    static final Offered EVENT_ONLY = new Offered(List.of(), true);
  }

  /** What to write for {@code event}; {@code now} is asked only when a burst is open or begins. */
  Offered offer(AuditEvent event, Supplier<Instant> now) {
    if (open == 0 && !event.decision().equals("deny")) {
      // Nothing to close and nothing to count: the periodic flush closes bursts opened meanwhile.
      return Offered.EVENT_ONLY;
    }
    return offerLocked(event, now.get());
  }

  private synchronized Offered offerLocked(AuditEvent event, Instant now) {
    long nanos = nanoClock.getAsLong();
    List<String> lines = expireAt(nanos, now, false);
    if (!event.decision().equals("deny")) {
      return new Offered(lines, true);
    }
    Key key = new Key(event.uid(), event.path(), event.access(), event.rule(), event.result());
    Burst burst = bursts.get(key);
    if (burst != null) {
      burst.suppressed++;
      burst.last = event.time();
      return new Offered(lines, false);
    }
    if (bursts.size() >= MAX_BURSTS) {
      Iterator<Burst> oldest = bursts.values().iterator();
      summary(oldest.next(), now).ifPresent(lines::add);
      oldest.remove();
    }
    bursts.put(key, new Burst(event, nanos));
    open = bursts.size();
    return new Offered(lines, true);
  }

  /** Summary lines of bursts whose window has closed, or of all bursts when {@code all}. */
  synchronized List<String> expire(Instant now, boolean all) {
    return expireAt(nanoClock.getAsLong(), now, all);
  }

  private List<String> expireAt(long nanos, Instant now, boolean all) {
    List<String> lines = new ArrayList<>(1);
    Iterator<Burst> iterator = bursts.values().iterator();
    while (iterator.hasNext()) {
      Burst burst = iterator.next();
      if (!all && nanos - burst.startNanos < windowNanos) {
        break;
      }
      summary(burst, now).ifPresent(lines::add);
      iterator.remove();
    }
    open = bursts.size();
    return lines;
  }

  private static Optional<String> summary(Burst burst, Instant now) {
    if (burst.suppressed == 0) {
      return Optional.empty();
    }
    AuditEvent first = burst.first;
    StringBuilder b = new StringBuilder(256);
    b.append("{\"event\":\"suppressed\",\"time\":");
    AuditEvent.string(b, now.toString());
    b.append(",\"count\":").append(burst.suppressed);
    b.append(",\"since\":");
    AuditEvent.string(b, first.time().toString());
    b.append(",\"last\":");
    AuditEvent.string(b, burst.last.toString());
    b.append(",\"uid\":").append(first.uid());
    b.append(",\"path\":");
    AuditEvent.string(b, first.path());
    b.append(",\"access\":");
    AuditEvent.string(b, first.access());
    b.append(",\"decision\":\"deny\"");
    if (first.rule().isPresent()) {
      b.append(",\"rule\":");
      AuditEvent.string(b, first.rule().get());
    }
    if (first.source().isPresent()) {
      b.append(",\"source\":");
      AuditEvent.string(b, first.source().get());
    }
    b.append(",\"result\":");
    AuditEvent.string(b, first.result());
    return Optional.of(b.append('}').toString());
  }
}
