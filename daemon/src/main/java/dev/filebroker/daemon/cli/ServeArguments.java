package dev.filebroker.daemon.cli;

import java.nio.file.InvalidPathException;
import java.nio.file.Path;
import java.util.Optional;

/**
 * Reads the usual {@code filebroker serve} command line without picocli.
 *
 * <p>Exists because picocli builds its model of every subcommand by reflection before it parses
 * anything, which took about half of the daemon's start-up, and the daemon is started with nothing
 * but these options (by systemd, the launchers and the tests). Any other command line (help, an
 * unknown, repeated or empty option, an argument file, {@code --}) is left to picocli, so that its
 * parsing and its messages stay the only ones a user sees.
 */
final class ServeArguments {
  private ServeArguments() {}

  /**
   * The serve command {@code args} describe, or empty when they are anything but {@code serve}
   * followed by distinct, non-empty {@code --config}, {@code --policy}, {@code --socket} and {@code
   * --control-socket} options.
   */
  static Optional<ServeCommand> parse(String[] args) {
    if (args.length == 0 || !args[0].equals("serve")) {
      return Optional.empty();
    }
    ServeCommand command = new ServeCommand();
    int i = 1;
    while (i < args.length) {
      String name = args[i];
      String value;
      int equals = name.indexOf('=');
      if (equals > 0) {
        value = name.substring(equals + 1);
        name = name.substring(0, equals);
        i += 1;
      } else if (i + 1 < args.length) {
        value = args[i + 1];
        i += 2;
      } else {
        return Optional.empty();
      }
      if (value.isEmpty() || value.startsWith("-") || value.startsWith("@")) {
        return Optional.empty();
      }
      Path path;
      try {
        path = Path.of(value);
      } catch (InvalidPathException e) {
        return Optional.empty();
      }
      switch (name) {
        case "--config" -> {
          if (command.config != null) {
            return Optional.empty();
          }
          command.config = path;
        }
        case "--policy" -> {
          if (command.policy != null) {
            return Optional.empty();
          }
          command.policy = path;
        }
        case "--socket" -> {
          if (command.socket != null) {
            return Optional.empty();
          }
          command.socket = path;
        }
        case "--control-socket" -> {
          if (command.controlSocket != null) {
            return Optional.empty();
          }
          command.controlSocket = path;
        }
        default -> {
          return Optional.empty();
        }
      }
    }
    return Optional.of(command);
  }

  /**
   * Runs {@code command} and returns its exit status; an exception it throws is a bug, reported
   * with its stack trace and status 1, as picocli does.
   */
  static int run(ServeCommand command) {
    try {
      return command.call();
    } catch (Exception e) {
      e.printStackTrace();
      return 1;
    }
  }
}
