package dev.filebroker.daemon.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SandboxStartFilesTest {
  @TempDir Path dir;

  @Test
  void shellNeedsItselfTheLoaderAndTheCLibrary() throws IOException {
    Path sh = Path.of("/bin/sh");
    SandboxStartFiles files = SandboxStartFiles.of(sh, Optional.empty());
    Path loader = Path.of(SandboxElf.read(sh).orElseThrow().interpreter().orElseThrow());
    assertEquals(java.util.Set.of(sh, loader), files.executables());
    assertTrue(
        files.libraries().stream().anyMatch(p -> p.getFileName().toString().equals("libc.so.6")),
        files.toString());
  }

  @Test
  void scriptNeedsItsInterpreterToo() throws IOException {
    Path script = Files.writeString(dir.resolve("s"), "#! /bin/sh -e\necho hi\n");
    SandboxStartFiles files = SandboxStartFiles.of(script, Optional.empty());
    assertTrue(files.executables().contains(script), files.toString());
    assertTrue(files.executables().contains(Path.of("/bin/sh")), files.toString());
  }

  @Test
  void libraryPathComesBeforeTheCache() throws IOException {
    Path lib = Files.createDirectories(dir.resolve("lib"));
    Path libc = Path.of("/bin/sh"); // any ELF file of this machine stands for a library here
    Files.copy(libc, lib.resolve("libc.so.6"));
    SandboxElf sh = SandboxElf.read(libc).orElseThrow();
    List<Path> found =
        SandboxStartFiles.find(
            "libc.so.6",
            libc,
            sh,
            libc,
            sh,
            Optional.of(lib.toString()),
            SandboxLoaderCache.empty());
    assertEquals(List.of(lib.resolve("libc.so.6")), found);
  }

  @Test
  void originIsTheObjectsDirectoryAndOtherSubstitutionsAreLeftOut() {
    Path object = dir.resolve("bin/prog");
    assertEquals(
        List.of(dir.resolve("bin") + "/../lib", dir.resolve("bin") + "/x"),
        SandboxStartFiles.expand(List.of("$ORIGIN/../lib", "${ORIGIN}/x", "/opt/$LIB"), object));
  }

  @Test
  void aLibraryNoSearchDirectoryHasIsNamedAsUnfound() throws IOException {
    // /bin/sh with its C library renamed: nothing on the search path has libq.so.6.
    byte[] sh = Files.readAllBytes(Path.of("/bin/sh"));
    byte[] from = "libc.so.6\0".getBytes(java.nio.charset.StandardCharsets.US_ASCII);
    int replaced = 0;
    for (int i = 0; i + from.length <= sh.length; i++) {
      if (java.util.Arrays.equals(sh, i, i + from.length, from, 0, from.length)) {
        sh[i + 3] = 'q';
        replaced++;
      }
    }
    assertTrue(replaced > 0, "/bin/sh names libc.so.6");
    Path program = Files.write(dir.resolve("sh"), sh);
    SandboxStartFiles files = SandboxStartFiles.of(program, Optional.empty());
    assertEquals(1, files.unfound().size(), files.toString());
    assertTrue(
        files
            .unfound()
            .getFirst()
            .startsWith("libq.so.6, needed by " + program + ", was not found"),
        files.unfound().getFirst());
  }

  @Test
  void anElfFileOtherThan64BitLittleEndianIsNamedAsUnfound() throws IOException {
    byte[] header = new byte[64];
    header[0] = 0x7f;
    header[1] = 'E';
    header[2] = 'L';
    header[3] = 'F';
    header[4] = 1; // ELFCLASS32
    header[5] = 1;
    Path program = Files.write(dir.resolve("prog32"), header);
    SandboxStartFiles files = SandboxStartFiles.of(program, Optional.empty());
    assertEquals(java.util.Set.of(program), files.executables());
    assertEquals(
        List.of(
            program
                + " is an ELF file but not 64-bit little-endian, so its loader and libraries were"
                + " not looked for; allow them with --allow-exec and --allow-read"),
        files.unfound());
  }

  @Test
  void theShellNeedsNothingUnfound() {
    assertEquals(List.of(), SandboxStartFiles.of(Path.of("/bin/sh"), Optional.empty()).unfound());
  }

  @Test
  void missingLibraryIsNotInvented() throws IOException {
    SandboxElf sh = SandboxElf.read(Path.of("/bin/sh")).orElseThrow();
    Path p = Path.of("/bin/sh");
    assertEquals(
        List.of(),
        SandboxStartFiles.find(
            "libfilebroker-nowhere.so.9",
            p,
            sh,
            p,
            sh,
            Optional.empty(),
            SandboxLoaderCache.empty()));
  }
}
