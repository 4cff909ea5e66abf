package dev.filebroker.daemon.fs;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.sun.jna.Library;
import com.sun.jna.Memory;
import com.sun.jna.Native;
import com.sun.jna.Pointer;
import java.io.FileDescriptor;
import java.io.FileInputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Reads peer credentials of real connections. Runs as root (CI does): the peer is a child process
 * switched to uid/gid 65534 with supplementary groups 65534 and 100 by setpriv.
 */
class PeerCredentialsTest {
  private static final Duration TIMEOUT = Duration.ofSeconds(20);

  @TempDir Path temp;

  /** Just enough of the socket API to listen on an abstract address and accept. */
  interface Sockets extends Library {
    Sockets C = Native.load("c", Sockets.class);
    int AF_UNIX = 1;
    int SOCK_STREAM = 1;
    int SOCK_CLOEXEC = 02000000;

    int socket(int domain, int type, int protocol);

    int bind(int fd, Pointer address, int length);

    int listen(int fd, int backlog);

    int accept4(int fd, Pointer address, Pointer length, int flags);

    int socketpair(int domain, int type, int protocol, int[] fds);

    long write(int fd, byte[] buffer, long count);
  }

  /** A listening socket on the abstract address "\0" + name. */
  private static int listenAbstract(String name) {
    int fd = Sockets.C.socket(Sockets.AF_UNIX, Sockets.SOCK_STREAM | Sockets.SOCK_CLOEXEC, 0);
    assertTrue(fd >= 0, "socket: " + Errno.name(Native.getLastError()));
    byte[] path = name.getBytes(StandardCharsets.US_ASCII);
    try (Memory address = new Memory(110)) {
      address.clear();
      address.setShort(0, (short) Sockets.AF_UNIX);
      address.write(3, path, 0, path.length); // sun_path[0] == 0: abstract namespace
      assertEquals(0, Sockets.C.bind(fd, address, 3 + path.length), "bind");
    }
    assertEquals(0, Sockets.C.listen(fd, 1), "listen");
    return fd;
  }

  /** A child that connects to the abstract socket {@code name} as nobody and waits for a byte. */
  private static Process connectAsNobody(String name) throws IOException {
    String script =
        "import socket\n"
            + "s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)\n"
            + "s.connect('\\0"
            + name
            + "')\n"
            + "s.recv(1)\n";
    return new ProcessBuilder(
            "setpriv",
            "--reuid=65534",
            "--regid=65534",
            "--groups=65534,100",
            "/usr/bin/python3",
            "-c",
            script)
        .redirectErrorStream(true)
        .redirectOutput(ProcessBuilder.Redirect.DISCARD)
        .start();
  }

  private static String uniqueName() {
    return "filebroker-test-" + ProcessHandle.current().pid() + "-" + System.nanoTime();
  }

  @Test
  void readsSupplementaryGroupsAndPidfdOfOtherUser() {
    assertTimeoutPreemptively(
        TIMEOUT,
        () -> {
          String name = uniqueName();
          int server = listenAbstract(name);
          try {
            Process child = connectAsNobody(name);
            int connection = Sockets.C.accept4(server, null, null, Sockets.SOCK_CLOEXEC);
            assertTrue(connection >= 0, "accept4: " + Errno.name(Native.getLastError()));
            try {
              FileDescriptor socket = Descriptors.wrap(connection);
              Optional<int[]> groups = PeerCredentials.supplementaryGroups(socket);
              assertTrue(groups.isPresent(), "SO_PEERGROUPS must be readable");
              assertEquals(
                  setOf(100, 65534),
                  Arrays.stream(groups.get()).boxed().collect(Collectors.toSet()),
                  "the groups setpriv gave the child");

              OptionalInt pidfd = PeerCredentials.peerPidfd(socket);
              assertTrue(pidfd.isPresent(), "SO_PEERPIDFD must be readable on Linux 6.5+");
              try {
                assertEquals(child.pid(), PeerProcess.pidOfPidfd(pidfd.getAsInt()));
              } finally {
                Descriptors.close(pidfd.getAsInt());
              }
              assertEquals(1, Sockets.C.write(connection, new byte[] {0}, 1), "write");
            } finally {
              Descriptors.close(connection);
              assertTrue(child.waitFor(10, TimeUnit.SECONDS), "child must exit");
              assertEquals(0, child.exitValue(), "child exit status");
            }
          } finally {
            Descriptors.close(server);
          }
        });
  }

  @Test
  void readsOwnGroupsOverSocketPair() throws IOException {
    int[] pair = new int[2];
    assertEquals(
        0,
        Sockets.C.socketpair(Sockets.AF_UNIX, Sockets.SOCK_STREAM | Sockets.SOCK_CLOEXEC, 0, pair));
    try {
      int[] groups = PeerCredentials.supplementaryGroups(Descriptors.wrap(pair[0])).orElseThrow();
      assertEquals(ownGroups(), Arrays.stream(groups).boxed().collect(Collectors.toSet()));
    } finally {
      Descriptors.close(pair[0]);
      Descriptors.close(pair[1]);
    }
  }

  @Test
  void returnsEmptyForNonSocket() throws IOException {
    Path file = Files.writeString(temp.resolve("plain"), "x");
    try (FileInputStream in = new FileInputStream(file.toFile())) {
      assertEquals(Optional.empty(), PeerCredentials.supplementaryGroups(in.getFD()));
      assertEquals(OptionalInt.empty(), PeerCredentials.peerPidfd(in.getFD()));
    }
  }

  private static Set<Integer> setOf(int... values) {
    return IntStream.of(values).boxed().collect(Collectors.toSet());
  }

  private static Set<Integer> ownGroups() throws IOException {
    for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
      if (line.startsWith("Groups:")) {
        String list = line.substring("Groups:".length()).trim();
        return list.isEmpty()
            ? Set.of()
            : Arrays.stream(list.split("\\s+")).map(Integer::valueOf).collect(Collectors.toSet());
      }
    }
    throw new IOException("no Groups: line in /proc/self/status");
  }
}
