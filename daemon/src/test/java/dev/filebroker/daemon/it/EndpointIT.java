package dev.filebroker.daemon.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/**
 * Fixed endpoints, for real: a daemon configured with an endpoint socket in /tmp, and a 20-line C
 * program that knows nothing of the protocol (connect, then recvmsg into a one-byte buffer), run as
 * other uids. Needs root (daemon, setpriv) and gcc.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class EndpointIT {
  private static final int NOBODY = 65534;
  private static final int STRANGER = 65533;
  private static final String SECRET = "endpoint secret\n";
  private static final Duration TIMEOUT = Duration.ofSeconds(60);

  private TestTree tree;
  private DaemonProcess daemon;
  private Path receiver;
  private Path endpointSocket;

  @BeforeAll
  void start() throws Exception {
    tree = new TestTree("filebroker-endpoint-");
    tree.file("secret.txt", SECRET, "rw-------");
    Path policy = tree.dir("policy");
    Files.writeString(policy.resolve("10-empty.toml"), "");
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
    endpointSocket = Path.of("/tmp", tree.root().getFileName() + "-secret.sock");
    daemon = startWithEndpoint(tree.root().resolve("broker.sock"), endpointSocket, policy);
  }

  private DaemonProcess startWithEndpoint(Path mainSocket, Path endpoint, Path policy)
      throws Exception {
    Path config = writeConfig(endpoint);
    return DaemonProcess.start(
        tree.root(), mainSocket, "--config", config.toString(), "--policy", policy.toString());
  }

  private Path writeConfig(Path endpoint) throws Exception {
    Path config = tree.root().resolve("filebroker-" + System.nanoTime() + ".toml");
    Files.writeString(
        config,
        """
        [[endpoint]]
        name = "nobody-reads-secret"
        socket = "%s"
        socket_mode = "0622"
        path = "%s"
        access = "read"
        users = [65534]
        """
            .formatted(endpoint, tree.root().resolve("secret.txt")));
    return config;
  }

  @AfterAll
  void stop() throws Exception {
    try {
      if (daemon != null) {
        assertEquals(0, daemon.stop(), "daemon exit status after SIGTERM");
        assertFalse(
            Files.exists(endpointSocket, LinkOption.NOFOLLOW_LINKS),
            "the endpoint socket must be removed on SIGTERM");
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

  private Command receiveAs(int uid) {
    return assertTimeoutPreemptively(
        TIMEOUT, () -> Command.asUser(uid, uid, receiver.toString(), endpointSocket.toString()));
  }

  @Test
  void subjectReceivesRootOnlyFileWithoutSendingARequest() throws Exception {
    assertFalse(
        Command.asUser(NOBODY, NOBODY, "cat", tree.root().resolve("secret.txt").toString())
                .exitCode()
            == 0,
        "nobody must not be able to read the file directly");
    Command r = receiveAs(NOBODY);
    assertEquals(0, r.exitCode(), r.stderr());
    assertEquals(SECRET, r.stdout());
    daemon.awaitLine("\"rule\":\"nobody-reads-secret\"", Duration.ofSeconds(10));
    assertTrue(daemon.output().contains("\"decision\":\"allow\""), daemon.output());
  }

  @Test
  void otherUserGetsNoDescriptorAndEndOfStream() throws Exception {
    Command r = receiveAs(STRANGER);
    assertEquals(3, r.exitCode(), "no descriptor: " + r.stderr() + r.stdout());
    assertTrue(r.stderr().contains("recvmsg returned 0"), "no byte, just EOF: " + r.stderr());
    daemon.awaitLine("\"uid\":65533", Duration.ofSeconds(10));
    String line =
        daemon.output().lines().filter(l -> l.contains("\"uid\":65533")).findFirst().orElseThrow();
    assertTrue(line.contains("\"decision\":\"deny\""), line);
    assertTrue(line.contains("\"rule\":\"nobody-reads-secret\""), line);
    assertTrue(line.contains("\"source\":\"" + tree.root()), "source is the config file: " + line);
  }

  @Test
  void socketHasTheConfiguredMode() throws Exception {
    assertEquals(
        "rw--w--w-",
        PosixFilePermissions.toString(
            Files.getPosixFilePermissions(endpointSocket, LinkOption.NOFOLLOW_LINKS)));
  }

  @Test
  void refusesToStartWhenAnotherProcessListensOnTheEndpointSocket() throws Exception {
    Path config = writeConfig(endpointSocket);
    Command r =
        assertTimeoutPreemptively(
            TIMEOUT,
            () ->
                Command.run(
                    List.of(
                        DaemonProcess.java(),
                        "--enable-native-access=ALL-UNNAMED",
                        "--add-opens=java.base/java.io=ALL-UNNAMED",
                        "-jar",
                        DaemonProcess.jar().toString(),
                        "serve",
                        "--socket",
                        tree.root().resolve("second.sock").toString(),
                        "--config",
                        config.toString(),
                        "--policy",
                        tree.root().resolve("policy").toString()),
                    ""));
    assertEquals(1, r.exitCode(), r.stdout() + r.stderr());
    assertTrue(
        r.stderr().contains("another process is listening on " + endpointSocket), r.stderr());
    assertTrue(Files.exists(endpointSocket), "the live endpoint socket must be left alone");
  }

  @Test
  void replacesAStaleEndpointSocket() throws Exception {
    Path stale = tree.root().resolve("stale.sock");
    Command bind =
        Command.run(
            List.of(
                "/usr/bin/python3",
                "-c",
                "import socket,sys; socket.socket(socket.AF_UNIX).bind(sys.argv[1])",
                stale.toString()),
            "");
    assertEquals(0, bind.exitCode(), bind.stderr());
    assertTrue(Files.exists(stale, LinkOption.NOFOLLOW_LINKS), "a stale socket file is left");
    try (DaemonProcess second =
        startWithEndpoint(
            tree.root().resolve("third.sock"), stale, tree.root().resolve("policy"))) {
      Command r =
          assertTimeoutPreemptively(
              TIMEOUT, () -> Command.asUser(NOBODY, NOBODY, receiver.toString(), stale.toString()));
      assertEquals(SECRET, r.stdout(), r.stderr());
      assertEquals(0, second.stop());
    }
    assertFalse(Files.exists(stale, LinkOption.NOFOLLOW_LINKS), "removed on SIGTERM");
  }
}
