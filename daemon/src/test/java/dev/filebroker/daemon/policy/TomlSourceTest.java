package dev.filebroker.daemon.policy;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.Test;
import org.tomlj.TomlPosition;

class TomlSourceTest {
  private final TomlSource source =
      new TomlSource("users = [\n  # a comment\n\n   \"alice\",\n]\ncreate_mode = 0o640 # x\n");

  @Test
  void skipsBlanksNewlinesAndCommentsToTheValue() {
    assertEquals(TomlPosition.positionAt(4, 4), source.valueAt(TomlPosition.positionAt(1, 10)));
  }

  @Test
  void keepsPositionThatIsAlreadyAValue() {
    assertEquals(TomlPosition.positionAt(4, 4), source.valueAt(TomlPosition.positionAt(4, 4)));
  }

  @Test
  void readsValueTextAfterKey() {
    assertEquals("0o640 # x", source.valueTextAfterKey(TomlPosition.positionAt(6, 1)));
    assertEquals("", source.valueTextAfterKey(TomlPosition.positionAt(99, 1)));
  }
}
