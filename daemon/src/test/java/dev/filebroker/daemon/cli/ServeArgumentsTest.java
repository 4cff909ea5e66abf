package dev.filebroker.daemon.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

class ServeArgumentsTest {
  @Test
  void readsEveryServeOptionWithSeparateOrAttachedValues() {
    ServeCommand c =
        ServeArguments.parse(
                new String[] {
                  "serve",
                  "--config",
                  "c.toml",
                  "--policy=/etc/p.d",
                  "--socket",
                  "/run/s.sock",
                  "--control-socket=/run/c.sock"
                })
            .orElseThrow();
    assertEquals(Path.of("c.toml"), c.config);
    assertEquals(Path.of("/etc/p.d"), c.policy);
    assertEquals(Path.of("/run/s.sock"), c.socket);
    assertEquals(Path.of("/run/c.sock"), c.controlSocket);
  }

  @Test
  void leavesOptionsThatAreNotGivenUnset() {
    ServeCommand c = ServeArguments.parse(new String[] {"serve"}).orElseThrow();
    assertNull(c.config);
    assertNull(c.policy);
    assertNull(c.socket);
    assertNull(c.controlSocket);
  }

  @Test
  void leavesEveryOtherCommandLineToPicocli() {
    String[][] others = {
      {},
      {"check", "--policy", "p"},
      {"serve", "--help"},
      {"serve", "-h"},
      {"serve", "--version"},
      {"serve", "--verbose", "x"},
      {"serve", "--config"},
      {"serve", "--config", "a", "--config", "b"},
      {"serve", "--config="},
      {"serve", "--config", "--policy", "p"},
      {"serve", "@args"},
      {"serve", "--", "--config", "a"},
      {"serve", "--policy", "a\0b"},
      {"Serve", "--policy", "p"},
    };
    for (String[] args : others) {
      assertTrue(
          ServeArguments.parse(args).isEmpty(),
          "picocli reads and reports " + String.join(" ", args));
    }
  }

  @Test
  void everyCommandLineItReadsMeansTheSameToPicocli() {
    String[][] lines = {
      {"serve"},
      {"serve", "--config", "c.toml", "--policy", "/etc/p.d"},
      {"serve", "--socket=/tmp/a b.sock", "--control-socket", "/run/c.sock"},
      {"serve", "--policy=p=q", "--config=/x"},
      {"serve", "--control-socket", "c", "--socket", "s", "--policy", "p", "--config", "k"},
    };
    for (String[] args : lines) {
      ServeCommand fast = ServeArguments.parse(args).orElseThrow();
      CommandLine.ParseResult parsed = new CommandLine(new Main()).parseArgs(args).subcommand();
      ServeCommand picocli = (ServeCommand) parsed.commandSpec().userObject();
      String line = String.join(" ", args);
      assertEquals(picocli.config, fast.config, line);
      assertEquals(picocli.policy, fast.policy, line);
      assertEquals(picocli.socket, fast.socket, line);
      assertEquals(picocli.controlSocket, fast.controlSocket, line);
    }
  }
}
