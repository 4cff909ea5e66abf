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
