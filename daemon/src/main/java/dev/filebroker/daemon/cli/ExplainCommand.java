package dev.filebroker.daemon.cli;

import dev.filebroker.daemon.control.ControlClient;
import dev.filebroker.daemon.control.ControlRequest;
import dev.filebroker.daemon.control.ExplainQuery;
import dev.filebroker.daemon.control.Json;
import dev.filebroker.daemon.policy.AccessRequest;
import dev.filebroker.daemon.policy.DecisionExplanation;
import dev.filebroker.daemon.policy.Explainer;
import dev.filebroker.daemon.policy.Identities;
import dev.filebroker.daemon.policy.Permission;
import dev.filebroker.daemon.policy.PolicyError;
import dev.filebroker.daemon.policy.PolicyLoad;
import dev.filebroker.daemon.policy.PolicyLoader;
import dev.filebroker.daemon.toml.KeyNames;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.Set;
import java.util.concurrent.Callable;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code filebroker explain}: how a policy decides one request, offline, and why. */
@Command(
    name = "explain",
    mixinStandardHelpOptions = true,
    header = "Explain how the policy decides a request, with the deciding rule and near misses.",
    description = {
      "Explain how a policy decides a request: the decision, the deciding rule with file:line,",
      "and the rules that nearly applied with why they did not. Works on the policy files,",
      "or with --live on the running daemon's policy. Groups of --user are those of a login"
          + " session",
      "(/etc/passwd primary group plus /etc/group memberships), plus any --group.",
      "Exits 0 when allowed, 1 when denied, 2 on an error."
    })
final class ExplainCommand implements Callable<Integer> {
  static final class Who {
    @Option(names = "--user", paramLabel = "NAME", description = "The user asking.")
    String user;

    @Option(names = "--uid", paramLabel = "N", description = "The uid asking.")
    Long uid;
  }

  @ArgGroup(exclusive = true, multiplicity = "1")
  Who who;

  @Option(names = "--gid", paramLabel = "N", description = "Primary gid (default: from passwd).")
  Long gid;

  @Option(names = "--group", paramLabel = "G", description = "An extra group (name or gid).")
  List<String> groups = new ArrayList<>();

  @Option(names = "--exe", paramLabel = "PATH", description = "The caller's executable.")
  String exe;

  @Option(names = "--unit", paramLabel = "NAME", description = "The caller's systemd unit.")
  String unit;

  @Option(
      names = "--access",
      paramLabel = "MODE",
      split = ",",
      required = true,
      description = "read, write, append, create, truncate, directory (comma-separated).")
  List<String> access;

  @Option(names = "--directory", description = "The request asks for a directory (O_DIRECTORY).")
  boolean directory;

  @Option(names = "--exclusive", description = "The request carries O_EXCL.")
  boolean exclusive;

  @Option(
      names = "--policy",
      paramLabel = "PATH",
      defaultValue = "/etc/filebroker/policy.d",
      description = "Policy file or directory (default: ${DEFAULT-VALUE}).")
  Path policy;

  @Option(
      names = "--format",
      paramLabel = "FORMAT",
      defaultValue = "text",
      description = "text or json (default: ${DEFAULT-VALUE}).")
  String format;

  @Option(
      names = "--live",
      description = {
        "Ask the running daemon (root only, over its control socket) instead of reading",
        "--policy: the answer reflects the policy in force, including a reload that failed."
      })
  boolean live;

  @Mixin ControlSocketOption controlSocket;

  @Parameters(index = "0", paramLabel = "PATH", description = "The requested absolute path.")
  String path;

  @Override
  public Integer call() {
    if (!format.equals("text") && !format.equals("json")) {
      System.err.println("filebroker explain: --format must be text or json");
      return 2;
    }
    Set<Permission> permissions = EnumSet.noneOf(Permission.class);
    for (String word : access) {
      Optional<Permission> permission =
          EnumSet.allOf(Permission.class).stream()
              .filter(p -> p.policyName().equals(word.strip()))
              .findFirst();
      if (permission.isEmpty()) {
        List<String> valid =
            EnumSet.allOf(Permission.class).stream().map(Permission::policyName).toList();
        System.err.println(
            "filebroker explain: unknown access '"
                + word.strip()
                + "'"
                + KeyNames.closest(word.strip(), valid)
                    .map(w -> " (did you mean '" + w + "'?)")
                    .orElse("")
                + "; expected one of "
                + String.join(", ", valid));
        return 2;
      }
      permissions.add(permission.get());
    }
    PolicyLoad load = live ? null : PolicyLoader.load(policy);
    if (load instanceof PolicyLoad.Invalid invalid) {
      for (PolicyError error : invalid.errors()) {
        System.err.println(error);
      }
      return 2;
    }
    Identities identities;
    try {
      identities = Identities.system();
    } catch (IOException e) {
      System.err.println("filebroker explain: could not read the account databases: " + e);
      return 2;
    }
    Identities.Resolution resolution =
        identities.resolve(
            Optional.ofNullable(who.user),
            who.uid == null ? OptionalInt.empty() : OptionalInt.of((int) who.uid.longValue()),
            gid == null ? OptionalInt.empty() : OptionalInt.of((int) gid.longValue()),
            groups,
            Optional.ofNullable(exe),
            Optional.ofNullable(unit));
    return switch (resolution) {
      case Identities.Resolution.Unresolved unresolved -> {
        System.err.println("filebroker explain: " + unresolved.message());
        yield 2;
      }
      case Identities.Resolution.Resolved resolved when live ->
          explainLive(
              new ExplainQuery(
                  resolved.caller(), new AccessRequest(path, permissions, directory, exclusive)));
      case Identities.Resolution.Resolved resolved -> {
        DecisionExplanation explanation =
            Explainer.explain(
                ((PolicyLoad.Valid) load).policy(),
                resolved.caller(),
                new AccessRequest(path, permissions, directory, exclusive));
        System.out.print(
            format.equals("json") ? explanation.toJson() + "\n" : explanation.toText());
        yield explanation.allowed() ? 0 : 1;
      }
    };
  }

  /** Asks the running daemon; exit 0 allowed, 1 denied, 2 could not ask. */
  private int explainLive(ExplainQuery query) {
    Optional<Path> control = controlSocket.resolveOrReport("filebroker explain: ");
    if (control.isEmpty()) {
      return 2;
    }
    return switch (ControlClient.exchange(control.get(), new ControlRequest.Explain(query))) {
      case ControlClient.Reply.Failed failed -> {
        System.err.println("filebroker explain: " + failed.message());
        yield 2;
      }
      case ControlClient.Reply.Answered answer when !answer.ok() -> {
        System.err.println("filebroker explain: " + answer.error());
        yield 2;
      }
      case ControlClient.Reply.Answered answer -> {
        if (format.equals("json")) {
          System.out.println(Json.write(answer.body()));
        } else {
          System.out.print(String.valueOf(answer.body().get("explanation")));
        }
        yield "allow".equals(answer.body().get("decision")) ? 0 : 1;
      }
    };
  }
}
