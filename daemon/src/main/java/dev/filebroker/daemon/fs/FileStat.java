package dev.filebroker.daemon.fs;

import dev.filebroker.daemon.policy.FileType;

/**
 * What {@code statx(2)} reported for a descriptor (an O_PATH handle or an open file).
 *
 * @param device st_dev
 * @param inode st_ino
 * @param mode st_mode (type and permission bits)
 * @param uid st_uid
 * @param gid st_gid
 * @param linkCount st_nlink
 * @param size st_size
 * @param attributes stx_attributes (STATX_ATTR_APPEND, STATX_ATTR_IMMUTABLE...)
 * @param attributesMask stx_attributes_mask: which of {@code attributes} the file system reports
 * @param mountId stx_mnt_id, or {@link #NO_MOUNT_ID} when the kernel did not fill it
 * @param mountIdUnique whether {@code mountId} is the unique mount id (STATX_MNT_ID_UNIQUE, Linux
 *     6.8+), never reused while the system runs; otherwise it is the old id, which a later mount
 *     may reuse once this one is gone
 */
public record FileStat(
    long device,
    long inode,
    int mode,
    int uid,
    int gid,
    long linkCount,
    long size,
    long attributes,
    long attributesMask,
    long mountId,
    boolean mountIdUnique) {
  /** {@link #mountId} when statx did not report one. */
  public static final long NO_MOUNT_ID = -1;

  /** STATX_ATTR_APPEND: the inode is append-only (chattr +a, FS_APPEND_FL). */
  static final long STATX_ATTR_APPEND = 0x20;

  /** The file type encoded in {@link #mode}. */
  public FileType type() {
    return FileType.ofMode(mode);
  }

  /**
   * Whether the inode carries the append-only attribute; false when the file system does not report
   * it (fail closed for a rule that requires it).
   */
  public boolean appendOnly() {
    return (attributesMask & STATX_ATTR_APPEND) != 0 && (attributes & STATX_ATTR_APPEND) != 0;
  }

  /** Whether {@code other} is the same inode reached through the same mount. */
  boolean sameFileAs(FileStat other) {
    return device == other.device
        && inode == other.inode
        && mountId == other.mountId
        && mountIdUnique == other.mountIdUnique;
  }

  /** This stat with another size (after ftruncate). */
  FileStat withSize(long newSize) {
    return new FileStat(
        device,
        inode,
        mode,
        uid,
        gid,
        linkCount,
        newSize,
        attributes,
        attributesMask,
        mountId,
        mountIdUnique);
  }

  /** This stat with other permission bits and link count (a created file, once set up). */
  FileStat withModeAndLinks(int newMode, long newLinkCount) {
    return new FileStat(
        device,
        inode,
        newMode,
        uid,
        gid,
        newLinkCount,
        size,
        attributes,
        attributesMask,
        mountId,
        mountIdUnique);
  }
}
