package dev.filebroker.daemon.audit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Audit lines: burst collapsing of identical denials, and the file destination. */
class AuditLogTest {
  private static final Instant T0 = Instant.parse("2025-01-02T03:04:05Z");

  @TempDir Path temp;

  private static AuditEvent event(String decision, String path, long uid) {
    return new AuditEvent(
        T0,
        42,
        uid,
        uid,
        List.of(),
        Optional.empty(),
        Optional.empty(),
        path,
        "read",
        decision,
        decision.equals("deny") ? Optional.of("secret") : Optional.of("open"),
        Optional.of("/etc/filebroker/policy.d/10.toml:3"),
        decision.equals("deny") ? "DENIED" : "ok",
        "");
  }

  /** A sink that keeps lines in memory. */
  private static final class Lines implements AuditLog.Sink {
    final List<String> lines = new ArrayList<>();

    @Override
    public synchronized boolean write(String line) {
      lines.add(line);
      return true;
    }

    @Override
    public void close() {}
  }

  @Test
  void collapsesAHundredThousandIdenticalDenialsIntoTwoLines() {
    Lines sink = new Lines();
    AtomicLong nanos = new AtomicLong();
    AuditLog log = new AuditLog(sink, nanos::get, () -> T0, false);
    for (int i = 0; i < 100_000; i++) {
      log.record(event("deny", "/srv/secret", 1000));
    }
    assertEquals(1, sink.lines.size(), "only the first denial of the burst is written");
    nanos.set(AuditLog.BURST_WINDOW.toNanos());
    log.flush();
    assertEquals(
        List.of(
            event("deny", "/srv/secret", 1000).toJson(),
            "{\"event\":\"suppressed\",\"time\":\"2025-01-02T03:04:05Z\",\"count\":99999,"
                + "\"since\":\"2025-01-02T03:04:05Z\",\"last\":\"2025-01-02T03:04:05Z\","
                + "\"uid\":1000,\"path\":\"/srv/secret\",\"access\":\"read\",\"decision\":\"deny\","
                + "\"rule\":\"secret\",\"source\":\"/etc/filebroker/policy.d/10.toml:3\","
                + "\"result\":\"DENIED\",\"exes\":[\"(unknown)\"]}"),
        sink.lines);
  }

  @Test
  void floodOverRealTimeStaysBounded() {
    Lines sink = new Lines();
    long start = System.nanoTime();
    try (AuditLog log = new AuditLog(sink, System::nanoTime, Instant::now, false)) {
      for (int i = 0; i < 100_000; i++) {
        log.record(event("deny", "/srv/secret", 1000));
      }
    }
    long windows = (System.nanoTime() - start) / AuditLog.BURST_WINDOW.toNanos() + 1;
    assertTrue(
        sink.lines.size() <= 2 * windows,
        "at most a first line and a summary per window, got " + sink.lines.size());
  }

  @Test
  void grantsAndDistinctDenialsAreNeverCollapsed() {
    Lines sink = new Lines();
    AuditLog log = new AuditLog(sink, () -> 0L, () -> T0, false);
    log.record(event("allow", "/srv/a", 1000));
    log.record(event("allow", "/srv/a", 1000));
    log.record(event("deny", "/srv/a", 1000));
    log.record(event("deny", "/srv/b", 1000));
    log.record(event("deny", "/srv/a", 1001));
    assertEquals(5, sink.lines.size());
  }

  @Test
  void nextEventAfterTheWindowClosesTheBurst() {
    Lines sink = new Lines();
    AtomicLong nanos = new AtomicLong();
    AuditLog log = new AuditLog(sink, nanos::get, () -> T0, false);
    log.record(event("deny", "/srv/a", 1000));
    log.record(event("deny", "/srv/a", 1000));
    nanos.set(AuditLog.BURST_WINDOW.toNanos() + 1);
    log.record(event("deny", "/srv/a", 1000));
    assertEquals(3, sink.lines.size());
    assertTrue(sink.lines.get(1).startsWith("{\"event\":\"suppressed\""), sink.lines.get(1));
    assertTrue(sink.lines.get(1).contains("\"count\":1,"), sink.lines.get(1));
    assertEquals(event("deny", "/srv/a", 1000).toJson(), sink.lines.get(2));
  }

  @Test
  void closeWritesPendingSummaries() {
    Lines sink = new Lines();
    AuditLog log = new AuditLog(sink, () -> 0L, () -> T0, false);
    log.record(event("deny", "/srv/a", 1000));
    log.record(event("deny", "/srv/a", 1000));
    log.close();
    assertEquals(2, sink.lines.size());
  }

