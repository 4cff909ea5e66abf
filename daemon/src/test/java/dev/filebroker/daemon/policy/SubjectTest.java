package dev.filebroker.daemon.policy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;

class SubjectTest {
  private static Caller caller(int uid, int gid, Integer... groups) {
    return new Caller(1, uid, gid, List.of(groups), Optional.empty(), Optional.empty());
  }

  @Test
  void groupMatchesPrimaryOrSupplementary() {
    Subject users = new Subject.Group(100, Optional.of("users"));
    assertTrue(users.matches(caller(1000, 100)));
    assertTrue(users.matches(caller(1000, 1000, 100)));
    assertFalse(users.matches(caller(100, 1000)));
  }

  @Test
  void userMatchesUidOnly() {
    Subject nobody = new Subject.User(65534, Optional.empty());
    assertTrue(nobody.matches(caller(65534, 0)));
    assertFalse(nobody.matches(caller(0, 65534, 65534)));
  }

  @Test
  void idsAboveIntegerMaxAreUnsigned() {
    Subject high = new Subject.User((int) 4_000_000_000L, Optional.empty());
    assertTrue(high.matches(caller((int) 4_000_000_000L, 0)));
    assertEquals("user 4000000000", high.toString());
    IllegalArgumentException thrown =
        assertThrows(IllegalArgumentException.class, () -> new Subject.User(-1, Optional.empty()));
    assertEquals("uid 4294967295 is not a valid uid", thrown.getMessage());
  }

  @Test
  void describesItselfAsWritten() {
    assertEquals("user root (0)", new Subject.User(0, Optional.of("root")).toString());
    assertEquals("group 44", new Subject.Group(44, Optional.empty()).toString());
    assertEquals("anyone", new Subject.Anyone().toString());
  }
}
