package dev.filebroker.daemon.audit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class WriterPacingTest {
  private static List<Long> idleSleeps(WriterPacing pacing, int looks) {
    List<Long> sleeps = new ArrayList<>();
    for (int i = 0; i < looks; i++) {
      sleeps.add(pacing.afterNothing());
    }
    return sleeps;
  }

  @Test
  void idleSleepsDoubleFromTheShortestUpToTheLongest() {
    WriterPacing pacing = new WriterPacing(1, 64);
    assertEquals(List.of(1L, 2L, 4L, 8L, 16L, 32L, 64L, 64L, 64L), idleSleeps(pacing, 9));
  }

  @Test
  void aBatchSleepsTheShortestAndIdleSleepsGrowAgainFromThere() {
    WriterPacing pacing = new WriterPacing(1, 64);
    idleSleeps(pacing, 20);
    assertEquals(1, pacing.afterLines());
    assertEquals(1, pacing.afterLines());
    assertEquals(List.of(1L, 2L, 4L), idleSleeps(pacing, 3));
  }

  @Test
  void aLongestThatIsNoPowerOfTwoTimesTheShortestIsStillTheCap() {
    WriterPacing pacing = new WriterPacing(3, 10);
    assertEquals(List.of(3L, 6L, 10L, 10L), idleSleeps(pacing, 4));
  }

  @Test
  void theLongestCanBeTheLargestLong() {
    WriterPacing pacing = new WriterPacing(1L << 61, Long.MAX_VALUE);
    assertEquals(
        List.of(1L << 61, 1L << 62, Long.MAX_VALUE, Long.MAX_VALUE), idleSleeps(pacing, 4));
  }

  @Test
  void boundsOutOfOrderAreRefused() {
    assertThrows(IllegalArgumentException.class, () -> new WriterPacing(0, 10));
    assertThrows(IllegalArgumentException.class, () -> new WriterPacing(10, 9));
  }
}
