package dev.filebroker.daemon.cli;

import dev.filebroker.daemon.config.DaemonConfig;
import dev.filebroker.daemon.config.DaemonConfigLoader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import picocli.CommandLine.Option;

/**
 * The {@code --control-socket} and {@code --config} options of the commands that talk to the
 * running daemon: the socket given, else the {@code control_socket} of the configuration file given
 * (the one the daemon was started with), else that of /etc/filebroker/filebroker.toml, else the
 * default path.
 */
final class ControlSocketOption {
  @Option(
      names = "--control-socket",
      paramLabel = "PATH",
      description =
          "The daemon's control socket (default: control_socket in the --config file, else"
              + " /run/filebroker/control.sock).")
  Path path;

  @Option(
      names = "--config",
      paramLabel = "PATH",
      description =
          "The configuration file the daemon was started with, to read control_socket from"
              + " (default: /etc/filebroker/filebroker.toml).")
  Path config;

  /** Where the control socket is, or why that cannot be told. */
  sealed interface Target {
    /** The socket to connect to. */
    record Found(Path socket) implements Target {}

    /** The --config file given cannot be read or has errors, each a line for the user. */
    record Unusable(List<String> errors) implements Target {
      public Unusable {
        errors = List.copyOf(errors);
      }
    }
  }

  /** The socket to connect to. */
  Target resolve() {
    if (path != null) {
      return new Target.Found(path);
    }
    if (config != null) {
      return switch (DaemonConfigLoader.load(config)) {
        case DaemonConfigLoader.Result.Loaded loaded ->
            new Target.Found(loaded.config().controlSocket());
        case DaemonConfigLoader.Result.Invalid invalid -> new Target.Unusable(invalid.errors());
      };
    }
    if (Files.exists(DaemonConfig.DEFAULT_FILE)
        && DaemonConfigLoader.load(DaemonConfig.DEFAULT_FILE)
            instanceof DaemonConfigLoader.Result.Loaded loaded) {
      return new Target.Found(loaded.config().controlSocket());
    }
    // A broken default configuration file is the daemon's to report; the default is the best
    // guess (an explicit --config is reported instead, above).
    return new Target.Found(DaemonConfig.DEFAULT_CONTROL_SOCKET);
  }

  /**
   * The socket to connect to; when there is none, prints why (prefixed with {@code prefix}) and
   * returns empty. Keeps each command's handling to one line.
   */
  Optional<Path> resolveOrReport(String prefix) {
    return switch (resolve()) {
      case Target.Found found -> Optional.of(found.socket());
      case Target.Unusable unusable -> {
        System.err.println(prefix + "could not read --config " + config + ":");
        unusable.errors().forEach(System.err::println);
        yield Optional.empty();
      }
    };
  }
}
