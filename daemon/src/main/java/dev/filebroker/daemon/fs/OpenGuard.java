package dev.filebroker.daemon.fs;

import java.util.Optional;

/**
 * A rule's checks on the file itself (link count, owner, append-only attribute, a directory reached
 * without O_DIRECTORY), which {@link FileOpener} runs on the statx of the O_PATH handle, before
 * anything with a side effect (an open for I/O, truncation, a new name), and again on the file it
 * reopened, before truncating it. For a file it creates, it runs them on the unnamed O_TMPFILE
 * inode, owner and mode already set, before giving it its name.
 */
@FunctionalInterface
public interface OpenGuard {
  /** Allows every file. */
  OpenGuard NONE = stat -> Optional.empty();

  /** Empty when the file {@code stat} describes may be opened; otherwise why not. */
  Optional<Refusal> check(FileStat stat);
}
