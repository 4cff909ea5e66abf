package dev.filebroker.daemon.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.filebroker.client.BrokeredFile;
import dev.filebroker.client.FileBroker;
import java.io.BufferedReader;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.OutputStreamWriter;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Queue;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * The daemon restarts under socket activation while clients keep asking: a holder process keeps the
 * listening socket open across daemon generations (as systemd's socket unit does), so no client
 * sees ECONNREFUSED, and the Java client library connects again and sends its unanswered requests
 * again. Needs root (runs the daemon).
 */
class RestartIT {
  private static final int RESTARTS = 3;
  private static final int FILES = 16;
  private static final int LIBRARY_THREADS = 6;
  private static final int FRESH_CONNECTION_THREADS = 2;

  private TestTree tree;
  private Process holder;

  @AfterEach
  void stop() throws Exception {
    try {
      if (holder != null && holder.isAlive()) {
        holder.getOutputStream().close(); // end of input: the holder stops its daemon
        if (!holder.waitFor(15, TimeUnit.SECONDS)) {
          holder.destroyForcibly();
        }
      }
    } finally {
      if (tree != null) {
        tree.close();
      }
    }
  }

  @Test
  void restartsLoseNoConnectionAndTheLibraryRetriesWhatWasNotAnswered() throws Exception {
    tree = new TestTree("filebroker-restart-");
    Path dir = tree.dir("files");
    List<Path> files = new ArrayList<>();
    for (int i = 0; i < FILES; i++) {
      files.add(tree.file("files/f" + i + ".txt", "content of file " + i + "\n", "rw-r--r--"));
    }
    Path policyDir = tree.dir("policy");
    Files.writeString(
        policyDir.resolve("10-test.toml"),
        """
        [[allow]]
        name = "reads"
        users = [0]
        paths = ["%s/*"]
        access = ["read"]
        """
            .formatted(dir));
    Path config = tree.root().resolve("filebroker.toml");
    Files.writeString(config, "# defaults\n");
    Path socket = tree.root().resolve("broker.sock");
    Path logs = tree.dir("logs");
    List<String> command =
        new ArrayList<>(
            List.of(
                "/usr/bin/python3",
                "-c",
                FloodIT.resource("socket_holder.py"),
                socket.toString(),
                logs.toString(),
                DaemonProcess.java(),
                "@" + DaemonProcess.home().resolve("packaging/launcher/jvm.options"),
                "-jar",
                DaemonProcess.jar().toString(),
                "serve",
                "--socket",
                socket.toString(),
                "--config",
                config.toString(),
                "--policy",
                policyDir.toString()));
    holder =
        new ProcessBuilder(command)
            .redirectError(tree.root().resolve("holder.err").toFile())
            .start();
    BufferedReader generations =
        new BufferedReader(new InputStreamReader(holder.getInputStream(), StandardCharsets.UTF_8));
    Writer control = new OutputStreamWriter(holder.getOutputStream(), StandardCharsets.UTF_8);

    assertTimeoutPreemptively(
        Duration.ofSeconds(90),
        () -> {
          assertTrue(generations.readLine().startsWith("generation 1 "), "first daemon started");
          awaitListening(logs, 1);
          AtomicBoolean running = new AtomicBoolean(true);
          AtomicInteger libraryOpens = new AtomicInteger();
          AtomicInteger freshOpens = new AtomicInteger();
          Queue<String> failures = new ConcurrentLinkedQueue<>();
          List<Thread> workers = new ArrayList<>();
          try (FileBroker broker = FileBroker.connect(socket)) {
            for (int t = 0; t < LIBRARY_THREADS; t++) {
              int seed = t;
              workers.add(
                  Thread.ofPlatform()
                      .start(
                          () -> {
                            int i = seed;
                            while (running.get()) {
                              Path f = files.get(i++ % FILES);
                              try (BrokeredFile opened = broker.open(f, StandardOpenOption.READ)) {
                                check(f, opened);
                                libraryOpens.incrementAndGet();
                              } catch (Exception | AssertionError e) {
                                failures.add("shared connection, " + f + ": " + e);
                              }
                            }
                          }));
            }
            for (int t = 0; t < FRESH_CONNECTION_THREADS; t++) {
              int seed = t;
              workers.add(
                  Thread.ofPlatform()
                      .start(
                          () -> {
                            int i = seed;
                            while (running.get()) {
                              Path f = files.get(i++ % FILES);
                              // A new connection per request: ECONNREFUSED would show up here.
                              try (FileBroker fresh = FileBroker.connect(socket);
                                  BrokeredFile opened = fresh.open(f, StandardOpenOption.READ)) {
                                check(f, opened);
                                freshOpens.incrementAndGet();
                              } catch (Exception | AssertionError e) {
                                failures.add("fresh connection, " + f + ": " + e);
                              }
                            }
                          }));
            }
            long t0 = System.nanoTime();
            Thread.sleep(1000);
            for (int r = 2; r <= RESTARTS + 1; r++) {
              int before = libraryOpens.get() + freshOpens.get();
              control.write("restart\n");
              control.flush();
              String line = generations.readLine();
              Matcher m = Pattern.compile("generation (\\d+) pid \\d+ exit (-?\\d+)").matcher(line);
              assertTrue(m.matches(), "holder said: " + line);
              assertEquals(r, Integer.parseInt(m.group(1)));
              assertEquals("0", m.group(2), "generation " + (r - 1) + " exit status after SIGTERM");
              awaitListening(logs, r);
              Thread.sleep(1000);
              assertTrue(
                  libraryOpens.get() + freshOpens.get() > before,
                  "requests go on after restart "
                      + (r - 1)
                      + "; failures: "
                      + failures.stream().limit(3).toList());
            }
            running.set(false);
            for (Thread w : workers) {
              w.join(20_000);
            }
            double seconds = (System.nanoTime() - t0) / 1e9;
            long grants = 0;
            for (int g = 1; g <= RESTARTS + 1; g++) {
              grants +=
                  Files.readString(logs.resolve("daemon-" + g + ".log"))
                          .split("\"decision\":\"allow\"", -1)
                          .length
                      - 1;
            }
            System.out.printf(
                "RestartIT: %d restarts in %.1f s: %d opens on one shared connection, %d on fresh"
                    + " connections, %d grants audited by the daemons, %d failures%n",
                RESTARTS, seconds, libraryOpens.get(), freshOpens.get(), grants, failures.size());
            assertEquals(
                List.of(),
                List.copyOf(failures).subList(0, Math.min(10, failures.size())),
                "every request succeeds across restarts");
            assertTrue(broker.isOpen(), "the shared connection is still usable");
            assertTrue(
                grants >= libraryOpens.get() + freshOpens.get(),
                "every open the clients got was granted by a daemon");
          }
        });
  }

  /** The file is the one asked for: same inode, same content. */
  private static void check(Path expected, BrokeredFile opened) throws Exception {
    assertEquals(expected.toString(), opened.path());
    assertEquals(
        Fds.Inode.of(expected),
        Fds.inode(opened.fileDescriptor()),
        "descriptor refers to " + expected);
    try (InputStream in = opened.inputStream()) {
      String name = expected.getFileName().toString();
      String number = name.substring(1, name.indexOf('.'));
      assertEquals(
          "content of file " + number + "\n",
          new String(in.readAllBytes(), StandardCharsets.UTF_8));
    }
  }

  private static void awaitListening(Path logs, int generation) throws Exception {
    Path log = logs.resolve("daemon-" + generation + ".log");
    long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
    while (System.nanoTime() < deadline) {
      if (Files.exists(log) && Files.readString(log).contains("listening on")) {
        return;
      }
      Thread.sleep(20);
    }
    throw new AssertionError(
        "generation "
            + generation
            + " did not start:\n"
            + (Files.exists(log) ? Files.readString(log) : "(no log)"));
  }
}
