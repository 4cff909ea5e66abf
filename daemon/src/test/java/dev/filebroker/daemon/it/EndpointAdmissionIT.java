package dev.filebroker.daemon.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/**
 * What decides an endpoint connection besides the endpoint's subjects: the policy's deny rules and
 * the per-uid limits of {@code [limits]}, and that a client whose connection blocks the daemon in
 * the kernel holds no one else up. The endpoint hands its file to anyone ({@code any = true}); each
 * test uses a uid of its own, so that the rate of one does not touch another. Needs root (daemon,
 * setpriv), gcc and python3.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class EndpointAdmissionIT {
  private static final int DENIED_UID = 65533;
  private static final int FAST_UID = 65532;
  private static final int PATIENT_UID = 65531;
  private static final int STALLER_UID = 65530;
  private static final String SECRET = "endpoint secret\n";
  private static final Duration TIMEOUT = Duration.ofSeconds(120);

  private TestTree tree;
  private DaemonProcess daemon;
  private Path receiver;
  private Path endpointSocket;

  @BeforeAll
  void start() throws Exception {
    tree = new TestTree("filebroker-endpoint-admission-");
    Path secret = tree.file("secret.txt", SECRET, "rw-------");
    Path policy = tree.dir("policy");
    Files.writeString(
        policy.resolve("10-deny.toml"),
        """
        [[deny]]
        name = "never-to-65533"
        users = [%d]
        paths = ["%s"]
        access = ["read"]
        """
            .formatted(DENIED_UID, secret));
    receiver = tree.dir("bin").resolve("recvfile");
    Command gcc =
        Command.run(
            List.of(
                "gcc",
                "-Wall",
                "-Wextra",
                "-Werror",
                "-o",
                receiver.toString(),
                DaemonProcess.home()
                    .resolve("daemon/src/test/resources/endpoint/recvfile.c")
                    .toString()),
            "");
    assertEquals(0, gcc.exitCode(), gcc.stderr());
    endpointSocket = Path.of("/tmp", tree.root().getFileName() + "-any.sock");
    Path config = tree.root().resolve("filebroker.toml");
    Files.writeString(
        config,
        """
        [limits]
        max_connections_per_uid = 1
        requests_per_second_per_uid = 1
        request_burst_per_uid = 2

        [[endpoint]]
        name = "anyone-reads-secret"
        socket = "%s"
        socket_mode = "0666"
        path = "%s"
        access = "read"
        any = true
        """
            .formatted(endpointSocket, secret));
    daemon =
        DaemonProcess.start(
            tree.root(),
            tree.root().resolve("broker.sock"),
            "--config",
            config.toString(),
            "--policy",
            policy.toString());
  }

  @AfterAll
  void stop() throws Exception {
    try {
      if (daemon != null) {
        assertEquals(0, daemon.stop(), "daemon exit status after SIGTERM");
      }
    } finally {
      if (daemon != null) {
        daemon.close();
      }
      Files.deleteIfExists(endpointSocket);
      if (tree != null) {
        tree.close();
      }
    }
  }

  /** Runs the protocol-less receiver as {@code uid}; {@code timeout 30} is only a hang guard. */
  private Command receiveAs(int uid) throws Exception {
    return Command.asUser(
        uid, uid, "timeout", "30", receiver.toString(), endpointSocket.toString());
  }

  private String auditLineOf(int uid) throws Exception {
    daemon.awaitLine("\"uid\":" + uid + ",", Duration.ofSeconds(20));
    return daemon
        .output()
        .lines()
        .filter(l -> l.contains("\"uid\":" + uid + ","))
        .reduce((first, second) -> second)
        .orElseThrow();
  }

  private String limitLineOf(int uid) throws Exception {
    long deadline = System.nanoTime() + Duration.ofSeconds(20).toNanos();
    while (System.nanoTime() < deadline) {
      var line =
          daemon
              .output()
              .lines()
              .filter(l -> l.contains("\"uid\":" + uid + ","))
              .filter(l -> l.contains("\"result\":\"LIMIT_EXCEEDED\""))
              .findFirst();
      if (line.isPresent()) {
        return line.get();
      }
      Thread.sleep(20);
    }
    throw new AssertionError(
        "no LIMIT_EXCEEDED audit line for uid " + uid + ":\n" + daemon.output());
  }

  @Test
  void aDenyRuleRefusesAnEndpointConnection() throws Exception {
    assertTimeoutPreemptively(
        TIMEOUT,
        () -> {
          Command r = receiveAs(DENIED_UID);
          assertEquals(3, r.exitCode(), "no descriptor for a denied uid: " + r.stderr());
          String line = auditLineOf(DENIED_UID);
          assertTrue(line.contains("\"decision\":\"deny\""), line);
          assertTrue(
              line.contains("\"rule\":\"never-to-65533\""), "the deny rule decided: " + line);
          assertTrue(line.contains("\"result\":\"DENIED\""), line);
        });
  }

  @Test
  void thePerUidRateApplies() throws Exception {
    assertTimeoutPreemptively(
        TIMEOUT,
        () -> {
          // One connection a second after a burst of two: of connections made one right after
          // the other, some are refused. (Pauses of over a second are tolerated by trying
          // again; the old daemon refused none however fast they came.)
          boolean refused = false;
          for (int i = 0; i < 20 && !refused; i++) {
            Command r = receiveAs(FAST_UID);
            if (r.exitCode() == 3) {
              refused = true;
            } else {
              assertEquals(0, r.exitCode(), r.stderr());
              assertEquals(SECRET, r.stdout());
            }
          }
          assertTrue(refused, "a uid connecting faster than its rate is refused");
          // Usually the rate; the connection limit when the daemon had not yet counted the
          // previous connection closed.
          String line = limitLineOf(FAST_UID);
          assertTrue(line.contains("\"decision\":\"deny\""), line);
        });
  }

  /**
   * A client attaches a loopback TCP socket with SO_LINGER and unsent data to the byte it sends,
   * and drops its own copy: the daemon's close of the endpoint connection then runs that socket's
   * release, which lingers. Another uid must still receive its file meanwhile, and the stalled
   * connection counts against its own uid's connection limit.
   */
  @Test
  void aClientThatStallsTheDaemonInTheKernelHoldsUpNoOtherClient() throws Exception {
    String script =
        """
        import array, socket, sys, time
        listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        listener.bind(("127.0.0.1", 0))
        listener.listen(1)
        tcp = socket.create_connection(listener.getsockname())
        peer, _ = listener.accept()          # never reads
        tcp.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\\x01\\x00\\x00\\x00\\x78\\x00\\x00\\x00")
        tcp.setblocking(False)
        try:
            while True:
                tcp.send(b"x" * 65536)
        except BlockingIOError:
            pass
        for attempt in range(50):
            s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            s.connect(sys.argv[1])
            try:
                socket.send_fds(s, [b"\\0"], [tcp.fileno()])
            except PermissionError:
                print("refused at the socket", flush=True)   # SO_PASSRIGHTS = 0
                break
            except OSError:
                s.close()
                continue
            print("attached %d" % (attempt + 1), flush=True)
            break
        tcp.close()
        time.sleep(120)
        """;
    Process staller =
        new ProcessBuilder(
                "setpriv",
                "--reuid=" + STALLER_UID,
                "--regid=" + STALLER_UID,
                "--clear-groups",
                "--",
                "/usr/bin/python3",
                "-c",
                script,
                endpointSocket.toString())
            .redirectErrorStream(true)
            .start();
    try {
      assertTimeoutPreemptively(
          TIMEOUT,
          () -> {
            String first =
                new BufferedReader(
                        new InputStreamReader(staller.getInputStream(), StandardCharsets.UTF_8))
                    .readLine();
            assertTrue(
                first != null
                    && (first.startsWith("attached ") || first.equals("refused at the socket")),
                "the staller says what happened: " + first);
            Command r = receiveAs(PATIENT_UID);
            assertEquals(
                0, r.exitCode(), "served while the other connection stalls: " + r.stderr());
            assertEquals(SECRET, r.stdout());
            if (first.equals("attached 1")) {
              // Its stalled connection still counts: max_connections_per_uid = 1 refuses a
              // second one of the same uid, at once.
              Command second = receiveAs(STALLER_UID);
              assertEquals(3, second.exitCode(), "over the connection limit: " + second.stderr());
              String line = limitLineOf(STALLER_UID);
              assertTrue(line.contains("max_connections_per_uid"), line);
            }
          });
    } finally {
      staller.destroyForcibly().waitFor(); // its peer's reset ends the linger
    }
  }
}
