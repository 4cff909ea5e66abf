package dev.filebroker.daemon.fs;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Optional;
import org.junit.jupiter.api.Test;

/** Which file system types (statfs f_type) match names without regard to case. */
class CaseFoldingTest {
  @Test
  void namesTheFileSystemsThatMatchNamesWithoutCase() {
    assertEquals(Optional.of("vfat/msdos"), CaseFolding.caseInsensitiveFileSystem(0x4d44));
    assertEquals(Optional.of("exfat"), CaseFolding.caseInsensitiveFileSystem(0x2011BAB0L));
    assertEquals(Optional.of("cifs"), CaseFolding.caseInsensitiveFileSystem(0xFF534D42L));
    assertEquals(Optional.of("smb3"), CaseFolding.caseInsensitiveFileSystem(0xFE534D42L));
    assertEquals(Optional.of("ntfs3"), CaseFolding.caseInsensitiveFileSystem(0x7366746eL));
    assertEquals(Optional.of("hfsplus"), CaseFolding.caseInsensitiveFileSystem(0x482b));
  }

  @Test
  void caseSensitiveFileSystemsAreNotRefused() {
    assertEquals(Optional.empty(), CaseFolding.caseInsensitiveFileSystem(0xEF53), "ext4");
    assertEquals(Optional.empty(), CaseFolding.caseInsensitiveFileSystem(0x58465342), "xfs");
    assertEquals(Optional.empty(), CaseFolding.caseInsensitiveFileSystem(0x9fa0), "proc");
  }

  @Test
  void casefoldDirectoriesExistOnExt4F2fsAndTmpfsOnly() {
    assertTrue(CaseFolding.hasCasefoldDirectories(0xEF53), "ext4");
    assertTrue(CaseFolding.hasCasefoldDirectories(0xF2F52010L), "f2fs");
    assertTrue(CaseFolding.hasCasefoldDirectories(0x01021994), "tmpfs");
    assertFalse(CaseFolding.hasCasefoldDirectories(0x58465342), "xfs");
  }

  @Test
  void theRootFileSystemOfThisMachineIsReadAsItsType() {
    int root =
        LibC.openat2(LibC.AT_FDCWD, "/proc", NativeFlags.O_PATH | NativeFlags.O_CLOEXEC, 0, 0);
    try {
      assertEquals(0x9fa0, LibC.fileSystemType(root), "fstatfs of an O_PATH handle of /proc");
    } finally {
      Descriptors.close(root);
    }
  }
}
