package dev.filebroker.daemon.systemd;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.filebroker.daemon.systemd.SocketActivation.InheritedFd;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.newsclub.net.unix.AFUNIXDatagramSocket;
import org.newsclub.net.unix.AFUNIXSocket;
import org.newsclub.net.unix.AFUNIXSocketAddress;

/**
 * Environment parsing against maps, and the real hand-over: {@code systemd-socket-activate} (from
 * the systemd package) binds sockets and execs a child JVM running {@link SocketActivationProbe}.
 */
@Timeout(60)
class SocketActivationTest {
  private static final long PID = 4242;

  @TempDir Path dir;

  @Test
  void isEmptyWhenNotActivated() {
    assertEquals(List.of(), SocketActivation.parse(Map.of(), PID));
  }

  @Test
  void isEmptyWhenSocketsWereMeantForAnotherProcess() {
    Map<String, String> env =
        Map.of("LISTEN_PID", "4241", "LISTEN_FDS", "1", "LISTEN_FDNAMES", "filebroker");
    assertEquals(List.of(), SocketActivation.parse(env, PID));
  }

  @Test
  void namesDescriptorsFromThree() {
    Map<String, String> env =
        Map.of("LISTEN_PID", "4242", "LISTEN_FDS", "2", "LISTEN_FDNAMES", "filebroker:admin");
    assertEquals(
        List.of(new InheritedFd(3, "filebroker"), new InheritedFd(4, "admin")),
        SocketActivation.parse(env, PID));
  }

  @Test
  void callsUnnamedDescriptorsUnknown() {
    Map<String, String> env = Map.of("LISTEN_PID", "4242", "LISTEN_FDS", "2");
    assertEquals(
        List.of(new InheritedFd(3, "unknown"), new InheritedFd(4, "unknown")),
        SocketActivation.parse(env, PID));
  }

  @Test
  void rejectsGarbageInListenFds() {
    IllegalArgumentException e =
        assertThrows(
            IllegalArgumentException.class,
            () -> SocketActivation.parse(Map.of("LISTEN_PID", "4242", "LISTEN_FDS", "x1"), PID));
    assertEquals("LISTEN_FDS must be a decimal integer in [0, 4096], got 'x1'", e.getMessage());
    assertThrows(
        IllegalArgumentException.class,
        () -> SocketActivation.parse(Map.of("LISTEN_PID", "4242", "LISTEN_FDS", "-1"), PID));
    assertThrows(
        IllegalArgumentException.class,
        () -> SocketActivation.parse(Map.of("LISTEN_PID", "4242"), PID));
    assertThrows(
        IllegalArgumentException.class,
        () -> SocketActivation.parse(Map.of("LISTEN_PID", "4242", "LISTEN_FDS", "99999"), PID));
  }

  @Test
  void rejectsGarbageInListenPid() {
    IllegalArgumentException e =
        assertThrows(
            IllegalArgumentException.class,
            () -> SocketActivation.parse(Map.of("LISTEN_PID", "self", "LISTEN_FDS", "1"), PID));
    assertEquals(
        "LISTEN_PID must be a decimal integer in [1, 9223372036854775807], got 'self'",
        e.getMessage());
  }

  @Test
  void rejectsNameCountMismatch() {
    IllegalArgumentException e =
        assertThrows(
            IllegalArgumentException.class,
            () ->
                SocketActivation.parse(
                    Map.of("LISTEN_PID", "4242", "LISTEN_FDS", "2", "LISTEN_FDNAMES", "one"), PID));
    assertEquals(
        "LISTEN_FDNAMES must name each of the 2 descriptors in LISTEN_FDS, got 'one'",
        e.getMessage());
  }

  @Test
  void inheritsListeningSocketFromSystemdSocketActivate() throws Exception {
    Path socket = dir.resolve("filebroker.sock");
    List<String> out =
        activate(List.of("-l", socket.toString(), "--fdname=filebroker"), () -> connect(socket));
    assertEquals("count 1", out.get(0), "probe output: " + out);
    assertEquals(
        "socket filebroker 3 " + AFUNIXSocketAddress.of(socket) + " blocking=true",
        out.get(1),
        "probe output: " + out);
  }

