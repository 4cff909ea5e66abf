package dev.filebroker.daemon.cli;

import dev.filebroker.client.Access;
import dev.filebroker.client.BrokerRequestException;
import dev.filebroker.client.BrokeredFile;
import dev.filebroker.client.FileBroker;
import dev.filebroker.daemon.fs.Child;
import dev.filebroker.daemon.fs.Exec;
import dev.filebroker.daemon.fs.SpawnOutcome;
import dev.filebroker.daemon.lifecycle.Signals;
import java.io.FileDescriptor;
import java.io.IOException;
import java.nio.file.AccessDeniedException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.FileSystemException;
import java.nio.file.NoSuchFileException;
import java.nio.file.NotDirectoryException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * {@code filebroker run}: obtains descriptors through the daemon, starts a command with them at
 * chosen numbers and exits with its status, so that programs that know nothing of filebroker can
 * use brokered files (as {@code cat <&3} or as their standard input and output).
 */
@Command(
    name = "run",
    mixinStandardHelpOptions = true,
    // As env(1) and timeout(1): 125 is filebroker's own failure, never one of COMMAND's statuses
    // that a script could mistake for it (a refused file, an unreachable daemon, a bad argument).
    exitCodeOnInvalidInput = RunCommand.OWN_FAILURE,
    exitCodeOnExecutionException = RunCommand.OWN_FAILURE,
    header = "Run a command with brokered files at chosen descriptor numbers.",
    description = {
      "Open files through the daemon and run COMMAND with them at the given descriptor numbers;",
      "exit with COMMAND's status (128+N if signal N killed it). SIGHUP, SIGINT, SIGQUIT and",
      "SIGTERM are passed on to COMMAND. As env(1) and timeout(1): exit 125 without running",
      "COMMAND if a file cannot be had (saying which and why), the daemon cannot be reached or",
      "an argument is wrong; 127 if COMMAND is not found, 126 if it cannot be executed."
    })
final class RunCommand implements Callable<Integer> {
  /** The exit status of a failure of filebroker itself, as env(1) and timeout(1) use it. */
  static final int OWN_FAILURE = 125;

  /** One requested descriptor. */
  record Placement(int number, Path path, String accessName, Access access) {}

  @Option(
      names = "--fd",
      paramLabel = "N=PATH[:ACCESS]",
      description = {
        "Open PATH and place it at descriptor N; ACCESS is read (default), write, append or",
        "read-write. Repeatable."
      })
  List<String> fds = new ArrayList<>();

  @Option(names = "--stdin", paramLabel = "PATH", description = "Same as --fd 0=PATH:read.")
  String stdin;

  @Option(names = "--stdout", paramLabel = "PATH", description = "Same as --fd 1=PATH:write.")
  String stdout;

  @Option(
      names = "--socket",
      paramLabel = "PATH",
      description =
          "Daemon socket (default: $FILEBROKER_SOCKET, else /run/filebroker/filebroker.sock).")
  Path socket;

  @Parameters(
      arity = "1..*",
      paramLabel = "COMMAND",
      description = "The command and its arguments.")
  List<String> command;

  @CommandLine.Spec CommandLine.Model.CommandSpec spec;

  @Override
  public Integer call() {
    List<String> specs = new ArrayList<>(fds);
    if (stdin != null) {
      specs.add("0=" + stdin + ":read");
    }
    if (stdout != null) {
      specs.add("1=" + stdout + ":write");
    }
    Map<Integer, Placement> placements = new LinkedHashMap<>();
    for (String s : specs) {
      Placement p = parse(s);
      if (placements.putIfAbsent(p.number(), p) != null) {
        throw new CommandLine.ParameterException(
            spec.commandLine(), "descriptor " + p.number() + " is given twice");
      }
    }
    Map<Integer, BrokeredFile> files = new LinkedHashMap<>();
    try {
      try (FileBroker broker = socket == null ? FileBroker.connect() : FileBroker.connect(socket)) {
        for (Placement p : placements.values()) {
          try {
            files.put(p.number(), broker.open(p.path(), p.access()));
          } catch (IOException e) {
            System.err.println(
                "filebroker: could not open descriptor "
                    + p.number()
                    + " ("
                    + p.path()
                    + ", "
                    + p.accessName()
                    + "): "
                    + describe(e));
            return OWN_FAILURE;
          }
        }
      } catch (IOException e) {
        System.err.println("filebroker: could not reach the daemon: " + e.getMessage());
        return OWN_FAILURE;
      }
      Map<Integer, FileDescriptor> descriptors = new LinkedHashMap<>();
      files.forEach((n, f) -> descriptors.put(n, f.fileDescriptor()));
      System.out.flush();
      System.err.flush();
      SignalForwarder forwarder = SignalForwarder.install();
      SpawnOutcome outcome =
          Exec.spawn(command.getFirst(), command.subList(1, command.size()), descriptors);
      closeAll(files.values()); // the command now holds the only copies
      return switch (outcome) {
        case SpawnOutcome.Failed f -> {
          System.err.println("filebroker: " + f.message());
          yield f.shellStatus();
        }
        case SpawnOutcome.Started s -> {
          try (Child child = s.child()) {
            forwarder.attach(child);
            yield child.waitFor().shellStatus();
          } catch (IOException e) {
            System.err.println("filebroker: " + e.getMessage());
            yield OWN_FAILURE; // only ECHILD, which nothing in this JVM should cause
          }
        }
      };
    } finally {
      closeAll(files.values());
    }
  }