  @Test
  void manyDistinctBurstsAreBoundedByClosingTheOldest() {
    Lines sink = new Lines();
    AuditLog log = new AuditLog(sink, () -> 0L, () -> T0, false);
    for (int i = 0; i <= DenialCollapser.MAX_BURSTS; i++) {
      log.record(event("deny", "/srv/" + i, 1000));
      log.record(event("deny", "/srv/" + i, 1000));
    }
    // Every first line, plus the summary of the oldest burst, closed early to make room.
    assertEquals(DenialCollapser.MAX_BURSTS + 2, sink.lines.size());
  }

  @Test
  void fileDestinationAppendsOneLinePerEvent() throws Exception {
    Path file = temp.resolve("audit.log");
    Files.writeString(file, "earlier\n");
    assertTimeoutPreemptively(
        Duration.ofSeconds(10),
        () -> {
          try (AuditLog log = AuditLog.toFile(file, 64)) {
            log.record(event("allow", "/srv/a", 1000));
            log.record(event("deny", "/srv/b", 1000));
          }
        });
    assertEquals(
        List.of(
            "earlier",
            event("allow", "/srv/a", 1000).toJson(),
            event("deny", "/srv/b", 1000).toJson()),
        Files.readAllLines(file));
  }

  @Test
  void fileDestinationIsCreatedReadableByOwnerAndGroupOnly() throws Exception {
    Path file = temp.resolve("new.log");
    AuditLog.toFile(file, 64).close();
    assertEquals("rw-r-----", PosixFilePermissions.toString(Files.getPosixFilePermissions(file)));
  }

  @Test
  void fullQueueDropsLinesAndReportsTheCount() throws Exception {
    Path file = temp.resolve("drops.log");
    FileSink sink = FileSink.open(file, 3);
    for (int i = 0; i < 10; i++) {
      sink.write("{\"n\":" + i + "}");
    }
    assertEquals(7, sink.dropped());
    sink.start();
    assertTimeoutPreemptively(Duration.ofSeconds(10), sink::close);
    List<String> lines = Files.readAllLines(file);
    assertEquals(List.of("{\"n\":0}", "{\"n\":1}", "{\"n\":2}"), lines.subList(0, 3));
    assertEquals(4, lines.size());
    assertTrue(lines.get(3).startsWith("{\"event\":\"dropped\",\"time\":\""), lines.get(3));
    assertTrue(lines.get(3).endsWith("\",\"count\":7}"), lines.get(3));
  }

  @Test
  void fileDestinationWritesQueuedEventsAsTheirJsonLines() throws Exception {
    Path file = temp.resolve("events.log");
    FileSink sink = FileSink.open(file, 16);
    AuditEvent allow = event("allow", "/srv/caf\u00e9", 1000);
    AuditEvent deny = event("deny", "/srv/b", 1001);
    sink.write(allow);
    sink.write("{\"n\":1}");
    sink.write(deny);
    sink.start();
    assertTimeoutPreemptively(Duration.ofSeconds(10), sink::close);
    assertEquals(List.of(allow.toJson(), "{\"n\":1}", deny.toJson()), Files.readAllLines(file));
  }

  @Test
  void grantWhoseLineCannotBeQueuedIsRefusedAndDenialsCannotTakeTheGrantsRoom() throws Exception {
    Path file = temp.resolve("full.log");
    // The writer is not started: a sink that has stopped writing (a stalled disk, a full pipe).
    FileSink sink = FileSink.open(file, 16);
    AuditLog log = new AuditLog(sink, () -> 0L, () -> T0, false);
    for (int i = 0; i < 13; i++) {
      assertTrue(log.record(event("deny", "/srv/d" + i, 1000)), "a denial is always recorded");
    }
    assertEquals(1, sink.dropped(), "12 denials fill the queue but for the grants' quarter");
    for (int i = 0; i < 4; i++) {
      assertTrue(log.record(event("allow", "/srv/g" + i, 1000)), "room kept for grants");
    }
    assertFalse(
        log.record(event("allow", "/srv/refused", 1000)),
        "a grant that cannot be recorded must not be handed out");
    assertEquals(2, sink.dropped());
    sink.start();
    assertTimeoutPreemptively(Duration.ofSeconds(10), log::close);
    List<String> lines = Files.readAllLines(file);
    assertEquals(17, lines.size(), String.join("\n", lines));
    for (int i = 0; i < 4; i++) {
      assertEquals(event("allow", "/srv/g" + i, 1000).toJson(), lines.get(12 + i));
    }
    assertTrue(lines.get(16).endsWith("\",\"count\":2}"), lines.get(16));
    assertFalse(String.join("\n", lines).contains("/srv/refused"));
  }

