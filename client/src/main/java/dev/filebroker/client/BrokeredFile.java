package dev.filebroker.client;

import dev.filebroker.protocol.OpenFlags;
import java.io.FileDescriptor;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.lang.ref.Cleaner;
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
 * <p>Closing the file, its {@link #channel()}, or a stream from {@link #inputStream()} or {@link
 * #outputStream()} closes the descriptor, once; {@link #isOpen()} then says {@code false}.
 *
 * <p>A {@code BrokeredFile} that becomes unreachable without being closed has its descriptor closed
 * by a {@link Cleaner}, at some time after the garbage collector notices; its channel and streams
 * keep it reachable while they are in use. Do not rely on this: a descriptor waits for the next
 * collection, and a process that opens many files between collections can run out of descriptors.
 * Close files with try-with-resources. The {@link #fileDescriptor()} alone does not keep the file
 * reachable.
 *
 * <p>Linux caveats: the descriptor is close-on-exec. Its access mode is fixed by the kernel at open
 * time (a read-only file can never be written through it), but its {@code O_APPEND} status can be
 * cleared with {@code fcntl}, and any writable descriptor can be truncated. Nothing revokes it once
 * handed out.
 *
 * <p>Thread-safe.
 */
public final class BrokeredFile implements AutoCloseable {
  // One cleaner thread for every file of this library.
  private static final Cleaner CLEANER = Cleaner.create();

  private final FileDescriptor descriptor;
  private final Cleaner.Cleanable cleanable;
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
    this.cleanable = CLEANER.register(this, new Release(descriptor));
  }

  /**
   * Closes the descriptor of a file that was never closed, once it is unreachable. It holds the
   * descriptor and nothing that reaches the file: the descriptor's own attachments are the JDK's
   * streams, which never refer to the {@link DescriptorChannel} that holds the file.
   */
  private record Release(FileDescriptor descriptor) implements Runnable {
    @Override
    public void run() {
      try {
        Descriptors.close(descriptor);
      } catch (IOException e) {
        // Nothing else can be done with a descriptor that failed to close.
      }
    }
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
   * <p>Closing the channel closes the descriptor and so this file; {@link #close()} closes both,
   * and neither ever closes a descriptor twice. No other descriptor is opened for the channel. The
   * channel sends reads to a {@code FileInputStream}'s channel and writes to a {@code
   * FileOutputStream}'s on the same descriptor, so they share one offset; {@link FileChannel#map}
   * supports {@code READ_ONLY} only and throws {@link UnsupportedOperationException} for the other
   * modes.
   *
   * <p>The channel's position is the descriptor's file offset, shared with the streams of this
   * object. For a directory ({@link BrokerOpenOption#DIRECTORY}) reads fail with {@code EISDIR};
   * use {@link #fileDescriptor()} instead.
   *
   * @throws ClosedChannelException if this file is closed
   */
  public synchronized FileChannel channel() throws IOException {
    if (!isOpen()) {
      throw new ClosedChannelException();
    }
    if (channel == null) {
      // An O_PATH or directory descriptor still gets a channel, whose reads fail as the kernel
      // says.
      channel =
          new DescriptorChannel(descriptor, isReadable() || !isWritable(), isWritable(), this);
    }
    return channel;
  }

  /**
   * A stream reading from the descriptor's current offset. Closing the stream closes {@link
   * #channel()} and this file.
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
   * A stream writing at the descriptor's current offset (at the end for {@code APPEND}). Closing
   * the stream closes {@link #channel()} and this file.
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
   * do not close it elsewhere, do not use it after {@link #close()}, and keep this object reachable
   * while using it (an unreachable file's descriptor is closed by its cleaner).
   */
  public FileDescriptor fileDescriptor() {
    return descriptor;
  }

  /**
   * Whether the descriptor is still open: neither this file, nor its channel, nor a stream of it
   * was closed.
   */
  public synchronized boolean isOpen() {
    return !closed && descriptor.valid();
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
      try {
        Descriptors.close(descriptor);
      } finally {
        // The descriptor is closed: the cleaner's action finds nothing left to do.
        cleanable.clean();
      }
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
