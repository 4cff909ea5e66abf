package dev.filebroker.daemon.policy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * A short unicode escape makes tomlj throw instead of reporting an error (found by fuzzing): the
 * loader must still answer with a positioned error, never an exception.
 */
class MalformedEscapeTest {
  @TempDir Path dir;

  @Test
  void aShortUnicodeEscapeIsAPolicyErrorNotAnException() throws IOException {
    Path file = Files.writeString(dir.resolve("a.toml"), "[[allow]]\nname = \"x\\u12\"\n");
    var invalid = assertInstanceOf(PolicyLoad.Invalid.class, PolicyLoader.load(file));
    assertEquals(1, invalid.errors().size());
    String error = invalid.errors().get(0).toString();
    assertTrue(error.startsWith(file + ":2:"), error);
    assertTrue(error.contains("invalid TOML"), error);
  }

  /**
   * Escapes of surrogates are not TOML (only Unicode scalar values may be escaped): a pair must not
   * be read as the character it would encode in UTF-16, nor a lone one as anything.
   */
  @ParameterizedTest
  @ValueSource(strings = {"\\uD83D\\uDE00", "\\uDFFF", "\\U0000D800"})
  void aSurrogateEscapeIsRefusedWithItsPosition(String escape) throws IOException {
    Path file =
        Files.writeString(
            dir.resolve("a.toml"),
            "[[allow]]\nname = \"x"
                + escape
                + "\"\nusers = [0]\npaths = [\"/a\"]\n"
                + "access = [\"read\"]\n");
    var invalid = assertInstanceOf(PolicyLoad.Invalid.class, PolicyLoader.load(file));
    assertEquals(1, invalid.errors().size(), invalid.errors().toString());
    String error = invalid.errors().get(0).toString();
    assertTrue(
        error.matches(java.util.regex.Pattern.quote(file + ":2:") + "[0-9]+: invalid TOML: .*"),
        error);
  }
}
