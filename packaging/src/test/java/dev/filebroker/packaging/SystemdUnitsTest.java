package dev.filebroker.packaging;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Checks the unit files in systemd/ with the real systemd-analyze (package systemd).
 *
 * <p>{@code systemd-analyze verify} fails when an ExecStart= binary does not exist, and
 * /usr/bin/filebroker only exists once the package is installed. The units are therefore verified
 * as copies in a temporary directory, with /usr/bin/filebroker (ExecStart=, ExecReload=) rewritten
 * to the launcher script in packaging/launcher (same arguments). {@code --man=no} skips the check
 * that the Documentation= man pages are installed.
 */
@Timeout(120)
class SystemdUnitsTest {
  private static final Path HOME = Path.of(System.getProperty("filebroker.home", ".."));
  private static final Path UNITS = HOME.resolve("systemd");

  @TempDir Path dir;

  @Test
  void unitsVerifyWithoutAnyMessage() throws Exception {
    Path service = stageUnits();
    Result result =
        run(
            dir,
            "systemd-analyze",
            "verify",
            "--man=no",
            service.toString(),
            dir.resolve("filebroker.socket").toString(),
            dir.resolve("filebroker-varlink.socket").toString());
    assertEquals(0, result.status(), "systemd-analyze verify: " + result.output());
    assertEquals("", result.output(), "systemd-analyze verify must print nothing");
  }

  @Test
  void everyExampleDropInParsesCleanly() throws Exception {
    Path service = stageUnits();
    List<Path> examples;
    try (Stream<Path> files = Files.list(UNITS.resolve("examples"))) {
      examples = files.filter(p -> p.toString().endsWith(".conf")).sorted().toList();
    }
    assertTrue(examples.size() >= 3, "examples: " + examples);
    Path dropIns = Files.createDirectories(dir.resolve("filebroker.service.d"));
    for (Path example : examples) {
      Path installed = dropIns.resolve(example.getFileName());
      Files.copy(example, installed);
      // The unit path makes systemd-analyze read filebroker.service.d/ next to the copy.
      Result result =
          run(
              dir,
              List.of("SYSTEMD_UNIT_PATH=" + dir + ":"),
              "systemd-analyze",
              "verify",
              "--man=no",
              service.toString());
      assertEquals(0, result.status(), example + ": " + result.output());
      assertEquals("", result.output(), example + " must parse without any message");
      Files.delete(installed);
    }
  }

  @Test
  void serviceExposureIsAtMostOnePointFive() throws Exception {
    // RestrictSUIDSGID= cannot be set (it makes every openat2 fail with ENOSYS; see the unit):
    // a non-root User= with the four capabilities as ambient ones keeps the level at 1.5 or
    // below (1.4 with systemd 252).
    Path service = stageUnits();
    Result result = run(dir, "systemd-analyze", "security", "--offline=true", service.toString());
    Matcher m =
        Pattern.compile("Overall exposure level for filebroker\\.service: (\\d+\\.\\d)")
            .matcher(result.output());
    assertTrue(m.find(), "no exposure level in: " + result.output());
    double exposure = Double.parseDouble(m.group(1));
    assertTrue(exposure <= 1.5, "exposure " + exposure + " > 1.5:\n" + result.output());
  }

  @Test
  void serviceDoesNotEnableMemoryDenyWriteExecute() throws IOException {
    // The JVM's JIT needs writable-then-executable memory; the unit says why it is absent.
    String unit = Files.readString(UNITS.resolve("filebroker.service"));
    assertTrue(unit.lines().noneMatch(l -> l.startsWith("MemoryDenyWriteExecute")));
  }

  /** Copies both units into the temp dir, pointing ExecStart= at the launcher in the tree. */
  private Path stageUnits() throws IOException {
    Path launcher = HOME.resolve("packaging/launcher/filebroker").toAbsolutePath().normalize();
    String service = Files.readString(UNITS.resolve("filebroker.service"));
    assertTrue(service.contains("ExecStart=/usr/bin/filebroker serve"), "unit ExecStart changed");
    Path staged = dir.resolve("filebroker.service");
    Files.writeString(staged, service.replace("/usr/bin/filebroker ", launcher + " "));
    Files.copy(UNITS.resolve("filebroker.socket"), dir.resolve("filebroker.socket"));
    Files.copy(
        UNITS.resolve("filebroker-varlink.socket"), dir.resolve("filebroker-varlink.socket"));
    return staged;
  }

  private record Result(int status, String output) {}

  private static Result run(Path cwd, String... command) throws Exception {
    return run(cwd, List.of(), command);
  }

  private static Result run(Path cwd, List<String> env, String... command) throws Exception {
    ProcessBuilder builder = new ProcessBuilder(new ArrayList<>(List.of(command)));
    builder.directory(cwd.toFile()).redirectErrorStream(true);
    builder.environment().put("SYSTEMD_LOG_COLOR", "0");
    builder.environment().put("SYSTEMD_COLORS", "0");
    for (String assignment : env) {
      int eq = assignment.indexOf('=');
      builder.environment().put(assignment.substring(0, eq), assignment.substring(eq + 1));
    }
    Process process = builder.start();
    byte[] out = process.getInputStream().readAllBytes();
    assertTrue(process.waitFor(60, TimeUnit.SECONDS), command[0] + " must exit");
    return new Result(process.exitValue(), new String(out, StandardCharsets.UTF_8).strip());
  }
}
