package dev.filebroker.daemon.fs;

/**
 * Who a file the daemon creates for a client belongs to: the client itself, as if it had created
 * the file (its uid; its primary gid, or the directory's group in a set-group-ID directory), or
 * root (uid 0; gid 0, or the directory's group in a set-group-ID directory), whatever uid the
 * daemon runs as.
 *
 * @param uid the uid to give the file
 * @param gid the gid to give it outside a set-group-ID directory
 */
public record CreateOwner(int uid, int gid) {
  /** Root's ownership, for rules with {@code create_owner = "root"}. */
  public static final CreateOwner ROOT = new CreateOwner(0, 0);

  /**
   * The gid the file gets in a directory of mode {@code directoryMode} owned by group {@code
   * directoryGid}.
   */
  int gidIn(int directoryMode, int directoryGid) {
    return (directoryMode & 02000) != 0 ? directoryGid : gid;
  }
}
