package dev.filebroker.daemon.cli;

import dev.filebroker.daemon.fs.LandlockAbi;
import dev.filebroker.daemon.fs.LandlockRuleset.Rule;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * The rules of {@code run --sandbox}: every file-system access Landlock can restrict is denied but
 * these, each named here or on the command line.
 *
 * <ul>
 *   <li>the command's executable, execute and read, and what starting it needs ({@link
 *       SandboxStartFiles}): a script's interpreters and the dynamic loader, execute and read; the
 *       libraries, read;
 *   <li>{@link #DEFAULT_READABLE}: the loader's cache and the compiled locales, read;
 *   <li>{@code --allow-read PATH}: read the file, or everything beneath the directory;
 *   <li>{@code --allow-exec PATH}: execute and read the file, and what starting it needs; or
 *       execute and read everything beneath the directory (libraries not included);
 *   <li>from ABI 9, which restricts connecting to Unix sockets by path: connect to sockets in the
 *       daemon socket's directory (the directory, so that a new socket after a restart is reachable
 *       too).
 * </ul>
 */
final class Sandbox {
  /** Read by the loader or the C library while a program starts; no secrets. */
  static final List<Path> DEFAULT_READABLE =
      List.of(SandboxLoaderCache.PATH, Path.of("/usr/lib/locale"));

  private static final long READ = LandlockAbi.READ_FILE | LandlockAbi.READ_DIR;
  private static final long RUN = LandlockAbi.EXECUTE | LandlockAbi.READ_FILE;

  private Sandbox() {}

  /**
   * The rules of a sandbox, and what starting its programs may need that was not found (see {@link
   * SandboxStartFiles#unfound}), for the user to read before the command fails.
   */
  record Plan(List<Rule> rules, List<String> unfound) {
    Plan {
      rules = List.copyOf(rules);
      unfound = List.copyOf(unfound);
    }
  }

  /**
   * The rules for a command whose executable is {@code program} (empty when it was not found: the
   * start then fails as unconfined).
   */
  static Plan rules(
      LandlockAbi abi,
      Optional<Path> program,
      List<Path> allowRead,
      List<Path> allowExec,
      Path socket) {
    Optional<String> libraryPath = Optional.ofNullable(System.getenv("LD_LIBRARY_PATH"));
    List<Rule> rules = new ArrayList<>();
    List<String> unfound = new ArrayList<>();
    program.ifPresent(p -> startRules(SandboxStartFiles.of(p, libraryPath), rules, unfound));
    for (Path p : DEFAULT_READABLE) {
      if (Files.exists(p)) {
        rules.add(new Rule(p, READ));
      }
    }
    for (Path p : allowRead) {
      rules.add(new Rule(p.toAbsolutePath().normalize(), READ));
    }
    for (Path p : allowExec) {
      Path absolute = p.toAbsolutePath().normalize();
      if (Files.isDirectory(absolute)) {
        rules.add(new Rule(absolute, RUN | LandlockAbi.READ_DIR));
      } else {
        rules.add(new Rule(absolute, RUN)); // a missing one is refused when the rule is added
        startRules(SandboxStartFiles.of(absolute, libraryPath), rules, unfound);
      }
    }
    if ((abi.handledAccessFs() & LandlockAbi.RESOLVE_UNIX) != 0) {
      Path directory = socket.toAbsolutePath().normalize().getParent();
      if (directory != null) {
        rules.add(new Rule(directory, LandlockAbi.RESOLVE_UNIX));
      }
    }
    return new Plan(rules, unfound);
  }

  private static void startRules(SandboxStartFiles files, List<Rule> rules, List<String> unfound) {
    unfound.addAll(files.unfound());
    for (Path p : files.executables()) {
      rules.add(new Rule(p, RUN));
    }
    for (Path p : files.libraries()) {
      rules.add(new Rule(p, LandlockAbi.READ_FILE));
    }
  }
}
