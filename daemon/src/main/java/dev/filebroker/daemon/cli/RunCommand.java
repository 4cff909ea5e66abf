package dev.filebroker.daemon.cli;

import dev.filebroker.client.Access;
import dev.filebroker.client.BrokeredFile;
import dev.filebroker.client.FileBroker;
import dev.filebroker.daemon.fs.Child;
import dev.filebroker.daemon.fs.Exec;
import dev.filebroker.daemon.fs.LandlockRuleset;
import dev.filebroker.daemon.fs.SpawnOutcome;
import dev.filebroker.daemon.lifecycle.Signals;
import java.io.FileDescriptor;
import java.io.IOException;
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
import picocli.CommandLine.Mixin;
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
@SuppressWarnings("deprecation") // Access, until AccessWords maps to OpenOptions
final class RunCommand implements Callable<Integer> {
  /** The exit status of a failure of filebroker itself, as env(1) and timeout(1) use it. */
  static final int OWN_FAILURE = 125;

  /** One requested descriptor. */
  record Placement(int number, Path path, AccessWords words) {}

  @Option(
      names = "--fd",
      paramLabel = "N=PATH[:WORDS]",
      description = {
        "Open PATH and place it at descriptor N. WORDS (comma-separated, default read): one",
        "access of read, write, read-write, append; the options create, truncate, exclusive",
        "(create, failing if the file exists); pipe (give the command a pipe relayed to the",
        "file, for programs that open /dev/fd/N or /proc/self/fd/N by name). Words with an",
        "access replace an option's defaults; words with options only add to them. A PATH",
        "that contains ':' ends with ':' or ':WORDS' (3=/srv/a:b: or 3=/srv/a:b:read)."
            + " Repeatable."
      })
  List<String> fds = new ArrayList<>();

  @Option(
      names = "--stdin",
      paramLabel = "PATH[:WORDS]",
      description = "Descriptor 0, as '<' opens it: read.")
  String stdin;

  @Option(
      names = "--stdout",
      paramLabel = "PATH[:WORDS]",
      description = "Descriptor 1, as '>' opens it: write,create,truncate.")
  String stdout;

  @Option(
      names = "--append-stdout",
      paramLabel = "PATH[:WORDS]",
      description = "Descriptor 1, as '>>' opens it: append,create.")
  String appendStdout;

  @Option(
      names = "--stderr",
      paramLabel = "PATH[:WORDS]",
      description = "Descriptor 2, as '2>' opens it: write,create,truncate.")
  String stderr;

  @Option(
      names = "--append-stderr",
      paramLabel = "PATH[:WORDS]",
      description = "Descriptor 2, as '2>>' opens it: append,create.")
  String appendStderr;

  @Option(
      names = "--socket",
      paramLabel = "PATH",
      description =
          "Daemon socket (default: $FILEBROKER_SOCKET, else /run/filebroker/filebroker.sock);"
              + " given, the command finds it in $FILEBROKER_SOCKET.")
  Path socket;

  @Parameters(
      arity = "1..*",
      paramLabel = "COMMAND",
      description = "The command and its arguments.")
  List<String> command;

  @Mixin SandboxOptions sandboxing;

  @CommandLine.Spec CommandLine.Model.CommandSpec spec;

  @Override
  public Integer call() {
    List<Placement> requested = new ArrayList<>();
    for (String s : fds) {
      requested.add(parseFd(s));
    }
    standard(requested, 0, "--stdin", stdin, AccessWords.READ);
    standard(requested, 1, "--stdout", stdout, AccessWords.REPLACE);
    standard(requested, 1, "--append-stdout", appendStdout, AccessWords.APPEND);
    standard(requested, 2, "--stderr", stderr, AccessWords.REPLACE);
    standard(requested, 2, "--append-stderr", appendStderr, AccessWords.APPEND);
    Map<Integer, Placement> placements = new LinkedHashMap<>();
    for (Placement p : requested) {
      if (placements.putIfAbsent(p.number(), p) != null) {
        throw new CommandLine.ParameterException(
            spec.commandLine(), "descriptor " + p.number() + " is given twice");
      }
    }
    Optional<LandlockRuleset> sandbox;
    switch (sandboxing.prepare(spec, command.getFirst(), Optional.ofNullable(socket))) {
      case SandboxOptions.Prepared.Refused r -> {
        System.err.println("filebroker: " + r.message());
        return OWN_FAILURE;
      }
      case SandboxOptions.Prepared.Ready r -> {
        sandbox = r.ruleset();
        for (String w : r.warnings()) {
          System.err.println("filebroker: --sandbox: " + w);
        }
      }
    }
    Map<Integer, BrokeredFile> files = new LinkedHashMap<>();
    List<PipeRelay> relays = new ArrayList<>();
    try {
      try (FileBroker broker = socket == null ? FileBroker.connect() : FileBroker.connect(socket)) {
        for (Placement p : placements.values()) {
          try {
            files.put(p.number(), broker.open(p.path(), p.words().access().toArray(Access[]::new)));
          } catch (IOException e) {
            System.err.println(
                "filebroker: could not open descriptor "
                    + p.number()
                    + " ("
                    + p.path()
                    + ", "
                    + p.words().text()
                    + "): "
                    + OpenFailure.describe(e));
            return OWN_FAILURE;
          }
        }
      } catch (IOException e) {
        System.err.println("filebroker: could not reach the daemon: " + e.getMessage());
        return OWN_FAILURE;
      }
      Map<Integer, FileDescriptor> descriptors = new LinkedHashMap<>();
      for (Placement p : placements.values()) {
        BrokeredFile file = files.get(p.number());
        if (p.words().pipe()) {
          PipeRelay relay;
          try {
            relay = PipeRelay.create(p.number(), file, p.words().reads());
          } catch (IOException e) {
            System.err.println("filebroker: descriptor " + p.number() + ": " + e.getMessage());
            return OWN_FAILURE;
          }
          files.remove(p.number()); // the relay owns it now
          relays.add(relay);
          descriptors.put(p.number(), relay.childEnd());
        } else {
          descriptors.put(p.number(), file.fileDescriptor());
        }
      }
      System.out.flush();
      System.err.flush();
      SignalForwarder forwarder = SignalForwarder.install();
      SpawnOutcome outcome =
          Exec.spawn(
              command.getFirst(),
              command.subList(1, command.size()),
              descriptors,
              sandbox,
              environment());
      closeAll(files.values()); // the command now holds the only copies
      relays.forEach(PipeRelay::closeChildEnd);
      return switch (outcome) {
        case SpawnOutcome.Failed f -> {
          System.err.println("filebroker: " + f.message());
          yield f.shellStatus();
        }
        case SpawnOutcome.Started s -> {
          relays.forEach(PipeRelay::start);
          int status;
          try (Child child = s.child()) {
            forwarder.attach(child);
            status = child.waitFor().shellStatus();
          } catch (IOException e) {
            System.err.println("filebroker: " + e.getMessage());
            yield OWN_FAILURE; // only ECHILD, which nothing in this JVM should cause
          }
          yield relayed(relays, status);
        }
      };
    } finally {
      closeAll(files.values());
      relays.forEach(PipeRelay::close);
      sandbox.ifPresent(LandlockRuleset::close);
    }
  }

