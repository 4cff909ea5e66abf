package dev.filebroker.daemon.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;

class DidYouMeanTest {
  private static final List<String> WORDS = List.of("read", "write", "append", "truncate");

  @Test
  void suggestsTheClosestWordForATypo() {
    assertEquals(Optional.of("read"), DidYouMean.closest("reed", WORDS));
    assertEquals(Optional.of("write"), DidYouMean.closest("wirte", WORDS), "a swap is one edit");
  }

  @Test
  void guessesNothingForAWordUnlikeAnyValidOne() {
    assertEquals(Optional.empty(), DidYouMean.closest("rw", WORDS));
    assertEquals(Optional.empty(), DidYouMean.closest("execute", WORDS));
  }
}
