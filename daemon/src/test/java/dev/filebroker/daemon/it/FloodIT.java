package dev.filebroker.daemon.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * One uid floods the daemon from several processes while another uid is served: every request of
 * the other uid is granted during the flood, and every flooding request is answered or its
 * connection told why it ends. Latency under the flood is a benchmark figure (bench/run), not an
 * assertion here. Needs root (runs the daemon; the flooders and the victim run as uids 65534 and
 * 65533 through setpriv).
 */
class FloodIT {
  private static final int FLOODER_UID = 65534;
  private static final int VICTIM_UID = 65533;
  private static final int FLOODERS = 4;
  private static final int CONNECTIONS_PER_FLOODER = 24;
  private static final int FLOOD_SECONDS =
      13; // long enough that the victim finishes inside the flood
  private static final int VICTIM_REQUESTS = 600;
  private static final int VICTIM_PAUSE_MILLIS = 4;
  private static final int RATE = 2000;
  private static final int BURST = 200;

  private TestTree tree;
  private DaemonProcess daemon;
  private final List<Process> flooders = new ArrayList<>();

  @AfterEach
  void stop() throws Exception {
    try {
      for (Process p : flooders) {
        p.destroyForcibly();
      }
      if (daemon != null) {
        daemon.close();
      }
    } finally {
      if (tree != null) {
        tree.close();
      }
    }
  }

