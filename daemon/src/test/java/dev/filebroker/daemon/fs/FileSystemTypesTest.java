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
  private static final long V9FS = 0x01021997;

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

    /** The superblock magic of each unique mount id; ext4 unless told. */
    final Map<Long, Long> superblocks = new HashMap<>();

    long superblock(long mountId) {
      return superblocks.getOrDefault(mountId, EXT4);
    }
  }

  private static FileStat stat(long mountId, boolean unique) {
    return new FileStat(1, 2, 0100644, 0, 0, 1, 0, 0, 0, mountId, unique);
  }

  @Test
  void aUniqueMountIdIsAskedOnce() {
    Fstatfs fstatfs = new Fstatfs();
    fstatfs.types.put(3, EXT4);
    FileSystemTypes types = new FileSystemTypes(fstatfs::of, fstatfs::superblock);
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
    FileSystemTypes types = new FileSystemTypes(fstatfs::of, fstatfs::superblock);
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
    fstatfs.superblocks.put(0x100000002L, VFAT);
    FileSystemTypes types = new FileSystemTypes(fstatfs::of, fstatfs::superblock);
    assertEquals(EXT4, types.typeOf(3, stat(0x100000001L, true)));
    assertEquals(VFAT, types.typeOf(4, stat(0x100000002L, true)));
    // The same number as an old id is not the unique id of the same mount.
    assertEquals(VFAT, types.typeOf(4, stat(0x100000001L, false)));
    assertEquals(EXT4, types.typeOf(3, stat(0x100000001L, true)));
    assertEquals(1, fstatfs.calls(3));
    assertEquals(2, fstatfs.calls(4));
  }

  @Test
  void aNinePShareIsAskedEveryTime() {
    // v9fs_statfs passes on the server's statfs of the path: a share that crosses a vfat mount on
    // the host says ext4 above it and vfat below it, under one unique mount id.
    Fstatfs fstatfs = new Fstatfs();
    fstatfs.types.put(3, EXT4);
    fstatfs.types.put(4, VFAT);
    FileSystemTypes types = new FileSystemTypes(fstatfs::of, id -> V9FS);
    long share = 0x100000009L;
    assertEquals(EXT4, types.typeOf(3, stat(share, true)));
    assertEquals(VFAT, types.typeOf(4, stat(share, true)), "below the host's vfat mount");
    assertEquals(EXT4, types.typeOf(3, stat(share, true)));
    assertEquals(VFAT, types.typeOf(4, stat(share, true)));
    assertEquals(2, fstatfs.calls(3));
    assertEquals(2, fstatfs.calls(4));
  }

  @Test
  void anAnswerThatIsNotTheSuperblocksOwnIsNotRemembered() {
    // An allowlisted f_type is remembered only when it is what the mount's superblock is.
    Fstatfs fstatfs = new Fstatfs();
    fstatfs.types.put(3, EXT4);
    fstatfs.types.put(4, VFAT);
    FileSystemTypes types = new FileSystemTypes(fstatfs::of, id -> VFAT);
    assertEquals(EXT4, types.typeOf(3, stat(0x10000000AL, true)));
    assertEquals(EXT4, types.typeOf(3, stat(0x10000000AL, true)));
    assertEquals(2, fstatfs.calls(3));
    assertEquals(VFAT, types.typeOf(4, stat(0x10000000BL, true)));
    assertEquals(VFAT, types.typeOf(4, stat(0x10000000BL, true)));
    assertEquals(1, fstatfs.calls(4), "vfat's own answer is remembered");
  }

  @Test
  void aFailedStatmountIsNotRemembered() {
    Fstatfs fstatfs = new Fstatfs();
    fstatfs.types.put(3, EXT4);
    FileSystemTypes types = new FileSystemTypes(fstatfs::of, id -> -Errno.EPERM);
    assertEquals(EXT4, types.typeOf(3, stat(0x10000000CL, true)));
    assertEquals(EXT4, types.typeOf(3, stat(0x10000000CL, true)));
    assertEquals(2, fstatfs.calls(3));
    assertEquals(2, types.fstatfsCalls());
  }

  @Test
  void aFailedFstatfsIsNotRemembered() {
    Fstatfs fstatfs = new Fstatfs();
    fstatfs.types.put(3, (long) -Errno.EBADF);
    FileSystemTypes types = new FileSystemTypes(fstatfs::of, fstatfs::superblock);
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
      fstatfs.superblocks.put(0x200000000L + m, m % 2 == 0 ? EXT4 : VFAT);
    }
    FileSystemTypes types = new FileSystemTypes(fstatfs::of, fstatfs::superblock);
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
      assertEquals(0x9fa0, LibC.superblockMagic(procStat.mountId()), "statmount: proc");
      assertEquals(LibC.fileSystemType(root), LibC.superblockMagic(rootStat.mountId()), "/");
    } finally {
      Descriptors.close(proc);
      Descriptors.close(root);
    }
  }
}
