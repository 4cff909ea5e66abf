package dev.filebroker.daemon.cli;

import dev.filebroker.client.FileBroker;
import dev.filebroker.daemon.fs.Exec;
import dev.filebroker.daemon.fs.LandlockRuleset;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import picocli.CommandLine;
import picocli.CommandLine.Option;

/** The options of {@code run} that confine the command with Landlock, and what they make. */
final class SandboxOptions {
  @Option(
      names = "--sandbox",
      description = {
        "Run COMMAND confined by Landlock, with no_new_privs: every file-system access the",
        "kernel can restrict is denied but its granted descriptors, what it needs to start",
        "(executable, loader, libraries), --allow-read and --allow-exec. It may still ask the",
        "daemon for files. Refused (125) on kernels without Landlock ABI 6 (Linux 6.12)."
      })
  boolean sandbox;

  @Option(
      names = "--allow-read",
      paramLabel = "PATH",
      description = "With --sandbox: let COMMAND read PATH (everything beneath a directory).")
  List<Path> allowRead = new ArrayList<>();

  @Option(
      names = "--allow-exec",
      paramLabel = "PATH",
      description = {
        "With --sandbox: let COMMAND execute PATH (and read what it needs to start), or every",
        "program beneath a directory (their libraries need --allow-read)."
      })
  List<Path> allowExec = new ArrayList<>();

  /** What {@link #prepare} made. */
  sealed interface Prepared {
    /**
     * The ruleset to confine the command with (empty without --sandbox), which the caller closes,
     * and what the command may need to start but will not be allowed, to be told to the user.
     */
    record Ready(Optional<LandlockRuleset> ruleset, List<String> warnings) implements Prepared {
      public Ready {
        warnings = List.copyOf(warnings);
      }
    }

    /** The command must not run: {@code message} says why. */
    record Refused(String message) implements Prepared {}
  }

  /**
   * Decides whether the command can be confined and builds its ruleset, before anything is asked of
   * the daemon.
   *
   * @param socket the daemon's socket as given with --socket, if it was
   */
  Prepared prepare(CommandLine.Model.CommandSpec spec, String command, Optional<Path> socket) {
    if (!sandbox) {
      if (!allowRead.isEmpty() || !allowExec.isEmpty()) {
        throw new CommandLine.ParameterException(
            spec.commandLine(), "--allow-read and --allow-exec need --sandbox");
      }
      return new Prepared.Ready(Optional.empty(), List.of());
    }
    return switch (SandboxSupport.decide(LandlockRuleset.kernelVersion())) {
      case SandboxSupport.Decision.Refused r ->
          new Prepared.Refused("--sandbox: " + r.reason() + "; " + command + " was not run");
      case SandboxSupport.Decision.Available a -> {
        Optional<Path> program = Exec.resolve(command).map(Path::of);
        var plan = Sandbox.rules(a.abi(), program, allowRead, allowExec, socketPath(socket));
        yield switch (LandlockRuleset.build(a.abi(), plan.rules())) {
          case LandlockRuleset.Outcome.Built b ->
              new Prepared.Ready(Optional.of(b.ruleset()), plan.unfound());
          case LandlockRuleset.Outcome.Refused r ->
              new Prepared.Refused("--sandbox: " + r.message() + "; " + command + " was not run");
        };
      }
    };
  }

  /** The socket the daemon is reached at, as {@link FileBroker#connect()} chooses it. */
  private static Path socketPath(Optional<Path> given) {
    if (given.isPresent()) {
      return given.get();
    }
    String fromEnvironment = System.getenv(FileBroker.SOCKET_ENVIRONMENT_VARIABLE);
    return fromEnvironment == null || fromEnvironment.isEmpty()
        ? FileBroker.DEFAULT_SOCKET
        : Path.of(fromEnvironment);
  }
}
