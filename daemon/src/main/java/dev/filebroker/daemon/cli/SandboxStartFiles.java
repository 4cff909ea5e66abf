package dev.filebroker.daemon.cli;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;

/**
 * The files the kernel and the dynamic loader open to start a program, found the way they find
 * them: a {@code #!} script's interpreter (as the kernel, up to four levels), an ELF program's
 * PT_INTERP, and the DT_NEEDED libraries of it and of every library it loads, searched in the
 * loader's order (the object's DT_RPATH when it has no DT_RUNPATH, then the executable's, then
 * $LD_LIBRARY_PATH, the object's DT_RUNPATH, {@code /etc/ld.so.cache}, the system directories).
 *
 * <p>glibc also tries {@code glibc-hwcaps} and legacy hardware-capability subdirectories of each
 * search directory first; variants the cache lists are found, others are not, and the loader skips
 * a variant it may not open and takes the next candidate.
 *
 * <p>What it cannot find is said in {@code unfound}, one sentence each, so that a start that fails
 * inside the sandbox says why: a library no search directory has (one that exists only in a
 * hardware-capability subdirectory the cache does not list, say), or an ELF file of another class
 * or byte order than 64-bit little-endian, which is not read at all.
 *
 * @param executables files to be executed (and read): the program, script interpreters, PT_INTERP
 * @param libraries files to be read only
 * @param unfound what starting the program may need but was not found, and so is not allowed
 */
record SandboxStartFiles(Set<Path> executables, Set<Path> libraries, List<String> unfound) {
  SandboxStartFiles {
    executables = Set.copyOf(executables);
    libraries = Set.copyOf(libraries);
    unfound = List.copyOf(unfound);
  }

  /** The kernel's limit of nested interpreters (BINPRM_MAX_RECURSION). */
  private static final int MAX_SCRIPT_DEPTH = 4;

  /** A bound on the objects looked at, against a loop of libraries that need each other. */
  private static final int MAX_OBJECTS = 1000;

  /**
   * Finds what {@code program} needs; nothing for a file that cannot be read (the start then fails
   * as it would unconfined, and says why).
   *
   * @param libraryPath $LD_LIBRARY_PATH as the program will see it
   */
  static SandboxStartFiles of(Path program, Optional<String> libraryPath) {
    Set<Path> executables = new LinkedHashSet<>();
    Set<Path> libraries = new LinkedHashSet<>();
    List<String> unfound = new ArrayList<>();
    Path current = program.toAbsolutePath().normalize();
    for (int depth = 0; depth <= MAX_SCRIPT_DEPTH; depth++) {
      if (!Files.isRegularFile(current)) {
        break;
      }
      executables.add(current);
      Optional<Path> interpreter = scriptInterpreter(current);
      if (interpreter.isEmpty()) {
        elfClosure(current, libraryPath, executables, libraries, unfound);
        break;
      }
      current = interpreter.get();
    }
    libraries.removeAll(executables);
    return new SandboxStartFiles(executables, libraries, unfound);
  }

  /** The interpreter a {@code #!} line names, if {@code file} starts with one. */
  static Optional<Path> scriptInterpreter(Path file) {
    byte[] head;
    try (InputStream in = Files.newInputStream(file)) {
      head = in.readNBytes(256); // the kernel reads at most 256 bytes of the line (BINPRM_BUF_SIZE)
    } catch (IOException e) {
      return Optional.empty();
    }
    if (head.length < 2 || head[0] != '#' || head[1] != '!') {
      return Optional.empty();
    }
    String line = new String(head, 2, head.length - 2, StandardCharsets.UTF_8);
    int newline = line.indexOf('\n');
    line = (newline < 0 ? line : line.substring(0, newline)).strip();
    String name = line.split("[ \t]", 2)[0];
    return name.isEmpty() ? Optional.empty() : Optional.of(Path.of(name));
  }

  private static void elfClosure(
      Path program,
      Optional<String> libraryPath,
      Set<Path> executables,
      Set<Path> libraries,
      List<String> unfound) {
    Optional<SandboxElf> main = elf(program);
    if (main.isEmpty()) {
      if (startsWithElfMagic(program)) {
        unfound.add(
            program
                + " is an ELF file but not 64-bit little-endian, so its loader and libraries were"
                + " not looked for; allow them with --allow-exec and --allow-read");
      }
      return;
    }
    SandboxElf executable = main.get();
    SandboxLoaderCache cache;
    try {
      cache = SandboxLoaderCache.read(SandboxLoaderCache.PATH, executable.machine());
    } catch (IOException e) {
      cache = SandboxLoaderCache.empty(); // then only the other search directories are used
    }
    executable.interpreter().map(Path::of).filter(Files::isRegularFile).ifPresent(executables::add);
    Deque<Path> pending = new ArrayDeque<>(List.of(program));
    Set<Path> seen = new LinkedHashSet<>(List.of(program));
    while (!pending.isEmpty() && seen.size() < MAX_OBJECTS) {
      Path object = pending.removeFirst();
      Optional<SandboxElf> read = object.equals(program) ? main : elf(object);
      if (read.isEmpty()) {
        continue;
      }
      for (String name : read.get().needed()) {
        List<Path> found = find(name, object, read.get(), program, executable, libraryPath, cache);
        if (found.isEmpty()) {
          unfound.add(
              name
                  + ", needed by "
                  + object
                  + ", was not found in the loader's search path or cache; if it is there"
                  + " (in a glibc-hwcaps directory, say), allow it with --allow-read");
        }
        for (Path f : found) {
          libraries.add(f);
          if (seen.add(f)) {
            pending.addLast(f);
          }
        }
      }
    }
  }

