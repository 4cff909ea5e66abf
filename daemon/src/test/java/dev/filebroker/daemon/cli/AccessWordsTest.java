package dev.filebroker.daemon.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.filebroker.client.Access;
import java.util.Set;
import org.junit.jupiter.api.Test;

@SuppressWarnings("deprecation") // Access, as AccessWords
class AccessWordsTest {
  @Test
  void wordsWithAnAccessReplaceTheDefaults() {
    AccessWords words = AccessWords.parse("write", AccessWords.REPLACE, true);
    assertEquals(Set.of(Access.WRITE), words.access());
    assertEquals("write", words.text());
  }

  @Test
  void wordsWithOptionsOnlyAddToTheDefaults() {
    AccessWords words = AccessWords.parse("pipe", AccessWords.REPLACE, true);
    assertEquals(Set.of(Access.WRITE, Access.CREATE, Access.TRUNCATE), words.access());
    assertTrue(words.pipe());
    assertEquals("write,create,truncate,pipe", words.text());
  }

  @Test
  void exclusiveImpliesCreate() {
    AccessWords words = AccessWords.parse("write,exclusive", AccessWords.READ, false);
    assertEquals(Set.of(Access.WRITE, Access.CREATE, Access.EXCLUSIVE), words.access());
    assertEquals("write,exclusive", words.text());
  }

  @Test
  void unknownWordIsNamedWithTheValidOnes() {
    AccessWords.InvalidWordsException e =
        assertThrows(
            AccessWords.InvalidWordsException.class,
            () -> AccessWords.parse("rw", AccessWords.READ, true));
    assertEquals(
        "unknown access 'rw'; expected one of read, write, read-write, append, create, truncate,"
            + " exclusive, pipe",
        e.getMessage());
  }

  @Test
  void pipeIsUnknownWhereNothingRelays() {
    AccessWords.InvalidWordsException e =
        assertThrows(
            AccessWords.InvalidWordsException.class,
            () -> AccessWords.parse("read,pipe", AccessWords.READ, false));
    assertEquals(
        "unknown access 'pipe'; expected one of read, write, read-write, append, create, truncate,"
            + " exclusive",
        e.getMessage());
  }

  @Test
  void createWithoutAWriteAccessIsRefusedInWords() {
    AccessWords.InvalidWordsException e =
        assertThrows(
            AccessWords.InvalidWordsException.class,
            () -> AccessWords.parse("create", AccessWords.READ, true));
    assertEquals("'create' needs write, read-write or append (given: read,create)", e.getMessage());
  }

  @Test
  void aPipeCarriesOneDirection() {
    assertThrows(
        AccessWords.InvalidWordsException.class,
        () -> AccessWords.parse("read-write,pipe", AccessWords.READ, true));
    AccessWords append = AccessWords.parse("append,pipe", AccessWords.READ, true);
    assertTrue(append.writes());
    assertFalse(append.reads());
  }

  @Test
  void emptyWordIsRefused() {
    assertThrows(
        AccessWords.InvalidWordsException.class,
        () -> AccessWords.parse("read,,write", AccessWords.READ, true));
  }
}
