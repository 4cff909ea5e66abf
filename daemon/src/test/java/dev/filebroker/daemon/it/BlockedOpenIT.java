package dev.filebroker.daemon.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.filebroker.protocol.OpenFlags;
import dev.filebroker.protocol.OpenRequest;
import dev.filebroker.protocol.OpenedReply;
import java.io.BufferedReader;
import java.io.FileInputStream;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * A request whose open blocks in the kernel holds up its own connection only. The file system is
 * FUSE (daemon/src/test/c/hangfs.c, built here with libfuse3-dev) whose lookup of one name waits
 * until the test releases it, as an NFS server that stopped answering would. Needs root (mounts a
 * FUSE file system; the daemon runs as root), /dev/fuse, a C compiler and libfuse3-dev.
 */
class BlockedOpenIT {
  private static final int OTHER_UID = 65534;
  private TestTree tree;
  private DaemonProcess daemon;
  private Process fuse;
  private Path mountpoint;
  private Path release;

  @AfterEach
  void stop() throws Exception {
    try {
      if (release != null) {
        Files.writeString(release, "go\n");
      }
      if (daemon != null) {
        daemon.close();
      }
      if (mountpoint != null) {
        new ProcessBuilder("umount", "-l", mountpoint.toString()).start().waitFor();
      }
      if (fuse != null) {
        fuse.destroyForcibly().waitFor();
      }
    } finally {
      if (tree != null) {
        tree.close();
      }
    }
  }

  private Path buildHangfs() throws Exception {
    Path source = DaemonProcess.home().resolve("daemon/src/test/c/hangfs.c");
    Path binary = tree.root().resolve("hangfs");
    Command cc =
        Command.run(
            List.of(
                "sh",
                "-c",
                "cc -o \"$1\" \"$2\" $(pkg-config --cflags --libs fuse3)",
                "cc",
                binary.toString(),
                source.toString()),
            "");
    assertEquals(
        0,
        cc.exitCode(),
        "building hangfs needs cc and libfuse3-dev (apt-get install libfuse3-dev): " + cc.stderr());
    return binary;
  }

  /**
   * A test tree named {@code prefix} holding data/plain.txt, with hangfs mounted on its fuse/
   * directory (a lookup of /hang there waits until the release file exists); returns the plain
   * file.
   */
  private Path mountHangfs(String prefix) throws Exception {
    tree = new TestTree(prefix);
    Path plain = tree.file("data/plain.txt", "plain\n", "rw-------");
    Path hangfs = buildHangfs();
    mountpoint = Files.createDirectories(tree.root().resolve("fuse"));
    release = tree.root().resolve("release");
    fuse =
        new ProcessBuilder(hangfs.toString(), release.toString(), mountpoint.toString())
            .redirectError(tree.root().resolve("hangfs.err").toFile())
            .start();
    awaitMounted();
    return plain;
  }

  @Test
  void otherConnectionsAreServedWhileOneOpenIsStuckInAFuseLookup() {
    assertTimeoutPreemptively(
        Duration.ofSeconds(90),
        () -> {
          Path plain = mountHangfs("filebroker-blocked-");
          // One thread per CPU served every connection before: one is enough to show it.
          daemon =
              Daemons.start(
                  tree,
                  """
                  [[allow]]
                  name = "root-reads"
                  users = [0]
                  paths = ["%s", "%s/**"]
                  access = ["read"]
                  """
                      .formatted(plain, mountpoint),
                  "[limits]\nevent_loops = 1\n");
          BufferedReader fuseOut =
              new BufferedReader(
                  new InputStreamReader(fuse.getInputStream(), StandardCharsets.UTF_8));
          try (RawClient stuck = new RawClient(daemon.socket())) {
            stuck.send(new OpenRequest(1, OpenFlags.O_RDONLY, 0, mountpoint + "/hang"));
            assertEquals("lookup waiting", fuseOut.readLine(), "the daemon's open is in FUSE");
            CompletableFuture<RawClient.Received> stuckReply =
                CompletableFuture.supplyAsync(
                    () -> {
                      try {
                        return stuck.receive().orElseThrow();
                      } catch (Exception e) {
                        throw new IllegalStateException(e);
                      }
                    });
            for (int i = 0; i < 3; i++) {
              try (RawClient other = new RawClient(daemon.socket())) {
                RawClient.Received r = other.open(1, OpenFlags.O_RDONLY, plain.toString());
                assertInstanceOf(OpenedReply.class, r.reply(), "others are served meanwhile");
                RawClient.close(r.descriptors());
              }
            }
            assertTrue(!stuckReply.isDone(), "the lookup is still held");
            Files.writeString(release, "go\n");
            RawClient.Received r = stuckReply.join();
            assertInstanceOf(OpenedReply.class, r.reply(), "released, the stuck open completes");
            try (FileInputStream in = new FileInputStream(r.descriptors().get(0))) {
              assertEquals("released\n", new String(in.readAllBytes(), StandardCharsets.UTF_8));
            }
          }
        });
  }

