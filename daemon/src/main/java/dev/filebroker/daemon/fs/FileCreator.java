package dev.filebroker.daemon.fs;

import dev.filebroker.daemon.policy.FileType;
import java.util.Optional;

/**
 * O_CREAT for {@link FileOpener}: the parent is resolved like any path, an existing file goes the
 * opener's O_PATH way, and a new one is made unnamed (O_TMPFILE), given its owner and mode, checked
 * by the guard, and only then linked under its name (docs/decisions/0008).
 */
final class FileCreator {
  /** How often a plain create retries when names appear and vanish under it. */
  private static final int CREATE_ATTEMPTS = 3;

  private final FileOpener opener;
  private final int root;
  private final int procFds;
  private final NativeFlags flags;

  FileCreator(FileOpener opener, int root, int procFds, NativeFlags flags) {
    this.opener = opener;
    this.root = root;
    this.procFds = procFds;
    this.flags = flags;
  }

  /**
   * O_CREAT: open what the last component names if it exists (unless O_EXCL), else create it: an
   * unnamed O_TMPFILE inode in the parent, given its owner and mode and checked by the guard while
   * nobody can see it, then linked under the name. Another name appearing in between (EEXIST) is
   * opened the ordinary way, or refused under O_EXCL; the unnamed inode then vanishes.
   */
  OpenOutcome create(String relative, int requested, OpenSpec spec, int resolve) {
    if (relative.equals(".")) {
      return new OpenOutcome.Failed(
          Errno.EISDIR, FileOpener.OPENAT2); // what open("/", O_CREAT) reports
    }
    if (!spec.allowedTypes().contains(FileType.REGULAR)) {
      // Creating would make a regular file; refuse before anything exists.
      return new OpenOutcome.WrongType(FileType.REGULAR);
    }
    int slash = relative.lastIndexOf('/');
    String last = relative.substring(slash + 1);
    int parent = opener.openParent(relative, slash, resolve);
    if (parent < 0) {
      return new OpenOutcome.Failed(-parent, FileOpener.OPENAT2);
    }
    try {
      OpenOutcome refused = opener.casefoldDirectory(parent);
      if (refused != null) {
        return refused;
      }
      boolean exclusive = (requested & NativeFlags.O_EXCL) != 0;
      int existing = requested & ~(NativeFlags.O_CREAT | NativeFlags.O_EXCL);
      OpenOutcome outcome = null;
      for (int attempt = 0; attempt < CREATE_ATTEMPTS; attempt++) {
        if (!exclusive) {
          int pathFd =
              LibC.openat2(
                  parent,
                  last,
                  NativeFlags.O_PATH | flags.noFollow | NativeFlags.O_CLOEXEC,
                  0,
                  resolve);
          if (pathFd >= 0) {
            return opener.openChecked(pathFd, existing, spec);
          }
          if (-pathFd != Errno.ENOENT) {
            return new OpenOutcome.Failed(-pathFd, FileOpener.OPENAT2);
          }
        }
        outcome = createNew(parent, last, requested, spec);
        if (exclusive
            || !(outcome instanceof OpenOutcome.Failed failed && failed.errno() == Errno.EEXIST)) {
          return outcome;
        }
        // Someone else made the name between our look and our link: open theirs.
      }
      return outcome;
    } finally {
      if (parent != root) {
        Descriptors.close(parent);
      }
    }
  }

  /**
   * Creates {@code last} in {@code parent} atomically: O_TMPFILE, owner, mode, guard, then linkat.
   * Nothing has a name before every step has succeeded; on any failure the unnamed inode is freed
   * with its descriptor.
   */
  private OpenOutcome createNew(int parent, String last, int requested, OpenSpec spec) {
    int wanted = spec.createMode() & FileOpener.PERMISSION_BITS;
    int tmpFlags =
        (requested & (NativeFlags.O_ACCMODE | NativeFlags.O_APPEND))
            | NativeFlags.O_TMPFILE_BIT
            | flags.directory
            | NativeFlags.O_CLOEXEC
            | NativeFlags.O_NOCTTY
            | NativeFlags.O_NONBLOCK;
    int fd = LibC.openat2(parent, ".", tmpFlags, wanted, 0);
    if (fd < 0) {
      // EOPNOTSUPP: this file system cannot make unnamed files; creating in steps would leave a
      // root-owned file behind on a failure, so creation fails closed (docs/decisions/0008).
      return new OpenOutcome.Failed(-fd, FileOpener.O_TMPFILE);
    }
    boolean handedOut = false;
    try {
      if (spec.createOwner().isPresent()) {
        CreateOwner owner = spec.createOwner().get();
        Fstat parentStatResult = Fstat.of(parent);
        if (parentStatResult.failed()) {
          return parentStatResult.failure();
        }
        FileStat parentStat = parentStatResult.stat();
        int result = LibC.fchown(fd, owner.uid(), owner.gidIn(parentStat.mode(), parentStat.gid()));
        if (result < 0) {
          return new OpenOutcome.Failed(-result, FileOpener.FCHOWN);
        }
      }
      Fstat fstat = Fstat.of(fd);
      if (fstat.failed()) {
        return fstat.failure();
      }
      FileStat stat = fstat.stat();
      if ((stat.mode() & FileOpener.PERMISSION_BITS) != wanted) {
        // The kernel applied the daemon's umask (and fchown may clear set-ID bits): the policy's
        // mode is what counts. After fchown, so that nothing clears it again.
        int result = LibC.fchmod(fd, wanted);
        if (result < 0) {
          return new OpenOutcome.Failed(-result, FileOpener.FCHMOD);
        }
      }
      stat = stat.withModeAndLinks((stat.mode() & ~FileOpener.PERMISSION_BITS) | wanted, 1);
      Optional<Refusal> refusal = spec.guard().check(stat);
      if (refusal.isPresent()) {
        return new OpenOutcome.Refused(refusal.get());
      }
      int linked = LibC.linkNumbered(procFds, fd, parent, last);
      if (linked < 0) {
        return new OpenOutcome.Failed(-linked, FileOpener.LINKAT);
      }
      OpenOutcome outcome = opener.finish(fd, tmpFlags, stat, spec, true);
      handedOut = outcome instanceof OpenOutcome.Opened;
      return outcome;
    } finally {
      if (!handedOut) {
        Descriptors.close(fd);
      }
    }
  }
}
