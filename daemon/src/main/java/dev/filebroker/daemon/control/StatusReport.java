package dev.filebroker.daemon.control;

import dev.filebroker.daemon.fs.Descriptors;
import dev.filebroker.daemon.server.PolicyHolder;
import dev.filebroker.daemon.server.Statistics;
import java.time.Duration;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;
import java.util.TreeMap;

/**
 * The running daemon's figures at one moment, as {@code filebroker status} shows them. The same
 * record is built in the daemon, sent as JSON, and rebuilt in the command, so the human, JSON and
 * Prometheus forms always carry the same numbers.
 *
 * @param pid the daemon's process id
 * @param version the daemon's version, or "(development build)"
 * @param startedAt when the daemon started
 * @param now when these figures were taken
 * @param policySource the policy file or directory in force
 * @param policyLoadedAt when the policy in force was loaded
 * @param rules how many rules the policy in force holds
 * @param connectionsOpen connections open now
 * @param connectionsAccepted connections accepted since start
 * @param grants descriptors handed out since start
 * @param denials requests denied by policy since start
 * @param failures allowed requests whose open failed since start
 * @param rejections requests refused as invalid since start
 * @param protocolErrors connections closed for a protocol error since start
 * @param limitRefusals requests and connections refused for a limit since start
 * @param openDescriptors descriptors the daemon holds open now, or -1 when unknown
 * @param grantsByRule grants per rule id
 * @param denialsByRule denials per rule id; default denials under "(default deny)"
 */
public record StatusReport(
    long pid,
    String version,
    Instant startedAt,
    Instant now,
    String policySource,
    Instant policyLoadedAt,
    long rules,
    long connectionsOpen,
    long connectionsAccepted,
    long grants,
    long denials,
    long failures,
    long rejections,
    long protocolErrors,
    long limitRefusals,
    long openDescriptors,
    Map<String, Long> grantsByRule,
    Map<String, Long> denialsByRule) {
  /** Copies the maps, sorted by rule id. */
  public StatusReport {
    Objects.requireNonNull(version, "version == null");
    Objects.requireNonNull(startedAt, "startedAt == null");
    Objects.requireNonNull(now, "now == null");
    Objects.requireNonNull(policySource, "policySource == null");
    Objects.requireNonNull(policyLoadedAt, "policyLoadedAt == null");
    grantsByRule = java.util.Collections.unmodifiableMap(new TreeMap<>(grantsByRule));
    denialsByRule = java.util.Collections.unmodifiableMap(new TreeMap<>(denialsByRule));
  }

  /** The figures of this process now: its counters, its policy in force, its descriptors. */
  public static StatusReport of(
      Statistics statistics, PolicyHolder.Loaded policy, Instant startedAt) {
    return new StatusReport(
        ProcessHandle.current().pid(),
        currentVersion(),
        startedAt,
        Instant.now(),
        policy.source().toString(),
        policy.loadedAt(),
        policy.policy().ruleCount(),
        statistics.openConnections(),
        statistics.acceptedConnections(),
        statistics.grants(),
        statistics.denials(),
        statistics.failures(),
        statistics.rejections(),
        statistics.protocolErrors(),
        statistics.limitRefusals(),
        Descriptors.openDescriptorCount(),
        statistics.grantsByRule(),
        statistics.denialsByRule());
  }

  /** The version in the jar manifest. */
  static String currentVersion() {
    String v = StatusReport.class.getPackage().getImplementationVersion();
    return v == null ? "(development build)" : v;
  }

  /** How long the daemon has been running. */
  public Duration uptime() {
    return Duration.between(startedAt, now);
  }

  /** The control-socket response: {@code "ok": true} and every figure. */
  public Map<String, Object> toJson() {
    Map<String, Object> o = new LinkedHashMap<>();
    o.put("ok", true);
    o.put("pid", pid);
    o.put("version", version);
    o.put("started_at", startedAt.toString());
    o.put("now", now.toString());
    o.put("uptime_seconds", uptime().toSeconds());
    o.put("policy_source", policySource);
    o.put("policy_loaded_at", policyLoadedAt.toString());
    o.put("rules", rules);
    o.put("connections_open", connectionsOpen);
    o.put("connections_accepted", connectionsAccepted);
    o.put("grants", grants);
    o.put("denials", denials);
    o.put("failures", failures);
    o.put("rejections", rejections);
    o.put("protocol_errors", protocolErrors);
    o.put("limit_refusals", limitRefusals);
    o.put("open_descriptors", openDescriptors);
    o.put("grants_by_rule", new LinkedHashMap<String, Object>(grantsByRule));
    o.put("denials_by_rule", new LinkedHashMap<String, Object>(denialsByRule));
    return o;
  }

  /**
   * Rebuilds a report from {@link #toJson()}'s form.
   *
   * @throws Json.MalformedJsonException naming the first missing or mistyped key
   */
  public static StatusReport fromJson(Map<String, Object> o) {
    try {
      return new StatusReport(
          Fields.integer(o, "pid"),
          Fields.string(o, "version"),
          Instant.parse(Fields.string(o, "started_at")),
          Instant.parse(Fields.string(o, "now")),
          Fields.string(o, "policy_source"),
          Instant.parse(Fields.string(o, "policy_loaded_at")),
          Fields.integer(o, "rules"),
          Fields.integer(o, "connections_open"),
          Fields.integer(o, "connections_accepted"),
          Fields.integer(o, "grants"),
          Fields.integer(o, "denials"),
          Fields.integer(o, "failures"),
          Fields.integer(o, "rejections"),
          Fields.integer(o, "protocol_errors"),
          Fields.integer(o, "limit_refusals"),
          Fields.integer(o, "open_descriptors"),
          Fields.counters(o, "grants_by_rule"),
          Fields.counters(o, "denials_by_rule"));
    } catch (java.time.format.DateTimeParseException e) {
      throw new Json.MalformedJsonException("a time is not ISO-8601: " + e.getParsedString());
    }
  }
}
