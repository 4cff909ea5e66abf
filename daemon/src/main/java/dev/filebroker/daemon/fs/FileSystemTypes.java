package dev.filebroker.daemon.fs;

import java.util.concurrent.atomic.AtomicReferenceArray;
import java.util.function.IntToLongFunction;

/**
 * The file system type ({@code f_type} of fstatfs) of the mount a descriptor is on, remembered per
 * unique mount id so that the case-insensitivity check of every open costs one fstatfs per mount
 * rather than one per request.
 *
 * <p>Sound because a mount's file system never changes: a mount is bound to one superblock for its
 * whole life (a remount changes options, not the file system), and the unique mount id of statx
 * (STATX_MNT_ID_UNIQUE, Linux 6.8+) is never given to another mount while the system runs, so no
 * later mount can inherit an answer. The old mount id (STATX_MNT_ID) is reused once a mount is
 * gone, so a stat that carries only that one is never looked up or remembered: fstatfs every time,
 * as before.
 *
 * <p>Bounded: {@value #SLOTS} slots, one per hash of the mount id; a collision replaces the slot's
 * entry, so a machine with more mounts in use than that only makes more fstatfs calls. Failed
 * fstatfs calls are never remembered. Thread-safe without locks: a slot holds an immutable entry.
 */
final class FileSystemTypes {
  /** How many mounts are remembered at most (a power of two). */
  static final int SLOTS = 64;

  private record Entry(long mountId, long type) {}

  private final AtomicReferenceArray<Entry> slots = new AtomicReferenceArray<>(SLOTS);
  private final IntToLongFunction fstatfs;

  /** Types read with {@link LibC#fileSystemType}. */
  FileSystemTypes() {
    this(LibC::fileSystemType);
  }

  /** Types read with {@code fstatfs}: a descriptor's f_type, or {@code -errno}. */
  FileSystemTypes(IntToLongFunction fstatfs) {
    this.fstatfs = fstatfs;
  }

  /**
   * The file system type of {@code fd}, whose statx is {@code stat}, or {@code -errno} of fstatfs.
   */
  long typeOf(int fd, FileStat stat) {
    if (!stat.mountIdUnique()) {
      return fstatfs.applyAsLong(fd);
    }
    long mountId = stat.mountId();
    int slot = Long.hashCode(mountId * 0x9E3779B97F4A7C15L) & (SLOTS - 1);
    Entry entry = slots.get(slot);
    if (entry != null && entry.mountId() == mountId) {
      return entry.type();
    }
    long type = fstatfs.applyAsLong(fd);
    if (type >= 0) {
      slots.set(slot, new Entry(mountId, type));
    }
    return type;
  }
}
