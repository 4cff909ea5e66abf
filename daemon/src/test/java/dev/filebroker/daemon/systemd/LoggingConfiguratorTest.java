package dev.filebroker.daemon.systemd;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * The built-in logging configuration against its written-out form, config/logback.xml, in child
 * JVMs: the same lines, and no XML machinery loaded unless a file is named.
 */
@Timeout(120)
class LoggingConfiguratorTest {
  @TempDir Path dir;

  private static Path exampleFile() {
    for (Path p = Path.of("").toAbsolutePath(); p != null; p = p.getParent()) {
      if (Files.isRegularFile(p.resolve("config/logback.xml"))) {
        return p.resolve("config/logback.xml");
      }
    }
    throw new IllegalStateException("config/logback.xml not found above the working directory");
  }

  @Test
  void writesTheSameJournalLinesAsTheExampleFile() throws Exception {
    List<String> builtIn = LoggingProbe.run(true);
    List<String> fromFile = LoggingProbe.run(true, "-Dlogback.configurationFile=" + exampleFile());
    assertEquals(fromFile, builtIn);
    assertEquals(4, builtIn.size(), "three messages and one audit line: " + builtIn);
  }

  @Test
  void writesTheSameTerminalLinesAsTheExampleFileApartFromTheTime() throws Exception {
    List<String> builtIn = withoutTimestamps(LoggingProbe.run(false));
    List<String> fromFile =
        withoutTimestamps(LoggingProbe.run(false, "-Dlogback.configurationFile=" + exampleFile()));
    assertEquals(fromFile, builtIn);
  }

  @Test
  void loadsNoXmlParserWithoutAConfigurationFile() throws IOException, InterruptedException {
    Path classes = dir.resolve("classes.txt");
    LoggingProbe.run(false, "-Xlog:class+load=info:file=" + classes);
    String loaded = Files.readString(classes);
    assertTrue(loaded.contains("ch.qos.logback.classic.LoggerContext"), "Logback was used");
    assertFalse(
        loaded.contains("ch.qos.logback.core.joran.GenericXMLConfigurator"),
        "Logback's XML configurator is not loaded");
    assertFalse(loaded.contains("javax.xml.parsers."), "no XML parser is loaded");
  }

  @Test
  void stepsAsideForAnAdministratorsFile() throws Exception {
    Path file =
        Files.writeString(
            dir.resolve("logback.xml"),
            """
            <configuration>
              <appender name="OUT" class="ch.qos.logback.core.ConsoleAppender">
                <encoder><pattern>custom %level %msg%n</pattern></encoder>
              </appender>
              <root level="WARN"><appender-ref ref="OUT"/></root>
            </configuration>
            """);
    List<String> lines = LoggingProbe.run(true, "-Dlogback.configurationFile=" + file);
    assertEquals(
        List.of(
            "custom WARN Could not read policy file: x.toml", "custom ERROR Could not bind socket"),
        lines);
  }

  private static List<String> withoutTimestamps(List<String> lines) {
    return lines.stream().map(l -> l.replaceFirst("^\\d{4}-\\d\\d-\\d\\dT[^ ]* ", "")).toList();
  }
}
