package dev.filebroker.daemon.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/**
 * The example clients in examples/ (C and Python), written from docs/protocol.md alone, against a
 * real daemon, run as another user. Needs root (daemon, setpriv) and gcc.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class ExampleClientsIT {
  private static final int NOBODY = 65534;
  private static final String SECRET = "root-only secret for the examples\n";
  private static final Duration TIMEOUT = Duration.ofSeconds(60);

  private TestTree tree;
  private DaemonProcess daemon;
  private Path cClient;
  private Path pythonClient;

  @BeforeAll
  void start() throws Exception {
    tree = new TestTree("filebroker-examples-");
    Path root = tree.root();
    tree.file("secret.txt", SECRET, "rw-------");
    tree.file("not-granted.txt", "nobody may have this\n", "rw-------");
    tree.file("root-owned.txt", "granted only if nobody owned it\n", "rw-------");
    Path policy = tree.dir("policy");
    Files.writeString(
        policy.resolve("10-examples.toml"),
        """
        [[allow]]
        name = "nobody-reads-secret"
        users = [65534]
        paths = ["%s/secret.txt"]
        access = ["read"]

        [[allow]]
        name = "nobody-reads-own"
        users = [65534]
        paths = ["%s/root-owned.txt"]
        access = ["read"]
        owner = "requester"
        """
            .formatted(root, root));
    Path bin = tree.dir("bin");
    cClient = bin.resolve("fbopen");
    Command gcc =
        Command.run(
            List.of(
                "gcc",
                "-Wall",
                "-Wextra",
                "-Werror",
                "-O2",
                "-o",
                cClient.toString(),
                DaemonProcess.home().resolve("examples/c/fbopen.c").toString()),
            "");
    assertEquals(
        0, gcc.exitCode(), "examples/c/fbopen.c must compile without warnings:\n" + gcc.stderr());
    pythonClient = tree.executable(DaemonProcess.home().resolve("examples/python/fbopen.py"));
    daemon = DaemonProcess.start(root, root.resolve("broker.sock"), "--policy", policy.toString());
  }

  @AfterAll
  void stop() throws Exception {
    Daemons.stop(daemon, tree);
  }

  private Command c(String path) throws Exception {
    return asNobody(cClient.toString(), "-s", daemon.socket().toString(), path);
  }

  private Command python(String path) throws Exception {
    return asNobody(
        "/usr/bin/python3", pythonClient.toString(), "--socket", daemon.socket().toString(), path);
  }

  private static Command asNobody(String... command) {
    return assertTimeoutPreemptively(TIMEOUT, () -> Command.asUser(NOBODY, NOBODY, command));
  }

  private String path(String relative) {
    return tree.root().resolve(relative).toString();
  }

  @Test
  void cClientPrintsGrantedRootOnlyFile() throws Exception {
    Command r = c(path("secret.txt"));
    assertEquals(0, r.exitCode(), r.stderr());
    assertEquals(SECRET, r.stdout());
  }

  @Test
  void cClientReportsDenialWithExitStatusTwo() throws Exception {
    Command r = c(path("not-granted.txt"));
    assertEquals(2, r.exitCode(), r.stderr());
    assertTrue(r.stderr().startsWith("DENIED 13 "), "code name, errno, message: " + r.stderr());
    assertEquals("", r.stdout());
  }

  @Test
  void cClientNamesTheLastErrorCode() throws Exception {
    Command r = c(path("root-owned.txt"));
    assertEquals(2, r.exitCode(), r.stderr());
    assertTrue(
        r.stderr().startsWith("CONSTRAINT_FAILED "),
        "the highest operation code by name: " + r.stderr());
  }

  @Test
  void pythonClientNamesTheLastErrorCode() throws Exception {
    Command r = python(path("root-owned.txt"));
    assertEquals(2, r.exitCode(), r.stderr());
    assertTrue(
        r.stderr().startsWith("CONSTRAINT_FAILED "),
        "the highest operation code by name: " + r.stderr());
  }

  @Test
  void bothClientsSayTheDaemonIsUnreachableWithoutATraceback() throws Exception {
    String missing = tree.root().resolve("no-such.sock").toString();
    Command fromC = asNobody(cClient.toString(), "-s", missing, path("secret.txt"));
    Command fromPython =
        asNobody(
            "/usr/bin/python3", pythonClient.toString(), "--socket", missing, path("secret.txt"));
    assertEquals(1, fromC.exitCode(), fromC.stderr());
    assertEquals(1, fromPython.exitCode(), fromPython.stderr());
    assertTrue(fromPython.stderr().contains(missing), fromPython.stderr());
    assertTrue(!fromPython.stderr().contains("Traceback"), fromPython.stderr());
  }

  @Test
  void pythonClientPrintsGrantedRootOnlyFile() throws Exception {
    Command r = python(path("secret.txt"));
    assertEquals(0, r.exitCode(), r.stderr());
    assertEquals(SECRET, r.stdout());
  }

  @Test
  void pythonClientReportsDenialWithExitStatusTwo() throws Exception {
    Command r = python(path("not-granted.txt"));
    assertEquals(2, r.exitCode(), r.stderr());
    assertTrue(r.stderr().startsWith("DENIED 13 "), "code name, errno, message: " + r.stderr());
  }
}
