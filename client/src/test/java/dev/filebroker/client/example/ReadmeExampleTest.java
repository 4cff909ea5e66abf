package dev.filebroker.client.example;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;

/**
 * The Java example of README.md is {@link PrintFile}, which compiles with the tests: the README's
 * code block must be that file, from its first import on.
 */
class ReadmeExampleTest {
  private static String readmeExample() throws IOException {
    String readme = Files.readString(Path.of("..", "README.md"));
    int section = readme.indexOf("\n## Using it from Java\n");
    int start = readme.indexOf("```java\n", section) + "```java\n".length();
    int end = readme.indexOf("```\n", start);
    return readme.substring(start, end);
  }

  @Test
  void theReadmesJavaExampleIsTheCompiledExample() throws IOException {
    String source =
        Files.readString(Path.of("src/test/java/dev/filebroker/client/example/PrintFile.java"));
    assertEquals(source.substring(source.indexOf("import ")), readmeExample());
  }
}
