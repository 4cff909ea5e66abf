package dev.filebroker.daemon.fs;

import java.io.FileDescriptor;

/** STUB. An open descriptor the daemon owns, with what fstat said about it. Close exactly once. */
public final class OpenedFile implements AutoCloseable {
  /** The raw descriptor number. */
  public int fd() {
    throw new UnsupportedOperationException("stub");
  }

  /** What fstat reported after the final open. */
  public FileStat stat() {
    throw new UnsupportedOperationException("stub");
  }

  /** A FileDescriptor naming the same descriptor, for SCM_RIGHTS; closing this object closes it. */
  public FileDescriptor fileDescriptor() {
    throw new UnsupportedOperationException("stub");
  }

  /** Closes the descriptor; later calls do nothing. */
  @Override
  public void close() {
    throw new UnsupportedOperationException("stub");
  }
}
