package dev.filebroker.daemon.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SandboxElfTest {
  @TempDir Path dir;

  @Test
  void readsTheShellsInterpreterAndItsLibraries() throws IOException {
    SandboxElf sh = SandboxElf.read(Path.of("/bin/sh")).orElseThrow();
    assertTrue(sh.interpreter().isPresent(), "a dynamically linked /bin/sh has PT_INTERP");
    assertTrue(Files.isRegularFile(Path.of(sh.interpreter().get())), sh.toString());
    assertTrue(sh.needed().contains("libc.so.6"), sh.toString());
  }

  @Test
  void aFileThatIsNotElfIsNone() throws IOException {
    Path script = Files.writeString(dir.resolve("s"), "#!/bin/sh\necho " + "x".repeat(80) + "\n");
    assertEquals(Optional.empty(), SandboxElf.read(script));
  }

  @Test
  void programHeadersOutsideTheFileAreAnError() throws IOException {
    ByteBuffer header = ByteBuffer.allocate(64).order(ByteOrder.LITTLE_ENDIAN);
    header.putInt(0, 0x464c457f).put(4, (byte) 2).put(5, (byte) 1);
    header.putShort(18, (short) 62);
    header.putLong(32, 1 << 20); // e_phoff beyond the end
    header.putShort(54, (short) 56);
    header.putShort(56, (short) 1);
    Path elf = Files.write(dir.resolve("bad"), header.array());
    var e = assertThrows(IOException.class, () -> SandboxElf.read(elf));
    assertEquals("program headers outside the file", e.getMessage());
  }
}
