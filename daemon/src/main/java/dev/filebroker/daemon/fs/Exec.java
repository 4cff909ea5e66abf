package dev.filebroker.daemon.fs;

import com.sun.jna.StringArray;
import java.io.FileDescriptor;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.TreeMap;
import java.util.stream.Stream;

/**
 * Replaces the running JVM with another program, with chosen descriptors at chosen numbers: what
 * {@code filebroker run} needs, since a JVM cannot fork safely. The new program inherits exactly
 * descriptors 0, 1, 2 (as they are, unless mapped) and the mapped numbers; every other
 * descriptor the JVM holds is marked close-on-exec first.
 */
public final class Exec {
  /** The largest target number accepted. */
  private static final int MAX_TARGET = 1023;

  private static final String DEFAULT_PATH = "/usr/local/bin:/usr/bin:/bin";

  private Exec() {}

  /**
   * Executes {@code command} with {@code args} (argv[1..]) and the JVM's environment, after
   * placing each descriptor of {@code fds} at its key with close-on-exec cleared. A command
   * without '/' is searched in $PATH as execvp(3) does. Never returns on success.
   *
   * <p>Placement is two-phase so that a target number that is currently one of the sources is not
   * overwritten before it is copied: every source is first duplicated (close-on-exec) above the
   * highest target, then moved into place with dup3. After a failure the JVM's descriptors may have been rearranged:
   * exit soon.
   *
   * @param fds target number to descriptor; the descriptors stay owned by the caller
   * @throws IOException naming the errno when a descriptor cannot be placed or no candidate can
   *     be executed (ENOENT when the command is not found)
   */
  public static void exec(String command, List<String> args, Map<Integer, FileDescriptor> fds)
      throws IOException {
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
    int floor = targets.isEmpty() ? 3 : Math.max(3, targets.lastKey() + 1);
    // The program is chosen before any descriptor moves, so that exactly one execve follows.
    String program = null;
    boolean sawUnexecutable = false;
    for (String candidate : candidates(command, Optional.ofNullable(System.getenv("PATH")))) {
      Path p = Path.of(candidate);
      if (Files.isRegularFile(p) && Files.isExecutable(p)) {
        program = candidate;
        break;
      }
      sawUnexecutable |= Files.exists(p);
    }
    if (program == null) {
      throw new IOException(
          "Could not execute "
              + command
              + ": "
              + Errno.name(sawUnexecutable ? Errno.EACCES : Errno.ENOENT));
    }
    String[] argv = Stream.concat(Stream.of(command), args.stream()).toArray(String[]::new);
    String[] envp =
        System.getenv().entrySet().stream()
            .map(e -> e.getKey() + "=" + e.getValue())
            .toArray(String[]::new);
    Map<Integer, Integer> copies = new TreeMap<>();
    for (Map.Entry<Integer, FileDescriptor> e : targets.entrySet()) {
      int source = Descriptors.fdOf(e.getValue());
      int copy = source < 0 ? -Errno.EBADF : LibC.dupAtLeast(source, floor);
      if (copy < 0) {
        throw new IOException(
            "Could not copy the descriptor for " + e.getKey() + ": " + Errno.name(-copy));
      }
      copies.put(e.getKey(), copy);
    }
    closeOnExecAbove2();
    int unblocked = LibC.unblockAllSignals();
    if (unblocked < 0) {
      throw new IOException("Could not unblock signals: " + Errno.name(-unblocked));
    }
    // A target may be a descriptor the JVM itself reads (its class image, a jar). The other JVM
    // threads keep reading it: this thread takes a private copy of the descriptor table first,
    // and execve keeps that copy. This thread must not load a class between placement and
    // execve either, so that stretch is plain loops over arrays, every native call in it is made once before, harmlessly (dup3
    // of a descriptor onto itself is EINVAL, execve of "" is ENOENT), and the messages of late
    // failures are built in advance.
    int[] sources = new int[copies.size()];
    int[] numbers = new int[copies.size()];
    String[] placeFailures = new String[copies.size()];
    int k = 0;
    for (Map.Entry<Integer, Integer> e : copies.entrySet()) {
      sources[k] = e.getValue();
      numbers[k] = e.getKey();
      placeFailures[k] = "Could not place descriptor " + e.getKey() + ": ";
      k++;
    }
    String execFailure = "Could not execute " + command + ": ";
    StringArray nativeArgv = new StringArray(argv);
    StringArray nativeEnvp = new StringArray(envp);
    Errno.name(Errno.ENOENT);
    int unshared = LibC.unshareFiles();
    if (unshared < 0) {
      throw new IOException("Could not unshare the descriptor table: " + Errno.name(-unshared));
    }
    LibC.dup3(0, 0);
    LibC.execve("", nativeArgv, nativeEnvp);
    for (int i = 0; i < sources.length; i++) {
      int result = LibC.dup3(sources[i], numbers[i]);
      if (result < 0) {
        throw new IOException(placeFailures[i] + Errno.name(-result));
      }
    }
    int errno = -LibC.execve(program, nativeArgv, nativeEnvp);
    throw new IOException(execFailure + Errno.name(errno));
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

  /**
   * Marks every open descriptor above 2 close-on-exec; the placed ones get it cleared again by
   * dup3, which replaces them afterwards.
   */
  private static void closeOnExecAbove2() throws IOException {
    List<Integer> open = new ArrayList<>();
    try (Stream<Path> entries = Files.list(Path.of("/proc/self/fd"))) {
      for (Path p : entries.toList()) {
        open.add(Integer.parseInt(p.getFileName().toString()));
      }
    }
    for (int fd : open) {
      if (fd > 2) {
        int result = LibC.setCloseOnExec(fd);
        if (result < 0 && -result != Errno.EBADF) { // EBADF: the listing's own, now closed
          throw new IOException(
              "Could not mark descriptor " + fd + " close-on-exec: " + Errno.name(-result));
        }
      }
    }
  }
}
