package dev.filebroker.daemon.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SandboxLoaderCacheTest {
  @TempDir Path dir;

  /** A cache with entries of (flags, name, path), in glibc-ld.so.cache1.1 layout. */
  private static byte[] cache(Object... entries) {
    int count = entries.length / 3;
    int strings = 48 + count * 24;
    ByteBuffer b = ByteBuffer.allocate(strings + 4096).order(ByteOrder.LITTLE_ENDIAN);
    b.put("glibc-ld.so.cache1.1".getBytes(StandardCharsets.US_ASCII));
    b.putInt(20, count);
    int at = strings;
    for (int i = 0; i < count; i++) {
      int entry = 48 + i * 24;
      b.putInt(entry, (Integer) entries[3 * i]);
      byte[] key = ((String) entries[3 * i + 1]).getBytes(StandardCharsets.UTF_8);
      byte[] value = ((String) entries[3 * i + 2]).getBytes(StandardCharsets.UTF_8);
      b.putInt(entry + 4, at);
      b.put(at, key);
      at += key.length + 1;
      b.putInt(entry + 8, at);
      b.put(at, value);
      at += value.length + 1;
    }
    byte[] out = new byte[at];
    b.get(0, out);
    return out;
  }

  @Test
  void givesEveryPathOfTheMachinesArchitectureOnly() throws IOException {
    Path file =
        Files.write(
            dir.resolve("ld.so.cache"),
            cache(
                0x0303,
                "libz.so.1",
                "/lib/x86_64-linux-gnu/libz.so.1",
                0x0a03,
                "libz.so.1",
                "/lib/aarch64-linux-gnu/libz.so.1",
                0x0303,
                "libz.so.1",
                "/lib/x86_64-linux-gnu/glibc-hwcaps/x86-64-v3/libz.so.1"));
    SandboxLoaderCache x86 = SandboxLoaderCache.read(file, 62);
    assertEquals(
        List.of(
            "/lib/x86_64-linux-gnu/libz.so.1",
            "/lib/x86_64-linux-gnu/glibc-hwcaps/x86-64-v3/libz.so.1"),
        x86.lookup("libz.so.1"));
    assertEquals(
        List.of("/lib/aarch64-linux-gnu/libz.so.1"),
        SandboxLoaderCache.read(file, 183).lookup("libz.so.1"));
    assertEquals(List.of(), x86.lookup("libc.so.6"));
  }

  @Test
  void anotherFormatIsAnEmptyCache() throws IOException {
    Path file = Files.write(dir.resolve("old"), "ld.so-1.7.0\0\0\0\0\0".repeat(4).getBytes());
    assertEquals(List.of(), SandboxLoaderCache.read(file, 62).lookup("libc.so.6"));
  }

  @Test
  void entriesBeyondTheFileAreAnError() throws IOException {
    byte[] bytes = cache(0x0303, "libz.so.1", "/lib/libz.so.1");
    ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN).putInt(20, 1000);
    Path file = Files.write(dir.resolve("bad"), bytes);
    var e = assertThrows(IOException.class, () -> SandboxLoaderCache.read(file, 62));
    assertEquals("loader cache entries outside the file", e.getMessage());
  }

  @Test
  void thisMachinesCacheFindsTheCLibrary() throws IOException {
    int machine = SandboxElf.read(Path.of("/bin/sh")).orElseThrow().machine();
    SandboxLoaderCache real = SandboxLoaderCache.read(SandboxLoaderCache.PATH, machine);
    assertFalse(real.lookup("libc.so.6").isEmpty());
  }
}
