package dev.filebroker.daemon.it;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * A real daemon in its own JVM, started from the packaged jar the way the launcher starts it.
 * Integration tests talk to it over its real socket and count its real descriptors.
 */
final class DaemonProcess implements AutoCloseable {
  private final Process process;
  private final Path log;
  private final Path socket;
  private final Path controlSocket;

  private DaemonProcess(Process process, Path log, Path socket, Path controlSocket) {
    this.process = process;
    this.log = log;
    this.socket = socket;
    this.controlSocket = controlSocket;
  }

  /** The repository root (system property filebroker.home, set by the build). */
  static Path home() {
    String home = System.getProperty("filebroker.home");
    return home != null
        ? Path.of(home).toAbsolutePath().normalize()
        : Path.of("..").toAbsolutePath().normalize();
  }

  /** The daemon jar the build produced. */
  static Path jar() {
    String jar = System.getProperty("filebroker.daemon.jar");
    return jar != null ? Path.of(jar) : home().resolve("daemon/target/filebroker-daemon.jar");
  }

  /** The java executable of the JVM running the tests (>= 21). */
  static String java() {
    return Path.of(System.getProperty("java.home"), "bin", "java").toString();
  }

  /**
   * Starts {@code filebroker serve} with extra arguments and waits until it listens. Without a
   * {@code --control-socket} argument the control socket goes into {@code workDir}, so that test
   * daemons never touch /run/filebroker.
   */
  static DaemonProcess start(Path workDir, Path socket, String... args) throws IOException {
    return start(workDir, socket, java.util.Map.of(), List.of(), args);
  }

  /**
   * Starts {@code filebroker serve} with extra environment variables, behind {@code wrapper} (a
   * command prefix such as {@code systemd-socket-activate -l SOCKET}, empty for none), and waits
   * until it listens.
   */
  static DaemonProcess start(
      Path workDir,
      Path socket,
      java.util.Map<String, String> environment,
      List<String> wrapper,
      String... args)
      throws IOException {
    DaemonProcess daemon = launch(workDir, socket, environment, wrapper, args);
    daemon.awaitLine("listening on", Duration.ofSeconds(30));
    return daemon;
  }

  /** Like {@link #start(Path, Path, java.util.Map, List, String...)}, without waiting. */
  static DaemonProcess launch(
      Path workDir,
      Path socket,
      java.util.Map<String, String> environment,
      List<String> wrapper,
      String... args)
      throws IOException {
    List<String> command = new ArrayList<>(wrapper);
    command.add(java());
    // The launchers' JVM options (packaging/launcher/jvm.options), so that tests exercise the
    // memory and pause behaviour that ships.
    command.add("@" + home().resolve("packaging/launcher/jvm.options"));
    command.add("-jar");
    command.add(jar().toString());
    command.add("serve");
    command.add("--socket");
    command.add(socket.toString());
    command.addAll(List.of(args));
    if (!List.of(args).contains("--config")) {
      // Hermetic: never read /etc/filebroker/filebroker.toml of whatever is installed here.
      Path empty = workDir.resolve("filebroker-defaults.toml");
      if (!java.nio.file.Files.exists(empty)) {
        java.nio.file.Files.writeString(empty, "# defaults\n");
      }
      command.add("--config");
      command.add(empty.toString());
    }
    int given = List.of(args).indexOf("--control-socket");
    Path control;
    if (given >= 0) {
      control = Path.of(args[given + 1]);
    } else {
      control = workDir.resolve("control-" + System.nanoTime() + ".sock");
      command.add("--control-socket");
      command.add(control.toString());
    }
    Path log = workDir.resolve("daemon-" + System.nanoTime() + ".log");
    ProcessBuilder builder =
        new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(log.toFile());
    builder.environment().putAll(environment);
    Process p = builder.start();
    return new DaemonProcess(p, log, socket, control);
  }

  /** Waits until the daemon's output contains {@code text}; fails with the output otherwise. */
  void awaitLine(String text, Duration timeout) throws IOException {
    long deadline = System.nanoTime() + timeout.toNanos();
    while (System.nanoTime() < deadline) {
      if (output().contains(text)) {
        return;
      }
      if (!process.isAlive()) {
        throw new IllegalStateException(
            "daemon exited with " + process.exitValue() + " before '" + text + "':\n" + output());
      }
      try {
        Thread.sleep(20);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new IOException(e);
      }
    }
    throw new IllegalStateException("daemon did not print '" + text + "' in time:\n" + output());
  }

  /** Waits for the daemon to exit by itself; its exit status. */
  int awaitExit(Duration timeout) throws IOException, InterruptedException {
    if (!process.waitFor(timeout.toNanos(), TimeUnit.NANOSECONDS)) {
      throw new IllegalStateException("daemon still runs after " + timeout + ":\n" + output());
    }
    return process.exitValue();
  }

  /** Everything the daemon printed so far (console, log and audit lines). */
  String output() throws IOException {
    return Files.readString(log, StandardCharsets.UTF_8);
  }

  long pid() {
    return process.pid();
  }

  Path socket() {
    return socket;
  }

  /** The daemon's root-only control socket. */
  Path controlSocket() {
    return controlSocket;
  }

  /** Runs {@code filebroker ARGS} from the built jar as the test's own user (root). */
  static Command command(String... args) throws IOException, InterruptedException {
    List<String> command = new ArrayList<>();
    command.add(java());
    command.add("--enable-native-access=ALL-UNNAMED");
    command.add("--add-opens=java.base/java.io=ALL-UNNAMED");
    command.add("-jar");
    command.add(jar().toString());
    command.addAll(List.of(args));
    return Command.run(command, "");
  }

  /** How many descriptors the daemon holds open right now. */
  int descriptorCount() throws IOException {
    try (var entries = Files.list(Path.of("/proc", Long.toString(pid()), "fd"))) {
      return (int) entries.count();
    }
  }

  /** Sends a signal by name (e.g. "HUP") with kill(1). */
  void signal(String name) throws IOException, InterruptedException {
    assertTrue(kill(name) == 0, "kill -" + name + " failed");
  }

  private int kill(String name) throws IOException, InterruptedException {
    return new ProcessBuilder("kill", "-" + name, Long.toString(pid())).start().waitFor();
  }

  /**
   * SIGTERM, then waits for exit; returns the exit status. A daemon already on its way out (a
   * SIGTERM sent earlier) may exit before this one reaches it.
   */
  int stop() throws IOException, InterruptedException {
    if (!process.isAlive()) {
      return process.exitValue();
    }
    if (kill("TERM") != 0 && process.isAlive()) {
      throw new IllegalStateException("kill -TERM failed and the daemon still runs");
    }
    if (!process.waitFor(10, TimeUnit.SECONDS)) {
      process.destroyForcibly();
      throw new IllegalStateException("daemon did not stop within 10 s:\n" + output());
    }
    return process.exitValue();
  }

  @Override
  public void close() {
    if (process.isAlive()) {
      process.destroy();
      try {
        if (!process.waitFor(10, TimeUnit.SECONDS)) {
          process.destroyForcibly();
        }
      } catch (InterruptedException e) {
        process.destroyForcibly();
        Thread.currentThread().interrupt();
      }
    }
  }
}
