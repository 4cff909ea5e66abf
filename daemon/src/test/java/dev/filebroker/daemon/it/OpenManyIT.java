package dev.filebroker.daemon.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.filebroker.client.BrokeredFile;
import dev.filebroker.client.FileBroker;
import dev.filebroker.client.OpenResult;
import dev.filebroker.protocol.ErrorCode;
import dev.filebroker.protocol.OpenFlags;
import dev.filebroker.protocol.OpenManyRequest;
import dev.filebroker.protocol.OpenedManyReply;
import dev.filebroker.protocol.Protocol;
import java.io.FileInputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.AccessDeniedException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/**
 * OPEN_MANY against a real daemon: one reply per request, one result per path, descriptors in
 * order, every path audited and rate-limited on its own. Needs root (the daemon runs as root).
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class OpenManyIT {
  private static final Duration TIMEOUT = Duration.ofSeconds(30);
  private static final Duration AUDIT_WAIT = Duration.ofSeconds(10);

  private TestTree tree;
  private DaemonProcess daemon;
  private DaemonProcess limited;

  @BeforeAll
  void startDaemons() throws Exception {
    tree = new TestTree("filebroker-many-");
    Path root = tree.root();
    for (int i = 0; i < Protocol.MAX_PATHS_PER_REQUEST; i++) {
      tree.file("data/f" + i + ".txt", "file " + i + "\n", "rw-------");
    }
    tree.file("secret.txt", "not granted\n", "rw-------");
    Files.createSymbolicLink(root.resolve("data/link.txt"), root.resolve("secret.txt"));
    Path policy = tree.dir("policy");
    Files.writeString(
        policy.resolve("10-test.toml"),
        """
        [[allow]]
        name = "root-reads-data"
        users = [0]
        paths = ["%1$s/data/**"]
        access = ["read"]
        """
            .formatted(root));
    daemon =
        DaemonProcess.start(tree.root(), root.resolve("fb.sock"), "--policy", policy.toString());
    Path config = root.resolve("limited.toml");
    Files.writeString(
        config, "[limits]\nrequests_per_second_per_uid = 1\nrequest_burst_per_uid = 3\n");
    limited =
        DaemonProcess.start(
            tree.root(),
            root.resolve("limited.sock"),
            "--config",
            config.toString(),
            "--policy",
            policy.toString());
  }

  @AfterAll
  void stopDaemons() throws Exception {
    if (daemon != null) {
      daemon.close();
    }
    if (limited != null) {
      limited.close();
    }
    if (tree != null) {
      tree.close();
    }
  }

  private String path(String relative) {
    return tree.root().resolve(relative).toString();
  }

  @Test
  void answersEachPathOnItsOwnWithDescriptorsInOrder() {
    assertTimeoutPreemptively(
        TIMEOUT,
        () -> {
          int before = daemon.descriptorCount();
          try (RawClient c = new RawClient(daemon.socket())) {
            c.send(
                new OpenManyRequest(
                    7,
                    List.of(
                        new OpenManyRequest.Entry(OpenFlags.O_RDONLY, 0, path("data/f1.txt")),
                        new OpenManyRequest.Entry(OpenFlags.O_RDONLY, 0, path("secret.txt")),
                        new OpenManyRequest.Entry(OpenFlags.O_RDONLY, 0, path("data/none.txt")),
                        new OpenManyRequest.Entry(OpenFlags.O_RDONLY, 0, "relative"),
                        new OpenManyRequest.Entry(OpenFlags.O_RDONLY, 0, path("data/link.txt")),
                        new OpenManyRequest.Entry(OpenFlags.O_RDONLY, 0, path("data/f2.txt")))));
            RawClient.Received r = c.receive().orElseThrow();
            OpenedManyReply reply = assertInstanceOf(OpenedManyReply.class, r.reply());
            assertEquals(7, reply.requestId());
            List<Integer> codes =
                reply.results().stream().map(OpenedManyReply.Result::code).toList();
            assertEquals(
                List.of(
                    0,
                    ErrorCode.DENIED.code(),
                    ErrorCode.NOT_FOUND.code(),
                    ErrorCode.INVALID_PATH.code(),
                    ErrorCode.SYMLINK_IN_PATH.code(),
                    0),
                codes,
                "one result per path, in request order");
            assertEquals(2, r.descriptors().size(), "one descriptor per opened path");
            try (FileInputStream first = new FileInputStream(r.descriptors().get(0));
                FileInputStream second = new FileInputStream(r.descriptors().get(1))) {
              assertEquals("file 1\n", new String(first.readAllBytes(), StandardCharsets.UTF_8));
              assertEquals("file 2\n", new String(second.readAllBytes(), StandardCharsets.UTF_8));
            }
            assertEquals(0, c.strayDescriptors());
          }
          awaitDescriptors(daemon, before);
          // The audit writer writes in batches, up to 64 ms apart when the daemon was idle.
          daemon.awaitLine("\"path\":\"" + path("secret.txt") + "\"", AUDIT_WAIT); // denial
          daemon.awaitLine("\"path\":\"" + path("data/none.txt") + "\"", AUDIT_WAIT); // failure
        });
  }

  @Test
  void carriesSixtyFourDescriptorsInOneReplyAndPipelinedRepliesStayIntact() {
    assertTimeoutPreemptively(
        TIMEOUT,
        () -> {
          List<OpenManyRequest.Entry> entries = new ArrayList<>();
          for (int i = 0; i < Protocol.MAX_PATHS_PER_REQUEST; i++) {
            entries.add(
                new OpenManyRequest.Entry(OpenFlags.O_RDONLY, 0, path("data/f" + i + ".txt")));
          }
          try (RawClient c = new RawClient(daemon.socket())) {
            for (int id = 1; id <= 4; id++) {
              c.send(new OpenManyRequest(id, entries));
            }
            for (int k = 0; k < 4; k++) {
              RawClient.Received r = c.receive().orElseThrow();
              OpenedManyReply reply = assertInstanceOf(OpenedManyReply.class, r.reply());
              assertEquals(64, r.descriptors().size());
              try (FileInputStream last = new FileInputStream(r.descriptors().get(63))) {
                assertEquals("file 63\n", new String(last.readAllBytes(), StandardCharsets.UTF_8));
              }
              RawClient.close(r.descriptors().subList(0, 63));
              assertEquals(64, reply.results().size());
            }
            assertEquals(0, c.strayDescriptors());
          }
        });
  }

  @Test
  void closesEveryDescriptorOfAReplyTheClientHungUpOn() {
    assertTimeoutPreemptively(
        TIMEOUT,
        () -> {
          List<OpenManyRequest.Entry> entries = new ArrayList<>();
          for (int i = 0; i < Protocol.MAX_PATHS_PER_REQUEST; i++) {
            entries.add(
                new OpenManyRequest.Entry(OpenFlags.O_RDONLY, 0, path("data/f" + i + ".txt")));
          }
          int before = daemon.descriptorCount();
          for (int round = 0; round < 50; round++) {
            // Sent, then closed without reading: the daemon's reply meets a closed socket.
            try (RawClient c = new RawClient(daemon.socket())) {
              c.send(new OpenManyRequest(round + 1, entries));
            }
          }
          // A connection whose reply was never read, then one that reads: both end clean.
          try (RawClient c = new RawClient(daemon.socket())) {
            RawClient.Received r = c.open(1, OpenFlags.O_RDONLY, path("data/f0.txt"));
            RawClient.close(r.descriptors());
          }
          awaitDescriptors(daemon, before);
        });
  }

  @Test
  void countsEveryPathAgainstTheRateLimit() {
    assertTimeoutPreemptively(
        TIMEOUT,
        () -> {
          List<OpenManyRequest.Entry> entries = new ArrayList<>();
          for (int i = 0; i < 5; i++) {
            entries.add(
                new OpenManyRequest.Entry(OpenFlags.O_RDONLY, 0, path("data/f" + i + ".txt")));
          }
          try (RawClient c = new RawClient(limited.socket())) {
            c.send(new OpenManyRequest(1, entries));
            RawClient.Received r = c.receive().orElseThrow();
            OpenedManyReply reply = assertInstanceOf(OpenedManyReply.class, r.reply());
            List<Integer> codes =
                reply.results().stream().map(OpenedManyReply.Result::code).toList();
            int limit = ErrorCode.LIMIT_EXCEEDED.code();
            assertEquals(List.of(0, 0, 0, limit, limit), codes, "a burst of 3 covers 3 paths");
            RawClient.close(r.descriptors());
          }
        });
  }

  @Test
  void clientOpenAllGivesAFileOrTheExceptionOfEachPath() {
    assertTimeoutPreemptively(
        TIMEOUT,
        () -> {
          try (FileBroker broker = FileBroker.connect(daemon.socket())) {
            List<OpenResult> results =
                broker.openAll(
                    List.of(
                        Path.of(path("data/f3.txt")),
                        Path.of(path("secret.txt")),
                        Path.of(path("data/none.txt")),
                        Path.of(path("data/f4.txt"))),
                    Set.of(StandardOpenOption.READ));
            assertEquals(4, results.size());
            try (BrokeredFile f3 = results.get(0).fileOrThrow();
                BrokeredFile f4 = results.get(3).fileOrThrow()) {
              assertEquals(
                  "file 3\n", new String(f3.inputStream().readAllBytes(), StandardCharsets.UTF_8));
              assertEquals(
                  "file 4\n", new String(f4.inputStream().readAllBytes(), StandardCharsets.UTF_8));
            }
            OpenResult.Failed denied = assertInstanceOf(OpenResult.Failed.class, results.get(1));
            assertInstanceOf(AccessDeniedException.class, denied.exception());
            OpenResult.Failed missing = assertInstanceOf(OpenResult.Failed.class, results.get(2));
            assertInstanceOf(NoSuchFileException.class, missing.exception());
          }
        });
  }

  private static void awaitDescriptors(DaemonProcess d, int expected) throws Exception {
    long deadline = System.nanoTime() + Duration.ofSeconds(5).toNanos();
    while (d.descriptorCount() > expected && System.nanoTime() < deadline) {
      Thread.sleep(10);
    }
    // At most as many as before: a connection of an earlier test may still have been closing
    // when the count before was taken.
    int now = d.descriptorCount();
    assertTrue(
        now <= expected,
        "the daemon closed every descriptor it sent: " + now + " open, " + expected + " before");
  }
}
