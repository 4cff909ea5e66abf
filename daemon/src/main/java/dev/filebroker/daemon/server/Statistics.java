package dev.filebroker.daemon.server;

import dev.filebroker.daemon.policy.Rule;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.LongAdder;

/** Counters the daemon reports in its status: connections, grants, denials, failures. */
public final class Statistics {
  private final LongAdder connectionsAccepted = new LongAdder();
  private final LongAdder connectionsOpen = new LongAdder();
  private final LongAdder granted = new LongAdder();
  private final LongAdder denied = new LongAdder();
  private final LongAdder failed = new LongAdder();
  private final LongAdder rejected = new LongAdder();
  private final LongAdder protocolErrors = new LongAdder();
  private final LongAdder limited = new LongAdder();
  private final Map<String, LongAdder> grantsByRule = new ConcurrentHashMap<>();
  private final Map<String, LongAdder> denialsByRule = new ConcurrentHashMap<>();

  void connectionOpened() {
    connectionsAccepted.increment();
    connectionsOpen.increment();
  }

  void connectionClosed() {
    connectionsOpen.decrement();
  }

  void granted(Rule rule) {
    granted.increment();
    grantsByRule.computeIfAbsent(rule.id(), k -> new LongAdder()).increment();
  }

  void denied(Optional<Rule> rule) {
    denied.increment();
    denialsByRule
        .computeIfAbsent(rule.map(Rule::id).orElse("(default deny)"), k -> new LongAdder())
        .increment();
  }

  void failed() {
    failed.increment();
  }

  void rejected() {
    rejected.increment();
  }

  void protocolError() {
    protocolErrors.increment();
  }

  void limited() {
    limited.increment();
  }

  /** Requests and connections refused with LIMIT_EXCEEDED, since start. */
  public long limitRefusals() {
    return limited.sum();
  }

  /** Connections currently open. */
  public long openConnections() {
    return connectionsOpen.sum();
  }

  /** Connections accepted since start. */
  public long acceptedConnections() {
    return connectionsAccepted.sum();
  }

  /** Descriptors handed out since start. */
  public long grants() {
    return granted.sum();
  }

  /** Requests denied by policy since start. */
  public long denials() {
    return denied.sum();
  }

  /** Allowed requests whose open failed, since start. */
  public long failures() {
    return failed.sum();
  }

  /** Requests refused as invalid (path or flags), since start. */
  public long rejections() {
    return rejected.sum();
  }

  /** Connections closed for a protocol error, since start. */
  public long protocolErrors() {
    return protocolErrors.sum();
  }

  /** Grants per rule id. */
  public Map<String, Long> grantsByRule() {
    return snapshot(grantsByRule);
  }

  /** Denials per rule id; default denials under "(default deny)". */
  public Map<String, Long> denialsByRule() {
    return snapshot(denialsByRule);
  }

  private static Map<String, Long> snapshot(Map<String, LongAdder> counters) {
    Map<String, Long> copy = new java.util.TreeMap<>();
    counters.forEach((k, v) -> copy.put(k, v.sum()));
    return copy;
  }

  /** One line for STATUS= and logs. */
  public String summary() {
    return String.format(
        "%d connections, %d grants, %d denials, %d failures",
        openConnections(), grants(), denials(), failures());
  }
}
