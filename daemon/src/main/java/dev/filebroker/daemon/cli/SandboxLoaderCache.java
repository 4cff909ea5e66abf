package dev.filebroker.daemon.cli;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The library names and paths of glibc's {@code /etc/ld.so.cache} (the "glibc-ld.so.cache1.1"
 * format, which ldconfig has written alone since glibc 2.32), for one architecture: where the
 * dynamic loader finds a library that neither an RPATH, $LD_LIBRARY_PATH nor a RUNPATH names.
 */
final class SandboxLoaderCache {
  /** The cache the loader reads. */
  static final Path PATH = Path.of("/etc/ld.so.cache");

  private static final byte[] MAGIC = "glibc-ld.so.cache1.1".getBytes(StandardCharsets.US_ASCII);
  private static final int HEADER_SIZE = 48;
  private static final int ENTRY_SIZE = 24;

  /** The largest cache read; real ones are tens of kilobytes. */
  private static final long MAX_SIZE = 64L << 20;

  /** FLAG_ELF_LIBC6 in the low byte, the architecture's flag in the next. */
  private static final int FLAG_TYPE_MASK = 0x00ff;

  private static final int FLAG_ELF_LIBC6 = 0x0003;
  private static final int FLAG_ARCH_MASK = 0xff00;
  private static final int FLAG_X8664_LIB64 = 0x0300;
  private static final int FLAG_AARCH64_LIB64 = 0x0a00;
  private static final int EM_X86_64 = 62;
  private static final int EM_AARCH64 = 183;

  private final Map<String, List<String>> paths;

  private SandboxLoaderCache(Map<String, List<String>> paths) {
    this.paths = paths;
  }

  /** A cache with no entries, for a machine without one or with a format this does not read. */
  static SandboxLoaderCache empty() {
    return new SandboxLoaderCache(Map.of());
  }

  /** Every path the cache gives for {@code name} (hardware-capability variants included). */
  List<String> lookup(String name) {
    return paths.getOrDefault(name, List.of());
  }

  /**
   * Reads {@code cache} for ELF files of {@code machine}; empty when the file is missing, in
   * another format, or the machine is neither x86-64 nor arm64.
   *
   * @throws IOException when it cannot be read or its entries point outside it
   */
  static SandboxLoaderCache read(Path cache, int machine) throws IOException {
    int arch =
        switch (machine) {
          case EM_X86_64 -> FLAG_X8664_LIB64;
          case EM_AARCH64 -> FLAG_AARCH64_LIB64;
          default -> -1;
        };
    if (arch < 0 || !Files.isRegularFile(cache) || Files.size(cache) > MAX_SIZE) {
      return empty();
    }
    ByteBuffer bytes = ByteBuffer.wrap(Files.readAllBytes(cache)).order(ByteOrder.LITTLE_ENDIAN);
    if (bytes.capacity() < HEADER_SIZE
        || !bytes.slice(0, MAGIC.length).equals(ByteBuffer.wrap(MAGIC))) {
      return empty();
    }
    long count = Integer.toUnsignedLong(bytes.getInt(20));
    if (HEADER_SIZE + count * ENTRY_SIZE > bytes.capacity()) {
      throw new IOException("loader cache entries outside the file");
    }
    Map<String, List<String>> paths = new LinkedHashMap<>();
    for (int i = 0; i < count; i++) {
      int entry = HEADER_SIZE + i * ENTRY_SIZE;
      int flags = bytes.getInt(entry);
      if ((flags & FLAG_TYPE_MASK) != FLAG_ELF_LIBC6 || (flags & FLAG_ARCH_MASK) != arch) {
        continue;
      }
      String key = string(bytes, Integer.toUnsignedLong(bytes.getInt(entry + 4)));
      String value = string(bytes, Integer.toUnsignedLong(bytes.getInt(entry + 8)));
      paths.computeIfAbsent(key, k -> new ArrayList<>()).add(value);
    }
    paths.replaceAll((k, v) -> List.copyOf(v));
    return new SandboxLoaderCache(Map.copyOf(paths));
  }

  /** The NUL-terminated string at {@code offset} from the start of the cache. */
  private static String string(ByteBuffer bytes, long offset) throws IOException {
    if (offset >= bytes.capacity()) {
      throw new IOException("loader cache string outside the file");
    }
    int start = (int) offset;
    int end = start;
    while (end < bytes.capacity() && bytes.get(end) != 0) {
      end++;
    }
    if (end == bytes.capacity()) {
      throw new IOException("unterminated loader cache string");
    }
    byte[] text = new byte[end - start];
    bytes.get(start, text);
    return new String(text, StandardCharsets.UTF_8);
  }
}
