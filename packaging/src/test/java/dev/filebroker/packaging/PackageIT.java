package dev.filebroker.packaging;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.jar.JarFile;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Checks the built .deb with Debian's own tools: lintian (apt-get install lintian), dpkg-deb and
 * man. Runs after {@code package}, in {@code mvn verify}.
 */
@Timeout(300)
class PackageIT {
  private static final Path HOME = Path.of(System.getProperty("filebroker.home", ".."));

  @TempDir Path dir;

  private static Path deb() throws IOException {
    Path target = Path.of(System.getProperty("filebroker.deb.dir", "target"));
    try (Stream<Path> files = Files.list(target)) {
      List<Path> debs =
          files
              .filter(p -> p.getFileName().toString().matches("filebroker_.*_amd64\\.deb"))
              .toList();
      assertEquals(1, debs.size(), "exactly one .deb in " + target + ": " + debs);
      return debs.get(0);
    }
  }

  @Test
  void isNamedWithTheDebianVersionOfTheProject() throws Exception {
    String name = deb().getFileName().toString();
    assertTrue(name.matches("filebroker_\\d+\\.\\d+\\.\\d+(~SNAPSHOT)?_amd64\\.deb"), name);
    assertEquals(
        name.replaceAll("filebroker_(.*)_amd64\\.deb", "$1"),
        run("dpkg-deb", "-f", deb().toString(), "Version").strip());
  }

  @Test
  void lintianReportsNothing() throws Exception {
    // --pedantic shows every tag except informational ones; overrides (with reasons) are in
    // packaging/lintian-overrides.
    String out =
        run("lintian", "--pedantic", "--fail-on", "error,warning,pedantic", deb().toString());
    assertEquals(
        "",
        out.lines()
            .filter(l -> !l.contains("running with root privileges"))
            .reduce("", String::concat),
        "lintian output");
  }

  @Test
  void shipsUnitsLauncherConffilesAndManPages() throws Exception {
    String contents = run("dpkg-deb", "--contents", deb().toString());
    for (String path :
        List.of(
            "./usr/bin/filebroker",
            "./usr/share/filebroker/filebroker-daemon.jar",
            "./usr/lib/systemd/system/filebroker.service",
            "./usr/lib/systemd/system/filebroker.socket",
            "./usr/lib/systemd/system/filebroker-varlink.socket",
            "./etc/filebroker/filebroker.toml",
            "./etc/filebroker/policy.d/00-example.toml",
            "./usr/share/man/man8/filebroker.8.gz",
            "./usr/share/man/man5/filebroker-policy.5.gz",
            "./usr/share/doc/filebroker/copyright",
            "./usr/share/doc/filebroker/policy.md",
            "./usr/share/doc/filebroker/changelog.gz")) {
      assertTrue(contents.contains(" " + path + "\n"), path + " missing from:\n" + contents);
    }
    run("dpkg-deb", "--control", deb().toString(), dir.resolve("control").toString());
    assertEquals(
        List.of("/etc/filebroker/filebroker.toml", "/etc/filebroker/policy.d/00-example.toml"),
        Files.readAllLines(dir.resolve("control/conffiles")));
  }

  @Test
  void everyManifestClassPathEntryIsShipped() throws Exception {
    Path root = dir.resolve("root");
    run("dpkg-deb", "--extract", deb().toString(), root.toString());
    Path home = root.resolve("usr/share/filebroker");
    try (JarFile jar = new JarFile(home.resolve("filebroker-daemon.jar").toFile())) {
      String classPath = jar.getManifest().getMainAttributes().getValue("Class-Path");
      assertTrue(classPath != null && !classPath.isBlank(), "manifest has a Class-Path");
      for (String entry : Arrays.asList(classPath.trim().split("\\s+"))) {
        assertTrue(Files.isRegularFile(home.resolve(entry)), entry + " is not in the package");
      }
    }
  }

  @Test
  void manPagesRenderWithoutWarnings() throws Exception {
    for (String page : List.of("filebroker.8", "filebroker-policy.5")) {
      ProcessBuilder builder =
          new ProcessBuilder(
                  "man",
                  "--warnings",
                  "-E",
                  "UTF-8",
                  "-l",
                  "-Tutf8",
                  "-Z",
                  HOME.resolve("packaging/man").resolve(page).toString())
              .redirectOutput(ProcessBuilder.Redirect.DISCARD);
      builder.environment().put("MANWIDTH", "80");
      Process process = builder.start();
      String warnings = new String(process.getErrorStream().readAllBytes(), StandardCharsets.UTF_8);
      assertTrue(process.waitFor(60, TimeUnit.SECONDS));
      assertEquals("", warnings, page + " warnings");
      assertEquals(0, process.exitValue(), page);
    }
  }

  private static String run(String... command) throws Exception {
    Process process = new ProcessBuilder(command).redirectErrorStream(true).start();
    byte[] out = process.getInputStream().readAllBytes();
    assertTrue(process.waitFor(240, TimeUnit.SECONDS), command[0] + " must exit");
    String text = new String(out, StandardCharsets.UTF_8);
    assertEquals(0, process.exitValue(), String.join(" ", command) + ":\n" + text);
    return text;
  }
}
