package dev.filebroker.daemon.fs;

import java.io.IOException;

/** STUB. Opens files without following symlinks, checking type before any I/O open. */
public final class FileOpener implements AutoCloseable {
  /** Opens the root directory handle every path is resolved beneath. */
  public static FileOpener create() throws IOException {
    throw new UnsupportedOperationException("stub");
  }

  /** Opens an absolute canonical path. Never throws for an errno; see {@link OpenOutcome}. */
  public OpenOutcome open(String absolutePath, OpenSpec spec) {
    throw new UnsupportedOperationException("stub");
  }

  @Override
  public void close() {
    throw new UnsupportedOperationException("stub");
  }
}
