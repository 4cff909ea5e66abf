package dev.filebroker.daemon.fs;

import com.sun.jna.LastErrorException;
import com.sun.jna.Memory;
import com.sun.jna.StringArray;
import java.io.File;
import java.io.FileDescriptor;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.function.IntSupplier;
import java.util.stream.Stream;

/**
 * Starts a program with chosen descriptors at chosen numbers: what {@code filebroker run} needs. A
 * multi-threaded JVM can neither fork nor safely rearrange its own descriptors, so this uses
 * posix_spawn(3), whose glibc implementation runs the child on its own stack
 * (clone(CLONE_VM|CLONE_VFORK)) and applies the descriptor changes only in the child.
 *
 * <p>The child inherits exactly descriptors 0, 1, 2 (as the JVM has them, unless mapped) and the
 * mapped numbers. It starts with no blocked signal and every signal at its default action, except
 * that SIGHUP, SIGINT, SIGQUIT and SIGTERM stay ignored when the JVM ignores them: the JVM keeps
 * SIGHUP, SIGINT and SIGTERM ignored when it was started so (by nohup, or by {@code &} in a
 * script), and SIGQUIT too when it runs with -Xrs.
 */
public final class Exec {
  /** The largest target number accepted. */
  public static final int MAX_TARGET = 1023;

  /** $PATH when it is unset, as glibc's execvp uses. */
  private static final String DEFAULT_PATH = "/bin:/usr/bin";

  private static final int SIGHUP = 1;
  private static final int SIGINT = 2;
  private static final int SIGQUIT = 3;
  private static final int SIGKILL = 9;
  private static final int SIGTERM = 15;
  private static final int SIGSTOP = 19;

  /** SIGRTMAX. */
  private static final int LAST_SIGNAL = 64;

  /** Signals a caller may have meant the command to ignore; see the class comment. */
  private static final Set<Integer> INHERITED_IGNORES = Set.of(SIGHUP, SIGINT, SIGQUIT, SIGTERM);

  private Exec() {}

  /**
   * Starts {@code command} with {@code args} (argv[1..]) and the JVM's environment, with each
   * descriptor of {@code fds} at its key. A command without '/' is searched in $PATH as a shell
   * does: the first executable regular file wins, and directories that cannot be searched are
   * skipped. The caller keeps owning the descriptors of {@code fds} and should close them as soon
   * as this returns, so that the child holds the only copies.
   *
   * <p>Each source is first duplicated (close-on-exec) above every target and every open
   * descriptor, so placing one target cannot overwrite a source that is still to be placed.
   *
   * @param fds target number (0 to {@link #MAX_TARGET}) to descriptor
   * @return {@link SpawnOutcome.Started}, or {@link SpawnOutcome.Failed} with ENOENT when the
   *     command was not found, EACCES when it cannot be executed, or the errno of the step that
   *     failed
   */
  public static SpawnOutcome spawn(
      String command, List<String> args, Map<Integer, FileDescriptor> fds) {
    return spawn(command, args, fds, Optional.empty());
  }

  /**
   * As {@link #spawn(String, List, Map)}, confined by {@code sandbox} when it is present: the
   * command starts with no_new_privs and inside the ruleset, and the JVM stays unconfined (see
   * {@link LandlockRuleset}). The caller keeps owning the ruleset.
   */
  public static SpawnOutcome spawn(
      String command,
      List<String> args,
      Map<Integer, FileDescriptor> fds,
      Optional<LandlockRuleset> sandbox) {
    return spawn(command, args, fds, sandbox, System.getenv());
  }

  /**
   * As {@link #spawn(String, List, Map, Optional)}, with {@code environment} as the command's whole
   * environment instead of the JVM's.
   */
  public static SpawnOutcome spawn(
      String command,
      List<String> args,
      Map<Integer, FileDescriptor> fds,
      Optional<LandlockRuleset> sandbox,
      Map<String, String> environment) {
    Objects.requireNonNull(sandbox, "sandbox == null");
    Objects.requireNonNull(environment, "environment == null");
    Objects.requireNonNull(command, "command == null");
    Objects.requireNonNull(args, "args == null");
    Objects.requireNonNull(fds, "fds == null");
    if (command.isEmpty()) {
      throw new IllegalArgumentException("command is empty");
    }
    TreeMap<Integer, FileDescriptor> targets = new TreeMap<>(fds);
    for (int target : targets.keySet()) {
      if (target < 0 || target > MAX_TARGET) {
        throw new IllegalArgumentException(
            "descriptor number must be 0 to " + MAX_TARGET + ": " + target);
      }
    }
    int highestTarget = targets.isEmpty() ? -1 : targets.lastKey();
    int floor = Math.max(Math.max(3, highestTarget + 1), highestOpenDescriptor() + 1);
    Map<Integer, Integer> copies = new TreeMap<>();
    try {
      for (Map.Entry<Integer, FileDescriptor> e : targets.entrySet()) {
        int source = Descriptors.fdOf(e.getValue());
        int copy = source < 0 ? -Errno.EBADF : LibC.dupAtLeast(source, floor);
        if (copy < 0) {
          return new SpawnOutcome.Failed(
              SpawnOutcome.Step.SETUP,
              -copy,
              "Could not copy the descriptor for " + e.getKey() + ": " + Errno.name(-copy));
        }
        copies.put(e.getKey(), copy);
      }
      return spawnWith(command, args, copies, highestTarget, sandbox, environment);
    } finally {
      for (int copy : copies.values()) {
        LibC.close(copy);
      }
    }
  }

