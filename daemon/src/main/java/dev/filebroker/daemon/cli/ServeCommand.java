package dev.filebroker.daemon.cli;

import dev.filebroker.daemon.config.DaemonConfig;
import dev.filebroker.daemon.config.DaemonConfigLoader;
import dev.filebroker.daemon.lifecycle.Daemon;
import dev.filebroker.daemon.systemd.ErrorConsole;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code filebroker serve}: runs the daemon in the foreground. */
@Command(
    name = "serve",
    mixinStandardHelpOptions = true,
    description = "Run the daemon in the foreground until SIGTERM; SIGHUP reloads the policy.")
final class ServeCommand implements Callable<Integer> {
  @Option(
      names = "--config",
      paramLabel = "FILE",
      description = "Daemon configuration (default: /etc/filebroker/filebroker.toml if present).")
  Path config;

  @Option(names = "--policy", paramLabel = "PATH", description = "Policy file or directory.")
  Path policy;

  @Option(names = "--socket", paramLabel = "PATH", description = "Socket to listen on.")
  Path socket;

  @Option(
      names = "--control-socket",
      paramLabel = "PATH",
      description = "Root-only control socket for reload and status.")
  Path controlSocket;

  @Override
  public Integer call() throws Exception {
    // Under systemd the reasons for refusing to start are logged at priority err.
    PrintStream console = ErrorConsole.of(System.err, System.getenv());
    DaemonConfig settings = DaemonConfig.defaults();
    Path file = config != null ? config : DaemonConfig.DEFAULT_FILE;
    if (config != null || Files.exists(file)) {
      // instanceof rather than a pattern switch: the switch's bootstrap method costs start-up.
      DaemonConfigLoader.Result result = DaemonConfigLoader.load(file);
      if (result instanceof DaemonConfigLoader.Result.Invalid invalid) {
        console.println("filebroker: refusing to start: the configuration has errors");
        for (String error : invalid.errors()) {
          console.println(error);
        }
        return 1;
      }
      settings = ((DaemonConfigLoader.Result.Loaded) result).config();
    }
    if (policy != null) {
      settings = settings.withPolicy(policy.toAbsolutePath());
    }
    if (socket != null) {
      settings = settings.withSocket(socket.toAbsolutePath());
    }
    if (controlSocket != null) {
      settings = settings.withControlSocket(controlSocket.toAbsolutePath());
    }
    try {
      return new Daemon(settings, console).run();
    } catch (java.io.IOException e) {
      // Expected start-up failures (a socket in use, a directory that cannot be created) are
      // stated, not dumped as a stack trace.
      console.println("filebroker: refusing to start: " + e.getMessage());
      return 1;
    }
  }
}
