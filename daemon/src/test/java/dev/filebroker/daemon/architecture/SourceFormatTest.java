package dev.filebroker.daemon.architecture;

import static org.junit.jupiter.api.Assertions.assertEquals;

import com.google.googlejavaformat.java.Formatter;
import com.google.googlejavaformat.java.FormatterException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * Every Java source of the repository is formatted as google-java-format formats it, so a diff
 * never mixes style with substance. {@code ./format} fixes what this test reports.
 */
class SourceFormatTest {
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

  @Test
  void everySourceIsFormatted() throws IOException, FormatterException {
    Path root = root();
    List<Path> sources;
    try (Stream<Path> walk = Files.walk(root)) {
      sources =
          walk.filter(p -> p.toString().endsWith(".java"))
              .filter(p -> !root.relativize(p).toString().contains("/target/"))
              .filter(p -> root.relativize(p).toString().contains("/src/"))
              .sorted()
              .toList();
    }
    Formatter formatter = new Formatter();
    List<String> unformatted = new ArrayList<>();
    for (Path source : sources) {
      String text = Files.readString(source);
      if (!formatter.formatSourceAndFixImports(text).equals(text)) {
        unformatted.add(root.relativize(source).toString());
      }
    }
    assertEquals(List.of(), unformatted, "run ./format to fix these files");
  }
}
