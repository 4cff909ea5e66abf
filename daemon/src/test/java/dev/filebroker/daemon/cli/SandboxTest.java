package dev.filebroker.daemon.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.filebroker.daemon.fs.LandlockAbi;
import dev.filebroker.daemon.fs.LandlockRuleset.Rule;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;

class SandboxTest {
  private static final Path SOCKET = Path.of("/run/filebroker/filebroker.sock");

  private static List<Rule> rules(int abi, List<Path> read, List<Path> exec) {
    return Sandbox.rules(new LandlockAbi(abi), Optional.of(Path.of("/bin/sh")), read, exec, SOCKET)
        .rules();
  }

  @Test
  void commandMayExecuteAndReadItsExecutableOnly() {
    List<Rule> rules = rules(7, List.of(), List.of());
    assertTrue(
        rules.contains(new Rule(Path.of("/bin/sh"), LandlockAbi.EXECUTE | LandlockAbi.READ_FILE)),
        rules.toString());
    for (Rule r : rules) {
      if ((r.access() & LandlockAbi.EXECUTE) != 0) {
        assertTrue(
            r.path().equals(Path.of("/bin/sh"))
                || r.path().getFileName().toString().startsWith("ld-"),
            "only the program and its loader are executable: " + r);
      }
      assertEquals(
          0,
          r.access() & ~(LandlockAbi.EXECUTE | LandlockAbi.READ_FILE | LandlockAbi.READ_DIR),
          r.toString());
    }
  }

  @Test
  void allowedPathsAreReadOrExecuteAsAsked() {
    List<Rule> rules = rules(7, List.of(Path.of("/usr/share/doc")), List.of(Path.of("/usr/bin")));
    assertTrue(
        rules.contains(
            new Rule(Path.of("/usr/share/doc"), LandlockAbi.READ_FILE | LandlockAbi.READ_DIR)));
    assertTrue(
        rules.contains(
            new Rule(
                Path.of("/usr/bin"),
                LandlockAbi.EXECUTE | LandlockAbi.READ_FILE | LandlockAbi.READ_DIR)));
  }

  @Test
  void socketDirectoryIsReachableOnlyWhereTheAbiRestrictsIt() {
    assertFalse(
        rules(7, List.of(), List.of()).stream()
            .anyMatch(r -> (r.access() & LandlockAbi.RESOLVE_UNIX) != 0));
    assertTrue(
        rules(9, List.of(), List.of())
            .contains(new Rule(Path.of("/run/filebroker"), LandlockAbi.RESOLVE_UNIX)));
  }
}
