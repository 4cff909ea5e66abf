package dev.filebroker.daemon.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/**
 * {@code filebroker run --sandbox} as a real unprivileged user with a home of its own, against a
 * real daemon: inside the sandbox only the granted descriptors, what the command needs to start and
 * the daemon's socket are reachable. Needs root (useradd, the daemon, setpriv, a set-user-ID file,
 * bubblewrap's seccomp option for the kernel without Landlock) and a kernel with Landlock ABI 6.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class SandboxIT {
  private static final String USER = "fb-sandbox-it";
  private static final String GRANTED = "granted at start\n";
  private static final String LATER = "granted at run time\n";
  private static final Duration TIMEOUT = Duration.ofSeconds(60);
  private static final String PYTHON = "/usr/bin/python3";

  private TestTree tree;
  private DaemonProcess daemon;
  private Path jar;
  private Path home;
  private Path client;
  private int uid;
  private boolean madeUser;

  @BeforeAll
  void start() throws Exception {
    tree = new TestTree("filebroker-sandbox-");
    Path root = tree.root();
    home = root.resolve("home");
    madeUser = userId().isEmpty();
    if (madeUser) {
      Command add =
          Command.run(
              List.of(
                  "useradd",
                  "--system",
                  "--no-create-home",
                  "--home-dir",
                  home.toString(),
                  "--shell",
                  "/usr/sbin/nologin",
                  USER),
              "");
      assertEquals(0, add.exitCode(), add.stderr());
    }
    uid = Integer.parseInt(userId().orElseThrow());
    tree.dir("home");
    tree.file("home/own.txt", "the user's own file\n", "rw-------");
    chown(home);
    chown(home.resolve("own.txt"));
    Files.setPosixFilePermissions(home, PosixFilePermissions.fromString("rwx------"));
    tree.file("granted.txt", GRANTED, "rw-------");
    tree.file("later.txt", LATER, "rw-------");
    tree.file("refused.txt", "never\n", "rw-------");
    tree.dir("markers");
    chown(root.resolve("markers"));
    client = tree.executable(DaemonProcess.home().resolve("examples/python/fbopen.py"));
    Path policy = tree.dir("policy");
    Files.writeString(
        policy.resolve("10-sandbox.toml"),
        """
        [[allow]]
        name = "sandboxed-user-reads"
        users = [%2$d]
        paths = ["%1$s/granted.txt", "%1$s/later.txt"]
        access = ["read"]
        """
            .formatted(root, uid));
    Path jarDir = tree.dir("jar");
    Path built = DaemonProcess.jar();
    Files.copy(built, jarDir.resolve(built.getFileName()));
    Path lib = Files.createDirectories(jarDir.resolve("lib"));
    try (var libs = Files.list(built.resolveSibling("lib"))) {
      for (Path l : libs.toList()) {
        Files.copy(l, lib.resolve(l.getFileName()));
      }
    }
    new ProcessBuilder("chmod", "-R", "a+rX", jarDir.toString()).start().waitFor();
    jar = jarDir.resolve(built.getFileName());
    daemon = DaemonProcess.start(root, root.resolve("broker.sock"), "--policy", policy.toString());
  }

  @AfterAll
  void stop() throws Exception {
    Daemons.stop(daemon, tree);
    if (madeUser) {
      Command.run(List.of("userdel", USER), "");
    }
  }

  private static java.util.Optional<String> userId() throws Exception {
    Command id = Command.run(List.of("id", "-u", USER), "");
    return id.exitCode() == 0
        ? java.util.Optional.of(id.stdout().strip())
        : java.util.Optional.empty();
  }

  private void chown(Path p) throws Exception {
    Command c = Command.run(List.of("chown", uid + ":" + uid, p.toString()), "");
    assertEquals(0, c.exitCode(), c.stderr());
  }

  /** {@code filebroker run --socket DAEMON ARGS} as the test user. */
  private Command run(String... args) {
    return assertTimeoutPreemptively(
        TIMEOUT, () -> Command.asUser(uid, uid, filebroker(List.of(), args)));
  }

  private String[] filebroker(List<String> prefix, String... args) {
    List<String> cmd = new ArrayList<>(prefix);
    cmd.addAll(
        List.of(
            DaemonProcess.java(),
            "--enable-native-access=ALL-UNNAMED",
            "--add-opens=java.base/java.io=ALL-UNNAMED",
            "-Djna.tmpdir=" + tree.root().resolve("markers"),
            "-jar",
            jar.toString(),
            "run",
            "--socket",
            daemon.socket().toString()));
    cmd.addAll(Arrays.asList(args));
    return cmd.toArray(String[]::new);
  }

  private String path(String relative) {
    return tree.root().resolve(relative).toString();
  }

  /** {@code sh -c 'exec 4<"$1" && echo opened' sh PATH}: opens PATH for reading, nothing else. */
  private static List<String> openForReading(String path) {
    return List.of("/bin/sh", "-c", "exec 4<\"$1\" && echo opened", "sh", path);
  }

  private static String[] concat(List<String> a, List<String> b) {
    List<String> all = new ArrayList<>(a);
    all.addAll(b);
    return all.toArray(String[]::new);
  }

  @Test
  void grantedDescriptorWorksInsideTheSandbox() {
    Command r =
        run(
            "--sandbox",
            "--fd",
            "3=" + path("granted.txt"),
            "--",
            "/bin/sh",
            "-c",
            "read line <&3 && echo \"$line\"");
    assertEquals(0, r.exitCode(), r.stderr());
    assertEquals(GRANTED, r.stdout());
  }

  @Test
  void etcPasswdAndTheUsersOwnHomeAreRefusedWithEacces() {
    for (String target : List.of("/etc/passwd", home.resolve("own.txt").toString())) {
      Command unconfined = run(concat(List.of("--"), openForReading(target)));
      assertEquals(0, unconfined.exitCode(), "the user can read " + target + " unconfined");
      Command confined = run(concat(List.of("--sandbox", "--"), openForReading(target)));
      assertEquals(2, confined.exitCode(), confined.stdout() + confined.stderr());
      // "Permission denied" is strerror(EACCES); EPERM would read "Operation not permitted".
      assertTrue(
          confined.stderr().contains("cannot open " + target + ": Permission denied"),
          confined.stderr());
    }
  }

  @Test
  void writingAndCreatingAreRefusedWhereTheUserMayWrite() throws Exception {
    Path existing = tree.root().resolve("markers/existing.txt");
    Files.writeString(existing, "kept\n");
    chown(existing);
    String dir = tree.root().resolve("markers").toString();
    List<String> write =
        List.of(
            "/bin/sh", "-c", "echo x >> \"$1/existing.txt\"; echo y > \"$1/new.txt\"", "sh", dir);
    Command confined = run(concat(List.of("--sandbox", "--"), write));
    assertTrue(
        confined.stderr().contains("cannot create " + dir + "/existing.txt: Permission denied"),
        confined.stderr());
    assertTrue(
        confined.stderr().contains("cannot create " + dir + "/new.txt: Permission denied"),
        confined.stderr());
    assertEquals("kept\n", Files.readString(existing));
    assertFalse(Files.exists(Path.of(dir, "new.txt")), "created inside the sandbox");
    Command unconfined = run(concat(List.of("--"), write));
    assertEquals(0, unconfined.exitCode(), unconfined.stderr());
    assertEquals("kept\nx\n", Files.readString(existing));
  }

  /** A limit, not a guarantee: Landlock refuses opens, not lookups (SECURITY.md says so). */
  @Test
  void pathsStayVisibleToLookupsThoughTheyCannotBeOpened() {
    String own = home.resolve("own.txt").toString();
    Command r =
        run(
            "--sandbox",
            "--",
            "/bin/sh",
            "-c",
            "test -f \"$1\" && echo exists; exec 4<\"$1\"",
            "sh",
            own);
    assertEquals("exists\n", r.stdout(), r.stderr());
    assertTrue(r.stderr().contains("Permission denied"), r.stderr());
  }

  /** The client finds the daemon that {@code run --socket} names in $FILEBROKER_SOCKET. */
  @Test
  void fileAskedForAtRunTimeThroughTheSocketArrivesAndThePolicyDecides() {
    List<String> python =
        List.of(
            "--sandbox",
            "--allow-read",
            "/usr/lib/python3." + pythonMinor(),
            "--allow-read",
            client.toString(),
            "--",
            PYTHON,
            client.toString());
    Command granted = run(concat(python, List.of(path("later.txt"))));
    assertEquals(0, granted.exitCode(), granted.stderr());
    assertEquals(LATER, granted.stdout());
    Command refused = run(concat(python, List.of(path("refused.txt"))));
    assertEquals(2, refused.exitCode(), refused.stderr()); // fbopen.py: the daemon refused
    assertTrue(refused.stderr().contains("DENIED"), refused.stderr());
  }

  @Test
  void setUidProgramGainsNoPrivilegeAndIsNotExecutedUnlessAllowed() throws Exception {
    Path id = tree.root().resolve("setuid-id");
    Files.copy(Path.of("/usr/bin/id"), id);
    Files.setPosixFilePermissions(id, PosixFilePermissions.fromString("rwxr-xr-x"));
    Command mode = Command.run(List.of("chmod", "4755", id.toString()), "");
    assertEquals(0, mode.exitCode(), mode.stderr());
    Command unconfined = Command.asUser(uid, uid, id.toString(), "-u");
    assertEquals("0\n", unconfined.stdout(), "the copy raises privilege unconfined");

    Command asCommand = run("--sandbox", "--", id.toString(), "-u");
    assertEquals(0, asCommand.exitCode(), asCommand.stderr());
    assertEquals(uid + "\n", asCommand.stdout());

    String nested = "exec " + id + " -u";
    Command denied = run("--sandbox", "--", "/bin/sh", "-c", nested);
    assertEquals(126, denied.exitCode(), denied.stderr());
    assertTrue(denied.stderr().contains("Permission denied"), denied.stderr());
    Command allowed =
        run("--sandbox", "--allow-exec", id.toString(), "--", "/bin/sh", "-c", nested);
    assertEquals(0, allowed.exitCode(), allowed.stderr());
    assertEquals(uid + "\n", allowed.stdout());
  }

  @Test
  void signalsAndAbstractSocketsOutsideTheSandboxAreOutOfReach() throws Exception {
    List<String> signal = List.of("/bin/sh", "-c", "kill -0 $PPID && echo signalled");
    assertEquals("signalled\n", run(concat(List.of("--"), signal)).stdout());
    Command confined = run(concat(List.of("--sandbox", "--"), signal));
    assertEquals(1, confined.exitCode(), confined.stderr());
    // "Operation not permitted" is strerror(EPERM), which a Landlock scope answers.
    assertTrue(confined.stderr().contains("kill: Operation not permitted"), confined.stderr());

    String name = "filebroker-sandbox-it-" + ProcessHandle.current().pid();
    Process listener =
        new ProcessBuilder(
                PYTHON,
                "-c",
                "import socket, sys, time\n"
                    + "s = socket.socket(socket.AF_UNIX)\n"
                    + "s.bind('\\0' + sys.argv[1]); s.listen(8)\n"
                    + "print('ready', flush=True); time.sleep(120)",
                name)
            .start();
    try {
      var ready =
          new BufferedReader(
              new InputStreamReader(listener.getInputStream(), StandardCharsets.UTF_8));
      assertEquals("ready", ready.readLine());
      List<String> connect =
          List.of(
              PYTHON,
              "-c",
              "import socket, sys\n"
                  + "s = socket.socket(socket.AF_UNIX)\n"
                  + "try:\n"
                  + "    s.connect('\\0' + sys.argv[1]); print('connected')\n"
                  + "except OSError as e:\n"
                  + "    print(e.errno)",
              name);
      assertEquals("connected\n", run(concat(List.of("--"), connect)).stdout());
      Command scoped =
          run(
              concat(
                  List.of("--sandbox", "--allow-read", "/usr/lib/python3." + pythonMinor(), "--"),
                  connect));
      assertEquals("1\n", scoped.stdout(), scoped.stderr()); // EPERM
    } finally {
      listener.destroyForcibly().waitFor();
    }
  }

  /**
   * A kernel without Landlock, simulated with a seccomp filter (through bubblewrap) that fails
   * landlock_create_ruleset with ENOSYS: the command is not run.
   */
  @Test
  void refusesWithoutLandlockAndDoesNotRunTheCommand() throws Exception {
    Command r = underFilter(NoLandlockFilter.ENOSYS, "ran-enosys");
    assertTrue(r.stderr().contains("this kernel has no Landlock"), r.stderr());
  }

  /**
   * A kernel with Landlock built in but not enabled at boot (EOPNOTSUPP, through the same filter):
   * the command is not run, and the refusal says how to enable it. An ABI older than 6 cannot be
   * simulated this way (a filter can fail the version query, not answer it with a number); {@code
   * SandboxSupportTest} decides those versions, as no such kernel is at hand.
   */
  @Test
  void refusesWhereLandlockIsNotEnabledAndSaysHowToEnableIt() throws Exception {
    Command r = underFilter(NoLandlockFilter.EOPNOTSUPP, "ran-eopnotsupp");
    assertTrue(r.stderr().contains("add landlock to the lsm= boot parameter"), r.stderr());
  }

  /** {@code run --sandbox} of a marker-writing command under the filter; asserts 125, not run. */
  private Command underFilter(int errno, String markerName) throws Exception {
    assumeTrue(Files.isExecutable(Path.of("/usr/bin/bwrap")), "needs bubblewrap (bwrap)");
    assumeTrue("amd64".equals(System.getProperty("os.arch")), "the filter is written for x86-64");
    Path filter = tree.root().resolve("no-landlock-" + errno + ".bpf");
    Files.write(filter, NoLandlockFilter.program(errno));
    Path marker = tree.root().resolve("markers/" + markerName);
    String[] inner =
        filebroker(
            List.of("setpriv", "--reuid=" + uid, "--regid=" + uid, "--clear-groups", "--"),
            "--sandbox",
            "--",
            "/bin/sh",
            "-c",
            "echo ran > " + marker);
    List<String> wrapped =
        new ArrayList<>(List.of("/bin/sh", "-c", "exec \"$@\" 9<\"$0\"", filter.toString()));
    wrapped.addAll(List.of("/usr/bin/bwrap", "--dev-bind", "/", "/", "--seccomp", "9", "--"));
    wrapped.addAll(Arrays.asList(inner));
    Command r = assertTimeoutPreemptively(TIMEOUT, () -> Command.run(wrapped, ""));
    assertEquals(125, r.exitCode(), r.stdout() + r.stderr());
    assertTrue(r.stderr().contains("was not run"), r.stderr());
    assertFalse(Files.exists(marker), "the command ran");
    return r;
  }

  /** A start that will fail inside the sandbox says why before it fails. */
  @Test
  void aLibraryThatCannotBeFoundIsNamedBeforeTheCommandFails() throws Exception {
    byte[] sh = Files.readAllBytes(Path.of("/bin/sh"));
    byte[] from = "libc.so.6\0".getBytes(StandardCharsets.US_ASCII);
    for (int i = 0; i + from.length <= sh.length; i++) {
      if (Arrays.equals(sh, i, i + from.length, from, 0, from.length)) {
        sh[i + 3] = 'q';
      }
    }
    Path program = Files.write(tree.root().resolve("sh-needs-libq"), sh);
    Files.setPosixFilePermissions(program, PosixFilePermissions.fromString("rwxr-xr-x"));
    Command r = run("--sandbox", "--", program.toString(), "-c", "true");
    assertTrue(
        r.stderr()
            .contains("filebroker: --sandbox: libq.so.6, needed by " + program + ", was not found"),
        r.stderr());
    assertEquals(127, r.exitCode(), r.stderr()); // the loader's status for a missing library
  }

  @Test
  void allowReadWithoutSandboxIsAMistake() {
    Command r = run("--allow-read", "/usr", "--", "/bin/true");
    assertEquals(125, r.exitCode(), r.stderr());
    assertTrue(r.stderr().contains("--allow-read and --allow-exec need --sandbox"), r.stderr());
  }

  private static String pythonMinor() {
    try {
      Command v = Command.run(List.of(PYTHON, "-c", "import sys; print(sys.version_info[1])"), "");
      return v.stdout().strip();
    } catch (Exception e) {
      throw new IllegalStateException(e);
    }
  }
}
