package dev.filebroker.bench;

import dev.filebroker.client.BrokeredFile;
import dev.filebroker.client.FileBroker;
import java.io.IOException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.SocketChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Threads;
import org.openjdk.jmh.annotations.Warmup;

/**
 * The Java client's open round trip: {@link FileBroker#open} of one granted file and {@link
 * BrokeredFile#close}, on one connection per benchmark thread, against a real daemon.
 *
 * <p>The daemon is the build tree's {@code ./filebroker serve} (its shipped JVM settings), started
 * in {@link Daemon#start} with a temporary policy that grants the target file to everyone and the
 * per-uid rate limit lifted, exactly as {@code bench/run} starts it for the C load generator, so
 * the figures can be set beside {@code cload-fb}'s. Run it with {@code bench/client-jmh.sh} (as
 * root, like the daemon); {@code -Dfilebroker.launcher=...} names another launcher.
 */
@BenchmarkMode({Mode.Throughput, Mode.SampleTime})
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(
    value = 1,
    jvmArgsAppend = {"-XX:+UseSerialGC", "-Xmx256m", "--enable-native-access=ALL-UNNAMED"})
public class ClientOpenBenchmark {

  /** One daemon for the whole run. */
  @State(Scope.Benchmark)
  public static class Daemon {
    Path work;
    Path socket;
    Path target;
    Process process;

    @Setup(Level.Trial)
    public void start() throws IOException, InterruptedException {
      work = Files.createTempDirectory("filebroker-client-jmh-");
      Files.setPosixFilePermissions(work, PosixFilePermissions.fromString("rwxr-xr-x"));
      target = work.resolve("target.txt");
      Files.writeString(target, "bench target file\n");
      Path policy = Files.createDirectory(work.resolve("policy"));
      Files.writeString(
          policy.resolve("bench.toml"),
          "[[allow]]\nname = \"bench-target\"\nany = true\npaths = [\""
              + target
              + "\"]\naccess = [\"read\"]\n");
      Path config = work.resolve("filebroker.toml");
      Files.writeString(
          config,
          "[limits]\nrequests_per_second_per_uid = 10000000\nrequest_burst_per_uid = 1000000\n"
              + "max_requests_in_flight = 64\n");
      socket = work.resolve("fb.sock");
      List<String> command = new ArrayList<>();
      command.add(launcher().toString());
      command.addAll(
          List.of(
              "serve",
              "--config",
              config.toString(),
              "--policy",
              policy.toString(),
              "--socket",
              socket.toString()));
      process =
          new ProcessBuilder(command)
              .redirectErrorStream(true)
              .redirectOutput(work.resolve("daemon.log").toFile())
              .start();
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
      while (!accepts(socket)) {
        if (!process.isAlive() || System.nanoTime() > deadline) {
          throw new IllegalStateException(
              "Could not start the daemon; see " + work.resolve("daemon.log"));
        }
        Thread.sleep(50);
      }
    }

    @TearDown(Level.Trial)
    public void stop() throws IOException, InterruptedException {
      process.destroy();
      process.waitFor(10, TimeUnit.SECONDS);
      try (Stream<Path> files = Files.walk(work)) {
        for (Path p : files.sorted(Comparator.reverseOrder()).toList()) {
          Files.deleteIfExists(p);
        }
      }
    }

    private static boolean accepts(Path socket) {
      if (!Files.exists(socket)) {
        return false;
      }
      try (SocketChannel c = SocketChannel.open(StandardProtocolFamily.UNIX)) {
        c.connect(UnixDomainSocketAddress.of(socket));
        return true;
      } catch (IOException e) {
        return false;
      }
    }

    /** The launcher: -Dfilebroker.launcher, else ./filebroker in this or a parent directory. */
    private static Path launcher() {
      String configured = System.getProperty("filebroker.launcher");
      if (configured != null) {
        return Path.of(configured);
      }
      for (Path dir = Path.of("").toAbsolutePath(); dir != null; dir = dir.getParent()) {
        Path candidate = dir.resolve("filebroker");
        if (Files.isRegularFile(candidate) && Files.isExecutable(candidate)) {
          return candidate;
        }
      }
      throw new IllegalStateException(
          "No ./filebroker launcher found above the working directory; pass"
              + " -Dfilebroker.launcher=/path/to/filebroker");
    }
  }

  /** One connection per benchmark thread. */
  @State(Scope.Thread)
  public static class Connection {
    FileBroker broker;

    @Setup(Level.Trial)
    public void connect(Daemon daemon) throws IOException {
      broker = FileBroker.connect(daemon.socket);
    }

    @TearDown(Level.Trial)
    public void close() throws IOException {
      broker.close();
    }
  }

  /** One open and close on one connection. */
  @Benchmark
  @Threads(1)
  public int openClose1(Daemon daemon, Connection connection) throws IOException {
    try (BrokeredFile file = connection.broker.open(daemon.target, StandardOpenOption.READ)) {
      return file.fileMode();
    }
  }

  /** The same from two threads, each on its own connection. */
  @Benchmark
  @Threads(2)
  public int openClose2(Daemon daemon, Connection connection) throws IOException {
    try (BrokeredFile file = connection.broker.open(daemon.target, StandardOpenOption.READ)) {
      return file.fileMode();
    }
  }
}
