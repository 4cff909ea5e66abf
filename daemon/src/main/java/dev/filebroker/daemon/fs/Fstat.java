package dev.filebroker.daemon.fs;

/**
 * What fstat(2) said about a descriptor, as the opener uses it: the file's stat, or the outcome
 * that reports the failure.
 *
 * @param stat the file's stat; null when the call failed
 * @param errno the call's errno; 0 when it succeeded
 */
record Fstat(FileStat stat, int errno) {
  /** fstat of {@code fd}. */
  static Fstat of(int fd) {
    return switch (LibC.fstat(fd)) {
      case LibC.StatResult.Stat ok -> new Fstat(ok.stat(), 0);
      case LibC.StatResult.Failed failed -> new Fstat(null, failed.errno());
    };
  }

  /** Whether the call failed. */
  boolean failed() {
    return errno != 0;
  }

  /** The outcome that reports the failure. */
  OpenOutcome failure() {
    return new OpenOutcome.Failed(errno, FileOpener.FSTAT);
  }
}
