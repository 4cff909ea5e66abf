package dev.filebroker.client;

import dev.filebroker.protocol.OpenFlags;
import dev.filebroker.protocol.RequestValidator;
import java.util.Optional;
import java.util.Set;

/**
 * What a caller wants to do with a file, named the way {@code open(2)} names it. A set of these
 * maps to the wire's {@link OpenFlags}: {@code open(path, Access.READ)} is {@code O_RDONLY}, {@code
 * open(path, Access.WRITE, Access.CREATE, Access.TRUNCATE)} is {@code O_WRONLY|O_CREAT|O_TRUNC},
 * {@code open(path, Access.APPEND)} is {@code O_WRONLY|O_APPEND}.
 *
 * <p>Combinations the daemon would refuse ({@code CREATE} without a write access, {@code EXCLUSIVE}
 * without {@code CREATE}, {@code DIRECTORY} with any write access) make {@link FileBroker#open}
 * throw {@link IllegalArgumentException} before anything is sent, naming the accesses.
 *
 * @deprecated Use {@link java.nio.file.StandardOpenOption}s with {@link FileBroker#open(
 *     java.nio.file.Path, Set, java.nio.file.attribute.FileAttribute...)}; {@link
 *     FileBroker#open(java.nio.file.Path, Access...)} lists what replaces each access.
 */
@Deprecated
public enum Access {
  /** Read the file: {@code O_RDONLY}, or {@code O_RDWR} together with a write access. */
  READ,
  /** Write the file: {@code O_WRONLY}, or {@code O_RDWR} together with {@link #READ}. */
  WRITE,
  /** Read and write the file: {@code O_RDWR}. */
  READ_WRITE,
  /**
   * Write at the end of the file: {@code O_APPEND}, implying {@link #WRITE}. Linux caveat: the
   * holder of the descriptor can clear {@code O_APPEND} with {@code fcntl}, so the daemon only
   * treats an append grant as binding on files with the append-only inode attribute.
   */
  APPEND,
  /**
   * Create the file if it does not exist: {@code O_CREAT}. Needs a write access; the create mode
   * defaults to {@link FileBroker#DEFAULT_CREATE_MODE}.
   */
  CREATE,
  /** With {@link #CREATE}: fail with {@code FileAlreadyExistsException} if the file exists. */
  EXCLUSIVE,
  /**
   * Truncate the file to length 0 at open: {@code O_TRUNC}. Needs a write access. Linux caveat: any
   * writable descriptor can be truncated later with {@code ftruncate}, whatever this says.
   */
  TRUNCATE,
  /**
   * The path must name a directory: {@code O_DIRECTORY}, read-only. Linux caveat: a directory
   * descriptor lets its holder open entries beneath it relative to it, bypassing the search
   * permission of every ancestor.
   */
  DIRECTORY;

  /**
   * The wire flags for this set of accesses.
   *
   * @throws IllegalArgumentException if the set is empty or the combination is refused
   */
  static int toFlags(Set<Access> access) {
    if (access.isEmpty()) {
      throw new IllegalArgumentException(
          "access is empty: give READ, WRITE, READ_WRITE, APPEND or DIRECTORY");
    }
    boolean reads = access.contains(READ) || access.contains(READ_WRITE);
    boolean writes =
        access.contains(WRITE) || access.contains(READ_WRITE) || access.contains(APPEND);
    int flags;
    if (reads && writes) {
      flags = OpenFlags.O_RDWR;
    } else if (writes) {
      flags = OpenFlags.O_WRONLY;
    } else {
      flags = OpenFlags.O_RDONLY;
    }
    if (access.contains(APPEND)) {
      flags |= OpenFlags.O_APPEND;
    }
    if (access.contains(CREATE)) {
      flags |= OpenFlags.O_CREAT;
    }
    if (access.contains(EXCLUSIVE)) {
      flags |= OpenFlags.O_EXCL;
    }
    if (access.contains(TRUNCATE)) {
      flags |= OpenFlags.O_TRUNC;
    }
    if (access.contains(DIRECTORY)) {
      flags |= OpenFlags.O_DIRECTORY;
    }
    String writeAccess = "needs WRITE, READ_WRITE or APPEND";
    if (!writes && access.contains(CREATE)) {
      throw new IllegalArgumentException(
          "Access.CREATE " + writeAccess + " (access " + access + ")");
    }
    if (!writes && access.contains(TRUNCATE)) {
      throw new IllegalArgumentException(
          "Access.TRUNCATE " + writeAccess + " (access " + access + ")");
    }
    if (access.contains(EXCLUSIVE) && !access.contains(CREATE)) {
      throw new IllegalArgumentException("Access.EXCLUSIVE needs CREATE (access " + access + ")");
    }
    if (access.contains(DIRECTORY) && writes) {
      throw new IllegalArgumentException(
          "Access.DIRECTORY opens a directory for reading: it cannot be combined with WRITE,"
              + " READ_WRITE or APPEND (access "
              + access
              + ")");
    }
    Optional<String> problem = RequestValidator.flagProblem(flags, 0);
    if (problem.isPresent()) {
      throw new IllegalStateException("access " + access + " made refused flags: " + problem.get());
    }
    return flags;
  }
}
