package dev.filebroker.daemon.it;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** Starts a daemon on a policy and configuration written into a test tree; reads its heap. */
final class Daemons {
  private Daemons() {}

  /** Writes {@code policy} and {@code config} under {@code tree} and starts a daemon on them. */
  static DaemonProcess start(TestTree tree, String policy, String config) throws IOException {
    Path policyDir = tree.dir("policy");
    Files.writeString(policyDir.resolve("10-test.toml"), policy);
    Path configFile = tree.root().resolve("filebroker.toml");
    Files.writeString(configFile, config);
    return DaemonProcess.start(
        tree.root(),
        tree.root().resolve("broker.sock"),
        "--config",
        configFile.toString(),
        "--policy",
        policyDir.toString());
  }

  /**
   * Ends a test class's daemon: SIGTERM, which it must answer with exit status 0, then its test
   * tree. Either may be null when set-up failed part way; the tree is removed in any case.
   */
  static void stop(DaemonProcess daemon, TestTree tree) throws Exception {
    try {
      if (daemon != null) {
        assertEquals(0, daemon.stop(), "daemon exit status after SIGTERM:\n" + daemon.output());
      }
    } finally {
      if (daemon != null) {
        daemon.close();
      }
      if (tree != null) {
        tree.close();
      }
    }
  }

  /**
   * The daemon's used heap in KiB right after a full collection ({@code jcmd GC.run}, then {@code
   * GC.heap_info}; the daemon runs the serial collector, whose GC.run is a full collection).
   */
  static long usedHeapKiBAfterGc(DaemonProcess daemon) throws IOException, InterruptedException {
    jcmd(daemon, "GC.run");
    String info = jcmd(daemon, "GC.heap_info");
    long used = 0;
    // Serial GC: "DefNew     total 116224K, used 2067K [...]" and "Tenured    total ..., used ...K"
    Matcher m = Pattern.compile("(?m)^\\S.*\\btotal \\d+K, used (\\d+)K").matcher(info);
    while (m.find()) {
      used += Long.parseLong(m.group(1));
    }
    if (used == 0) {
      throw new IllegalStateException("cannot read the heap from:\n" + info);
    }
    return used;
  }

  private static String jcmd(DaemonProcess daemon, String what)
      throws IOException, InterruptedException {
    List<String> cmd = new ArrayList<>();
    cmd.add(Path.of(System.getProperty("java.home"), "bin", "jcmd").toString());
    cmd.add(Long.toString(daemon.pid()));
    cmd.add(what);
    Command r = Command.run(cmd, "");
    if (r.exitCode() != 0) {
      throw new IllegalStateException("jcmd " + what + " failed: " + r.stdout() + r.stderr());
    }
    return r.stdout();
  }
}
