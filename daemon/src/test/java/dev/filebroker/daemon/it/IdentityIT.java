package dev.filebroker.daemon.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/**
 * Who the daemon thinks is asking: the uid the kernel reports for the process that connected,
 * whatever user namespace the client sits in and whichever process later uses the connection. Needs
 * root (setpriv to uids 65534 and 1000, the daemon) and unprivileged user namespaces.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class IdentityIT {
  private static final int NOBODY = 65534;
  private static final int OTHER = 1000;

  /** Sends one OPEN and prints OPENED or the error code number. */
  private static final String CLIENT =
      """
      import socket, struct, sys, os
      def ask(s, path):
          p = path.encode()
          s.sendall(struct.pack('<IBBHIIHH', 16 + len(p), 1, 1, 0, 1, 0, 0, len(p)) + p)
          msg, anc, flags, _ = s.recvmsg(4096, socket.CMSG_SPACE(8 * 4))
          for a in anc:
              os.close(struct.unpack_from('i', a[2])[0])
          return 'OPENED' if msg[5] == 0x81 else 'ERROR%d' % struct.unpack_from('<H', msg, 12)[0]
      if __name__ == '__main__':
          for path in sys.argv[2:]:
              s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
              s.connect(sys.argv[1])
              print(os.getuid(), ask(s, path))
              s.close()
      """;

  private TestTree tree;
  private DaemonProcess daemon;
  private Path client;
  private Path nobodyFile;
  private Path rootFile;
  private Path programFile;
  private Path allowedProgram;
  private Path systemUnitFile;
  private Path userUnitFile;

  @BeforeAll
  void startDaemon() throws Exception {
    tree = new TestTree("filebroker-identity-");
    nobodyFile = tree.file("nobody.txt", "for 65534\n", "rw-------");
    rootFile = tree.file("root.txt", "for root\n", "rw-------");
    programFile = tree.file("program.txt", "for one program\n", "rw-------");
    systemUnitFile = tree.file("system-unit.txt", "for the system's backup.service\n", "rw-------");
    userUnitFile = tree.file("user-unit.txt", "for 1000's own backup.service\n", "rw-------");
    // A copy of the interpreter: its own inode, so that only processes running this very file
    // match the executables constraint below.
    allowedProgram = tree.root().resolve("allowed-python");
    Files.copy(Path.of("/usr/bin/python3.11").toRealPath(), allowedProgram);
    Files.setPosixFilePermissions(
        allowedProgram, java.nio.file.attribute.PosixFilePermissions.fromString("rwxr-xr-x"));
    client = tree.root().resolve("fbclient.py");
    Files.writeString(client, CLIENT);
    Files.setPosixFilePermissions(
        client, java.nio.file.attribute.PosixFilePermissions.fromString("rwxr-xr-x"));
    daemon =
        Daemons.start(
            tree,
            """
            [[allow]]
            name = "nobody-file"
            users = [65534]
            paths = ["%s"]
            access = ["read"]

            [[allow]]
            name = "root-file"
            users = [0]
            paths = ["%s"]
            access = ["read"]

            [[allow]]
            name = "program-file"
            users = [65534]
            executables = ["%s"]
            paths = ["%s"]
            access = ["read"]

            [[allow]]
            name = "system-unit"
            users = [1000]
            units = ["backup.service"]
            paths = ["%s"]
            access = ["read"]

            [[allow]]
            name = "user-unit"
            users = [1000]
            units = ["user@1000.service/backup.service"]
            paths = ["%s"]
            access = ["read"]
            """
                .formatted(
                    nobodyFile,
                    rootFile,
                    allowedProgram,
                    programFile,
                    systemUnitFile,
                    userUnitFile),
            "");
  }

  @AfterAll
  void stopDaemon() throws Exception {
    Daemons.stop(daemon, tree);
  }

  private List<String> auditLines(Path path) throws Exception {
    Thread.sleep(300); // the audit appender is asynchronous
    List<String> lines = new ArrayList<>();
    for (String l : daemon.output().split("\n")) {
      if (l.contains("\"path\":\"" + path + "\"")) {
        lines.add(l);
      }
    }
    return lines;
  }

  @Test
  void clientInAUserNamespaceIsTheUidTheKernelReports() throws Exception {
    Command plain =
        Command.asUser(
            NOBODY,
            NOBODY,
            "unshare",
            "-U",
            "/usr/bin/python3",
            client.toString(),
            daemon.socket().toString(),
            nobodyFile.toString(),
            rootFile.toString());
    assertEquals(0, plain.exitCode(), plain.stderr());
    // Inside a fresh namespace without a mapping the process sees the overflow uid 65534.
    assertEquals("65534 OPENED\n65534 ERROR1\n", plain.stdout());

    Command mappedRoot =
        Command.asUser(
            NOBODY,
            NOBODY,
            "unshare",
            "-U",
            "-r",
            "/usr/bin/python3",
            client.toString(),
            daemon.socket().toString(),
            nobodyFile.toString(),
            rootFile.toString());
    assertEquals(0, mappedRoot.exitCode(), mappedRoot.stderr());
    // It believes it is root; the daemon still sees 65534: the root-only grant is refused.
    assertEquals("0 OPENED\n0 ERROR1\n", mappedRoot.stdout());

    // Two identical denials within a second: the audit log writes the first and, when the burst
    // window closes, one "suppressed" line counting the second.
    List<String> root = auditLines(rootFile);
    for (int wait = 0; wait < 50 && root.size() < 2; wait++) {
      Thread.sleep(100);
      root = auditLines(rootFile);
    }
    assertEquals(2, root.size(), String.join("\n", root));
    assertTrue(root.get(1).contains("\"event\":\"suppressed\""), root.get(1));
    assertTrue(root.get(1).contains("\"count\":1"), root.get(1));
    for (String line : root) {
      assertTrue(line.contains("\"uid\":65534") && line.contains("\"decision\":\"deny\""), line);
      // The user name from /etc/passwd beside the uid, on the decision and the summary alike.
      assertTrue(line.contains("\"uid\":65534,\"user\":\"nobody\","), line);
    }
    for (String line : auditLines(nobodyFile)) {
      assertTrue(line.contains("\"uid\":65534") && line.contains("\"decision\":\"allow\""), line);
    }
  }

  /**
   * A user who bind-mounts another program over the allowed path, in a user and mount namespace of
   * its own, runs a file that is not the allowed one although {@code /proc/PID/exe} shows the
   * allowed path: the daemon compares the file (device and inode), so the rule does not match. The
   * allowed program itself, run plainly or inside such a namespace without the bind mount, does.
   */
  @Test
  void programBindMountedOverTheAllowedPathIsNotTheAllowedProgram() throws Exception {
    String ask =
        String.join(" ", client.toString(), daemon.socket().toString(), programFile.toString());
    Command plain =
        Command.asUser(NOBODY, NOBODY, "sh", "-c", "exec " + allowedProgram + " " + ask);
    assertEquals(0, plain.exitCode(), plain.stderr());
    assertEquals("65534 OPENED\n", plain.stdout(), "the allowed program itself");

    Command namespaced =
        Command.asUser(
            NOBODY, NOBODY, "unshare", "-Urm", "sh", "-c", "exec " + allowedProgram + " " + ask);
    assertEquals(0, namespaced.exitCode(), namespaced.stderr());
    assertEquals("0 OPENED\n", namespaced.stdout(), "the allowed file, in a mount namespace");

    Command spoofed =
        Command.asUser(
            NOBODY,
            NOBODY,
            "unshare",
            "-Urm",
            "sh",
            "-c",
            "mount --bind /usr/bin/python3.11 "
                + allowedProgram
                + " && exec "
                + allowedProgram
                + " "
                + ask);
    assertEquals(0, spoofed.exitCode(), spoofed.stderr());
    // ERROR1: DENIED. The link said the allowed path; the inode was the system's python.
    assertEquals("0 ERROR1\n", spoofed.stdout(), "another file bind-mounted over the allowed path");
    List<String> lines = auditLines(programFile);
    for (int wait = 0; wait < 50 && lines.size() < 3; wait++) {
      Thread.sleep(100);
      lines = auditLines(programFile);
    }
    String denial = lines.get(lines.size() - 1);
    assertTrue(denial.contains("\"decision\":\"deny\""), denial);
    assertTrue(!denial.contains("\"exe\":"), "no executable is known for it: " + denial);
  }

  /**
   * The limit SECURITY.md states for {@code executables}: a process that is not the allowed program
   * connects, forks a child that keeps the socket, and then executes the allowed program itself.
   * The daemon reads the connector's executable when it accepts the connection (here held back with
   * SIGSTOP until the exec is done, which a real attacker wins by racing), sees the allowed
   * program, and grants the child's requests on that socket; a connection of the child's own is
   * refused. Nothing the kernel records ties the socket to the program that ran at connect(2).
   */
  @Test
  void programExecutedAfterConnectIsSeenAsTheConnector() throws Exception {
    assertTimeoutPreemptively(Duration.ofSeconds(60), this::execAfterConnect);
  }

  private void execAfterConnect() throws Exception {
    String script =
        """
        import os, socket, sys, time
        sys.path.insert(0, os.path.dirname(sys.argv[1]))
        import fbclient
        allowed, daemon_socket, path = sys.argv[2], sys.argv[3], sys.argv[4]
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.connect(daemon_socket)
        if os.fork() != 0:
            # The connector becomes the allowed program; the child keeps the socket.
            os.execv(allowed, [allowed, '-c', 'import time; time.sleep(50)'])
        parent = os.getppid()
        while os.readlink('/proc/%d/exe' % parent) != allowed:
            time.sleep(0.01)
        print('EXECED', parent, flush=True)
        sys.stdin.readline()
        print('inherited', fbclient.ask(s, path), flush=True)
        own = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        own.connect(daemon_socket)
        print('own', fbclient.ask(own, path), flush=True)
        os.kill(parent, 9)
        """;
    daemon.signal("STOP");
    Process attacker = null;
    try {
      attacker =
          new ProcessBuilder(
                  "setpriv",
                  "--reuid=" + NOBODY,
                  "--regid=" + NOBODY,
                  "--clear-groups",
                  "--",
                  "/usr/bin/python3",
                  "-c",
                  script,
                  client.toString(),
                  allowedProgram.toString(),
                  daemon.socket().toString(),
                  programFile.toString())
              .redirectError(tree.root().resolve("exec-after-connect.err").toFile())
              .start();
      BufferedReader out =
          new BufferedReader(
              new InputStreamReader(attacker.getInputStream(), StandardCharsets.UTF_8));
      String execed = out.readLine();
      assertTrue(execed != null && execed.startsWith("EXECED "), "the connector exec'd: " + execed);
      String connectorPid = execed.substring("EXECED ".length());
      daemon.signal("CONT");
      OutputStream in = attacker.getOutputStream();
      in.write("\n".getBytes(StandardCharsets.UTF_8));
      in.flush();
      assertEquals(
          "inherited OPENED",
          out.readLine(),
          "the child, a plain python, is granted on the socket its parent connected");
      assertEquals("own ERROR1", out.readLine(), "its own connection is refused (DENIED)");
      List<String> lines = auditLines(programFile);
      for (int wait = 0;
          wait < 50 && lines.stream().noneMatch(l -> l.contains("\"pid\":" + connectorPid + ","));
          wait++) {
        Thread.sleep(100);
        lines = auditLines(programFile);
      }
      String grant =
          lines.stream()
              .filter(l -> l.contains("\"pid\":" + connectorPid + ","))
              .findFirst()
              .orElseThrow(() -> new AssertionError("no audit line for pid " + connectorPid));
      assertTrue(grant.contains("\"decision\":\"allow\""), grant);
      assertTrue(
          grant.contains("\"exe\":\"" + allowedProgram + "\""),
          "the daemon saw the program the connector runs at accept, not at connect: " + grant);
    } finally {
      daemon.signal("CONT");
      if (attacker != null) {
        attacker.destroyForcibly().waitFor();
      }
    }
  }

  /**
   * A user owns its manager's cgroup subtree ({@code user@1000.service}, delegated to it as systemd
   * does) and may create a {@code backup.service} directory in it and move itself there. That does
   * not make it the system's {@code backup.service}: the unit is the first one below the slices. A
   * rule naming the user unit with its manager does match it. Needs a writable cgroup v2 hierarchy.
   */
  @Test
  void unitMadeInADelegatedCgroupIsNotTheSystemsUnit() throws Exception {
    Path hierarchy = cgroup2Mount();
    Path slice = hierarchy.resolve("filebroker-it-" + ProcessHandle.current().pid() + ".slice");
    Path systemUnit = slice.resolve("backup.service");
    Path manager = slice.resolve("user-1000.slice").resolve("user@1000.service");
    List<Path> made = new ArrayList<>(List.of(slice, systemUnit, manager.getParent(), manager));
    try {
      Files.createDirectories(systemUnit);
      Files.createDirectories(manager);
      // Delegation, as systemd hands user@1000.service to uid 1000.
      for (String name : List.of("", "cgroup.procs", "cgroup.threads", "cgroup.subtree_control")) {
        Files.setOwner(
            manager.resolve(name),
            manager.getFileSystem().getUserPrincipalLookupService().lookupPrincipalByName("1000"));
      }
      String ask =
          String.join(
              " ",
              "/usr/bin/python3",
              client.toString(),
              daemon.socket().toString(),
              systemUnitFile.toString(),
              userUnitFile.toString());
      // Placed by the system manager in the system's backup.service: the system unit's file only.
      assertEquals("1000 OPENED\n1000 ERROR1\n", runIn(systemUnit, "exec " + ask));
      // Placed in its manager, it makes its own backup.service and moves itself there.
      Path own = manager.resolve("app.slice").resolve("backup.service");
      made.add(own.getParent());
      made.add(own);
      String moveAndAsk =
          "mkdir -p " + own + " && echo $$ > " + own.resolve("cgroup.procs") + " && exec " + ask;
      assertEquals(
          "1000 ERROR1\n1000 OPENED\n",
          runIn(manager, moveAndAsk),
          "a backup.service of the user's own is user@1000.service/backup.service");
    } finally {
      for (int i = made.size() - 1; i >= 0; i--) {
        removeCgroup(made.get(i));
      }
    }
  }

  /** Runs {@code script} as uid 1000 after moving its shell into {@code cgroup}; its output. */
  private static String runIn(Path cgroup, String script) throws Exception {
    Process p =
        new ProcessBuilder(
                "setpriv",
                "--reuid=" + OTHER,
                "--regid=" + OTHER,
                "--clear-groups",
                "--",
                "sh",
                "-c",
                "read go && " + script)
            .redirectErrorStream(true)
            .start();
    try {
      Files.writeString(cgroup.resolve("cgroup.procs"), Long.toString(p.pid()));
      try (OutputStream in = p.getOutputStream()) {
        in.write("go\n".getBytes(StandardCharsets.UTF_8));
      }
      String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
      assertTrue(p.waitFor(30, TimeUnit.SECONDS), "client must finish");
      assertEquals(0, p.exitValue(), out);
      return out;
    } finally {
      p.destroyForcibly();
      p.waitFor(10, TimeUnit.SECONDS);
    }
  }

  private static Path cgroup2Mount() throws Exception {
    for (String line : Files.readAllLines(Path.of("/proc/self/mountinfo"))) {
      String[] fields = line.split(" ");
      int dash = List.of(fields).indexOf("-");
      if (dash > 0 && fields[dash + 1].equals("cgroup2")) {
        return Path.of(fields[4]);
      }
    }
    org.junit.jupiter.api.Assumptions.abort("no cgroup v2 hierarchy is mounted");
    throw new AssertionError("unreachable");
  }

  private static void removeCgroup(Path cgroup) throws InterruptedException {
    // A cgroup can be removed once its last process is gone, which the kernel notes shortly
    // after the process is reaped.
    for (int attempt = 0; attempt < 100 && Files.isDirectory(cgroup); attempt++) {
      if (!cgroup.toFile().delete()) {
        Thread.sleep(50);
      }
    }
  }

  /**
   * Process A (uid 65534, its own copy of the Python binary so its executable is recognisable)
   * connects and passes the connected socket to process B (uid 1000) over SCM_RIGHTS, then exits.
   * B's request is decided as A: the kernel's SO_PEERCRED and the identity the daemon read at
   * accept time (pid, uid, executable through A's pidfd) belong to the connector.
   */
  private static final String UNSEEN_EXECUTABLES = "but the daemon lacks CAP_SYS_PTRACE";

  /**
   * Without CAP_SYS_PTRACE (the shipped unit does not grant it) another user's /proc/PID/exe cannot
   * be read, so an executables rule never applies to that user: the daemon says so at start, and a
   * grant that needs the executable is refused (fail closed).
   */
  @Test
  void daemonWithoutCapSysPtraceSaysItsExecutablesRulesCannotApplyAndRefuses() throws Exception {
    assertFalse(daemon.output().contains(UNSEEN_EXECUTABLES), "the test daemon holds every cap");
    Path socket = tree.root().resolve("no-ptrace.sock");
    try (DaemonProcess limited =
        DaemonProcess.start(
            tree.root(),
            socket,
            java.util.Map.of(),
            List.of("setpriv", "--inh-caps=-sys_ptrace", "--bounding-set=-sys_ptrace", "--"),
            "--policy",
            tree.root().resolve("policy").toString())) {
      limited.awaitLine(UNSEEN_EXECUTABLES, Duration.ofSeconds(10));
      Command r =
          Command.asUser(
              NOBODY,
              NOBODY,
              allowedProgram.toString(),
              client.toString(),
              socket.toString(),
              programFile.toString());
      assertEquals(0, r.exitCode(), r.stderr());
      // ERROR1: DENIED, where the daemon that can read the executable grants the same request
      // (programBindMountedOverTheAllowedPathIsNotTheAllowedProgram).
      assertEquals("65534 ERROR1\n", r.stdout());
      assertEquals(0, limited.stop(), limited.output());
    }
  }

  @Test
  void passedSocketKeepsTheConnectorsCredentials() throws Exception {
    assertTimeoutPreemptively(Duration.ofSeconds(30), this::passSocket);
  }

  private void passSocket() throws Exception {
    Path connectorBinary = tree.root().resolve("connector-python");
    Files.copy(Path.of("/usr/bin/python3.11").toRealPath(), connectorBinary);
    Files.setPosixFilePermissions(
        connectorBinary, java.nio.file.attribute.PosixFilePermissions.fromString("rwxr-xr-x"));
    Path rendezvousDir = tree.dir("rendezvous");
    Files.setPosixFilePermissions(
        rendezvousDir, java.nio.file.attribute.PosixFilePermissions.fromString("rwxrwxrwx"));
    Path rendezvous = rendezvousDir.resolve("rendezvous.sock");
    String receiver =
        """
        import socket, sys, os, array
        sys.path.insert(0, os.path.dirname(sys.argv[1]))
        import fbclient
        l = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        l.bind(sys.argv[2]); os.chmod(sys.argv[2], 0o777); l.listen(1)
        print('READY', flush=True)
        c, _ = l.accept()
        msg, fds, flags, _ = socket.recv_fds(c, 16, 1)
        sys.stdin.readline()  # wait until the connector has exited
        s = socket.socket(fileno=fds[0])
        print(os.getuid(), fbclient.ask(s, sys.argv[3]), flush=True)
        """;
    String connector =
        """
        import socket, sys, os
        sys.path.insert(0, os.path.dirname(sys.argv[3]))
        import fbclient
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.connect(sys.argv[1])
        # One request of its own: once answered, the daemon has accepted the connection and
        # read the identity (while this process is alive to be inspected through its pidfd).
        assert fbclient.ask(s, sys.argv[4]) == 'OPENED'
        r = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        r.connect(sys.argv[2])
        socket.send_fds(r, [b'x'], [s.fileno()])
        print(os.getpid())
        """;
    Process b =
        new ProcessBuilder(
                "setpriv",
                "--reuid=" + OTHER,
                "--regid=" + OTHER,
                "--clear-groups",
                "--",
                "/usr/bin/python3",
                "-c",
                receiver,
                client.toString(),
                rendezvous.toString(),
                nobodyFile.toString())
            .redirectErrorStream(true)
            .start();
    try {
      BufferedReader bOut =
          new BufferedReader(new InputStreamReader(b.getInputStream(), StandardCharsets.UTF_8));
      assertEquals("READY", bOut.readLine());
      Command a =
          Command.asUser(
              NOBODY,
              NOBODY,
              connectorBinary.toString(),
              "-c",
              connector,
              daemon.socket().toString(),
              rendezvous.toString(),
              client.toString(),
              nobodyFile.toString());
      assertEquals(0, a.exitCode(), a.stderr());
      String connectorPid = a.stdout().strip();
      // A has exited. B now uses the socket A connected.
      OutputStream bIn = b.getOutputStream();
      bIn.write("GO\n".getBytes(StandardCharsets.UTF_8));
      bIn.flush();
      assertEquals(OTHER + " OPENED", bOut.readLine(), "B (uid 1000) got 65534's file");
      assertTrue(b.waitFor(10, TimeUnit.SECONDS));
      List<String> lines = auditLines(nobodyFile);
      String last = lines.get(lines.size() - 1);
      System.out.println("IdentityIT passed socket audit: " + last);
      assertTrue(last.contains("\"uid\":65534"), last);
      assertTrue(last.contains("\"pid\":" + connectorPid + ","), "the connector's pid: " + last);
      assertTrue(
          last.contains("\"exe\":\"" + connectorBinary + "\""),
          "the connector's executable, read through its pidfd at accept time: " + last);
    } finally {
      b.destroyForcibly();
    }
  }
}
