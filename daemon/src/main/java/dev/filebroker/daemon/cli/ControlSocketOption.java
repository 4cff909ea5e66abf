package dev.filebroker.daemon.cli;

import dev.filebroker.daemon.config.DaemonConfig;
import dev.filebroker.daemon.config.DaemonConfigLoader;
import java.nio.file.Files;
import java.nio.file.Path;
import picocli.CommandLine.Option;

/**
 * The {@code --control-socket} option of the commands that talk to the running daemon; without it,
 * the {@code control_socket} of /etc/filebroker/filebroker.toml, else the default path.
 */
final class ControlSocketOption {
  @Option(
      names = "--control-socket",
      paramLabel = "PATH",
      description =
          "The daemon's control socket (default: control_socket in"
              + " /etc/filebroker/filebroker.toml, else /run/filebroker/control.sock).")
  Path path;

  /** The socket to connect to. */
  Path resolve() {
    if (path != null) {
      return path;
    }
    if (Files.exists(DaemonConfig.DEFAULT_FILE)
        && DaemonConfigLoader.load(DaemonConfig.DEFAULT_FILE)
            instanceof DaemonConfigLoader.Result.Loaded loaded) {
      return loaded.config().controlSocket();
    }
    // A broken configuration file is the daemon's to report; the default is the best guess.
    return DaemonConfig.DEFAULT_CONTROL_SOCKET;
  }
}
