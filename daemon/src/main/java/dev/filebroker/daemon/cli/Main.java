package dev.filebroker.daemon.cli;

import java.util.Optional;
import picocli.CommandLine;
import picocli.CommandLine.Command;

/** The {@code filebroker} command: one entry point, one subcommand per task. */
@Command(
    name = "filebroker",
    mixinStandardHelpOptions = true,
    versionProvider = VersionProvider.class,
    description = "A privileged file broker: hands out file descriptors by policy.",
    subcommands = {
      ServeCommand.class,
      CheckCommand.class,
      OpenCommand.class,
      ReloadCommand.class,
      StatusCommand.class,
      RunCommand.class,
      ExplainCommand.class,
      TestCommand.class,
      CommandLine.HelpCommand.class
    })
public final class Main implements Runnable {
  @CommandLine.Spec CommandLine.Model.CommandSpec spec;

  /** Runs the command line and exits with its status. */
  public static void main(String[] args) {
    System.exit(execute(args));
  }

  /** Runs the command line and returns its exit status (for tests). */
  public static int execute(String... args) {
    Optional<ServeCommand> serve = ServeArguments.parse(args);
    if (serve.isPresent()) {
      return ServeArguments.run(serve.get());
    }
    return new CommandLine(new Main()).setCaseInsensitiveEnumValuesAllowed(true).execute(args);
  }

  @Override
  public void run() {
    throw Usage.missingSubcommand(spec);
  }

  /**
   * Builds picocli's exception apart from {@code Main}, so that checking {@code Main}'s code when
   * the daemon starts loads no picocli class.
   */
  private static final class Usage {
    static RuntimeException missingSubcommand(CommandLine.Model.CommandSpec spec) {
      return new CommandLine.ParameterException(spec.commandLine(), "Missing subcommand");
    }
  }
}