  private static SpawnOutcome spawnWith(
      String command,
      List<String> args,
      Map<Integer, Integer> copies,
      int highestTarget,
      Optional<LandlockRuleset> sandbox,
      Map<String, String> environment) {
    Optional<String> found = program(command, Optional.ofNullable(System.getenv("PATH")));
    if (found.isEmpty()) {
      int errno = sawUnexecutable(command) ? Errno.EACCES : Errno.ENOENT;
      return new SpawnOutcome.Failed(
          SpawnOutcome.Step.EXECUTE,
          errno,
          "Could not execute " + command + ": " + Errno.name(errno));
    }
    String program = found.get();
    String[] argv = Stream.concat(Stream.of(command), args.stream()).toArray(String[]::new);
    String[] envp =
        environment.entrySet().stream()
            .map(e -> e.getKey() + "=" + e.getValue())
            .toArray(String[]::new);
    try (Memory actions = new Memory(PosixSpawn.FILE_ACTIONS_SIZEOF);
        Memory attr = new Memory(PosixSpawn.ATTR_SIZEOF);
        Memory mask = new Memory(PosixSpawn.SIGSET_SIZEOF);
        Memory defaults = new Memory(PosixSpawn.SIGSET_SIZEOF);
        Memory pid = new Memory(4)) {
      check(PosixSpawn.posix_spawn_file_actions_init(actions), "initialise file actions");
      try {
        check(PosixSpawn.posix_spawnattr_init(attr), "initialise spawn attributes");
        try {
          // dup2 clears close-on-exec on the target, so exactly the targets are inherited.
          for (Map.Entry<Integer, Integer> e : copies.entrySet()) {
            check(
                PosixSpawn.posix_spawn_file_actions_adddup2(actions, e.getValue(), e.getKey()),
                "place descriptor " + e.getKey());
          }
          // glibc ignores EBADF from a close in the child when the number is in range, so
          // closing numbers that are not open is harmless.
          for (int fd = 3; fd < highestTarget; fd++) {
            if (!copies.containsKey(fd)) {
              check(PosixSpawn.posix_spawn_file_actions_addclose(actions, fd), "close " + fd);
            }
          }
          check(
              PosixSpawn.posix_spawn_file_actions_addclosefrom_np(
                  actions, Math.max(3, highestTarget + 1)),
              "close the other descriptors");
          check(PosixSpawn.sigemptyset(mask), "empty a signal set");
          check(PosixSpawn.posix_spawnattr_setsigmask(attr, mask), "set the signal mask");
          defaultSignals(defaults);
          check(
              PosixSpawn.posix_spawnattr_setsigdefault(attr, defaults),
              "set default signal actions");
          check(
              PosixSpawn.posix_spawnattr_setflags(
                  attr,
                  (short) (PosixSpawn.POSIX_SPAWN_SETSIGMASK | PosixSpawn.POSIX_SPAWN_SETSIGDEF)),
              "set spawn flags");
          StringArray argvArray = new StringArray(argv);
          StringArray envpArray = new StringArray(envp);
          IntSupplier start =
              () -> PosixSpawn.posix_spawn(pid, program, actions, attr, argvArray, envpArray);
          int error;
          if (sandbox.isPresent()) {
            int confined = onConfinedThread(sandbox.get(), start);
            if (confined < 0) {
              return new SpawnOutcome.Failed(
                  SpawnOutcome.Step.SETUP,
                  -confined,
                  "Could not confine " + command + ": " + Errno.name(-confined));
            }
            error = confined;
          } else {
            error = start.getAsInt();
          }
          if (error != 0) {
            // glibc reports the exec's error and reaps the failed child itself.
            return new SpawnOutcome.Failed(
                SpawnOutcome.Step.EXECUTE,
                error,
                "Could not execute " + command + ": " + Errno.name(error));
          }
          return new SpawnOutcome.Started(new Child(pid.getInt(0)));
        } finally {
          PosixSpawn.posix_spawnattr_destroy(attr);
        }
      } finally {
        PosixSpawn.posix_spawn_file_actions_destroy(actions);
      }
    } catch (SetupFailure f) {
      return new SpawnOutcome.Failed(
          SpawnOutcome.Step.SETUP, f.errno, "Could not " + f.step + ": " + Errno.name(f.errno));
    }
  }

