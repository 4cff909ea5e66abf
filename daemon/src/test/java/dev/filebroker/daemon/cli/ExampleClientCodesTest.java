package dev.filebroker.daemon.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.filebroker.protocol.ErrorCode;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/**
 * The example clients name every error code of the protocol as the library does, so that a code
 * added to {@link ErrorCode} without them shows up here, not as "UNKNOWN" on a user's terminal.
 * ExampleClientsIT runs both clients against a real daemon.
 */
class ExampleClientCodesTest {
  private static final Path HOME =
      Path.of(System.getProperty("filebroker.home", "..")).toAbsolutePath().normalize();

  private static Map<Integer, String> expected() {
    Map<Integer, String> names = new TreeMap<>();
    for (ErrorCode code : ErrorCode.values()) {
      names.put(code.code(), code.name());
    }
    return names;
  }

  @Test
  void theCClientNamesEveryCode() throws IOException {
    String source = Files.readString(HOME.resolve("examples/c/fbopen.c"));
    Map<Integer, String> names = new TreeMap<>();
    List<String> ordinary = strings(array(source, "NAMES"));
    for (int i = 1; i < ordinary.size(); i++) {
      names.put(i, ordinary.get(i));
    }
    List<String> protocol = strings(array(source, "PROTOCOL_NAMES"));
    for (int i = 0; i < protocol.size(); i++) {
      names.put(100 + i, protocol.get(i));
    }
    assertEquals(expected(), names);
  }

  @Test
  void thePythonClientNamesEveryCode() throws IOException {
    String source = Files.readString(HOME.resolve("examples/python/fbopen.py"));
    int start = source.indexOf("ERROR_NAMES = {");
    String dict = source.substring(start, source.indexOf('}', start));
    Map<Integer, String> names = new TreeMap<>();
    Matcher m = Pattern.compile("(\\d+): \"([A-Z_]+)\"").matcher(dict);
    while (m.find()) {
      names.put(Integer.parseInt(m.group(1)), m.group(2));
    }
    assertEquals(expected(), names);
  }

  /** The text between the braces of {@code static const char *const NAME[] = {...};}. */
  private static String array(String source, String name) {
    Matcher m =
        Pattern.compile("\\*const " + name + "\\[\\] = \\{([^}]*)\\}", Pattern.DOTALL)
            .matcher(source);
    if (!m.find()) {
      throw new AssertionError("no array " + name + " in fbopen.c");
    }
    return m.group(1);
  }

  private static List<String> strings(String text) {
    List<String> out = new ArrayList<>();
    Matcher m = Pattern.compile("\"([^\"]*)\"").matcher(text);
    while (m.find()) {
      out.add(m.group(1));
    }
    return out;
  }
}
