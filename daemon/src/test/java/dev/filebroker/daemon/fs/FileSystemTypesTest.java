package dev.filebroker.daemon.fs;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.util.HashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The fstatfs answer remembered per unique mount id, and only per unique mount id. */
class FileSystemTypesTest {
  private static final long EXT4 = 0xEF53;
  private static final long VFAT = 0x4d44;

  /** A fake fstatfs: the type of each descriptor, and how often each was asked. */
  private static final class Fstatfs {
    final Map<Integer, Long> types = new HashMap<>();
    final Map<Integer, Integer> calls = new HashMap<>();

    long of(int fd) {
      calls.merge(fd, 1, Integer::sum);
      return types.get(fd);
    }

    int calls(int fd) {
      return calls.getOrDefault(fd, 0);
    }
  }

  private static FileStat stat(long mountId, boolean unique) {
    return new FileStat(1, 2, 0100644, 0, 0, 1, 0, 0, 0, mountId, unique);
  }

  @Test
  void aUniqueMountIdIsAskedOnce() {
    Fstatfs fstatfs = new Fstatfs();
    fstatfs.types.put(3, EXT4);
    FileSystemTypes types = new FileSystemTypes(fstatfs::of);
    for (int i = 0; i < 5; i++) {
      assertEquals(EXT4, types.typeOf(3, stat(0x100000007L, true)));
    }
    assertEquals(1, fstatfs.calls(3), "fstatfs once for one mount");
  }

  @Test
  void theOldMountIdIsNeverRemembered() {
    // The old id is reused after an unmount: a vfat mounted later could inherit ext4's answer.
    Fstatfs fstatfs = new Fstatfs();
    fstatfs.types.put(3, EXT4);
    fstatfs.types.put(4, VFAT);
    FileSystemTypes types = new FileSystemTypes(fstatfs::of);
    assertEquals(EXT4, types.typeOf(3, stat(42, false)));
    assertEquals(VFAT, types.typeOf(4, stat(42, false)), "same old id, another file system");
    assertEquals(EXT4, types.typeOf(3, stat(42, false)));
    assertEquals(2, fstatfs.calls(3));
    assertEquals(1, fstatfs.calls(4));
  }

  @Test
  void anotherMountDoesNotInheritAnAnswer() {
    Fstatfs fstatfs = new Fstatfs();
    fstatfs.types.put(3, EXT4);
    fstatfs.types.put(4, VFAT);
    FileSystemTypes types = new FileSystemTypes(fstatfs::of);
    assertEquals(EXT4, types.typeOf(3, stat(0x100000001L, true)));
    assertEquals(VFAT, types.typeOf(4, stat(0x100000002L, true)));
    // The same number as an old id is not the unique id of the same mount.
    assertEquals(VFAT, types.typeOf(4, stat(0x100000001L, false)));
    assertEquals(EXT4, types.typeOf(3, stat(0x100000001L, true)));
    assertEquals(1, fstatfs.calls(3));
    assertEquals(2, fstatfs.calls(4));
  }

  @Test
  void aFailedFstatfsIsNotRemembered() {
    Fstatfs fstatfs = new Fstatfs();
    fstatfs.types.put(3, (long) -Errno.EBADF);
    FileSystemTypes types = new FileSystemTypes(fstatfs::of);
    assertEquals(-Errno.EBADF, types.typeOf(3, stat(0x100000003L, true)));
    fstatfs.types.put(3, EXT4);
    assertEquals(EXT4, types.typeOf(3, stat(0x100000003L, true)));
    assertEquals(2, fstatfs.calls(3));
  }

  @Test
  void manyMountsEvictButNeverMixUpAnswers() {
    // Descriptor N stands for unique mount N; even mounts are ext4, odd ones vfat.
    Fstatfs fstatfs = new Fstatfs();
    int mounts = FileSystemTypes.SLOTS * 8;
    for (int m = 0; m < mounts; m++) {
      fstatfs.types.put(m, m % 2 == 0 ? EXT4 : VFAT);
    }
    FileSystemTypes types = new FileSystemTypes(fstatfs::of);
    for (int round = 0; round < 3; round++) {
      for (int m = 0; m < mounts; m++) {
        assertEquals(
            m % 2 == 0 ? EXT4 : VFAT, types.typeOf(m, stat(0x200000000L + m, true)), "mount " + m);
      }
    }
    int calls = fstatfs.calls.values().stream().mapToInt(Integer::intValue).sum();
    assertTrue(calls > mounts, "more mounts than slots cannot all be remembered: " + calls);
  }

  @Test
  void thisKernelGivesUniqueMountIdsThatTellMountsApart() {
    int root = LibC.openat2(LibC.AT_FDCWD, "/", NativeFlags.O_PATH | NativeFlags.O_CLOEXEC, 0, 0);
    int proc =
        LibC.openat2(LibC.AT_FDCWD, "/proc", NativeFlags.O_PATH | NativeFlags.O_CLOEXEC, 0, 0);
    try {
      FileStat rootStat = ((LibC.StatResult.Stat) LibC.fstat(root)).stat();
      FileStat procStat = ((LibC.StatResult.Stat) LibC.fstat(proc)).stat();
      assumeTrue(rootStat.mountIdUnique(), "STATX_MNT_ID_UNIQUE needs Linux 6.8");
      assertTrue(procStat.mountIdUnique());
      assertNotEquals(rootStat.mountId(), procStat.mountId(), "/ and /proc are two mounts");
      FileSystemTypes types = new FileSystemTypes();
      assertEquals(0x9fa0, types.typeOf(proc, procStat), "proc");
      assertNotEquals(0x9fa0, types.typeOf(root, rootStat), "/ is not proc");
      assertEquals(0x9fa0, types.typeOf(proc, procStat), "proc, remembered");
    } finally {
      Descriptors.close(proc);
      Descriptors.close(root);
    }
  }
}