  private static void closeAll(Collection<BrokeredFile> files) {
    for (BrokeredFile f : files) {
      try {
        f.close();
      } catch (IOException ignored) {
        // the descriptor is released on Linux even when close reports an error
      }
    }
  }

  /**
   * Passes SIGHUP, SIGINT, SIGQUIT and SIGTERM that reach this JVM on to the command. Installed
   * before the command starts, so that a signal arriving meanwhile is held and passed on once it
   * runs rather than ending the JVM and leaving the command behind. SIGINT and SIGQUIT are not
   * passed on while both run in the foreground process group of a terminal: the terminal signals
   * the whole group, so the command has its own copy already (one ^C is one SIGINT for it).
   */
  static final class SignalForwarder {
    private static final Map<String, Integer> FORWARDED =
        Map.of("HUP", 1, "INT", 2, "QUIT", 3, "TERM", 15);
    private static final Set<Integer> KEYBOARD = Set.of(2, 3);

    private final Object lock = new Object();
    private Child child; // guarded by lock; null until attached
    private final List<Integer> pending = new ArrayList<>(); // guarded by lock

    private SignalForwarder() {}

    static SignalForwarder install() {
      SignalForwarder forwarder = new SignalForwarder();
      FORWARDED.forEach(
          (name, number) -> {
            try {
              Signals.handle(name, () -> forwarder.forward(number));
            } catch (IllegalStateException e) {
              // SIGQUIT belongs to the JVM (thread dumps) unless it runs with -Xrs; a terminal's
              // ^\ reaches the command directly anyway, as it signals the whole process group.
            }
          });
      return forwarder;
    }

    void attach(Child started) {
      synchronized (lock) {
        child = started;
        for (int signal : pending) {
          started.signal(signal);
        }
        pending.clear();
      }
    }

    private void forward(int signal) {
      synchronized (lock) {
        if (child == null) {
          pending.add(signal);
        } else if (!(KEYBOARD.contains(signal) && TerminalGroup.reachesDirectly(child.pid()))) {
          child.signal(signal);
        }
      }
    }
  }

  private Placement parse(String text) {
    int equals = text.indexOf('=');
    if (equals <= 0) {
      throw new CommandLine.ParameterException(
          spec.commandLine(), "--fd must be N=PATH[:ACCESS], e.g. 3=/etc/app.conf:read: " + text);
    }
    int number;
    try {
      number = Integer.parseInt(text.substring(0, equals));
    } catch (NumberFormatException e) {
      number = -1;
    }
    if (number < 0 || number > 1023) {
      throw new CommandLine.ParameterException(
          spec.commandLine(), "descriptor number must be 0 to 1023: " + text);
    }
    String rest = text.substring(equals + 1);
    String accessName = "read";
    int colon = rest.lastIndexOf(':');
    if (colon >= 0 && access(rest.substring(colon + 1)).isPresent()) {
      accessName = rest.substring(colon + 1);
      rest = rest.substring(0, colon);
    }
    if (rest.isEmpty()) {
      throw new CommandLine.ParameterException(spec.commandLine(), "no path in --fd " + text);
    }
    return new Placement(
        number,
        Path.of(rest).toAbsolutePath().normalize(),
        accessName,
        access(accessName).orElseThrow());
  }

  private static Optional<Access> access(String name) {
    return switch (name) {
      case "read" -> Optional.of(Access.READ);
      case "write" -> Optional.of(Access.WRITE);
      case "append" -> Optional.of(Access.APPEND);
      case "read-write" -> Optional.of(Access.READ_WRITE);
      default -> Optional.empty();
    };
  }

  /** "CODE: message", the daemon's error code as the wire names it. */
  static String describe(IOException e) {
    String code =
        switch (e) {
          case BrokerRequestException b -> b.codeName();
          case AccessDeniedException a -> "DENIED";
          case NoSuchFileException n -> "NOT_FOUND";
          case FileAlreadyExistsException f -> "ALREADY_EXISTS";
          case NotDirectoryException n -> "NOT_A_DIRECTORY";
          default -> "";
        };
    if (e instanceof BrokerRequestException b) {
      return code + ": " + b.daemonMessage() + (b.errno() == 0 ? "" : " (errno " + b.errno() + ")");
    }
    if (e instanceof FileSystemException f && !code.isEmpty()) {
      return code + ": " + f.getReason();
    }
    return e.getMessage();
  }
}
