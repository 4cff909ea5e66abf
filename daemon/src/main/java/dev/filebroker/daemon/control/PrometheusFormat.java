package dev.filebroker.daemon.control;

import java.util.Map;

/**
 * Renders a {@link StatusReport} in the Prometheus text exposition format (version 0.0.4), for
 * node_exporter's textfile collector: every metric named {@code filebroker_*}, with {@code # HELP}
 * and {@code # TYPE} lines, per-rule counters labelled {@code rule="..."}.
 */
public final class PrometheusFormat {
  private PrometheusFormat() {}

  /** The report as exposition text, ending with a newline. */
  public static String render(StatusReport r) {
    StringBuilder b = new StringBuilder(1024);
    family(b, "filebroker_info", "gauge", "Always 1; labels carry the daemon's version and pid.");
    b.append("filebroker_info{version=\"")
        .append(escape(r.version()))
        .append("\",pid=\"")
        .append(r.pid())
        .append("\"} 1\n");
    gauge(
        b,
        "filebroker_start_time_seconds",
        "When the daemon started, in Unix time.",
        r.startedAt().getEpochSecond());
    gauge(
        b,
        "filebroker_uptime_seconds",
        "Seconds since the daemon started.",
        r.uptime().toSeconds());
    family(b, "filebroker_policy_info", "gauge", "Always 1; the label names the policy in force.");
    b.append("filebroker_policy_info{source=\"").append(escape(r.policySource())).append("\"} 1\n");
    gauge(
        b,
        "filebroker_policy_loaded_time_seconds",
        "When the policy in force was loaded, in Unix time.",
        r.policyLoadedAt().getEpochSecond());
    gauge(b, "filebroker_policy_rules", "Rules in the policy in force.", r.rules());
    gauge(b, "filebroker_connections_open", "Client connections open now.", r.connectionsOpen());
    counter(
        b,
        "filebroker_connections_accepted_total",
        "Client connections accepted.",
        r.connectionsAccepted());
    counter(b, "filebroker_grants_total", "Descriptors handed out.", r.grants());
    counter(b, "filebroker_denials_total", "Requests denied by the policy.", r.denials());
    counter(b, "filebroker_failures_total", "Allowed requests whose open failed.", r.failures());
    counter(b, "filebroker_rejections_total", "Requests refused as invalid.", r.rejections());
    counter(
        b,
        "filebroker_protocol_errors_total",
        "Connections closed for a protocol error.",
        r.protocolErrors());
    counter(
        b,
        "filebroker_limit_refusals_total",
        "Requests and connections refused by a limit.",
        r.limitRefusals());
    gauge(
        b,
        "filebroker_open_descriptors",
        "Descriptors the daemon holds open (-1: unknown).",
        r.openDescriptors());
    byRule(
        b,
        "filebroker_rule_grants_total",
        "Descriptors handed out, by deciding rule.",
        r.grantsByRule());
    byRule(
        b,
        "filebroker_rule_denials_total",
        "Requests denied, by deciding rule; \"(default deny)\" when no rule matched.",
        r.denialsByRule());
    return b.toString();
  }

  /**
   * A label value escaped as the format requires: backslash, double quote and newline become {@code
   * \\}, {@code \"} and {@code \n}.
   */
  static String escape(String value) {
    return value.replace("\\", "\\\\").replace("\"", "\\\"").replace("\n", "\\n");
  }

  private static void byRule(StringBuilder b, String name, String help, Map<String, Long> counts) {
    family(b, name, "counter", help);
    counts.forEach(
        (rule, count) ->
            b.append(name)
                .append("{rule=\"")
                .append(escape(rule))
                .append("\"} ")
                .append(count)
                .append('\n'));
  }

  private static void gauge(StringBuilder b, String name, String help, long value) {
    family(b, name, "gauge", help);
    b.append(name).append(' ').append(value).append('\n');
  }

  private static void counter(StringBuilder b, String name, String help, long value) {
    family(b, name, "counter", help);
    b.append(name).append(' ').append(value).append('\n');
  }

  private static void family(StringBuilder b, String name, String type, String help) {
    // HELP text escapes backslash and newline only.
    b.append("# HELP ")
        .append(name)
        .append(' ')
        .append(help.replace("\\", "\\\\").replace("\n", "\\n"))
        .append('\n');
    b.append("# TYPE ").append(name).append(' ').append(type).append('\n');
  }
}
