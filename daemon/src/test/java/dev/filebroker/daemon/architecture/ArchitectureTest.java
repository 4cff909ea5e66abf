package dev.filebroker.daemon.architecture;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * The layering rules of STYLE.md, checked on the sources: native code only in {@code fs}, a pure
 * policy package, and a client module that knows nothing of the daemon.
 */
class ArchitectureTest {
  private static final Pattern JNA = Pattern.compile("^import com\\.sun\\.jna", Pattern.MULTILINE);

  private static Path root() {
    Path p = Path.of("").toAbsolutePath();
    while (p != null && !Files.exists(p.resolve("daemon/pom.xml"))) {
      p = p.getParent();
    }
    if (p == null) {
      throw new IllegalStateException("repository root not found");
    }
    return p;
  }

  private static List<Path> sources(Path dir) throws IOException {
    try (Stream<Path> walk = Files.walk(dir)) {
      return walk.filter(f -> f.toString().endsWith(".java")).sorted().toList();
    }
  }

  private static List<String> offenders(Path dir, Pattern pattern, Path allowed)
      throws IOException {
    List<String> found = new ArrayList<>();
    for (Path f : sources(dir)) {
      if (allowed != null && f.startsWith(allowed)) {
        continue;
      }
      if (pattern.matcher(Files.readString(f)).find()) {
        found.add(root().relativize(f).toString());
      }
    }
    return found;
  }

  @Test
  void onlyTheFsPackageUsesJna() throws IOException {
    Path main = root().resolve("daemon/src/main/java");
    Path fs = main.resolve("dev/filebroker/daemon/fs");
    assertEquals(List.of(), offenders(main, JNA, fs));
    assertEquals(List.of(), offenders(root().resolve("client/src/main/java"), JNA, null));
  }

  @Test
  void policyIsPureJavaWithoutServerOrFilesystemCode() throws IOException {
    Path policy = root().resolve("daemon/src/main/java/dev/filebroker/daemon/policy");
    Pattern forbidden =
        Pattern.compile(
            "^import"
                + " (com\\.sun\\.jna|org\\.newsclub|dev\\.filebroker\\.daemon\\.(server|fs|lifecycle|cli))",
            Pattern.MULTILINE);
    assertEquals(List.of(), offenders(policy, forbidden, null));
  }

  @Test
  void clientLibraryDoesNotDependOnTheDaemon() throws IOException {
    Pattern forbidden = Pattern.compile("^import dev\\.filebroker\\.daemon", Pattern.MULTILINE);
    assertEquals(List.of(), offenders(root().resolve("client/src/main/java"), forbidden, null));
  }
}
