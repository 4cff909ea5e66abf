package dev.filebroker.daemon.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.filebroker.protocol.ErrorCode;
import dev.filebroker.protocol.ErrorReply;
import dev.filebroker.protocol.OpenFlags;
import dev.filebroker.protocol.OpenRequest;
import dev.filebroker.protocol.OpenedManyReply;
import dev.filebroker.protocol.OpenedReply;
import java.io.BufferedReader;
import java.io.FileDescriptor;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * Faults from outside the protocol: clients killed with SIGKILL in the middle of a frame or with
 * requests unanswered, and a daemon that runs out of descriptors (EMFILE). Neither leaves anything
 * behind, and the daemon never hands out a wrong descriptor. Needs root (runs the daemon, prlimit).
 */
class FaultIT {
  /** Connects, sends its part, prints "ready" and waits to be killed. */
  private static final String KILLED_CLIENT =
      """
      import socket, struct, sys
      s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
      s.connect(sys.argv[1])
      p = sys.argv[2].encode()
      frame = struct.pack('<IBBHIIHH', 16 + len(p), 1, 1, 0, 7, 0, 0, len(p)) + p
      if sys.argv[3] == 'mid-frame':
          s.sendall(frame * 3 + frame[:len(frame) // 2])
      else:
          s.setblocking(False)
          try:
              for i in range(int(sys.argv[3])):
                  s.send(frame)
          except BlockingIOError:
              pass  # the daemon stopped reading: the rest would block
      print('ready', flush=True)
      sys.stdin.read()
      """;

  private TestTree tree;
  private DaemonProcess daemon;
  private Path granted;

  @AfterEach
  void stop() throws Exception {
    try {
      if (daemon != null) {
        daemon.close();
      }
    } finally {
      if (tree != null) {
        tree.close();
      }
    }
  }

  private void start(List<String> wrapper) throws Exception {
    tree = new TestTree("filebroker-fault-");
    granted = tree.file("granted.txt", "granted\n", "rw-r--r--");
    Path policyDir = tree.dir("policy");
    java.nio.file.Files.writeString(
        policyDir.resolve("10-test.toml"),
        """
        [[allow]]
        name = "reads"
        users = [0]
        paths = ["%s"]
        access = ["read"]
        """
            .formatted(granted));
    Path config = tree.root().resolve("filebroker.toml");
    java.nio.file.Files.writeString(config, "[limits]\nevent_loops = 2\n");
    daemon =
        DaemonProcess.start(
            tree.root(),
            tree.root().resolve("broker.sock"),
            Map.of(),
            wrapper,
            "--config",
            config.toString(),
            "--policy",
            policyDir.toString());
  }

  private void assertServesTheGrantedFile(int id) throws Exception {
    try (RawClient c = new RawClient(daemon.socket())) {
      var r = c.open(id, OpenFlags.O_RDONLY, granted.toString());
      assertInstanceOf(OpenedReply.class, r.reply(), () -> "expected a grant: " + r);
      assertEquals(Fds.Inode.of(granted), Fds.inode(r.descriptors().get(0)), "the granted file");
      RawClient.close(r.descriptors());
    }
  }

  /** Waits up to 5 s for the daemon's descriptor count to come back to {@code baseline}. */
  private int awaitDescriptors(int baseline) throws Exception {
    long deadline = System.nanoTime() + Duration.ofSeconds(5).toNanos();
    int fds = daemon.descriptorCount();
    while (fds != baseline && System.nanoTime() < deadline) {
      Thread.sleep(100);
      fds = daemon.descriptorCount();
    }
    return fds;
  }