  /**
   * Runs {@code start} on a new thread that is first confined by {@code sandbox} and then ends, so
   * that no other code ever runs confined in this JVM. Everything {@code start} calls must be
   * loaded and bound already: the confined thread may no longer open the JVM's own files.
   *
   * @return what {@code start} returned (0 or an error number), or {@code -errno} when the thread
   *     could not be confined (then nothing was started)
   */
  private static int onConfinedThread(LandlockRuleset sandbox, IntSupplier start) {
    int[] result = new int[1];
    Thread thread =
        Thread.ofPlatform()
            .name("filebroker-sandbox-start")
            .unstarted(
                () -> {
                  int restricted = sandbox.restrictCurrentThread();
                  result[0] = restricted < 0 ? restricted : start.getAsInt();
                });
    thread.start();
    boolean interrupted = false;
    while (true) {
      try {
        thread.join(); // the child must have one owner: wait for the spawn whatever happens
        break;
      } catch (InterruptedException e) {
        interrupted = true;
      }
    }
    if (interrupted) {
      Thread.currentThread().interrupt();
    }
    return result[0];
  }

  /**
   * Fills {@code set} with every signal the child should start at its default action: all but the
   * ones that cannot be caught and those of {@link #INHERITED_IGNORES} the JVM ignores.
   *
   * <p>The bits are set directly rather than with sigaddset(3), which refuses glibc's internal
   * signals 32 and 33: without them in the set, glibc's spawn leaves those two ignored in the
   * child, and the ignoring survives exec into programs that do not use glibc.
   */
  private static void defaultSignals(Memory set) {
    set.clear();
    try (Memory action = new Memory(PosixSpawn.SIGACTION_SIZEOF)) {
      for (int signal = 1; signal <= LAST_SIGNAL; signal++) {
        if (signal == SIGKILL || signal == SIGSTOP) {
          continue;
        }
        if (INHERITED_IGNORES.contains(signal) && ignored(signal, action)) {
          continue;
        }
        long offset = (long) ((signal - 1) / 64) * 8; // sigset_t is an array of unsigned long
        set.setLong(offset, set.getLong(offset) | 1L << ((signal - 1) % 64));
      }
    }
  }

  private static boolean ignored(int signal, Memory action) {
    try {
      action.clear();
      PosixSpawn.sigaction(signal, null, action);
      return action.getLong(0) == PosixSpawn.SIG_IGN; // sa_handler is the first member
    } catch (LastErrorException e) {
      return false;
    }
  }

  /**
   * The file {@link #spawn} would execute for {@code command} with this JVM's $PATH: itself when it
   * contains '/', else the first executable regular file in $PATH; empty when there is none.
   */
  public static Optional<String> resolve(String command) {
    return program(command, Optional.ofNullable(System.getenv("PATH")));
  }

  /**
   * The file a shell would execute for {@code command}: itself when it contains '/', else the first
   * executable regular file in $PATH. posix_spawnp(3) is not used because, like execvp(3), it
   * reports EACCES rather than "not found" when a $PATH directory cannot be searched (the caller
   * may not be allowed into another user's directories).
   */
  static Optional<String> program(String command, Optional<String> path) {
    for (String candidate : candidates(command, path)) {
      Path p = Path.of(candidate);
      if (Files.isRegularFile(p) && Files.isExecutable(p)) {
        return Optional.of(candidate);
      }
    }
    return command.contains("/") ? Optional.of(command) : Optional.empty();
  }

  private static boolean sawUnexecutable(String command) {
    return candidates(command, Optional.ofNullable(System.getenv("PATH"))).stream()
        .anyMatch(c -> Files.exists(Path.of(c)));
  }

  /** The files execvp(3) would try for {@code command}, in order. */
  static List<String> candidates(String command, Optional<String> path) {
    if (command.contains("/")) {
      return List.of(command);
    }
    List<String> candidates = new ArrayList<>();
    for (String dir : path.orElse(DEFAULT_PATH).split(":", -1)) {
      candidates.add((dir.isEmpty() ? "." : dir) + "/" + command); // an empty entry is "."
    }
    return candidates;
  }

  /** The highest descriptor number this process has open, or 2 if /proc cannot be listed. */
  private static int highestOpenDescriptor() {
    String[] entries = new File("/proc/self/fd").list();
    int highest = 2;
    if (entries != null) {
      for (String entry : entries) {
        highest = Math.max(highest, Integer.parseInt(entry));
      }
    }
    return highest;
  }

  private static void check(int result, String step) throws SetupFailure {
    if (result != 0) {
      throw new SetupFailure(result < 0 ? Errno.EINVAL : result, step);
    }
  }

  /** A preparation step failed; carries the posix_spawn family's error number. */
  private static final class SetupFailure extends Exception {
    private static final long serialVersionUID = 1L;
    private final int errno;
    private final String step;

    SetupFailure(int errno, String step) {
      super(step, null, false, false);
      this.errno = errno;
      this.step = step;
    }
  }
}