  /**
   * A uid has one turn per CPU of processing while another uid is served (decisions/0019): when
   * every turn of a uid is held by an open stuck in a FUSE lookup, its next request waits a bounded
   * time for a turn and then runs, rather than waiting for the lookups. The other uid, 65534, is
   * served throughout: its own open is stuck too, so its connection stays on a serving thread.
   */
  @Test
  void aUidWhoseTurnsAreAllHeldByStuckOpensIsStillServed() {
    assertTimeoutPreemptively(
        Duration.ofSeconds(90),
        () -> {
          Path plain = mountHangfs("filebroker-blocked-turns-");
          daemon =
              Daemons.start(
                  tree,
                  """
                  [[allow]]
                  name = "reads"
                  users = [0, %d]
                  paths = ["%s", "%s/**"]
                  access = ["read"]
                  """
                      .formatted(OTHER_UID, plain, mountpoint),
                  "");
          BufferedReader fuseOut =
              new BufferedReader(
                  new InputStreamReader(fuse.getInputStream(), StandardCharsets.UTF_8));
          Process other =
              new ProcessBuilder(
                      "setpriv",
                      "--reuid=" + OTHER_UID,
                      "--regid=" + OTHER_UID,
                      "--clear-groups",
                      "--",
                      "/usr/bin/python3",
                      "-c",
                      FloodIT.resource("victim.py"),
                      daemon.socket().toString(),
                      mountpoint + "/d0/hang",
                      "1",
                      "0")
                  .redirectErrorStream(true)
                  .start();
          List<RawClient> stuck = new ArrayList<>();
          try {
            assertEquals("lookup waiting", fuseOut.readLine(), "uid 65534's open is in FUSE");
            // As many stuck opens of uid 0 as it has turns: one per CPU.
            int turns = Runtime.getRuntime().availableProcessors();
            for (int i = 1; i <= turns; i++) {
              RawClient c = new RawClient(daemon.socket());
              stuck.add(c);
              c.send(new OpenRequest(i, OpenFlags.O_RDONLY, 0, mountpoint + "/d" + i + "/hang"));
              assertEquals("lookup waiting", fuseOut.readLine(), "open " + i + " is in FUSE");
            }
            try (RawClient next = new RawClient(daemon.socket())) {
              RawClient.Received r = next.open(1, OpenFlags.O_RDONLY, plain.toString());
              assertInstanceOf(
                  OpenedReply.class, r.reply(), "uid 0 is served with every turn held");
              RawClient.close(r.descriptors());
            }
            assertTrue(other.isAlive(), "the lookups are still held");
            Files.writeString(release, "go\n");
            for (RawClient c : stuck) {
              RawClient.Received r = c.receive().orElseThrow();
              assertInstanceOf(OpenedReply.class, r.reply(), "released, each stuck open completes");
              RawClient.close(r.descriptors());
            }
            assertEquals(
                0,
                other.waitFor(),
                "uid 65534's open completes: "
                    + new String(other.getInputStream().readAllBytes(), StandardCharsets.UTF_8));
          } finally {
            for (RawClient c : stuck) {
              c.close();
            }
            other.destroyForcibly();
          }
        });
  }

  private void awaitMounted() throws Exception {
    long deadline = System.nanoTime() + Duration.ofSeconds(20).toNanos();
    while (System.nanoTime() < deadline) {
      if (Files.readString(Path.of("/proc/self/mounts")).contains(" " + mountpoint + " ")) {
        return;
      }
      assertTrue(
          fuse.isAlive(), "hangfs exited: " + Files.readString(tree.root().resolve("hangfs.err")));
      Thread.sleep(20);
    }
    throw new AssertionError("hangfs did not mount " + mountpoint);
  }
}