  @Test
  void inheritsSeveralSocketsInOrder() throws Exception {
    Path first = dir.resolve("first.sock");
    Path second = dir.resolve("second.sock");
    List<String> out =
        activate(
            List.of("-l", first.toString(), "-l", second.toString(), "--fdname=a:b"),
            () -> connect(second));
    assertEquals("count 2", out.get(0), "probe output: " + out);
    assertTrue(out.get(1).startsWith("socket a 3 "), "probe output: " + out);
    assertTrue(out.get(2).startsWith("socket b 4 "), "probe output: " + out);
  }

  @Test
  void refusesDatagramSocket() throws Exception {
    Path socket = dir.resolve("dgram.sock");
    List<String> out =
        activate(
            List.of("-l", socket.toString(), "--datagram", "--fdname=filebroker"),
            () -> {
              try (AFUNIXDatagramSocket client = AFUNIXDatagramSocket.newInstance()) {
                client.connect(AFUNIXSocketAddress.of(socket));
                client.send(new java.net.DatagramPacket(new byte[] {1}, 1));
              }
            });
    assertEquals(
        "refused descriptor 3 (filebroker) is not an AF_UNIX stream socket; the socket unit must"
            + " use ListenStream= with a filesystem path, and Accept=no",
        out.get(0),
        "probe output: " + out);
  }

  @Test
  void refusesConnectedSocketPassedWithAccept() throws Exception {
    Path socket = dir.resolve("accept.sock");
    List<String> out =
        activate(List.of("-l", socket.toString(), "--accept"), () -> connect(socket));
    assertEquals(
        "refused descriptor 3 (unknown) is not a listening AF_UNIX stream socket; the socket"
            + " unit must use ListenStream= with a filesystem path, and Accept=no",
        out.get(0),
        "probe output: " + out);
  }

  @FunctionalInterface
  private interface Trigger {
    void run() throws IOException;
  }

  private static void connect(Path socket) throws IOException {
    AFUNIXSocket.connectTo(AFUNIXSocketAddress.of(socket)).close();
  }

  /**
   * Runs the probe under {@code systemd-socket-activate}, which binds the sockets and execs the
   * child only once a client shows up: {@code trigger} is that client.
   */
  private List<String> activate(List<String> activateArgs, Trigger trigger) throws Exception {
    List<String> command = new ArrayList<>();
    command.add("systemd-socket-activate");
    command.addAll(activateArgs);
    command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
    command.add("--enable-native-access=ALL-UNNAMED");
    command.add("-Dlogback.configurationFile=" + writeQuietLogging());
    command.add("-cp");
    command.add(System.getProperty("java.class.path"));
    command.add(SocketActivationProbe.class.getName());
    Path stdout = dir.resolve("probe.out");
    Process process =
        new ProcessBuilder(command)
            .redirectOutput(stdout.toFile())
            .redirectError(dir.resolve("probe.err").toFile())
            .start();
    try {
      // The activator binds its sockets one after another: the trigger may use any of them.
      List<Path> sockets = new ArrayList<>();
      for (int i = 0; i < activateArgs.size() - 1; i++) {
        if (activateArgs.get(i).equals("-l")) {
          sockets.add(Path.of(activateArgs.get(i + 1)));
        }
      }
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
      while (!sockets.stream().allMatch(Files::exists) && System.nanoTime() < deadline) {
        Thread.sleep(20);
      }
      trigger.run();
      // With --accept the activator stays up and spawns the probe, so wait for the probe's last
      // line rather than for the activator to exit.
      while (!finished(stdout) && process.isAlive() && System.nanoTime() < deadline) {
        Thread.sleep(20);
      }
    } finally {
      process.descendants().forEach(ProcessHandle::destroyForcibly);
      process.destroyForcibly();
    }
    List<String> lines = Files.readAllLines(stdout, StandardCharsets.UTF_8);
    assertTrue(
        finished(stdout),
        "probe did not finish; stdout: "
            + lines
            + " stderr: "
            + Files.readString(dir.resolve("probe.err")));
    return lines.subList(0, lines.size() - 1);
  }

  private static boolean finished(Path stdout) throws IOException {
    return Files.exists(stdout)
        && Files.readAllLines(stdout, StandardCharsets.UTF_8).contains(SocketActivationProbe.END);
  }

  private Path writeQuietLogging() throws IOException {
    Path config = dir.resolve("logback-quiet.xml");
    Files.writeString(config, "<configuration><root level=\"OFF\"/></configuration>\n");
    return config;
  }
}
