package dev.filebroker.daemon.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.filebroker.daemon.control.Json;
import dev.filebroker.protocol.OpenFlags;
import dev.filebroker.protocol.OpenedReply;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.newsclub.net.unix.AFUNIXSocket;
import org.newsclub.net.unix.AFUNIXSocketAddress;

/**
 * {@code filebroker reload} and {@code filebroker status} against a real daemon over its control
 * socket. Needs root: the daemon and the commands run as root, and the refusal test runs the
 * command as uid 65534 with setpriv.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class ControlIT {
  private static final int NOBODY = 65534;
  private static final Duration TIMEOUT = Duration.ofSeconds(120);
  private static final Pattern SAMPLE =
      Pattern.compile(
          "filebroker_[a-zA-Z0-9_:]*(\\{([a-zA-Z_][a-zA-Z0-9_]*=\"([^\"\\\\\\n"
              + "]|\\\\[\\\\\"n])*\",?)*\\})? -?[0-9]+");

  private TestTree tree;
  private Path policy;
  private DaemonProcess daemon;

  private String rules(String... files) {
    StringBuilder b = new StringBuilder();
    for (String f : files) {
      b.append(
          """
          [[allow]]
          name = "root-reads-%1$s"
          users = [0]
          paths = ["%2$s/%1$s"]
          access = ["read"]

          """
              .formatted(f, tree.root()));
    }
    return b.toString();
  }

  private String path(String relative) {
    return tree.root().resolve(relative).toString();
  }

  private boolean granted(String relative) throws Exception {
    try (RawClient c = new RawClient(daemon.socket())) {
      RawClient.Received r = c.open(1, OpenFlags.O_RDONLY, path(relative));
      RawClient.close(r.descriptors());
      return r.reply() instanceof OpenedReply;
    }
  }

  private Command control(String... args) throws Exception {
    List<String> all = new ArrayList<>(List.of(args));
    all.add("--control-socket");
    all.add(daemon.controlSocket().toString());
    return DaemonProcess.command(all.toArray(String[]::new));
  }

  private Map<String, Object> statusJson() throws Exception {
    Command r = control("status", "--format=json");
    assertEquals(0, r.exitCode(), r.stderr());
    return Json.parseObject(r.stdout().strip());
  }

  @BeforeAll
  void startDaemon() throws Exception {
    tree = new TestTree("filebroker-control-");
    tree.file("a.txt", "a\n", "rw-------");
    tree.file("b.txt", "b\n", "rw-------");
    policy = tree.dir("policy.d");
    Files.writeString(policy.resolve("10-test.toml"), rules("a.txt"));
    daemon =
        DaemonProcess.start(
            tree.root(),
            tree.root().resolve("broker.sock"),
            "--policy",
            policy.toString(),
            "--control-socket",
            tree.root().resolve("control.sock").toString());
  }

  @AfterAll
  void stopDaemon() throws Exception {
    if (daemon != null) {
      assertEquals(0, daemon.stop(), daemon.output());
      assertFalse(
          Files.exists(daemon.controlSocket()), "the daemon removes the control socket it bound");
    }
    if (tree != null) {
      tree.close();
    }
  }

  @Test
  void statusCountersMoveAfterAGrant() throws Exception {
    assertTimeoutPreemptively(
        TIMEOUT,
        () -> {
          Map<String, Object> before = statusJson();
          assertEquals(daemon.pid(), before.get("pid"));
          assertEquals(policy.toString(), before.get("policy_source"));
          assertTrue(granted("a.txt"), "the policy grants a.txt");
          Map<String, Object> after = statusJson();
          assertEquals((Long) before.get("grants") + 1, after.get("grants"));
          assertEquals(
              (Long) before.get("connections_accepted") + 1, after.get("connections_accepted"));
          Map<?, ?> byRule = assertInstanceOf(Map.class, after.get("grants_by_rule"));
          assertTrue((Long) byRule.get("root-reads-a.txt") >= 1, after.toString());
          assertTrue((Long) after.get("open_descriptors") > 0, after.toString());

          Command text = control("status");
          assertEquals(0, text.exitCode(), text.stderr());
          assertTrue(text.stdout().contains("pid " + daemon.pid()), text.stdout());
          assertTrue(text.stdout().contains("root-reads-a.txt"), text.stdout());
        });
  }

  @Test
  void prometheusOutputIsCommentsAndSamples() throws Exception {
    assertTimeoutPreemptively(
        TIMEOUT,
        () -> {
          assertTrue(granted("a.txt"));
          Command r = control("status", "--format=prometheus");
          assertEquals(0, r.exitCode(), r.stderr());
          for (String line : r.stdout().split("\n")) {
            assertTrue(
                line.startsWith("# HELP filebroker_")
                    || line.startsWith("# TYPE filebroker_")
                    || SAMPLE.matcher(line).matches(),
                "not a comment or a sample: " + line);
          }
          assertTrue(
              r.stdout().contains("filebroker_rule_grants_total{rule=\"root-reads-a.txt\"} "),
              r.stdout());
        });
  }

  @Test
  void reloadRejectsABrokenPolicyAndAppliesAFixedOne() throws Exception {
    assertTimeoutPreemptively(
        TIMEOUT,
        () -> {
          Path broken = policy.resolve("20-broken.toml");
          Files.writeString(broken, "[[allow]]\nname = \"x\"\nusers = [0]\naccess = [\"read\"\n");
          Command rejected = control("reload");
          assertEquals(1, rejected.exitCode(), rejected.stdout() + rejected.stderr());
          assertTrue(
              Pattern.compile("(?m)^" + Pattern.quote(broken.toString()) + ":\\d+:\\d+: ")
                  .matcher(rejected.stderr())
                  .find(),
              "errors as file:line:column: " + rejected.stderr());
          assertTrue(granted("a.txt"), "the old policy stays in force");
          assertFalse(granted("b.txt"));

          Files.delete(broken);
          Files.writeString(policy.resolve("10-test.toml"), rules("a.txt", "b.txt"));
          Command reloaded = control("reload");
          assertEquals(0, reloaded.exitCode(), reloaded.stderr());
          assertTrue(reloaded.stdout().contains("reloaded 2 rule(s)"), reloaded.stdout());
          assertTrue(granted("b.txt"), "the new rule is in force");
          assertEquals(2L, statusJson().get("rules"));

          // SIGHUP with a broken policy: logged, and the policy in force keeps serving.
          Files.writeString(broken, "this is not toml\n");
          daemon.signal("HUP");
          daemon.awaitLine("Could not reload the policy: " + broken, Duration.ofSeconds(20));
          assertTrue(granted("b.txt"), "the policy in force survives a broken SIGHUP reload");
          Files.delete(broken);
        });
  }

  @Test
  void nonRootCallerIsRefusedByTheDaemonItself() throws Exception {
    assertTimeoutPreemptively(
        TIMEOUT,
        () -> {
          // Widen the file mode so the connection reaches the daemon: the uid check, not the
          // file permission, must refuse it.
          Path jar = tree.dir("jar").resolve("filebroker-daemon.jar");
          Files.copy(DaemonProcess.jar(), jar);
          Path lib = tree.dir("jar/lib");
          try (var libs = Files.list(DaemonProcess.jar().resolveSibling("lib"))) {
            for (Path l : libs.toList()) {
              Files.copy(l, lib.resolve(l.getFileName()));
            }
          }
          new ProcessBuilder("chmod", "-R", "a+rX", tree.root().resolve("jar").toString())
              .start()
              .waitFor();
          new ProcessBuilder("chmod", "0666", daemon.controlSocket().toString()).start().waitFor();
          try {
            Command r =
                Command.asUser(
                    NOBODY,
                    NOBODY,
                    DaemonProcess.java(),
                    "--enable-native-access=ALL-UNNAMED",
                    "-jar",
                    jar.toString(),
                    "reload",
                    "--control-socket",
                    daemon.controlSocket().toString());
            assertEquals(1, r.exitCode(), r.stdout() + r.stderr());
            assertTrue(
                r.stderr().contains("permission denied: the control socket serves root only"),
                r.stderr());
            daemon.awaitLine("Refused a control connection from uid 65534", Duration.ofSeconds(10));
          } finally {
            new ProcessBuilder("chmod", "0600", daemon.controlSocket().toString())
                .start()
                .waitFor();
          }
          Command denied =
              Command.asUser(
                  NOBODY,
                  NOBODY,
                  DaemonProcess.java(),
                  "--enable-native-access=ALL-UNNAMED",
                  "-jar",
                  jar.toString(),
                  "status",
                  "--control-socket",
                  daemon.controlSocket().toString());
          assertEquals(1, denied.exitCode(), denied.stderr());
          assertTrue(
              denied.stderr().contains("permission denied: only root may use the control socket"),
              denied.stderr());
        });
  }

  /**
   * A user the socket mode lets in (0666, which the refusal makes safe) connects and then sends one
   * byte every 0.6 s without ever hanging up: root's status must still be answered. Before, the
   * daemon waited for a refused client to hang up (up to a second of silence at a time) on its only
   * thread.
   */
  @Test
  void statusIsAnsweredWhileARefusedClientDrips() throws Exception {
    assertTimeoutPreemptively(
        TIMEOUT,
        () -> {
          new ProcessBuilder("chmod", "0666", daemon.controlSocket().toString()).start().waitFor();
          Process dripper = null;
          try {
            String script =
                """
                import socket, sys, time
                s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
                s.connect(sys.argv[1])
                answer = s.recv(4096)
                print("refused" if b"permission denied" in answer else "other", flush=True)
                for _ in range(200):
                    try:
                        s.send(b" ")
                    except OSError:
                        pass
                    time.sleep(0.6)
                """;
            dripper =
                new ProcessBuilder(
                        "setpriv",
                        "--reuid=" + NOBODY,
                        "--regid=" + NOBODY,
                        "--clear-groups",
                        "--",
                        "/usr/bin/python3",
                        "-c",
                        script,
                        daemon.controlSocket().toString())
                    .redirectErrorStream(true)
                    .start();
            assertEquals(
                "refused",
                new java.io.BufferedReader(
                        new java.io.InputStreamReader(
                            dripper.getInputStream(), java.nio.charset.StandardCharsets.UTF_8))
                    .readLine());
            Map<String, Object> status = statusJson();
            assertEquals(daemon.pid(), status.get("pid"), "root is answered while uid 65534 drips");
            assertTrue(dripper.isAlive(), "the refused client was still dripping");
          } finally {
            if (dripper != null) {
              dripper.destroyForcibly().waitFor();
            }
            new ProcessBuilder("chmod", "0600", daemon.controlSocket().toString())
                .start()
                .waitFor();
          }
        });
  }

  /**
   * A root client that sends half a request and then one byte a second holds neither the daemon nor
   * other root clients: status is answered meanwhile, and the dripping client is cut off with an
   * error once its request line has taken longer than the read deadline in all. Before, the daemon
   * answered one connection at a time and its timeout restarted with every byte.
   */
  @Test
  void statusIsAnsweredWhileARootClientStallsMidRequestAndTheStallerIsCutOff() throws Exception {
    assertTimeoutPreemptively(
        TIMEOUT,
        () -> {
          try (AFUNIXSocket staller =
              AFUNIXSocket.connectTo(AFUNIXSocketAddress.of(daemon.controlSocket()))) {
            staller.getOutputStream().write("{\"command\":".getBytes(StandardCharsets.UTF_8));
            AtomicBoolean dripping = new AtomicBoolean(true);
            Thread drip =
                Thread.ofVirtual()
                    .start(
                        () -> {
                          try {
                            while (dripping.get()) {
                              Thread.sleep(1000);
                              staller.getOutputStream().write(' ');
                            }
                          } catch (IOException | InterruptedException e) {
                            // cut off by the daemon: what the assertion below expects
                          }
                        });
            try {
              Map<String, Object> status = statusJson();
              assertEquals(daemon.pid(), status.get("pid"), "root is answered while root stalls");
              String answer = readLine(staller.getInputStream());
              Map<String, Object> cutOff = Json.parseObject(answer.strip());
              assertEquals(false, cutOff.get("ok"), answer);
              assertEquals("no complete request line within 5 s", cutOff.get("error"));
            } finally {
              dripping.set(false);
              drip.join();
            }
          }
        });
  }

  /**
   * On a kernel without SO_PASSRIGHTS (simulated with FILEBROKER_KEEP_SO_PASSRIGHTS=1), a user the
   * socket mode lets in attaches a loopback TCP socket with SO_LINGER (600 s) and unsent data, and
   * drops its own copy before the daemon accepts: the daemon's close of the refused connection then
   * releases the last reference, and that close lingers until the attacker's peer reads. Root's
   * status must be answered meanwhile. Before, the accepting thread closed refused connections
   * itself and stayed in that close for the whole linger.
   */
  @Test
  void statusIsAnsweredWhileTheCloseOfARefusedConnectionLingers() throws Exception {
    assertTimeoutPreemptively(TIMEOUT, this::lingeringCloseOfARefusedConnection);
  }

  private void lingeringCloseOfARefusedConnection() throws Exception {
    Path root = tree.dir("linger");
    DaemonProcess lingering =
        DaemonProcess.start(
            root,
            root.resolve("broker.sock"),
            Map.of("FILEBROKER_KEEP_SO_PASSRIGHTS", "1"),
            List.of(),
            "--policy",
            policy.toString());
    Process attacker = null;
    try {
      new ProcessBuilder("chmod", "0666", lingering.controlSocket().toString()).start().waitFor();
      // Stopped, the daemon accepts only after the attacker has sent and dropped its copy.
      lingering.signal("STOP");
      attacker =
          new ProcessBuilder(
                  "setpriv",
                  "--reuid=" + NOBODY,
                  "--regid=" + NOBODY,
                  "--clear-groups",
                  "--",
                  "/usr/bin/python3",
                  "-c",
                  FloodIT.resource("lingering_attach.py"),
                  lingering.controlSocket().toString(),
                  "7b7d0a")
              .redirectError(root.resolve("attacher.err").toFile())
              .start();
      java.io.BufferedReader out =
          new java.io.BufferedReader(
              new java.io.InputStreamReader(attacker.getInputStream(), StandardCharsets.UTF_8));
      assertEquals("ready", out.readLine(), "the attacker connected");
      tell(attacker, "send");
      assertEquals("sent OK", out.readLine(), "without SO_PASSRIGHTS the descriptor travels");
      lingering.signal("CONT");
      String answer = out.readLine();
      assertTrue(answer.startsWith("reply "), answer);
      String refusal =
          new String(
              java.util.HexFormat.of().parseHex(answer.substring("reply ".length())),
              StandardCharsets.UTF_8);
      assertTrue(refusal.contains("permission denied"), refusal);
      lingering.awaitLine("Refused a control connection from uid 65534", TIMEOUT);

      // The attacker's peer has read nothing, so the close of the refused connection is
      // still lingering (it ends only with the drain below): root is answered meanwhile.
      Command status =
          DaemonProcess.command(
              "status", "--format=json", "--control-socket", lingering.controlSocket().toString());
      assertEquals(0, status.exitCode(), status.stderr());
      assertEquals(lingering.pid(), Json.parseObject(status.stdout().strip()).get("pid"));
      assertTrue(attacker.isAlive(), "the attacker still holds its lingering socket");

      tell(attacker, "drain");
      assertEquals("drained", out.readLine(), "the lingering close completes");
    } finally {
      if (attacker != null) {
        attacker.destroyForcibly().waitFor();
      }
      lingering.signal("CONT");
      assertEquals(0, lingering.stop(), lingering.output());
    }
  }

  private static void tell(Process process, String line) throws IOException {
    process.getOutputStream().write((line + "\n").getBytes(StandardCharsets.UTF_8));
    process.getOutputStream().flush();
  }

  /** One line, read a byte at a time: a reset after it must not lose it. */
  private static String readLine(java.io.InputStream in) throws IOException {
    java.io.ByteArrayOutputStream line = new java.io.ByteArrayOutputStream();
    int b;
    while ((b = in.read()) >= 0 && b != '\n') {
      line.write(b);
    }
    return line.toString(StandardCharsets.UTF_8);
  }

  @Test
  void commandsSayWhenTheDaemonIsNotRunning() throws Exception {
    Command r =
        DaemonProcess.command(
            "status", "--control-socket", tree.root().resolve("nothing.sock").toString());
    assertEquals(1, r.exitCode());
    assertTrue(r.stderr().contains("the daemon is not running"), r.stderr());
  }
}