  @Test
  void anotherUidIsServedWhileOneUidFloodsAndTheFloodIsAnsweredNotDropped() throws Exception {
    tree = new TestTree("filebroker-flood-");
    Path granted = tree.file("granted.txt", "granted\n", "rw-r--r--");
    daemon =
        Daemons.start(
            tree,
            """
            [[allow]]
            name = "reads"
            users = [%d, %d]
            paths = ["%s"]
            access = ["read"]
            """
                .formatted(FLOODER_UID, VICTIM_UID, granted),
            """
            [limits]
            requests_per_second_per_uid = %d
            request_burst_per_uid = %d
            max_connections_per_uid = 64
            """
                .formatted(RATE, BURST));
    assertTimeoutPreemptively(
        Duration.ofSeconds(60),
        () -> {
          String flood = resource("flood.py");
          long t0 = System.nanoTime();
          for (int i = 0; i < FLOODERS; i++) {
            flooders.add(
                new ProcessBuilder(
                        setpriv(
                            FLOODER_UID,
                            "/usr/bin/python3",
                            "-c",
                            flood,
                            daemon.socket().toString(),
                            granted.toString(),
                            Integer.toString(CONNECTIONS_PER_FLOODER),
                            Integer.toString(FLOOD_SECONDS)))
                    .redirectError(tree.root().resolve("flooder-" + i + ".err").toFile())
                    .start());
          }
          Thread.sleep(1500); // the flood reaches its limits
          Command victim =
              Command.asUser(
                  VICTIM_UID,
                  VICTIM_UID,
                  "/usr/bin/python3",
                  "-c",
                  resource("victim.py"),
                  daemon.socket().toString(),
                  granted.toString(),
                  Integer.toString(VICTIM_REQUESTS),
                  Integer.toString(VICTIM_PAUSE_MILLIS));
          double victimEnd = (System.nanoTime() - t0) / 1e9;
          boolean floodLasted = flooders.stream().allMatch(Process::isAlive);
          assertEquals(0, victim.exitCode(), "every victim request is granted: " + victim.stderr());
          long[] micros =
              Arrays.stream(victim.stdout().trim().split(" "))
                  .mapToLong(Long::parseLong)
                  .sorted()
                  .toArray();
          assertEquals(VICTIM_REQUESTS, micros.length);

          List<Map<String, Long>> counts = new ArrayList<>();
          for (int i = 0; i < FLOODERS; i++) {
            Process p = flooders.get(i);
            assertTrue(p.waitFor(30, TimeUnit.SECONDS), "flooder " + i + " must finish");
            String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            String err = Files.readString(tree.root().resolve("flooder-" + i + ".err"));
            assertEquals(0, p.exitValue(), "flooder " + i + ": " + out + err);
            counts.add(parseCounts(out));
          }
          double floodSeconds = (System.nanoTime() - t0) / 1e9;

          double p50 = micros[micros.length / 2] / 1000.0;
          double p99 = micros[(int) Math.ceil(micros.length * 0.99) - 1] / 1000.0;
          double max = micros[micros.length - 1] / 1000.0;
          Map<String, Long> sum = new HashMap<>();
          counts.forEach(m -> m.forEach((k, v) -> sum.merge(k, v, Long::sum)));
          System.out.printf(
              "FloodIT: victim (uid %d) %d requests from %.1f s to %.1f s of the flood: p50 %.2f"
                  + " ms, p99 %.2f ms, max %.2f ms%n",
              VICTIM_UID, micros.length, 1.5, victimEnd, p50, p99, max);
          System.out.printf(
              "FloodIT: flooders (uid %d, %d processes) in %.1f s: %d connections (%d refused with"
                  + " LIMIT_EXCEEDED, %d failed to connect), %d requests, %d replies: %d granted,"
                  + " %d LIMIT_EXCEEDED, %d other; %d unanswered on refused connections, %d silent"
                  + " drops%n",
              FLOODER_UID,
              FLOODERS,
              floodSeconds,
              sum.get("connections"),
              sum.get("refused_with_frame"),
              sum.get("connect_failures"),
              sum.get("sent"),
              sum.get("replies"),
              sum.get("opened"),
              sum.get("limited"),
              sum.get("other_errors"),
              sum.get("unanswered"),
              sum.get("silent_drops"));

          for (int i = 0; i < FLOODERS; i++) {
            Map<String, Long> c = counts.get(i);
            assertEquals(
                0,
                c.get("silent_drops"),
                "flooder "
                    + i
                    + ": connections that ended"
                    + " with requests unanswered and no error frame: "
                    + c);
            assertEquals(0, c.get("other_errors"), "flooder " + i + ": unexpected replies: " + c);
            assertTrue(
                c.get("limited") + c.get("refused_with_frame") > 0,
                "flooder " + i + " must be told LIMIT_EXCEEDED, in replies or refusals: " + c);
            assertEquals(c.get("opened"), c.get("descriptors"), "one descriptor per grant: " + c);
          }
          assertTrue(
              sum.get("opened") <= BURST + RATE * (floodSeconds + 1),
              "the rate limit holds for the flooding uid: "
                  + sum.get("opened")
                  + " grants in "
                  + floodSeconds
                  + " s");
          assertTrue(
              floodLasted,
              "the flood must last the whole measurement (it took until " + victimEnd + " s)");
        });
  }

  private static List<String> setpriv(int uid, String... command) {
    List<String> full =
        new ArrayList<>(
            List.of("setpriv", "--reuid=" + uid, "--regid=" + uid, "--clear-groups", "--"));
    full.addAll(List.of(command));
    return full;
  }

  static String resource(String name) throws IOException {
    try (InputStream in = FloodIT.class.getResourceAsStream(name)) {
      if (in == null) {
        throw new IOException("missing test resource " + name);
      }
      return new String(in.readAllBytes(), StandardCharsets.UTF_8);
    }
  }

  /** The numbers of flood.py's JSON line ("name": n), without a JSON library. */
  private static Map<String, Long> parseCounts(String json) {
    Map<String, Long> counts = new HashMap<>();
    Matcher m =
        Pattern.compile("\"(\\w+)\": (\\d+)").matcher(json.substring(0, json.indexOf("\"codes\"")));
    while (m.find()) {
      counts.put(m.group(1), Long.parseLong(m.group(2)));
    }
    return counts;
  }
}