  /**
   * The files the loader may take for {@code name}: the first one in the search directories, or
   * every variant the cache lists; nothing when it is not found (the loader will say so).
   */
  static List<Path> find(
      String name,
      Path object,
      SandboxElf objectElf,
      Path program,
      SandboxElf programElf,
      Optional<String> libraryPath,
      SandboxLoaderCache cache) {
    int machine = programElf.machine();
    if (name.contains("/")) {
      Path p = Path.of(name).toAbsolutePath().normalize();
      return matches(p, machine) ? List.of(p) : List.of();
    }
    List<String> dirs = new ArrayList<>();
    if (objectElf.runpath().isEmpty()) {
      dirs.addAll(expand(objectElf.rpath(), object));
      if (!object.equals(program) && programElf.runpath().isEmpty()) {
        dirs.addAll(expand(programElf.rpath(), program));
      }
    }
    libraryPath.ifPresent(
        list -> {
          for (String dir : list.split("[:;]", -1)) {
            dirs.add(dir.isEmpty() ? "." : dir);
          }
        });
    dirs.addAll(expand(objectElf.runpath(), object));
    for (String dir : dirs) {
      Path candidate = Path.of(dir).resolve(name).toAbsolutePath().normalize();
      if (matches(candidate, machine)) {
        return List.of(candidate);
      }
    }
    List<Path> cached = new ArrayList<>();
    for (String p : cache.lookup(name)) {
      Path candidate = Path.of(p);
      if (matches(candidate, machine)) {
        cached.add(candidate);
      }
    }
    if (!cached.isEmpty()) {
      return List.copyOf(cached);
    }
    for (String dir : systemDirectories(machine)) {
      Path candidate = Path.of(dir, name);
      if (matches(candidate, machine)) {
        return List.of(candidate);
      }
    }
    return List.of();
  }

  /** glibc's system search path on Debian's multiarch layout. */
  static List<String> systemDirectories(int machine) {
    String triplet =
        switch (machine) {
          case 62 -> "x86_64-linux-gnu";
          case 183 -> "aarch64-linux-gnu";
          case 243 -> "riscv64-linux-gnu";
          default -> "";
        };
    List<String> dirs = new ArrayList<>();
    if (!triplet.isEmpty()) {
      dirs.add("/lib/" + triplet);
      dirs.add("/usr/lib/" + triplet);
    }
    dirs.add("/lib");
    dirs.add("/usr/lib");
    return dirs;
  }

  /**
   * RPATH or RUNPATH directories with $ORIGIN (the directory of {@code object}) expanded; entries
   * with another substitution ($LIB, $PLATFORM) are left out, as they are rare and the loader skips
   * a directory it cannot use.
   */
  static List<String> expand(List<String> dirs, Path object) {
    String origin = object.toAbsolutePath().normalize().getParent().toString();
    List<String> expanded = new ArrayList<>();
    for (String dir : dirs) {
      String d = dir.replace("${ORIGIN}", origin).replace("$ORIGIN", origin);
      if (!d.contains("$")) {
        expanded.add(d);
      }
    }
    return expanded;
  }

  /** Whether {@code file} is an ELF file of {@code machine}, as the loader requires. */
  private static boolean matches(Path file, int machine) {
    return Files.isRegularFile(file) && elf(file).map(e -> e.machine() == machine).orElse(false);
  }

  private static boolean startsWithElfMagic(Path file) {
    try (InputStream in = Files.newInputStream(file)) {
      byte[] magic = in.readNBytes(4);
      return magic.length == 4
          && magic[0] == 0x7f
          && magic[1] == 'E'
          && magic[2] == 'L'
          && magic[3] == 'F';
    } catch (IOException e) {
      return false;
    }
  }

  private static Optional<SandboxElf> elf(Path file) {
    try {
      return SandboxElf.read(file);
    } catch (IOException e) {
      return Optional.empty();
    }
  }
}
