package dev.filebroker.daemon.cli;

import dev.filebroker.daemon.config.DaemonConfig;
import dev.filebroker.daemon.config.DaemonConfigLoader;
import dev.filebroker.daemon.lifecycle.CheckedPolicyLoader;
import dev.filebroker.daemon.policy.PolicyError;
import dev.filebroker.daemon.policy.PolicyLoad;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * {@code filebroker check}: validates policy files, or a daemon configuration and the policy it
 * names, without touching the running daemon, and gives the verdict the daemon would give at start
 * or reload: the files' owners and modes, the settings, the rules, and the directory's own test
 * cases ({@code tests/*.toml}).
 */
@Command(
    name = "check",
    mixinStandardHelpOptions = true,
    header = "Check policy files; print every error as file:line:column: message.",
    description = {
      "Check policy files or directories as the daemon checks them at start and reload:",
      "every file, and each directory above it, must be owned by root and not writable by",
      "group or others; the rules must be valid; and the cases in the directory's tests/",
      "subdirectory must pass. A PATH named filebroker.toml, or the FILE of --config, is",
      "checked as the daemon's configuration, and then the policy it names. Prints every",
      "error as file:line:column: message and exits 1 when there is any; prints a summary",
      "and exits 0 otherwise."
    })
final class CheckCommand implements Callable<Integer> {
  @CommandLine.Spec CommandLine.Model.CommandSpec spec;

  @Option(
      names = "--config",
      paramLabel = "FILE",
      description = "Check this daemon configuration (filebroker.toml) and the policy it names.")
  Path config;

  @Parameters(
      arity = "0..*",
      paramLabel = "PATH",
      description = "Policy file or directory, or a filebroker.toml.")
  List<Path> paths = List.of();

  @Override
  public Integer call() {
    if (config == null && paths.isEmpty()) {
      throw new CommandLine.ParameterException(
          spec.commandLine(), "give a policy PATH, a filebroker.toml or --config FILE");
    }
    List<Path> configs = new ArrayList<>();
    List<Path> policies = new ArrayList<>();
    if (config != null) {
      configs.add(config);
    }
    for (Path path : paths) {
      (isConfiguration(path) ? configs : policies).add(path);
    }
    int status = 0;
    for (Path file : configs) {
      switch (DaemonConfigLoader.load(file)) {
        case DaemonConfigLoader.Result.Invalid invalid -> {
          invalid.errors().forEach(System.out::println);
          System.out.println(file + ": " + invalid.errors().size() + " error(s)");
          status = 1;
        }
        case DaemonConfigLoader.Result.Loaded loaded -> {
          DaemonConfig settings = loaded.config();
          System.out.println(file + ": OK, configuration (policy " + settings.policy() + ")");
          if (!policies.contains(settings.policy())) {
            policies.add(settings.policy());
          }
        }
      }
    }
    for (Path path : policies) {
      switch (CheckedPolicyLoader.load(path)) {
        case PolicyLoad.Invalid invalid -> {
          for (PolicyError e : invalid.errors()) {
            System.out.println(e);
          }
          System.out.println(path + ": " + invalid.errors().size() + " error(s)");
          status = 1;
        }
        case PolicyLoad.Valid loaded -> {
          loaded.warnings().forEach(System.out::println);
          System.out.println(path + ": OK, " + loaded.policy().ruleCount() + " rule(s)");
        }
      }
    }
    return status;
  }

  /** Whether {@code path} is a daemon configuration: a regular file named filebroker.toml. */
  private static boolean isConfiguration(Path path) {
    return Files.isRegularFile(path)
        && path.getFileName() != null
        && path.getFileName().equals(DaemonConfig.DEFAULT_FILE.getFileName());
  }
}
