package dev.filebroker.daemon.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.filebroker.protocol.OpenFlags;
import dev.filebroker.protocol.OpenedReply;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * Policy and configuration files that anyone but root could have written are refused, the way
 * sshd's StrictModes refuses keys: at start, at reload (the policy in force stays) and by {@code
 * filebroker check}, each naming the file and the fix. Needs root.
 */
class PolicyTrustIT {
  private static final Duration TIMEOUT = Duration.ofSeconds(60);

  private static String rule(Path file) {
    return """
    [[allow]]
    name = "root-reads"
    users = [0]
    paths = ["%s"]
    access = ["read"]
    """
        .formatted(file);
  }

  private static boolean granted(DaemonProcess daemon, Path file) throws Exception {
    try (RawClient c = new RawClient(daemon.socket())) {
      RawClient.Received r = c.open(1, OpenFlags.O_RDONLY, file.toString());
      RawClient.close(r.descriptors());
      return r.reply() instanceof OpenedReply;
    }
  }

  @Test
  void startRefusesAPolicyDirectoryOthersCanWrite() throws Exception {
    assertTimeoutPreemptively(
        TIMEOUT,
        () -> {
          try (TestTree tree = new TestTree("filebroker-trust-")) {
            Path policy = tree.dir("policy.d");
            Files.writeString(policy.resolve("10-test.toml"), rule(tree.root()));
            Files.setPosixFilePermissions(policy, PosixFilePermissions.fromString("rwxrwxrwx"));
            try (DaemonProcess daemon =
                DaemonProcess.launch(
                    tree.root(),
                    tree.root().resolve("broker.sock"),
                    Map.of(),
                    List.of(),
                    "--policy",
                    policy.toString())) {
              assertEquals(1, daemon.awaitExit(Duration.ofSeconds(30)), daemon.output());
              String out = daemon.output();
              assertTrue(out.contains("refusing to start"), out);
              assertTrue(
                  out.contains(
                      policy
                          + ": directory is writable by others (mode 0777), so they could change"
                          + " what the daemon grants; run chmod go-w "
                          + policy),
                  out);
              assertFalse(Files.exists(tree.root().resolve("broker.sock")), out);
            }
            Command check = DaemonProcess.command("check", policy.toString());
            assertEquals(1, check.exitCode(), check.stdout());
            assertTrue(
                check.stdout().contains(policy + ": directory is writable by others"),
                "check gives the daemon's verdict: " + check.stdout());
          }
        });
  }

  @Test
  void startRefusesAConfigurationFileAUserOwns() throws Exception {
    assertTimeoutPreemptively(
        TIMEOUT,
        () -> {
          try (TestTree tree = new TestTree("filebroker-trust-")) {
            Path policy = tree.dir("policy.d");
            Files.writeString(policy.resolve("10-test.toml"), rule(tree.root()));
            Path config = tree.file("filebroker.toml", "# defaults\n", "rw-r--r--");
            Files.setAttribute(config, "unix:uid", 65534);
            try (DaemonProcess daemon =
                DaemonProcess.launch(
                    tree.root(),
                    tree.root().resolve("broker.sock"),
                    Map.of(),
                    List.of(),
                    "--config",
                    config.toString(),
                    "--policy",
                    policy.toString())) {
              assertEquals(1, daemon.awaitExit(Duration.ofSeconds(30)), daemon.output());
              String out = daemon.output();
              assertTrue(
                  out.contains(
                      config
                          + ": owned by uid 65534, not root, so that user could change what the"
                          + " daemon grants; run chown root "
                          + config),
                  out);
            }
          }
        });
  }

  @Test
  void reloadKeepsThePolicyInForceWhenAFileBecomesWritableByOthers() throws Exception {
    assertTimeoutPreemptively(
        TIMEOUT,
        () -> {
          try (TestTree tree = new TestTree("filebroker-trust-")) {
            Path a = tree.file("a.txt", "a\n", "rw-------");
            Path b = tree.file("b.txt", "b\n", "rw-------");
            Path policy = tree.dir("policy.d");
            Path file = policy.resolve("10-test.toml");
            Files.writeString(file, rule(a));
            DaemonProcess daemon =
                DaemonProcess.start(
                    tree.root(),
                    tree.root().resolve("broker.sock"),
                    "--policy",
                    policy.toString(),
                    "--control-socket",
                    tree.root().resolve("control.sock").toString());
            try {
              assertTrue(granted(daemon, a));
              Files.writeString(file, rule(b));
              Files.setPosixFilePermissions(file, PosixFilePermissions.fromString("rw-rw-rw-"));
              Command reload =
                  DaemonProcess.command(
                      "reload", "--control-socket", daemon.controlSocket().toString());
              assertEquals(1, reload.exitCode(), reload.stdout() + reload.stderr());
              assertTrue(
                  reload
                      .stderr()
                      .contains(
                          file
                              + ": file is writable by others (mode 0666), so they could change"
                              + " what the daemon grants; run chmod go-w "
                              + file),
                  reload.stderr());
              assertTrue(granted(daemon, a), "the policy in force stays");
              assertFalse(granted(daemon, b), "what anyone could have written is not loaded");

              Files.setPosixFilePermissions(file, PosixFilePermissions.fromString("rw-r--r--"));
              Command fixed =
                  DaemonProcess.command(
                      "reload", "--control-socket", daemon.controlSocket().toString());
              assertEquals(0, fixed.exitCode(), fixed.stdout() + fixed.stderr());
              assertTrue(granted(daemon, b), "once fixed, the new policy loads");
            } finally {
              Daemons.stop(daemon, null);
            }
          }
        });
  }
}
