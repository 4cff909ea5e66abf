package dev.filebroker.daemon.cli;

import dev.filebroker.daemon.control.ControlClient;
import dev.filebroker.daemon.control.ControlRequest;
import dev.filebroker.daemon.control.Json;
import dev.filebroker.daemon.control.PrometheusFormat;
import dev.filebroker.daemon.control.StatusReport;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * {@code filebroker status}: the running daemon's policy and counters, for people or Prometheus.
 */
@Command(
    name = "status",
    mixinStandardHelpOptions = true,
    description = {
      "Show the running daemon's policy in force and its counters. Root only.",
      "--format=prometheus prints the Prometheus text format, for node_exporter's textfile",
      "collector; --format=json the control socket's JSON."
    })
final class StatusCommand implements Callable<Integer> {
  /** The output forms. */
  enum Format {
    TEXT,
    JSON,
    PROMETHEUS
  }

  @Mixin ControlSocketOption socket;

  @Option(
      names = "--format",
      paramLabel = "FORMAT",
      defaultValue = "text",
      description = "text, json or prometheus (default: ${DEFAULT-VALUE}).")
  Format format;

  @Override
  public Integer call() {
    Optional<Path> control = socket.resolveOrReport("filebroker: ");
    if (control.isEmpty()) {
      return 1;
    }
    switch (ControlClient.exchange(control.get(), new ControlRequest.Status())) {
      case ControlClient.Reply.Failed failed -> {
        System.err.println("filebroker: " + failed.message());
        return 1;
      }
      case ControlClient.Reply.Answered answer -> {
        if (!answer.ok()) {
          System.err.println("filebroker: " + answer.error());
          return 1;
        }
        StatusReport report;
        try {
          report = StatusReport.fromJson(answer.body());
        } catch (Json.MalformedJsonException e) {
          System.err.println("filebroker: the daemon's status is incomplete: " + e.getMessage());
          return 1;
        }
        System.out.print(
            switch (format) {
              case TEXT -> text(report);
              case JSON -> Json.write(report.toJson()) + "\n";
              case PROMETHEUS -> PrometheusFormat.render(report);
            });
        System.out.flush();
        return 0;
      }
    }
  }

  static String text(StatusReport r) {
    StringBuilder b = new StringBuilder();
    b.append(
        String.format(
            "filebroker %s, pid %d, up %s (since %s)%n",
            r.version(), r.pid(), duration(r.uptime()), r.startedAt()));
    b.append(
        String.format(
            "policy:          %s, %d rule(s), loaded %s%n",
            r.policySource(), r.rules(), r.policyLoadedAt()));
    b.append(
        String.format(
            "connections:     %d open, %d accepted%n",
            r.connectionsOpen(), r.connectionsAccepted()));
    b.append(
        String.format(
            "requests:        %d granted, %d denied, %d failed, %d rejected%n",
            r.grants(), r.denials(), r.failures(), r.rejections()));
    b.append(
        String.format(
            "refusals:        %d protocol error(s), %d over a limit%n",
            r.protocolErrors(), r.limitRefusals()));
    b.append(String.format("descriptors:     %d open%n", r.openDescriptors()));
    byRule(b, "grants by rule:", r.grantsByRule());
    byRule(b, "denials by rule:", r.denialsByRule());
    return b.toString();
  }

  private static void byRule(StringBuilder b, String title, Map<String, Long> counts) {
    if (counts.isEmpty()) {
      return;
    }
    b.append(title).append(System.lineSeparator());
    counts.forEach((rule, n) -> b.append(String.format("  %10d  %s%n", n, rule)));
  }

  private static String duration(Duration d) {
    long s = d.toSeconds();
    return s >= 86400
        ? String.format("%dd %dh %dm", s / 86400, s % 86400 / 3600, s % 3600 / 60)
        : s >= 3600
            ? String.format("%dh %dm %ds", s / 3600, s % 3600 / 60, s % 60)
            : String.format("%dm %ds", s / 60, s % 60);
  }
}
