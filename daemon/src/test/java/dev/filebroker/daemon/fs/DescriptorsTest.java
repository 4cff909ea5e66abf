package dev.filebroker.daemon.fs;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.FileDescriptor;
import java.io.FileInputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class DescriptorsTest {
  @TempDir Path temp;

  @Test
  void readsNumberOfStandardDescriptors() {
    assertEquals(0, Descriptors.fdOf(FileDescriptor.in));
    assertEquals(1, Descriptors.fdOf(FileDescriptor.out));
    assertEquals(2, Descriptors.fdOf(FileDescriptor.err));
  }

  @Test
  void reportsInvalidDescriptorAsMinusOne() {
    assertEquals(-1, Descriptors.fdOf(new FileDescriptor()));
  }

  @Test
  void wrapsNumberReadableByStreams() throws IOException {
    Path file = Files.writeString(temp.resolve("data"), "abc");
    try (FileInputStream original = new FileInputStream(file.toFile())) {
      int copy = LibC.dup(Descriptors.fdOf(original.getFD()));
      assertTrue(copy >= 0, "dup: " + Errno.name(-copy));
      FileDescriptor wrapped = Descriptors.wrap(copy);
      assertEquals(copy, Descriptors.fdOf(wrapped));
      assertTrue(wrapped.valid());
      try (FileInputStream in = new FileInputStream(wrapped)) {
        assertEquals("abc", new String(in.readAllBytes(), StandardCharsets.US_ASCII));
      }
    }
  }

  @Test
  void refusesNegativeNumber() {
    IllegalArgumentException e =
        assertThrows(IllegalArgumentException.class, () -> Descriptors.wrap(-1));
    assertEquals("fd < 0: -1", e.getMessage());
  }

  @Test
  void countsOpenAndClosedDescriptors() throws IOException {
    Path file = Files.writeString(temp.resolve("data"), "abc");
    int before = Descriptors.openDescriptorCount();
    assertTrue(before >= 3, "stdin, stdout and stderr at least: " + before);
    try (FileInputStream in = new FileInputStream(file.toFile())) {
      assertEquals(before + 1, Descriptors.openDescriptorCount());
      int copy = LibC.dup(Descriptors.fdOf(in.getFD()));
      assertEquals(before + 2, Descriptors.openDescriptorCount());
      Descriptors.close(copy);
    }
    assertEquals(before, Descriptors.openDescriptorCount());
  }
}