  @Test
  void clientsKilledMidFrameOrWithRequestsUnansweredLeaveNothingBehind() throws Exception {
    start(List.of());
    assertTimeoutPreemptively(
        Duration.ofSeconds(40),
        () -> {
          for (int i = 0; i < 3; i++) {
            assertServesTheGrantedFile(100 + i);
          }
          Thread.sleep(300);
          int baseline = daemon.descriptorCount();
          long t0 = System.nanoTime();
          List<Process> clients = new ArrayList<>();
          for (int i = 0; i < 40; i++) {
            // Half stop in the middle of a frame; half pipeline 5,000 requests and never read.
            String what = i % 2 == 0 ? "mid-frame" : "5000";
            Process p =
                new ProcessBuilder(
                        "/usr/bin/python3",
                        "-c",
                        KILLED_CLIENT,
                        daemon.socket().toString(),
                        granted.toString(),
                        what)
                    .redirectErrorStream(true)
                    .start();
            clients.add(p);
          }
          for (Process p : clients) {
            BufferedReader out =
                new BufferedReader(
                    new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8));
            assertEquals("ready", out.readLine(), "client did not get to send its requests");
          }
          Thread.sleep(300); // the daemon reads what they sent and answers until it blocks
          int loaded = daemon.descriptorCount();
          for (Process p : clients) {
            p.destroyForcibly(); // SIGKILL
          }
          for (Process p : clients) {
            assertTrue(p.waitFor(10, TimeUnit.SECONDS));
          }
          int after = awaitDescriptors(baseline);
          System.out.printf(
              "FaultIT killed clients: daemon descriptors %d before, %d with 40 clients, %d after"
                  + " SIGKILL (%.1f s in all)%n",
              baseline, loaded, after, (System.nanoTime() - t0) / 1e9);
          assertTrue(loaded > baseline, "the clients were connected when they were killed");
          assertEquals(baseline, after, "daemon descriptors after the clients were killed");
          assertServesTheGrantedFile(200);
        });
  }

  @Test
  void outOfDescriptorsTheDaemonAnswersLimitExceededNeverAWrongFileAndRecovers() throws Exception {
    start(List.of("prlimit", "--nofile=128:128", "--"));
    assertTimeoutPreemptively(
        Duration.ofSeconds(60),
        () -> {
          for (int i = 0; i < 3; i++) {
            assertServesTheGrantedFile(100 + i);
          }
          Thread.sleep(300);
          int baseline = daemon.descriptorCount();
          Fds.Inode expected = Fds.Inode.of(granted);
          int clients = 160;
          int perClient = 16;
          List<RawClient> held = new ArrayList<>();
          Map<String, AtomicInteger> outcomes = new ConcurrentHashMap<>();
          AtomicInteger wrong = new AtomicInteger();
          try {
            for (int i = 0; i < clients; i++) {
              RawClient c = new RawClient(daemon.socket());
              held.add(c);
              for (int k = 1; k <= perClient; k++) {
                c.send(new OpenRequest(k, OpenFlags.O_RDONLY, 0, granted.toString()));
              }
            }
            // Read every connection the daemon took; those left in its backlog stay silent.
            List<Thread> readers = new ArrayList<>();
            for (RawClient c : held) {
              readers.add(
                  Thread.ofVirtual()
                      .start(
                          () -> {
                            try {
                              for (int k = 0; k < perClient; k++) {
                                var r = c.receive();
                                if (r.isEmpty()) {
                                  outcomes
                                      .computeIfAbsent("closed", x -> new AtomicInteger())
                                      .incrementAndGet();
                                  return;
                                }
                                String key =
                                    switch (r.get().reply()) {
                                      case OpenedReply o -> "OPENED";
                                      case ErrorReply e ->
                                          ErrorCode.fromCode(e.code())
                                                  .map(Enum::name)
                                                  .orElse("?" + e.code())
                                              + (e.requestId() == 0 ? " (connection)" : "");
                                      case OpenedManyReply m -> "OPENED_MANY";
                                    };
                                outcomes
                                    .computeIfAbsent(key, x -> new AtomicInteger())
                                    .incrementAndGet();
                                for (FileDescriptor fd : r.get().descriptors()) {
                                  if (!Fds.inode(fd).equals(expected)) {
                                    wrong.incrementAndGet();
                                  }
                                  Fds.close(fd);
                                }
                              }
                            } catch (Exception e) {
                              outcomes
                                  .computeIfAbsent(
                                      e.getClass().getSimpleName(), x -> new AtomicInteger())
                                  .incrementAndGet();
                            }
                          }));
            }
            Thread.sleep(3000);
            int answered = 0;
            for (Thread t : readers) {
              if (!t.isAlive()) {
                answered++;
              }
            }
            int underPressure = daemon.descriptorCount();
            Map<String, Integer> seen = new TreeMap<>();
            outcomes.forEach((k, v) -> seen.put(k, v.get()));
            System.out.printf(
                "FaultIT EMFILE: %d connections x %d requests at nofile=128: %d connections"
                    + " answered in full, daemon at %d descriptors; replies %s%n",
                clients, perClient, answered, underPressure, seen);
            assertEquals(0, wrong.get(), "descriptors for another inode than the requested file");
            assertTrue(
                seen.getOrDefault("LIMIT_EXCEEDED", 0) > 0 || answered < clients,
                "out of descriptors, the daemon must answer LIMIT_EXCEEDED or leave connections"
                    + " waiting: "
                    + seen);
            for (String key : seen.keySet()) {
              assertTrue(
                  key.equals("OPENED") || key.equals("LIMIT_EXCEEDED"),
                  "only grants and LIMIT_EXCEEDED under descriptor exhaustion: " + seen);
            }
          } finally {
            for (RawClient c : held) {
              c.close();
            }
          }
          // The pressure is gone: the daemon drains its backlog (to closed peers) and serves again.
          int after = awaitDescriptors(baseline);
          assertServesTheGrantedFile(500);
          assertEquals(baseline, after, "daemon descriptors once the connections are closed");
          assertTrue(
              daemon.output().contains("Too many open files") || daemon.output().contains("EMFILE"),
              "the daemon says why it failed");
        });
  }
}
