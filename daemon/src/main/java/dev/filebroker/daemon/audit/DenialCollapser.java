package dev.filebroker.daemon.audit;

import dev.filebroker.daemon.json.JsonString;
import java.time.Instant;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
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

  /** How many distinct executables a summary names; more are counted. */
  static final int MAX_EXECUTABLES = 8;

  /** What a summary says for a suppressed denial whose caller's executable was not known. */
  static final String UNKNOWN_EXECUTABLE = "(unknown)";

  private record Key(long uid, String path, String access, Optional<String> rule, String result) {}

  private static final class Burst {
    final AuditEvent first;
    final long startNanos;
    long suppressed;
    Instant last;
    // The executables of the suppressed denials, which the burst's key does not tell apart.
    final Set<String> executables = new LinkedHashSet<>();
    long otherExecutables;

    Burst(AuditEvent first, long startNanos) {
      this.first = first;
      this.startNanos = startNanos;
      this.last = first.time();
    }

    void suppress(AuditEvent event) {
      suppressed++;
      if (event.time().isAfter(last)) {
        last = event.time();
      }
      String exe = event.executable().orElse(UNKNOWN_EXECUTABLE);
      if (!executables.contains(exe)) {
        if (executables.size() < MAX_EXECUTABLES) {
          executables.add(exe);
        } else {
          otherExecutables++;
        }
      }
    }
  }

  private final long windowNanos;
  private final LongSupplier nanoClock;
  private final UserNames names;
  // Insertion order is start order, so expired bursts are found at the head.
  private final Map<Key, Burst> bursts = new LinkedHashMap<>();

  /** How many bursts are open; written under the lock, read without it. */
  private volatile int open;

  DenialCollapser(long windowNanos, LongSupplier nanoClock, UserNames names) {
    this.windowNanos = windowNanos;
    this.nanoClock = nanoClock;
    this.names = names;
  }

  /**
   * Writes what {@code event} calls for to {@code sink}: the summary lines of bursts that closed,
   * then the event itself unless it repeats an open burst. Summaries and denials are handed to the
   * sink under this object's lock, so a summary is always queued after the denial that opened its
   * burst, and a burst opens only once that denial's line was taken (a dropped one is counted by
   * the sink, and the next identical denial tries again). {@code now} is asked only when a burst is
   * open or begins, under the lock, and a summary's time is never before the last denial it counts.
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
      expire(now, false, sink);
      return sink.write(event);
    }
    offerDenial(event, now, sink);
    return true;
  }

  private synchronized void offerDenial(
      AuditEvent event, Supplier<Instant> clock, AuditLog.Sink sink) {
    long nanos = nanoClock.getAsLong();
    Instant now = clock.get();
    expireAt(nanos, now, false, sink);
    Key key = new Key(event.uid(), event.path(), event.access(), event.rule(), event.result());
    Burst burst = bursts.get(key);
    if (burst != null) {
      burst.suppress(event);
      return;
    }
    if (bursts.size() >= MAX_BURSTS) {
      Iterator<Burst> oldest = bursts.values().iterator();
      summary(oldest.next(), now).ifPresent(sink::write);
      oldest.remove();
    }
    // A line the sink cannot take is counted there; no burst opens behind it, so that no summary
    // is ever written without the decision it follows.
    if (sink.write(event)) {
      bursts.put(key, new Burst(event, nanos));
    }
    open = bursts.size();
  }

  /**
   * Writes the summary line of bursts whose window has closed, or of all bursts when {@code all};
   * {@code now} is asked under the lock.
   */
  synchronized void expire(Supplier<Instant> now, boolean all, AuditLog.Sink sink) {
    expireAt(nanoClock.getAsLong(), now.get(), all, sink);
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

  private Optional<String> summary(Burst burst, Instant now) {
    if (burst.suppressed == 0) {
      return Optional.empty();
    }
    AuditEvent first = burst.first;
    StringBuilder b = new StringBuilder(256);
    b.append("{\"event\":\"suppressed\",\"time\":");
    // Never before the last denial it counts, whichever thread's clock read came first.
    JsonString.append(b, (now.isBefore(burst.last) ? burst.last : now).toString());
    b.append(",\"count\":").append(burst.suppressed);
    b.append(",\"since\":");
    JsonString.append(b, first.time().toString());
    b.append(",\"last\":");
    JsonString.append(b, burst.last.toString());
    b.append(",\"uid\":").append(first.uid());
    Optional<String> user = first.uid() < 0 ? Optional.empty() : names.name(first.uid());
    if (user.isPresent()) {
      b.append(",\"user\":");
      JsonString.append(b, user.get());
    }
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
    b.append(",\"exes\":[");
    boolean comma = false;
    for (String exe : burst.executables) {
      if (comma) {
        b.append(',');
      }
      JsonString.append(b, exe);
      comma = true;
    }
    b.append(']');
    if (burst.otherExecutables > 0) {
      b.append(",\"other_exes\":").append(burst.otherExecutables);
    }
    return Optional.of(b.append('}').toString());
  }
}