  /**
   * The command's environment: this one's, with {@code FILEBROKER_SOCKET} set to the {@code
   * --socket} given (as an absolute path), so that the command asks the same daemon for more files.
   */
  private Map<String, String> environment() {
    if (socket == null) {
      return System.getenv();
    }
    Map<String, String> environment = new LinkedHashMap<>(System.getenv());
    environment.put(FileBroker.SOCKET_ENVIRONMENT_VARIABLE, socket.toAbsolutePath().toString());
    return environment;
  }

  /**
   * The status to exit with once the command has ended with {@code status}: waits until every relay
   * that writes into a file has written all the command sent (until every holder of the pipe has
   * closed it); 125 if a relay could not read or write its file.
   */
  private static int relayed(List<PipeRelay> relays, int status) {
    boolean failed = false;
    for (PipeRelay relay : relays) {
      Optional<String> problem = relay.intoFile() ? relay.awaitDone() : relay.problemSoFar();
      if (problem.isPresent()) {
        System.err.println(
            "filebroker: descriptor "
                + relay.number()
                + ": "
                + problem.get()
                + " (the command exited "
                + status
                + ")");
        failed = true;
      }
    }
    return failed ? OWN_FAILURE : status;
  }

  private void standard(
      List<Placement> placements, int number, String option, String value, AccessWords defaults) {
    if (value != null) {
      placements.add(placement(number, value, defaults, option + " " + value));
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

  private Placement parseFd(String text) {
    int equals = text.indexOf('=');
    if (equals <= 0) {
      throw new CommandLine.ParameterException(
          spec.commandLine(), "--fd must be N=PATH[:WORDS], e.g. 3=/etc/app.conf:read: " + text);
    }
    int number;
    try {
      number = Integer.parseInt(text.substring(0, equals));
    } catch (NumberFormatException e) {
      number = -1;
    }
    if (number < 0 || number > Exec.MAX_TARGET) {
      throw new CommandLine.ParameterException(
          spec.commandLine(), "descriptor number must be 0 to " + Exec.MAX_TARGET + ": " + text);
    }
    return placement(number, text.substring(equals + 1), AccessWords.READ, "--fd " + text);
  }

  /**
   * PATH[:WORDS]: the words follow the last ':', so a path that contains ':' is written with a
   * trailing ':' (no words: the defaults) or ':WORDS'.
   */
  private Placement placement(int number, String spec, AccessWords defaults, String given) {
    int colon = spec.lastIndexOf(':');
    String pathText = colon < 0 ? spec : spec.substring(0, colon);
    AccessWords words = defaults;
    if (colon >= 0 && colon < spec.length() - 1) {
      try {
        words = AccessWords.parse(spec.substring(colon + 1), defaults, true);
      } catch (AccessWords.InvalidWordsException e) {
        throw new CommandLine.ParameterException(
            this.spec.commandLine(),
            e.getMessage()
                + " (in "
                + given
                + "; a path that contains ':' ends with ':' or ':WORDS', e.g. "
                + spec
                + ":)");
      }
    }
    if (pathText.isEmpty()) {
      throw new CommandLine.ParameterException(this.spec.commandLine(), "no path in " + given);
    }
    return new Placement(number, Path.of(pathText).toAbsolutePath().normalize(), words);
  }
}
