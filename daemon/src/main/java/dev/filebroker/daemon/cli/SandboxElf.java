package dev.filebroker.daemon.cli;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * What the dynamic loader reads from a 64-bit little-endian ELF file to start it: the program
 * interpreter (PT_INTERP), the libraries it needs (DT_NEEDED) and where to look for them (DT_RPATH,
 * DT_RUNPATH), so that a sandbox can allow exactly those files. Only the headers and the dynamic
 * section are read, with every offset and size checked against the file.
 *
 * @param machine e_machine (62 x86-64, 183 arm64)
 * @param interpreter PT_INTERP, for a dynamically linked program
 * @param needed DT_NEEDED names, in order
 * @param rpath DT_RPATH directories (used only when there is no DT_RUNPATH)
 * @param runpath DT_RUNPATH directories
 */
record SandboxElf(
    int machine,
    Optional<String> interpreter,
    List<String> needed,
    List<String> rpath,
    List<String> runpath) {
  private static final int PT_LOAD = 1;
  private static final int PT_DYNAMIC = 2;
  private static final int PT_INTERP = 3;
  private static final long DT_NULL = 0;
  private static final long DT_NEEDED = 1;
  private static final long DT_STRTAB = 5;
  private static final long DT_STRSZ = 10;
  private static final long DT_RPATH = 15;
  private static final long DT_RUNPATH = 29;
  private static final int PHDR_SIZE = 56;
  private static final int DYN_SIZE = 16;

  /** The longest string read (a path or a library name): PATH_MAX. */
  private static final int MAX_STRING = 4096;

  /** The largest dynamic section read: real ones are a few hundred bytes. */
  private static final long MAX_DYNAMIC = 1 << 20;

  /**
   * Reads {@code file}; empty when it is not a 64-bit little-endian ELF file.
   *
   * @throws IOException when it cannot be read, or its headers point outside it
   */
  static Optional<SandboxElf> read(Path file) throws IOException {
    try (FileChannel channel = FileChannel.open(file, StandardOpenOption.READ)) {
      long size = channel.size();
      if (size < 64) {
        return Optional.empty();
      }
      ByteBuffer header = readAt(channel, 0, 64);
      if (header.getInt(0) != 0x464c457f || header.get(4) != 2 || header.get(5) != 1) {
        return Optional.empty(); // "\177ELF", ELFCLASS64, ELFDATA2LSB
      }
      int machine = Short.toUnsignedInt(header.getShort(18));
      long phoff = header.getLong(32);
      int phentsize = Short.toUnsignedInt(header.getShort(54));
      int phnum = Short.toUnsignedInt(header.getShort(56));
      if (phnum == 0) {
        return Optional.of(
            new SandboxElf(machine, Optional.empty(), List.of(), List.of(), List.of()));
      }
      if (phentsize != PHDR_SIZE || phoff < 0 || phoff + (long) phnum * PHDR_SIZE > size) {
        throw new IOException("program headers outside the file");
      }
      ByteBuffer phdrs = readAt(channel, phoff, phnum * PHDR_SIZE);
      Optional<String> interpreter = Optional.empty();
      List<long[]> loads = new ArrayList<>(); // vaddr, offset, filesz
      long dynOffset = -1;
      long dynSize = 0;
      for (int i = 0; i < phnum; i++) {
        int base = i * PHDR_SIZE;
        int type = phdrs.getInt(base);
        long offset = phdrs.getLong(base + 8);
        long vaddr = phdrs.getLong(base + 16);
        long filesz = phdrs.getLong(base + 32);
        if (offset < 0 || filesz < 0 || offset + filesz > size) {
          throw new IOException("segment outside the file");
        }
        switch (type) {
          case PT_INTERP -> interpreter = Optional.of(string(channel, offset, filesz));
          case PT_LOAD -> loads.add(new long[] {vaddr, offset, filesz});
          case PT_DYNAMIC -> {
            dynOffset = offset;
            dynSize = Math.min(filesz, MAX_DYNAMIC);
          }
          default -> {}
        }
      }
      if (dynOffset < 0) {
        return Optional.of(new SandboxElf(machine, interpreter, List.of(), List.of(), List.of()));
      }
      ByteBuffer dynamic = readAt(channel, dynOffset, (int) dynSize);
      List<Long> neededAt = new ArrayList<>();
      long strtab = -1;
      long strsz = 0;
      long rpathAt = -1;
      long runpathAt = -1;
      for (int at = 0; at + DYN_SIZE <= dynSize; at += DYN_SIZE) {
        long tag = dynamic.getLong(at);
        long value = dynamic.getLong(at + 8);
        if (tag == DT_NULL) {
          break;
        } else if (tag == DT_NEEDED) {
          neededAt.add(value);
        } else if (tag == DT_STRTAB) {
          strtab = value;
        } else if (tag == DT_STRSZ) {
          strsz = value;
        } else if (tag == DT_RPATH) {
          rpathAt = value;
        } else if (tag == DT_RUNPATH) {
          runpathAt = value;
        }
      }
      if (neededAt.isEmpty() && rpathAt < 0 && runpathAt < 0) {
        return Optional.of(new SandboxElf(machine, interpreter, List.of(), List.of(), List.of()));
      }
      long strOffset = fileOffset(loads, strtab);
      if (strOffset < 0 || strsz <= 0 || strOffset + strsz > size) {
        throw new IOException("string table outside the file");
      }
      List<String> needed = new ArrayList<>();
      for (long n : neededAt) {
        needed.add(tableString(channel, strOffset, strsz, n));
      }
      List<String> rpath =
          rpathAt < 0 ? List.of() : split(tableString(channel, strOffset, strsz, rpathAt));
      List<String> runpath =
          runpathAt < 0 ? List.of() : split(tableString(channel, strOffset, strsz, runpathAt));
      return Optional.of(new SandboxElf(machine, interpreter, List.copyOf(needed), rpath, runpath));
    }
  }

  /** The file offset of virtual address {@code vaddr}, through the PT_LOAD segments; -1 if none. */
  private static long fileOffset(List<long[]> loads, long vaddr) {
    for (long[] load : loads) {
      if (vaddr >= load[0] && vaddr - load[0] < load[2]) {
        return load[1] + (vaddr - load[0]);
      }
    }
    return -1;
  }

  private static String tableString(FileChannel channel, long table, long tableSize, long index)
      throws IOException {
    if (index < 0 || index >= tableSize) {
      throw new IOException("string outside the string table");
    }
    return string(channel, table + index, tableSize - index);
  }

  /** The NUL-terminated string at {@code offset}, within {@code limit} bytes. */
  private static String string(FileChannel channel, long offset, long limit) throws IOException {
    int length = (int) Math.min(limit, MAX_STRING);
    ByteBuffer bytes = readAt(channel, offset, length);
    int end = 0;
    while (end < length && bytes.get(end) != 0) {
      end++;
    }
    if (end == length) {
      throw new IOException("unterminated string");
    }
    byte[] text = new byte[end];
    bytes.get(0, text);
    return new String(text, StandardCharsets.UTF_8);
  }

  /** A colon-separated list of directories; empty entries are left out. */
  private static List<String> split(String list) {
    List<String> dirs = new ArrayList<>();
    for (String dir : list.split(":")) {
      if (!dir.isEmpty()) {
        dirs.add(dir);
      }
    }
    return List.copyOf(dirs);
  }

  private static ByteBuffer readAt(FileChannel channel, long offset, int length)
      throws IOException {
    ByteBuffer buffer = ByteBuffer.allocate(length).order(ByteOrder.LITTLE_ENDIAN);
    while (buffer.hasRemaining()) {
      if (channel.read(buffer, offset + buffer.position()) < 0) {
        throw new IOException("file ends early");
      }
    }
    return buffer.clear();
  }
}
