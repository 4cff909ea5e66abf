package dev.filebroker.daemon.fs;

import dev.filebroker.daemon.policy.FileType;
import dev.filebroker.protocol.ErrorCode;
import dev.filebroker.protocol.OpenFlags;
import java.io.IOException;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.Set;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * Opens files for clients without following symlinks and without touching a file before its type is
 * known.
 *
 * <p>Every path is resolved beneath a handle on "/" with {@code openat2} and
 * RESOLVE_BENEATH|RESOLVE_NO_SYMLINKS|RESOLVE_NO_MAGICLINKS (plus RESOLVE_NO_XDEV on request), as
 * an O_PATH descriptor: that has no side effect on devices or FIFOs. The opener then checks the
 * type with fstat and only then reopens that exact inode with the requested access through the
 * {@code /proc/self/fd/N} link of its own O_PATH descriptor, non-blocking, and checks that the
 * reopen reached the same device and inode. Blocking mode is restored afterwards unless the request
 * asked for O_NONBLOCK. The {@code /proc/self/fd} directory is opened once, at creation, and
 * checked to be procfs listing this process's descriptors; each reopen then looks up one name in it
 * rather than walking {@code /proc/self/fd/N} from "/" (about a microsecond less per open).
 *
 * <p>The rule's guards ({@link OpenGuard}) are decided on the statx of the O_PATH handle, before
 * any open for I/O; O_TRUNC is never passed to the kernel: the file is truncated with ftruncate
 * once the reopened descriptor has been checked to be the same inode and the guards still hold.
 *
 * <p>Creation (O_CREAT) resolves the parent the same way. An existing file goes the O_PATH way
 * above (unless O_EXCL); otherwise an unnamed O_TMPFILE inode is made in the parent, given its
 * owner (with the group a set-group-ID directory gives) and its exact mode, checked by the guard,
 * and only then linked under the last component, which fails if anything (a symlink too) has
 * appeared there. A failure at any step leaves nothing behind.
 *
 * <p>On kernels with OPENAT2_REGULAR (7.2+), a spec that allows only regular files and has no guard
 * is opened with one openat2 that refuses anything else before opening it; with O_EMPTYPATH, the
 * reopen needs no procfs. Both are probed at creation ({@link KernelFeatures}); older kernels get
 * the path above, with the same guarantee: nothing but a permitted type is opened for I/O.
 *
 * <p>Needs {@code /proc} mounted (checked at creation). Thread-safe: {@link #open} may be called
 * concurrently.
 */
public final class FileOpener implements AutoCloseable {
  private static final int RESOLVE =
      LibC.RESOLVE_BENEATH | LibC.RESOLVE_NO_SYMLINKS | LibC.RESOLVE_NO_MAGICLINKS;
  static final int PERMISSION_BITS = 07777;

  /** Operation names in {@link OpenOutcome.Failed#operation()}. */
  static final String OPENAT2 = "openat2";

  static final String FSTAT = "fstat";
  static final String REOPEN = "reopen";
  static final String VERIFY = "verify-reopen";
  static final String FCNTL = "fcntl";
  static final String FCHMOD = "fchmod";
  static final String FCHOWN = "fchown";
  static final String FTRUNCATE = "ftruncate";
  static final String FSTATFS = "fstatfs";
  static final String LINKAT = "linkat";
  static final String O_TMPFILE = "open-tmpfile";

  private static final Set<FileType> REGULAR_ONLY = Set.of(FileType.REGULAR);

  private final int root;
  private final int procFds;
  private final NativeFlags flags;
  private final KernelFeatures features;
  private final boolean casefoldPossible;
  private final AtomicBoolean closed = new AtomicBoolean();
  private final FileCreator creator;

  /** The case-insensitivity check's fstatfs, made once per mount where the kernel allows. */
  private final FileSystemTypes fileSystemTypes = new FileSystemTypes();

  private FileOpener(
      int root, int procFds, NativeFlags flags, KernelFeatures features, boolean casefold) {
    this.root = root;
    this.procFds = procFds;
    this.flags = flags;
    this.features = features;
    this.casefoldPossible = casefold;
    this.creator = new FileCreator(this, root, procFds, flags);
  }

  /**
   * Opens the root directory handle every path is resolved beneath, and this process's {@code
   * /proc/self/fd} directory that opened files are reopened through.
   *
   * @throws IOException when "/" or {@code /proc/self/fd} cannot be opened, or the latter is not
   *     procfs listing this process's descriptors
   * @throws UnsupportedOperationException on an architecture whose open flags are not known
   */
  public static FileOpener create() throws IOException {
    return create(CaseFolding.kernelCanCaseFold());
  }

  /**
   * As {@link #create()}, with the casefold-directory check on or off whatever the kernel can do
   * (tests take the parent-first path on a kernel without casefold support).
   */
  static FileOpener create(boolean casefoldCheck) throws IOException {
    NativeFlags flags = NativeFlags.host();
    int directory = NativeFlags.O_PATH | flags.directory | NativeFlags.O_CLOEXEC;
    int fd = LibC.openat2(LibC.AT_FDCWD, "/", directory, 0, 0);
    if (fd < 0) {
      throw new IOException("Could not open the root directory \"/\": " + Errno.name(-fd));
    }
    try {
      int procFds = ProcFds.open(fd, directory);
      return new FileOpener(fd, procFds, flags, KernelFeatures.probe(fd), casefoldCheck);
    } catch (IOException | RuntimeException e) {
      Descriptors.close(fd);
      throw e;
    }
  }

  /**
   * Opens an absolute canonical path (validated: starts with "/", no "." or ".." component, no
   * "//", no trailing "/"). Never throws for an errno; see {@link OpenOutcome}.
   *
   * @throws IllegalStateException after {@link #close()}
   * @throws IllegalArgumentException when {@code absolutePath} does not start with "/"
   */
  public OpenOutcome open(String absolutePath, OpenSpec spec) {
    if (absolutePath == null) {
      throw new NullPointerException("absolutePath == null");
    }
    if (spec == null) {
      throw new NullPointerException("spec == null");
    }
    if (!absolutePath.startsWith("/")) {
      throw new IllegalArgumentException("path must be absolute: " + absolutePath);
    }
    if (closed.get()) {
      throw new IllegalStateException("FileOpener is closed");
    }
    int resolve = spec.noCrossMounts() ? RESOLVE | LibC.RESOLVE_NO_XDEV : RESOLVE;
    int requested = flags.fromWire(spec.wireFlags());
    boolean isRoot = absolutePath.length() == 1;
    if ((requested & NativeFlags.O_CREAT) != 0) {
      return creator.create(isRoot ? "." : absolutePath.substring(1), requested, spec, resolve);
    }
    if (casefoldPossible && !isRoot) {
      return openBelowCheckedParent(absolutePath.substring(1), requested, spec, resolve);
    }
    if (features.regularOnly()
        && spec.guard() == OpenGuard.NONE
        && spec.allowedTypes().equals(REGULAR_ONLY)
        && (requested & flags.directory) == 0) {
      OpenOutcome direct = openRegular(absolutePath, isRoot, requested, spec, resolve);
      if (direct != null) {
        return direct;
      }
    }
    // Relative to the root handle: the path without its leading "/" (read from index 1).
    int pathFd =
        LibC.openat2(
            root,
            isRoot ? "." : absolutePath,
            isRoot ? 0 : 1,
            NativeFlags.O_PATH
                | flags.noFollow
                | NativeFlags.O_CLOEXEC
                | (requested & flags.directory),
            0,
            resolve);
    if (pathFd < 0) {
      return new OpenOutcome.Failed(-pathFd, OPENAT2);
    }
    return openChecked(pathFd, requested, spec);
  }

  /**
   * One openat2 with OPENAT2_REGULAR, for a spec that allows only regular files and has no guard:
   * the kernel refuses anything else (EFTYPE) on the inode it resolved, before opening it, so
   * nothing but a regular file is ever opened for I/O, at the cost of the plain open. Returns null
   * on EFTYPE: the O_PATH way then names the type the client is told about, without opening it.
   */
  private OpenOutcome openRegular(
      String absolutePath, boolean isRoot, int requested, OpenSpec spec, int resolve) {
    int openFlags =
        (requested & (NativeFlags.O_ACCMODE | NativeFlags.O_APPEND))
            | flags.noFollow
            | NativeFlags.O_CLOEXEC
            | NativeFlags.O_NOCTTY
            | NativeFlags.O_NONBLOCK;
    int fd =
        LibC.openat2(
            root,
            isRoot ? "." : absolutePath,
            isRoot ? 0 : 1,
            openFlags | features.regularOnlyFlag(),
            0,
            resolve);
    if (fd < 0) {
      return -fd == Errno.EFTYPE ? null : new OpenOutcome.Failed(-fd, OPENAT2);
    }
    boolean handedOut = false;
    try {
      Fstat fstat = Fstat.of(fd);
      if (fstat.failed()) {
        return fstat.failure();
      }
      FileStat stat = fstat.stat();
      OpenOutcome refused = caseInsensitiveFileSystem(fd, stat);
      if (refused != null) {
        return refused;
      }
      if ((requested & NativeFlags.O_TRUNC) != 0) {
        int result = LibC.ftruncate(fd, 0);
        if (result < 0) {
          return new OpenOutcome.Failed(-result, FTRUNCATE);
        }
        stat = stat.withSize(0);
      }
      OpenOutcome outcome = finish(fd, openFlags, stat, spec, false);
      handedOut = outcome instanceof OpenOutcome.Opened;
      return outcome;
    } finally {
      if (!handedOut) {
        Descriptors.close(fd);
      }
    }
  }

  /**
   * The directory that holds the last component of {@code relative} (whose last '/' is at {@code
   * slash}): the root handle itself when there is no '/', else a new O_PATH descriptor the caller
   * owns unless it is {@code root}; a negative errno on failure.
   */
  int openParent(String relative, int slash, int resolve) {
    if (slash < 0) {
      return root;
    }
    return LibC.openat2(
        root,
        relative.substring(0, slash),
        NativeFlags.O_PATH | flags.directory | NativeFlags.O_CLOEXEC,
        0,
        resolve);
  }

  /**
   * On a kernel that can make casefold directories: resolves the parent first, refuses a casefold
   * parent, and resolves the last component beneath it, so that the directory checked is the one
   * the name was looked up in.
   */
  private OpenOutcome openBelowCheckedParent(
      String relative, int requested, OpenSpec spec, int resolve) {
    int slash = relative.lastIndexOf('/');
    int parent = openParent(relative, slash, resolve);
    if (parent < 0) {
      return new OpenOutcome.Failed(-parent, OPENAT2);
    }
    try {
      OpenOutcome refused = casefoldDirectory(parent);
      if (refused != null) {
        return refused;
      }
      int pathFd =
          LibC.openat2(
              parent,
              relative.substring(slash + 1),
              NativeFlags.O_PATH
                  | flags.noFollow
                  | NativeFlags.O_CLOEXEC
                  | (requested & flags.directory),
              0,
              resolve);
      if (pathFd < 0) {
        return new OpenOutcome.Failed(-pathFd, OPENAT2);
      }
      return openChecked(pathFd, requested, spec);
    } finally {
      if (parent != root) {
        Descriptors.close(parent);
      }
    }
  }

  /**
   * A refusal when {@code fd} (an O_PATH handle or an open file, whose statx is {@code stat}) is on
   * a file system that matches names without regard to case; else null.
   */
  private OpenOutcome caseInsensitiveFileSystem(int fd, FileStat stat) {
    long magic = fileSystemTypes.typeOf(fd, stat);
    if (magic < 0) {
      return new OpenOutcome.Failed((int) -magic, FSTATFS);
    }
    return caseInsensitiveFileSystem(magic);
  }

  /** A refusal when {@code magic} is a file system type that matches names without case. */
  private static OpenOutcome caseInsensitiveFileSystem(long magic) {
    return CaseFolding.caseInsensitiveFileSystem(magic)
        .<OpenOutcome>map(
            name ->
                new OpenOutcome.Refused(
                    new Refusal(
                        ErrorCode.CASE_INSENSITIVE,
                        0,
                        "the path is on a "
                            + name
                            + " file system, which matches names without regard to case;"
                            + " path rules cannot be enforced there")))
        .orElse(null);
  }

  /**
   * A refusal when the directory {@code dir} (an O_PATH handle) matches names without regard to
   * case: on a case-insensitive file system, or casefold ({@code chattr +F}); else null. Reads the
   * flag through a read-only open of the directory, which has no side effect, and only on file
   * systems that have casefold directories.
   */
  OpenOutcome casefoldDirectory(int dir) {
    long magic = LibC.fileSystemType(dir);
    if (magic < 0) {
      return new OpenOutcome.Failed((int) -magic, FSTATFS);
    }
    OpenOutcome refused = caseInsensitiveFileSystem(magic);
    if (refused != null || !casefoldPossible || !CaseFolding.hasCasefoldDirectories(magic)) {
      return refused;
    }
    int readable =
        LibC.openat2(
            dir,
            ".",
            NativeFlags.O_RDONLY
                | flags.directory
                | NativeFlags.O_CLOEXEC
                | NativeFlags.O_NONBLOCK
                | NativeFlags.O_NOCTTY,
            0,
            0);
    if (readable < 0) {
      return new OpenOutcome.Failed(-readable, OPENAT2);
    }
    try {
      OptionalInt inodeFlags = InodeFlags.of(readable);
      if (inodeFlags.isPresent() && (inodeFlags.getAsInt() & CaseFolding.FS_CASEFOLD_FL) != 0) {
        return new OpenOutcome.Refused(
            new Refusal(
                ErrorCode.CASE_INSENSITIVE,
                0,
                "the path is in a casefold directory (chattr +F), which matches names without"
                    + " regard to case; path rules cannot be enforced there"));
      }
      return null;
    } finally {
      Descriptors.close(readable);
    }
  }

  /**
   * Type-checks the O_PATH descriptor {@code pathFd} and runs the guard on it, then reopens the
   * same inode with the requested flags but without O_TRUNC, checks that it is the same inode on
   * the same mount and that the guard still holds, and only then truncates. Closes {@code pathFd}
   * on every path.
   */
  OpenOutcome openChecked(int pathFd, int requested, OpenSpec spec) {
    try {
      Fstat pathStatResult = Fstat.of(pathFd);
      if (pathStatResult.failed()) {
        return pathStatResult.failure();
      }
      FileStat pathStat = pathStatResult.stat();
      FileType type = pathStat.type();
      if (type == FileType.SYMLINK) {
        // O_PATH|O_NOFOLLOW opens a trailing symlink itself; a symlink is never followed.
        return new OpenOutcome.Failed(Errno.ELOOP, OPENAT2);
      }
      if ((requested & flags.directory) != 0 && type != FileType.DIRECTORY) {
        return new OpenOutcome.Failed(Errno.ENOTDIR, OPENAT2);
      }
      if (!spec.allowedTypes().contains(type)) {
        return new OpenOutcome.WrongType(type);
      }
      OpenOutcome refused = caseInsensitiveFileSystem(pathFd, pathStat);
      if (refused != null) {
        return refused;
      }
      Optional<Refusal> refusal = spec.guard().check(pathStat);
      if (refusal.isPresent()) {
        return new OpenOutcome.Refused(refusal.get());
      }
      // No O_TRUNC here: truncation waits until every check has passed on the reopened file.
      int reopenFlags =
          (requested & (NativeFlags.O_ACCMODE | NativeFlags.O_APPEND | flags.directory))
              | NativeFlags.O_CLOEXEC
              | NativeFlags.O_NOCTTY
              | NativeFlags.O_NONBLOCK;
      int fd = reopen(pathFd, reopenFlags);
      if (fd < 0) {
        return new OpenOutcome.Failed(-fd, REOPEN);
      }
      boolean handedOut = false;
      try {
        Fstat fstat = Fstat.of(fd);
        if (fstat.failed()) {
          return fstat.failure();
        }
        FileStat stat = fstat.stat();
        if (!stat.sameFileAs(pathStat)) {
          // Not the inode that was type-checked (e.g. /proc not what it should be): refuse.
          return new OpenOutcome.Failed(Errno.EXDEV, VERIFY);
        }
        // The owner, link count or attributes may have changed since the first check.
        refusal = spec.guard().check(stat);
        if (refusal.isPresent()) {
          return new OpenOutcome.Refused(refusal.get());
        }
        if ((requested & NativeFlags.O_TRUNC) != 0 && stat.type() == FileType.REGULAR) {
          // O_TRUNC means nothing for FIFOs and terminals, and the kernel ignores it there.
          int result = LibC.ftruncate(fd, 0);
          if (result < 0) {
            return new OpenOutcome.Failed(-result, FTRUNCATE);
          }
          stat = stat.withSize(0);
        }
        OpenOutcome outcome = finish(fd, reopenFlags, stat, spec, false);
        handedOut = outcome instanceof OpenOutcome.Opened;
        return outcome;
      } finally {
        if (!handedOut) {
          Descriptors.close(fd);
        }
      }
    } finally {
      Descriptors.close(pathFd);
    }
  }

  /**
   * Reopens the inode of the O_PATH handle {@code pathFd}: with O_EMPTYPATH where the kernel has
   * it, else through the magic link of our own descriptor in {@code /proc/self/fd} (one lookup).
   */
  private int reopen(int pathFd, int reopenFlags) {
    if (features.emptyPath()) {
      return LibC.openat2(pathFd, "", reopenFlags | features.emptyPathFlag(), 0, 0);
    }
    return LibC.openat2Numbered(procFds, pathFd, reopenFlags, 0, 0);
  }

  /** The fstatfs calls of the case-insensitivity check of opened files (what no mount answered). */
  long fileSystemTypeCalls() {
    return fileSystemTypes.fstatfsCalls();
  }

  /** Which open path this opener takes, for the start-up log ({@link KernelFeatures#describe}). */
  public String openPath() {
    return features.describe(casefoldPossible);
  }

  /** The open flags of newer kernels this opener found at creation and uses. */
  public KernelFeatures features() {
    return features;
  }

  /**
   * Restores blocking mode unless requested; wraps {@code fd}. {@code openFlags} are the flags
   * {@code fd} was opened with, which are its status flags: F_SETFL changes only O_APPEND, O_ASYNC,
   * O_DIRECT, O_NOATIME and O_NONBLOCK, and of those this class sets only O_APPEND (as requested)
   * and O_NONBLOCK, so one F_SETFL without a preceding F_GETFL gives the same result. The caller
   * closes on failure.
   */
  OpenOutcome finish(int fd, int openFlags, FileStat stat, OpenSpec spec, boolean created) {
    if ((spec.wireFlags() & OpenFlags.O_NONBLOCK) == 0) {
      int result = LibC.setStatusFlags(fd, openFlags & ~NativeFlags.O_NONBLOCK);
      if (result < 0) {
        return new OpenOutcome.Failed(-result, FCNTL);
      }
    }
    return new OpenOutcome.Opened(new OpenedFile(fd, stat, created));
  }

  /**
   * Closes the root handle; later calls do nothing. Call it only once no {@link #open} is running:
   * a concurrent open could otherwise resolve against a reused descriptor number.
   */
  @Override
  public void close() {
    if (closed.compareAndSet(false, true)) {
      Descriptors.close(procFds);
      Descriptors.close(root);
    }
  }
}
