package dev.filebroker.daemon.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/**
 * {@code filebroker run} as another user against a real daemon: descriptors placed at the asked
 * numbers, the command started as a child whose status and signals pass through. Needs root
 * (daemon, setpriv). The JVMs run with their default garbage collector, as users run them.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class RunCommandIT {
  private static final int NOBODY = 65534;
  private static final String SECRET = "run secret\n";
  private static final Duration TIMEOUT = Duration.ofSeconds(60);

  private TestTree tree;
  private DaemonProcess daemon;
  private Path jar;

  @BeforeAll
  void start() throws Exception {
    tree = new TestTree("filebroker-run-");
    Path root = tree.root();
    tree.file("secret.txt", SECRET, "rw-------");
    tree.file("out.txt", "", "rw-------");
    tree.file(
        "trunc.txt", "1 long old content that is longer than what replaces it\n", "rw-------");
    tree.file("append.txt", "first\n", "rw-------");
    tree.file("piped.txt", "old content of the piped file\n", "rw-------");
    tree.file("a:b.txt", "colon\n", "rw-------");
    tree.dir("made");
    tree.file("made/exists.txt", "kept\n", "rw-------");
    tree.dir("markers");
    new ProcessBuilder("chmod", "777", root.resolve("markers").toString()).start().waitFor();
    Path policy = tree.dir("policy");
    Files.writeString(
        policy.resolve("10-run.toml"),
        """
        [[allow]]
        name = "nobody-reads-secret"
        users = [65534]
        paths = ["%1$s/secret.txt"]
        access = ["read"]

        [[allow]]
        name = "nobody-writes-out"
        users = [65534]
        paths = ["%1$s/out.txt"]
        access = ["write"]

        [[allow]]
        name = "nobody-replaces-and-appends"
        users = [65534]
        paths = ["%1$s/trunc.txt", "%1$s/append.txt", "%1$s/piped.txt", "%1$s/made/*"]
        access = ["write", "append", "create", "truncate"]

        [[allow]]
        name = "nobody-reads-a-colon-name"
        users = [65534]
        paths = ["%1$s/a:b.txt"]
        access = ["read"]
        """
            .formatted(root));
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
  }

  /** {@code filebroker run --socket DAEMON ARGS} as nobody. */
  private Command run(String... args) {
    List<String> all = new ArrayList<>(List.of("--socket", daemon.socket().toString()));
    all.addAll(Arrays.asList(args));
    return runWithout(all.toArray(String[]::new));
  }

  /** {@code filebroker run ARGS} as nobody, with no --socket added. */
  private Command runWithout(String... args) {
    List<String> cmd =
        new ArrayList<>(
            List.of(
                DaemonProcess.java(),
                "--enable-native-access=ALL-UNNAMED",
                "--add-opens=java.base/java.io=ALL-UNNAMED",
                "-Djna.tmpdir=" + tree.root().resolve("markers"),
                "-jar",
                jar.toString(),
                "run"));
    cmd.addAll(Arrays.asList(args));
    return assertTimeoutPreemptively(
        TIMEOUT, () -> Command.asUser(NOBODY, NOBODY, cmd.toArray(String[]::new)));
  }

  private String path(String relative) {
    return tree.root().resolve(relative).toString();
  }

  @Test
  void placesGrantedRootOnlyFileAtDescriptorThree() {
    Command r = run("--fd", "3=" + path("secret.txt"), "--", "sh", "-c", "cat <&3");
    assertEquals(0, r.exitCode(), r.stderr());
    assertEquals(SECRET, r.stdout());
  }

  @Test
  void stdoutWithTheWriteWordGoesToAWriteOnlyGrant() throws Exception {
    Command r = run("--stdout", path("out.txt") + ":write", "--", "echo", "hello");
    assertEquals(0, r.exitCode(), r.stderr());
    assertEquals("hello\n", Files.readString(tree.root().resolve("out.txt")));
  }

  @Test
  void stdoutAsksForWhatTheShellsRedirectAsksAndSaysSoWhenRefused() {
    Command r = run("--stdout", path("out.txt"), "--", "echo", "hello");
    assertEquals(125, r.exitCode(), r.stderr());
    assertTrue(r.stderr().contains("write,create,truncate"), r.stderr());
    assertTrue(r.stderr().contains("DENIED"), r.stderr());
  }

  @Test
  void stdoutTruncatesLikeTheShellsRedirect() throws Exception {
    Command r = run("--stdout", path("trunc.txt"), "--", "echo", "NEW");
    assertEquals(0, r.exitCode(), r.stderr());
    assertEquals("NEW\n", Files.readString(tree.root().resolve("trunc.txt")));
  }

  @Test
  void stdoutCreatesAMissingFile() throws Exception {
    Command r = run("--stdout", path("made/new.txt"), "--", "echo", "made");
    assertEquals(0, r.exitCode(), r.stderr());
    assertEquals("made\n", Files.readString(tree.root().resolve("made/new.txt")));
  }

  @Test
  void appendStdoutAppendsLikeTheShellsDoubleRedirect() throws Exception {
    Command r = run("--append-stdout", path("append.txt"), "--", "echo", "more");
    assertEquals(0, r.exitCode(), r.stderr());
    assertEquals("first\nmore\n", Files.readString(tree.root().resolve("append.txt")));
  }

  @Test
  void exclusiveRefusesAnExistingFileAndCreatesANewOne() throws Exception {
    Command existing =
        run("--fd", "1=" + path("made/exists.txt") + ":write,exclusive", "--", "echo", "lost");
    assertEquals(125, existing.exitCode(), existing.stderr());
    assertTrue(existing.stderr().contains("ALREADY_EXISTS"), existing.stderr());
    assertEquals("kept\n", Files.readString(tree.root().resolve("made/exists.txt")));
    Command fresh =
        run("--fd", "1=" + path("made/fresh.txt") + ":write,exclusive", "--", "echo", "fresh");
    assertEquals(0, fresh.exitCode(), fresh.stderr());
    assertEquals("fresh\n", Files.readString(tree.root().resolve("made/fresh.txt")));
  }

  @Test
  void wordsAfterTheLastColonAreAccessWords() throws Exception {
    Command r =
        run(
            "--fd",
            "4=" + path("made/words.txt") + ":write,create",
            "--",
            "sh",
            "-c",
            "echo w >&4");
    assertEquals(0, r.exitCode(), r.stderr());
    assertEquals("w\n", Files.readString(tree.root().resolve("made/words.txt")));
  }

  @Test
  void unknownWordIsRefusedByNameWithTheValidOnes() {
    Command r = run("--fd", "3=" + path("secret.txt") + ":rw", "--", "true");
    assertEquals(125, r.exitCode(), r.stderr());
    assertTrue(
        r.stderr()
            .contains(
                "unknown access 'rw'; expected one of read, write, read-write, append, create,"
                    + " truncate, exclusive, pipe"),
        r.stderr());
  }

  @Test
  void pathContainingAColonEndsWithAColon() {
    Command r = run("--fd", "3=" + path("a:b.txt") + ":", "--", "sh", "-c", "cat <&3");
    assertEquals(0, r.exitCode(), r.stderr());
    assertEquals("colon\n", r.stdout());
  }

  @Test
  void withoutPipeModeReopeningTheDescriptorByNameIsRefusedByTheKernel() {
    Command r = run("--fd", "3=" + path("secret.txt"), "--", "cat", "/dev/fd/3");
    assertEquals(1, r.exitCode(), "cat's own status: " + r.stderr());
    assertTrue(r.stderr().contains("Permission denied"), r.stderr());
  }

  @Test
  void pipeModeLetsToolsOpenTheDescriptorByName() {
    Command dev = run("--fd", "3=" + path("secret.txt") + ":pipe", "--", "cat", "/dev/fd/3");
    assertEquals(0, dev.exitCode(), dev.stderr());
    assertEquals(SECRET, dev.stdout());
    Command proc = run("--fd", "3=" + path("secret.txt") + ":pipe", "--", "cat", "/proc/self/fd/3");
    assertEquals(0, proc.exitCode(), proc.stderr());
    assertEquals(SECRET, proc.stdout());
    Command stdin = run("--stdin", path("secret.txt") + ":pipe", "--", "cat", "/dev/stdin");
    assertEquals(0, stdin.exitCode(), stdin.stderr());
    assertEquals(SECRET, stdin.stdout());
  }

  @Test
  void writeThroughAPipeLandsInTheFileBeforeRunExits() throws Exception {
    Command r =
        run(
            "--stdout",
            path("piped.txt") + ":pipe",
            "--",
            "sh",
            "-c",
            "echo piped > /dev/stdout; exit 3");
    assertEquals(3, r.exitCode(), r.stderr());
    assertEquals("piped\n", Files.readString(tree.root().resolve("piped.txt")));
  }

  @Test
  void pipeModeRefusesReadWrite() {
    Command r = run("--fd", "3=" + path("secret.txt") + ":read-write,pipe", "--", "true");
    assertEquals(125, r.exitCode(), r.stderr());
    assertTrue(r.stderr().contains("a pipe carries one direction"), r.stderr());
  }

  @Test
  void deniedDescriptorExits125WithoutRunningTheCommand() {
    Path marker = tree.root().resolve("markers/ran");
    Command r = run("--fd", "3=" + path("not-granted.txt"), "--", "sh", "-c", "touch " + marker);
    assertEquals(125, r.exitCode(), r.stderr());
    assertTrue(r.stderr().contains("descriptor 3"), r.stderr());
    assertTrue(r.stderr().contains("DENIED"), r.stderr());
    assertFalse(Files.exists(marker), "the command must not have run");
  }

  @Test
  void unreachableDaemonExits125WithoutRunningTheCommand() {
    Path marker = tree.root().resolve("markers/ran-unreachable");
    Command r =
        runWithout("--socket", path("markers/no-daemon.sock"), "--", "sh", "-c", "touch " + marker);
    assertEquals(125, r.exitCode(), r.stderr());
    assertTrue(r.stderr().contains("could not reach the daemon"), r.stderr());
    assertFalse(Files.exists(marker), "the command must not have run");
  }

  @Test
  void badArgumentExits125() {
    Command r = run("--fd", "three=" + path("secret.txt"), "--", "true");
    assertEquals(125, r.exitCode(), r.stderr());
    assertTrue(r.stderr().contains("descriptor number must be 0 to 1023"), r.stderr());
  }

  @Test
  void commandExitingTwoOrOneTwentyFiveIsPassedThrough() {
    assertEquals(2, run("--", "sh", "-c", "exit 2").exitCode());
    assertEquals(125, run("--", "sh", "-c", "exit 125").exitCode());
  }

  @Test
  void exitStatusIsTheCommands() {
    Command r = run("--", "sh", "-c", "exit 7");
    assertEquals(7, r.exitCode(), r.stderr());
  }

  @Test
  void noOtherDescriptorLeaksIntoTheCommand() {
    Command r = run("--fd", "3=" + path("secret.txt"), "--", "ls", "/proc/self/fd");
    assertEquals(0, r.exitCode(), r.stderr());
    Set<String> fds = new TreeSet<>(r.stdout().lines().toList());
    assertTrue(fds.containsAll(Set.of("0", "1", "2", "3")), fds.toString());
    fds.removeAll(Set.of("0", "1", "2", "3"));
    assertTrue(fds.size() <= 1, "only ls's own directory descriptor may remain: " + fds);
  }

  @Test
  void pipeModeLeaksNoOtherDescriptorIntoTheCommand() {
    Command r = run("--fd", "3=" + path("secret.txt") + ":pipe", "--", "ls", "/proc/self/fd");
    assertEquals(0, r.exitCode(), r.stderr());
    Set<String> fds = new TreeSet<>(r.stdout().lines().toList());
    fds.removeAll(Set.of("0", "1", "2", "3"));
    assertTrue(fds.size() <= 1, "only ls's own directory descriptor may remain: " + fds);
  }

  @Test
  void theLaunchersMemorySettingsDoNotReachTheCommand() throws Exception {
    // The build tree's launcher, which sets glibc's arenas and stack cache for the daemon.
    String launcher = DaemonProcess.home().resolve("filebroker").toString();
    String show = "echo ${MALLOC_ARENA_MAX-unset} ${GLIBC_TUNABLES-unset}";
    List<String> base =
        List.of("env", "-u", "MALLOC_ARENA_MAX", "-u", "GLIBC_TUNABLES", "FILEBROKER_JAVA_OPTS=");
    List<String> plain = new ArrayList<>(base);
    String socket = daemon.socket().toString();
    plain.addAll(List.of(launcher, "run", "--socket", socket, "--", "sh", "-c", show));
    Command r = Command.run(plain, "");
    assertEquals(0, r.exitCode(), r.stderr());
    assertEquals("unset unset\n", r.stdout());
    // What the caller set is passed on as it is.
    List<String> own = new ArrayList<>(base);
    own.addAll(
        List.of("MALLOC_ARENA_MAX=4", launcher, "run", "--socket", socket, "--", "sh", "-c", show));
    Command r2 = Command.run(own, "");
    assertEquals(0, r2.exitCode(), r2.stderr());
    assertEquals("4 unset\n", r2.stdout());
  }

  @Test
  void missingCommandExits127() {
    Command r = run("--", "no-such-command-here");
    assertEquals(127, r.exitCode(), r.stderr());
    assertTrue(r.stderr().contains("ENOENT"), r.stderr());
  }

  @Test
  void commandKilledBySignalExits128PlusTheSignal() {
    Command r = run("--", "sh", "-c", "kill -TERM $$");
    assertEquals(143, r.exitCode(), r.stderr());
  }

  @Test
  void sigtermToFilebrokerReachesTheCommand() {
    // The command's parent is the filebroker JVM (setpriv executes java). The command catches
    // the forwarded SIGTERM and exits 42, which the JVM must then report as its own status.
    Command r =
        run(
            "--",
            "sh",
            "-c",
            "sleep 30 >/dev/null 2>&1 & trap \"kill $!; exit 42\" TERM; kill -TERM $PPID; wait");
    assertEquals(42, r.exitCode(), r.stderr());
  }

  @Test
  void sigintToFilebrokerOutsideATerminalReachesTheCommand() {
    Command r =
        run(
            "--",
            "sh",
            "-c",
            "sleep 30 >/dev/null 2>&1 & trap \"kill $!; exit 42\" INT; kill -INT $PPID; wait");
    assertEquals(42, r.exitCode(), r.stderr());
  }

  @Test
  void oneControlCAtATerminalIsOneSigintForTheCommand() throws Exception {
    // A pseudo-terminal whose foreground process group holds the filebroker JVM and, as its
    // child, the command. ^C signals the whole group: the command must count one SIGINT, not a
    // second one passed on by filebroker. SIGTERM, which no terminal sends, is still passed on.
    Path count = tree.root().resolve("markers/sigints");
    String counter =
        """
        import signal, sys, time
        def count(signum, frame):
            with open(sys.argv[1], "a") as f:
                f.write("INT\\n")
        signal.signal(signal.SIGINT, count)
        signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(7))
        print("ready", flush=True)
        while True:
            time.sleep(0.05)
        """;
    String terminal =
        """
        import os, pty, sys, time
        pid, master = pty.fork()
        if pid == 0:
            os.execvp(sys.argv[1], sys.argv[1:])
        seen = b""
        while b"ready" not in seen:
            seen += os.read(master, 4096)
        os.write(master, b"\\x03")
        time.sleep(1.5)
        os.kill(pid, 15)
        while True:
            try:
                os.read(master, 4096)
            except OSError:
                break
        _, status = os.waitpid(pid, 0)
        print(os.waitstatus_to_exitcode(status))
        """;
    List<String> cmd =
        new ArrayList<>(
            List.of(
                "/usr/bin/python3",
                "-c",
                terminal,
                "setpriv",
                "--reuid=" + NOBODY,
                "--regid=" + NOBODY,
                "--clear-groups",
                DaemonProcess.java(),
                "@" + DaemonProcess.home().resolve("packaging/launcher/jvm.options"),
                "-Djna.tmpdir=" + tree.root().resolve("markers"),
                "-jar",
                jar.toString(),
                "run",
                "--socket",
                daemon.socket().toString(),
                "--fd",
                "3=" + path("secret.txt"),
                "--",
                "/usr/bin/python3",
                "-c",
                counter,
                count.toString()));
    Command r = assertTimeoutPreemptively(TIMEOUT, () -> Command.run(cmd, ""));
    assertEquals(0, r.exitCode(), r.stderr());
    assertEquals("7", r.stdout().strip(), "the forwarded SIGTERM ended the command: " + r.stderr());
    assertEquals(List.of("INT"), Files.readAllLines(count), "SIGINTs the command received");
  }

  @Test
  void unexecutableCommandExits126() {
    Command r = run("--", path("secret.txt"));
    assertEquals(126, r.exitCode(), r.stderr());
    assertTrue(r.stderr().contains("EACCES"), r.stderr());
  }
}
