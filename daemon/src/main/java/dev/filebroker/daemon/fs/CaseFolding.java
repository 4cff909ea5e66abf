package dev.filebroker.daemon.fs;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.Optional;

/**
 * Where Linux matches names without regard to case, so that {@code /srv/share/PRIVATE/x} and {@code
 * /srv/share/private/x} are one file and a rule on path strings cannot tell them apart: whole file
 * systems (by {@code f_type} from fstatfs), and casefold directories ({@code FS_CASEFOLD_FL},
 * {@code chattr +F}) on ext4, f2fs and tmpfs, which exist only on a kernel built with
 * CONFIG_UNICODE.
 */
final class CaseFolding {
  /** FS_CASEFOLD_FL in FS_IOC_GETFLAGS: the directory looks names up without regard to case. */
  static final int FS_CASEFOLD_FL = 0x40000000;

  private static final long EXT4_SUPER_MAGIC = 0xEF53;
  private static final long F2FS_SUPER_MAGIC = 0xF2F52010L;
  private static final long TMPFS_MAGIC = 0x01021994;

  /** The file systems that always (or by default) match names without regard to case. */
  private static final Map<Long, String> CASE_INSENSITIVE =
      Map.of(
          0x4d44L, "vfat/msdos",
          0x2011BAB0L, "exfat",
          0xFF534D42L, "cifs",
          0xFE534D42L, "smb3",
          0x7366746eL, "ntfs3",
          0x5346544eL, "ntfs",
          0x4244L, "hfs",
          0x482bL, "hfsplus");

  /** Where a kernel with casefold support says so, one file per file system. */
  private static final String[] CASEFOLD_FEATURES = {
    "/sys/fs/ext4/features/casefold",
    "/sys/fs/f2fs/features/casefold",
    "/sys/fs/tmpfs/features/casefold"
  };

  private CaseFolding() {}

  /** The name of the file system type {@code magic} when it matches names without case. */
  static Optional<String> caseInsensitiveFileSystem(long magic) {
    return Optional.ofNullable(CASE_INSENSITIVE.get(magic));
  }

  /** Whether directories of the file system type {@code magic} can be casefold. */
  static boolean hasCasefoldDirectories(long magic) {
    return magic == EXT4_SUPER_MAGIC || magic == F2FS_SUPER_MAGIC || magic == TMPFS_MAGIC;
  }

  /** Whether the running kernel can make casefold directories at all (read once at start). */
  static boolean kernelCanCaseFold() {
    for (String feature : CASEFOLD_FEATURES) {
      if (Files.exists(Path.of(feature))) {
        return true;
      }
    }
    return false;
  }
}
