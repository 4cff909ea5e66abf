package dev.filebroker.daemon.fs;

import dev.filebroker.daemon.policy.FileType;
import java.util.Objects;

/** The result of {@link FileOpener#open}: an owned open file, or why there is none. */
public sealed interface OpenOutcome {
  /** The file is open; the receiver owns {@code file} and must close it. */
  record Opened(OpenedFile file) implements OpenOutcome {
    public Opened {
      Objects.requireNonNull(file, "file == null");
    }
  }

  /** A system call failed with {@code errno}; {@code operation} names it (e.g. "openat2"). */
  record Failed(int errno, String operation) implements OpenOutcome {}

  /** The path names a file of a type the spec does not allow; it was never opened for I/O. */
  record WrongType(FileType actual) implements OpenOutcome {}

  /**
   * The file failed a check before anything with a side effect happened: it was never opened for
   * I/O, truncated or created.
   */
  record Refused(Refusal refusal) implements OpenOutcome {
    public Refused {
      Objects.requireNonNull(refusal, "refusal == null");
    }
  }
}
