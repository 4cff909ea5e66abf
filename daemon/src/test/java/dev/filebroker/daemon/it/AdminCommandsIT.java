package dev.filebroker.daemon.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.filebroker.protocol.OpenFlags;
import dev.filebroker.protocol.OpenedReply;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/**
 * {@code filebroker status} and {@code reload} finding the daemon through the configuration file it
 * was started with, and SIGHUP reloading a daemon started under nohup (SIGHUP ignored). Needs root:
 * the daemon and the control commands run as root.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class AdminCommandsIT {
  private static final Duration TIMEOUT = Duration.ofSeconds(120);

  private TestTree tree;
  private Path policy;
  private Path config;
  private DaemonProcess daemon;

  private String rule(String file) {
    return """
    [[allow]]
    name = "root-reads-%1$s"
    users = [0]
    paths = ["%2$s/%1$s"]
    access = ["read"]

    """
        .formatted(file, tree.root());
  }

  @BeforeAll
  void startDaemon() throws Exception {
    tree = new TestTree("filebroker-admin-");
    tree.file("a.txt", "a\n", "rw-------");
    tree.file("b.txt", "b\n", "rw-------");
    policy = tree.dir("policy.d");
    Files.writeString(policy.resolve("10-test.toml"), rule("a.txt"));
    Path control = tree.dir("run").resolve("elsewhere.sock");
    config = tree.root().resolve("filebroker.toml");
    Files.writeString(config, "control_socket = \"" + control + "\"\n");
    // nohup starts the daemon with SIGHUP ignored, as a shell user would.
    daemon =
        DaemonProcess.start(
            tree.root(),
            tree.root().resolve("broker.sock"),
            Map.of(),
            List.of("nohup"),
            "--config",
            config.toString(),
            "--policy",
            policy.toString(),
            "--control-socket",
            control.toString());
  }

  @AfterAll
  void stopDaemon() throws Exception {
    Daemons.stop(daemon, tree);
  }

  @Test
  void statusReadsTheControlSocketFromTheConfigGiven() throws Exception {
    Command r =
        assertTimeoutPreemptively(
            TIMEOUT, () -> DaemonProcess.command("status", "--config", config.toString()));
    assertEquals(0, r.exitCode(), r.stderr());
    assertTrue(r.stdout().contains("pid " + daemon.pid()), r.stdout());
  }

  @Test
  void reloadReadsTheControlSocketFromTheConfigGiven() throws Exception {
    Command r =
        assertTimeoutPreemptively(
            TIMEOUT, () -> DaemonProcess.command("reload", "--config", config.toString()));
    assertEquals(0, r.exitCode(), r.stderr());
    assertTrue(r.stdout().contains("filebroker: reloaded "), r.stdout());
  }

  @Test
  void aConfigThatCannotBeReadIsReportedNotGuessedAround() throws Exception {
    Path missing = tree.root().resolve("no-such.toml");
    Command r =
        assertTimeoutPreemptively(
            TIMEOUT, () -> DaemonProcess.command("status", "--config", missing.toString()));
    assertEquals(1, r.exitCode(), r.stderr());
    assertTrue(r.stderr().contains("could not read --config " + missing), r.stderr());
  }

  @Test
  void sighupReloadsADaemonStartedWithSighupIgnored() throws Exception {
    assertTrue(
        daemon.output().contains("SIGHUP was ignored at start"),
        "nohup must have started the daemon with SIGHUP ignored:\n" + daemon.output());
    assertFalse(granted("b.txt"), "b.txt is not granted before the reload");
    Files.writeString(policy.resolve("10-test.toml"), rule("a.txt") + rule("b.txt"));
    daemon.signal("HUP");
    assertTimeoutPreemptively(
        TIMEOUT,
        () -> {
          while (!granted("b.txt")) {
            Thread.sleep(50);
          }
        },
        "SIGHUP must reload the policy:\n" + daemon.output());
  }

  /** A policy file with two errors in two rules: each must reach the daemon's log, once each. */
  private static final String TWO_ERRORS =
      """
      [[allow]]
      name = "first-broken"
      users = [0]
      paths = ["/srv/first"]
      access = ["read"]
      first_unknown_key = 1

      [[allow]]
      name = "second-broken"
      users = [0]
      paths = ["/srv/second"]
      access = ["read"]
      second_unknown_key = 2
      """;

  @Test
  void aRejectedReloadThroughTheControlSocketLogsEveryErrorAsSighupDoes() throws Exception {
    Path broken = policy.resolve("20-broken.toml");
    Files.writeString(broken, TWO_ERRORS);
    try {
      int before = daemon.output().length();
      Command r =
          assertTimeoutPreemptively(
              TIMEOUT, () -> DaemonProcess.command("reload", "--config", config.toString()));
      assertEquals(1, r.exitCode(), r.stderr());
      assertTrue(r.stderr().contains("first_unknown_key"), r.stderr());
      assertTrue(r.stderr().contains("second_unknown_key"), r.stderr());
      String byCommand = awaitBothErrorsAfter(before);

      before = daemon.output().length();
      daemon.signal("HUP");
      String bySignal = awaitBothErrorsAfter(before);
      assertEquals(
          errorLines(bySignal),
          errorLines(byCommand),
          "the reload command and SIGHUP log the same errors");
    } finally {
      Files.delete(broken);
    }
  }

  /** The daemon's output after {@code offset} once both errors of TWO_ERRORS are in it. */
  private String awaitBothErrorsAfter(int offset) throws Exception {
    return assertTimeoutPreemptively(
        TIMEOUT,
        () -> {
          while (true) {
            String added = daemon.output().substring(offset);
            if (added.contains("second_unknown_key") && added.contains("first_unknown_key")) {
              return added;
            }
            Thread.sleep(50);
          }
        },
        "both errors must be logged after offset " + offset);
  }

  /** The lines that name either error, without the time and thread of each. */
  private static List<String> errorLines(String output) {
    return output
        .lines()
        .filter(l -> l.contains("_unknown_key"))
        .map(l -> l.substring(l.indexOf("_unknown_key") - 6))
        .toList();
  }

  private boolean granted(String relative) throws Exception {
    try (RawClient c = new RawClient(daemon.socket())) {
      RawClient.Received r =
          c.open(1, OpenFlags.O_RDONLY, tree.root().resolve(relative).toString());
      RawClient.close(r.descriptors());
      return r.reply() instanceof OpenedReply;
    }
  }
}
