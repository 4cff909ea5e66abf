package dev.filebroker.daemon.toml;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;

class KeyNamesTest {
  private static final List<String> WORDS = List.of("read", "write", "append", "truncate");
  private static final List<String> KEYS = List.of("max_connections", "max_connections_per_uid");

  @Test
  void suggestsTheClosestWordForATypo() {
    assertEquals(Optional.of("read"), KeyNames.closest("reed", WORDS));
    assertEquals(Optional.of("write"), KeyNames.closest("wirte", WORDS), "a swap is one edit");
  }

  @Test
  void guessesNothingForAWordUnlikeAnyValidOne() {
    assertEquals(Optional.empty(), KeyNames.closest("rw", WORDS));
    assertEquals(Optional.empty(), KeyNames.closest("execute", WORDS));
  }

  @Test
  void ignoresCase() {
    assertEquals(Optional.of("read"), KeyNames.closest("READ", WORDS));
    assertEquals(Optional.of("max_connections"), KeyNames.closest("Max_Conections", KEYS));
  }

  @Test
  void guessesNothingForAShortKeyTwoEditsAway() {
    assertEquals(Optional.empty(), KeyNames.closest("id", List.of("uids")));
    assertEquals(Optional.of("uids"), KeyNames.closest("uid", List.of("uids")));
  }
}
