package dev.filebroker.daemon.fs;

import dev.filebroker.daemon.policy.FileType;

/**
 * What {@code fstat(2)} reported for an open descriptor.
 *
 * @param device st_dev
 * @param inode st_ino
 * @param mode st_mode (type and permission bits)
 * @param uid st_uid
 * @param gid st_gid
 * @param linkCount st_nlink
 * @param size st_size
 */
public record FileStat(
    long device, long inode, int mode, int uid, int gid, long linkCount, long size) {
  /** The file type encoded in {@link #mode}. */
  public FileType type() {
    return FileType.ofMode(mode);
  }
}
