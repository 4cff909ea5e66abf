package dev.filebroker.daemon.fs;

import java.util.Set;
import java.util.concurrent.atomic.AtomicReferenceArray;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.IntToLongFunction;
import java.util.function.LongUnaryOperator;

/**
 * The file system type ({@code f_type} of fstatfs) of the mount a descriptor is on, remembered per
 * unique mount id so that the case-insensitivity check of every open costs one fstatfs per mount
 * rather than one per request, on the file systems whose answer is the same for every file.
 *
 * <p>A mount is bound to one superblock for its whole life (a remount changes options, not the file
 * system), and the unique mount id of statx (STATX_MNT_ID_UNIQUE, Linux 6.8+) is never given to
 * another mount while the system runs, so no later mount can inherit an answer. The old mount id
 * (STATX_MNT_ID) is reused once a mount is gone, so a stat that carries only that one is never
 * looked up or remembered: fstatfs every time, as before.
 *
 * <p>But f_type is what the file system's statfs says for that file, not always the superblock's
 * own type: 9p (v9fs_statfs) passes on the server's statfs of the path, so a virtio-9p share that
 * crosses a vfat mount on the host says vfat only below it. An answer is therefore remembered only
 * when it is the superblock's own magic number (statmount(2), STATMOUNT_SB_BASIC) and that type is
 * one of {@link #FIXED}, whose statfs sets f_type to a constant; on any other file system, or when
 * statmount fails, fstatfs runs every time.
 *
 * <p>Bounded: {@value #SLOTS} slots, one per hash of the mount id; a collision replaces the slot's
 * entry, so a machine with more mounts in use than that only makes more fstatfs calls. Failed
 * fstatfs calls are never remembered. Thread-safe without locks: a slot holds an immutable entry.
 */
final class FileSystemTypes {
  /** How many mounts are remembered at most (a power of two). */
  static final int SLOTS = 64;

  /**
   * File systems whose statfs answers one constant f_type (the superblock's magic) for every file:
   * ext2/3/4, xfs, btrfs, tmpfs, f2fs, vfat/msdos, exfat, ntfs3, ntfs, hfs, hfsplus, FUSE (also
   * virtiofs), NFS, cifs, smb3, overlayfs, zfs, squashfs, erofs, iso9660, bcachefs, ramfs, proc.
   * Not 9p (V9FS_MAGIC 0x01021997), which passes on its server's answer.
   */
  static final Set<Long> FIXED =
      Set.of(
          0xEF53L,
          0x58465342L,
          0x9123683EL,
          0x01021994L,
          0xF2F52010L,
          0x4d44L,
          0x2011BAB0L,
          0x7366746eL,
          0x5346544eL,
          0x4244L,
          0x482bL,
          0x65735546L,
          0x6969L,
          0xFF534D42L,
          0xFE534D42L,
          0x794c7630L,
          0x2fc12fc1L,
          0x73717368L,
          0xE0F5E1E2L,
          0x9660L,
          0xca451a4eL,
          0x858458f6L,
          0x9fa0L);

  private record Entry(long mountId, long type) {}

  private final AtomicReferenceArray<Entry> slots = new AtomicReferenceArray<>(SLOTS);
  private final IntToLongFunction fstatfs;
  private final LongUnaryOperator superblockMagic;
  private final LongAdder fstatfsCalls = new LongAdder();

  /** Types read with {@link LibC#fileSystemType}, superblocks with {@link LibC#superblockMagic}. */
  FileSystemTypes() {
    this(LibC::fileSystemType, LibC::superblockMagic);
  }

  /**
   * Types read with {@code fstatfs}: a descriptor's f_type, or {@code -errno}; {@code
   * superblockMagic}: the superblock magic of a unique mount id, or {@code -errno}.
   */
  FileSystemTypes(IntToLongFunction fstatfs, LongUnaryOperator superblockMagic) {
    this.fstatfs = fstatfs;
    this.superblockMagic = superblockMagic;
  }

  /**
   * The file system type of {@code fd}, whose statx is {@code stat}, or {@code -errno} of fstatfs.
   */
  long typeOf(int fd, FileStat stat) {
    if (!stat.mountIdUnique()) {
      return fstatfs(fd);
    }
    long mountId = stat.mountId();
    int slot = Long.hashCode(mountId * 0x9E3779B97F4A7C15L) & (SLOTS - 1);
    Entry entry = slots.get(slot);
    if (entry != null && entry.mountId() == mountId) {
      return entry.type();
    }
    long type = fstatfs(fd);
    if (type >= 0 && FIXED.contains(type) && superblockMagic.applyAsLong(mountId) == type) {
      slots.set(slot, new Entry(mountId, type));
    }
    return type;
  }

  /** How many fstatfs calls this object made (what the cache did not answer). */
  long fstatfsCalls() {
    return fstatfsCalls.sum();
  }

  private long fstatfs(int fd) {
    fstatfsCalls.increment();
    return fstatfs.applyAsLong(fd);
  }
}
