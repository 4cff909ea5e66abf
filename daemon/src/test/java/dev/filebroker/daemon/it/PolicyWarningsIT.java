package dev.filebroker.daemon.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The daemon logs the policy's warnings (allow rules a deny makes useless) at start and at every
 * reload, in the words {@code filebroker check} prints for the same policy. Needs root: the daemon
 * runs as root.
 */
class PolicyWarningsIT {
  private static final Duration TIMEOUT = Duration.ofSeconds(120);

  private static String shadowed(String name, Path root) {
    return """
    [[allow]]
    name = "%1$s"
    users = [0]
    paths = ["%2$s/%1$s/a.txt"]
    access = ["read"]

    [[deny]]
    name = "no-%1$s"
    any = true
    paths = ["%2$s/%1$s/**"]
    """
        .formatted(name, root);
  }

  /** The warning lines {@code filebroker check} prints for {@code policy}, at least one. */
  private static List<String> checkWarnings(Path policy) throws Exception {
    Command check =
        assertTimeoutPreemptively(TIMEOUT, () -> DaemonProcess.command("check", policy.toString()));
    assertEquals(0, check.exitCode(), check.stdout() + check.stderr());
    List<String> warnings =
        Arrays.stream(check.stdout().split("\n")).filter(l -> l.contains(": warning: ")).toList();
    assertFalse(warnings.isEmpty(), check.stdout());
    return warnings;
  }

  @Test
  void warningsAreLoggedAtStartAndReloadAsCheckPrintsThem() throws Exception {
    try (TestTree tree = new TestTree("filebroker-warnings-")) {
      Path policy = tree.dir("policy.d");
      Files.writeString(policy.resolve("10-first.toml"), shadowed("first", tree.root()));
      List<String> atStart = checkWarnings(policy);
      DaemonProcess daemon = null;
      try {
        daemon =
            DaemonProcess.start(
                tree.root(), tree.root().resolve("broker.sock"), "--policy", policy.toString());
        for (String warning : atStart) {
          daemon.awaitLine(warning, TIMEOUT);
        }
        Files.writeString(policy.resolve("20-second.toml"), shadowed("second", tree.root()));
        List<String> afterReload = checkWarnings(policy);
        assertEquals(2, afterReload.size(), afterReload::toString);
        String added =
            afterReload.stream().filter(w -> w.contains("rule second ")).findFirst().orElseThrow();
        assertFalse(daemon.output().contains(added), "not logged before the reload");
        daemon.signal("HUP");
        daemon.awaitLine(added, TIMEOUT);
        assertEquals(0, daemon.stop(), daemon.output());
      } finally {
        if (daemon != null) {
          daemon.close();
        }
      }
    }
  }
}
