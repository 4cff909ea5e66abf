package dev.filebroker.daemon.toml;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.junit.jupiter.api.Test;
import org.tomlj.Toml;
import org.tomlj.TomlParseError;
import org.tomlj.TomlPosition;

class TomlTextTest {
  @Test
  void validTextGivesItsTables() {
    TomlText.Parsed parsed = TomlText.parse("[limits]\nmax_connections = 5\n");
    TomlText.Parsed.Valid valid = assertInstanceOf(TomlText.Parsed.Valid.class, parsed);
    assertEquals(5L, valid.toml().getLong("limits.max_connections"));
  }

  @Test
  void everyRecordedErrorIsAProblemWithItsPosition() {
    TomlText.Parsed parsed = TomlText.parse("[x\n[y\n");
    TomlText.Parsed.Invalid invalid = assertInstanceOf(TomlText.Parsed.Invalid.class, parsed);
    assertEquals(List.of(1, 2), invalid.problems().stream().map(p -> p.position().line()).toList());
    assertTrue(invalid.problems().stream().allMatch(p -> !p.message().isEmpty()));
  }

  /** A short unicode escape in a table header, for which tomlj throws instead of recording. */
  private static final String THROWN = "[\"\\u12\"]\n";

  @Test
  void anErrorTomljThrowsIsAProblemToo() {
    assertThrows(TomlParseError.class, () -> Toml.parse(THROWN), "tomlj still throws here");
    TomlText.Parsed parsed = TomlText.parse(THROWN);
    TomlText.Parsed.Invalid invalid = assertInstanceOf(TomlText.Parsed.Invalid.class, parsed);
    assertEquals(1, invalid.problems().size());
    assertEquals(1, invalid.problems().get(0).position().line());
  }

  @Test
  void anInvalidResultNeedsAtLeastOneProblem() {
    IllegalArgumentException e =
        assertThrows(IllegalArgumentException.class, () -> new TomlText.Parsed.Invalid(List.of()));
    assertEquals("problems must not be empty", e.getMessage());
  }

  @Test
  void aProblemNeedsAPositionAndAMessage() {
    NullPointerException noPosition =
        assertThrows(NullPointerException.class, () -> new TomlText.Problem(null, "x"));
    assertEquals("position == null", noPosition.getMessage());
    NullPointerException noMessage =
        assertThrows(
            NullPointerException.class,
            () -> new TomlText.Problem(TomlPosition.positionAt(1, 1), null));
    assertEquals("message == null", noMessage.getMessage());
  }
}