  @Test
  void summaryOfABurstComesAfterItsFirstDenial() {
    Lines sink = new Lines();
    AtomicLong nanos = new AtomicLong();
    AuditLog log = new AuditLog(sink, nanos::get, () -> T0, false);
    log.record(event("deny", "/srv/secret", 1000));
    log.record(event("deny", "/srv/secret", 1000));
    nanos.set(AuditLog.BURST_WINDOW.toNanos());
    assertTrue(log.record(event("allow", "/srv/open", 1000)));
    assertEquals(3, sink.lines.size(), sink.lines.toString());
    assertEquals(event("deny", "/srv/secret", 1000).toJson(), sink.lines.get(0));
    assertTrue(sink.lines.get(1).contains("\"event\":\"suppressed\""), sink.lines.get(1));
    assertTrue(sink.lines.get(1).contains("\"count\":1,"), sink.lines.get(1));
    assertEquals(event("allow", "/srv/open", 1000).toJson(), sink.lines.get(2));
  }

  private static AuditEvent denial(Instant time, Optional<String> exe) {
    return new AuditEvent(
        time,
        42,
        1000,
        1000,
        List.of(),
        exe,
        Optional.empty(),
        "/srv/secret",
        "read",
        "deny",
        Optional.of("secret"),
        Optional.of("/etc/filebroker/policy.d/10.toml:3"),
        "DENIED",
        "");
  }

  @Test
  void summaryNamesTheExecutablesItCollapsed() {
    Lines sink = new Lines();
    AtomicLong nanos = new AtomicLong();
    AuditLog log = new AuditLog(sink, nanos::get, () -> T0, false);
    log.record(denial(T0, Optional.of("/usr/bin/first")));
    log.record(denial(T0, Optional.of("/usr/bin/cat")));
    log.record(denial(T0, Optional.empty()));
    log.record(denial(T0, Optional.of("/usr/bin/cat")));
    for (int i = 0; i < DenialCollapser.MAX_EXECUTABLES + 3; i++) {
      log.record(denial(T0, Optional.of("/opt/tool" + i)));
    }
    nanos.set(AuditLog.BURST_WINDOW.toNanos());
    log.flush();
    assertEquals(2, sink.lines.size(), sink.lines.toString());
    String summary = sink.lines.get(1);
    StringBuilder exes = new StringBuilder("\"exes\":[\"/usr/bin/cat\",\"(unknown)\"");
    for (int i = 0; i < DenialCollapser.MAX_EXECUTABLES - 2; i++) {
      exes.append(",\"/opt/tool").append(i).append('"');
    }
    assertTrue(summary.contains(exes + "]"), summary);
    assertTrue(summary.endsWith(",\"other_exes\":5}"), summary);
    assertTrue(summary.contains("\"count\":" + (3 + DenialCollapser.MAX_EXECUTABLES + 3)), summary);
  }

  @Test
  void summaryIsNeverTimedBeforeTheLastDenialItCounts() {
    Lines sink = new Lines();
    AtomicLong nanos = new AtomicLong();
    // The wall clock was read before a later denial was counted (another thread's, in the daemon).
    AuditLog log = new AuditLog(sink, nanos::get, () -> T0, false);
    Instant later = T0.plusSeconds(5);
    log.record(denial(T0, Optional.empty()));
    log.record(denial(later, Optional.empty()));
    nanos.set(AuditLog.BURST_WINDOW.toNanos());
    log.flush();
    assertEquals(2, sink.lines.size(), sink.lines.toString());
    assertTrue(
        sink.lines.get(1).startsWith("{\"event\":\"suppressed\",\"time\":\"" + later + "\""),
        sink.lines.get(1));
  }

  @Test
  void noSummaryIsWrittenWithoutTheDenialItFollows() {
    // A sink whose queue is full for the first line only.
    List<String> taken = new ArrayList<>();
    AuditLog.Sink sink =
        new AuditLog.Sink() {
          boolean first = true;

          @Override
          public boolean write(String line) {
            if (first) {
              first = false;
              return false;
            }
            taken.add(line);
            return true;
          }

          @Override
          public void close() {}
        };
    AtomicLong nanos = new AtomicLong();
    AuditLog log = new AuditLog(sink, nanos::get, () -> T0, false);
    log.record(denial(T0, Optional.empty())); // dropped (and counted by the sink)
    log.record(denial(T0, Optional.empty())); // written: it opens the burst
    log.record(denial(T0, Optional.empty())); // collapsed
    nanos.set(AuditLog.BURST_WINDOW.toNanos());
    log.flush();
    assertEquals(2, taken.size(), taken.toString());
    assertEquals(denial(T0, Optional.empty()).toJson(), taken.get(0));
    assertTrue(taken.get(1).contains("\"event\":\"suppressed\""), taken.get(1));
    assertTrue(taken.get(1).contains("\"count\":1,"), taken.get(1));
  }
}
