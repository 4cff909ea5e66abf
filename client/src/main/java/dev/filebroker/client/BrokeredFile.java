package dev.filebroker.client;

import dev.filebroker.protocol.OpenFlags;
import java.io.FileDescriptor;
import java.io.FileInputStream;
import java.io.FileOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.channels.Channels;
import java.nio.channels.ClosedChannelException;
import java.nio.channels.FileChannel;
import java.nio.channels.NonReadableChannelException;
import java.nio.channels.NonWritableChannelException;
import java.util.Objects;

/**
 * A file the daemon opened for this process, or a descriptor received with {@link
 * FileBroker#receiveFrom}. It owns the one descriptor that was passed: the descriptor stays open
 * until {@link #close()} is called, however long that is and whether or not the {@link FileBroker}
 * or connection it came from is still open.
 *
 * <p>The garbage collector never closes the descriptor: a {@code BrokeredFile} that becomes
 * unreachable without being closed leaks its descriptor for the life of the process. Use
 * try-with-resources.
 *
 * <p>Linux caveats: the descriptor is close-on-exec. Its access mode is fixed by the kernel at open
 * time (a read-only file can never be written through it), but its {@code O_APPEND} status can be
 * cleared with {@code fcntl}, and any writable descriptor can be truncated. Nothing revokes it once
 * handed out.
 *
 * <p>Thread-safe.
 */
public final class BrokeredFile implements AutoCloseable {
  private final FileDescriptor descriptor;
  private final String path;
  private final int flags;
  private final int fileMode;
  private FileChannel channel;
  private boolean closed;

  BrokeredFile(FileDescriptor descriptor, String path, int flags, int fileMode) {
    this.descriptor = Objects.requireNonNull(descriptor, "descriptor == null");
    this.path = Objects.requireNonNull(path, "path == null");
    this.flags = flags;
    this.fileMode = fileMode;
  }

  /**
   * The path this file was opened as, exactly as it was sent to the daemon. For a descriptor from
   * {@link FileBroker#receiveFrom}, the socket path it was received from: the sender never says
   * which file it opened.
   */
  public String path() {
    return path;
  }

  /**
   * The {@code st_mode} the daemon saw when it checked the opened file: file type bits ({@code
   * S_IFREG} is {@code 0100000}, {@code S_IFDIR} {@code 0040000}) and permission bits. Read it with
   * a mask, for example {@code fileMode() & 07777} for the permissions. For a descriptor from
   * {@link FileBroker#receiveFrom}, what {@code stat(2)} said on receipt.
   */
  public int fileMode() {
    return fileMode;
  }

  /**
   * The open flags the file was requested with, as {@link OpenFlags} values. For a descriptor from
   * {@link FileBroker#receiveFrom}, the flags the kernel reported for it on receipt ({@code
   * /proc/self/fdinfo}), limited to the access mode, {@code O_APPEND}, {@code O_NONBLOCK}, {@code
   * O_DIRECTORY} and {@code O_PATH}.
   */
  public int openFlags() {
    return flags;
  }

  /**
   * Whether the descriptor was opened for reading ({@code O_RDONLY} or {@code O_RDWR}, without
   * {@code O_PATH}).
   */
  public boolean isReadable() {
    return (flags & OpenFlags.O_PATH) == 0 && (flags & OpenFlags.O_ACCMODE) != OpenFlags.O_WRONLY;
  }

  /**
   * Whether the descriptor was opened for writing ({@code O_WRONLY} or {@code O_RDWR}, without
   * {@code O_PATH}).
   */
  public boolean isWritable() {
    return (flags & OpenFlags.O_PATH) == 0 && (flags & OpenFlags.O_ACCMODE) != OpenFlags.O_RDONLY;
  }

  /**
   * A channel on the descriptor, created on the first call and the same object afterwards. It is
   * readable and writable as the file was opened: a read-only file gives a channel whose writes
   * throw {@link NonWritableChannelException}, a write-only file one whose reads throw {@link
   * NonReadableChannelException}.
   *
   * <p>Closing the channel closes the descriptor; {@link #close()} closes both, and neither ever
   * closes a descriptor twice. No other descriptor is opened for the channel. For a read-write file
   * the channel is a {@code FileChannel} made of a {@code FileInputStream}'s channel for reads and
   * a {@code FileOutputStream}'s for writes on the same descriptor, so they share one offset; on it
   * {@link FileChannel#map} supports {@code READ_ONLY} only and throws {@link
   * UnsupportedOperationException} for the other modes.
   *
   * <p>The channel's position is the descriptor's file offset, shared with the streams of this
   * object. For a directory ({@link Access#DIRECTORY}) reads fail with {@code EISDIR}; use {@link
   * #fileDescriptor()} instead.
   *
   * @throws ClosedChannelException if this file is closed
   */
  public synchronized FileChannel channel() throws IOException {
    if (closed) {
      throw new ClosedChannelException();
    }
    if (channel == null) {
      if (isReadable() && isWritable()) {
        channel = new ReadWriteFileChannel(descriptor);
      } else if (isWritable()) {
        channel = new FileOutputStream(descriptor).getChannel();
      } else {
        channel = new FileInputStream(descriptor).getChannel();
      }
    }
    return channel;
  }

  /**
   * A stream reading from the descriptor's current offset. Closing the stream closes {@link
   * #channel()}.
   *
   * @throws NonReadableChannelException if the file was opened write-only
   * @throws ClosedChannelException if this file is closed
   */
  public InputStream inputStream() throws IOException {
    if (!isReadable()) {
      throw new NonReadableChannelException();
    }
    return Channels.newInputStream(channel());
  }

  /**
   * A stream writing at the descriptor's current offset (at the end for {@link Access#APPEND}).
   * Closing the stream closes {@link #channel()}.
   *
   * @throws NonWritableChannelException if the file was opened read-only
   * @throws ClosedChannelException if this file is closed
   */
  public OutputStream outputStream() throws IOException {
    if (!isWritable()) {
      throw new NonWritableChannelException();
    }
    return Channels.newOutputStream(channel());
  }

  /**
   * The descriptor itself, for APIs that take a {@link FileDescriptor}. This object still owns it:
   * do not close it elsewhere, and do not use it after {@link #close()}.
   */
  public FileDescriptor fileDescriptor() {
    return descriptor;
  }

  /** Whether {@link #close()} has not been called yet. */
  public synchronized boolean isOpen() {
    return !closed;
  }

  /**
   * Closes the channel, if one was made, and the descriptor, exactly once. Further calls do
   * nothing.
   */
  @Override
  public void close() throws IOException {
    FileChannel toClose;
    synchronized (this) {
      if (closed) {
        return;
      }
      closed = true;
      toClose = channel;
    }
    try {
      if (toClose != null) {
        toClose.close();
      }
    } finally {
      Descriptors.close(descriptor);
    }
  }

  @Override
  public String toString() {
    return "BrokeredFile["
        + path
        + ", flags 0"
        + Integer.toOctalString(flags)
        + ", mode 0"
        + Integer.toOctalString(fileMode)
        + (isOpen() ? "" : ", closed")
        + "]";
  }
}
