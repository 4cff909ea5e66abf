package dev.filebroker.daemon.fs;

import java.io.FileDescriptor;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * An open descriptor the daemon owns, with what fstat said about it. It has exactly one owner,
 * which closes it once (try-with-resources) after the descriptor has been sent.
 */
public final class OpenedFile implements AutoCloseable {
  private final int fd;
  private final FileStat stat;
  private final boolean created;
  private final AtomicBoolean closed = new AtomicBoolean();
  private volatile FileDescriptor fileDescriptor;

  OpenedFile(int fd, FileStat stat, boolean created) {
    if (fd < 0) {
      throw new IllegalArgumentException("fd < 0: " + fd);
    }
    if (stat == null) {
      throw new NullPointerException("stat == null");
    }
    this.fd = fd;
    this.stat = stat;
    this.created = created;
  }

  /** Whether this open created the file (O_CREAT on a name that did not exist). */
  public boolean created() {
    return created;
  }

  /** The raw descriptor number; meaningless after {@link #close()}. */
  public int fd() {
    return fd;
  }

  /** What fstat reported after the final open. */
  public FileStat stat() {
    return stat;
  }

  /**
   * A FileDescriptor naming the same descriptor, for SCM_RIGHTS; closing this object closes it. Do
   * not close a stream built on it: that would close the descriptor behind this owner's back.
   *
   * @throws IllegalStateException after {@link #close()}
   */
  public FileDescriptor fileDescriptor() {
    if (closed.get()) {
      throw new IllegalStateException("OpenedFile is closed: fd " + fd);
    }
    FileDescriptor result = fileDescriptor;
    if (result == null) {
      synchronized (this) {
        result = fileDescriptor;
        if (result == null) {
          result = Descriptors.wrap(fd);
          fileDescriptor = result;
        }
      }
    }
    return result;
  }

  /** Whether {@link #close()} has been called. */
  public boolean isClosed() {
    return closed.get();
  }

  /** Closes the descriptor; later calls do nothing. */
  @Override
  public void close() {
    if (closed.compareAndSet(false, true)) {
      Descriptors.close(fd);
    }
  }

  @Override
  public String toString() {
    return "OpenedFile[fd=" + fd + ", type=" + stat.type() + (closed.get() ? ", closed]" : "]");
  }
}
