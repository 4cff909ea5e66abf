package dev.filebroker.client;

import java.io.FileDescriptor;
import java.io.FileInputStream;
import java.io.FileOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.MappedByteBuffer;
import java.nio.channels.ClosedChannelException;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.NonReadableChannelException;
import java.nio.channels.NonWritableChannelException;
import java.nio.channels.ReadableByteChannel;
import java.nio.channels.WritableByteChannel;
import java.util.Objects;

/**
 * The {@link FileChannel} of a {@link BrokeredFile}: readable, writable or both as the descriptor
 * was opened, on the descriptor itself. The JDK cannot make a readable and writable channel from a
 * bare {@link FileDescriptor}: {@code FileInputStream} gives a read-only channel, {@code
 * FileOutputStream} a write-only one, and {@code RandomAccessFile} only opens paths.
 *
 * <p>This channel holds a {@code FileInputStream}'s channel for reads, a {@code FileOutputStream}'s
 * for writes, or both, all on the same descriptor, and sends each call to the one that can serve
 * it; a read on a write-only file throws {@link NonReadableChannelException}, a write on a
 * read-only file {@link NonWritableChannelException}. The delegates share the kernel's open file
 * description, hence one file offset and one set of status flags: a write moves the position the
 * next read starts from, as on any {@code O_RDWR} descriptor.
 *
 * <p>It holds the {@link BrokeredFile} it belongs to, so that the file (whose {@link
 * java.lang.ref.Cleaner} closes the descriptor once the file is unreachable) stays reachable for as
 * long as the channel, or a stream made from it, is.
 *
 * <p>It replaces junixsocket's {@code FileDescriptorCast...as(FileChannel.class)}, which builds the
 * channel from a {@code RandomAccessFile} opened on {@code /dev/null} and, on close, deletes that
 * path: run as root, every close deleted {@code /dev/null} itself.
 *
 * <p>Limits: {@link #map} supports {@link MapMode#READ_ONLY} only, and {@code map(MapMode, long,
 * long, Arena)} is not overridden and throws {@link UnsupportedOperationException}. A lock's {@link
 * FileLock#channel()} is this channel.
 */
final class DescriptorChannel extends FileChannel {
  private final FileInputStream input;
  private final FileOutputStream output;
  private final FileChannel reads;
  private final FileChannel writes;
  // Never read: it keeps the owning file reachable while this channel is (see the class comment).
  private final Object owner;

  /**
   * Wraps a descriptor. Closing this channel closes the descriptor; the caller must not close it
   * elsewhere except through {@link Descriptors#close}, which closes it at most once.
   *
   * @param readable whether the descriptor was opened for reading
   * @param writable whether it was opened for writing; at least one of the two
   * @param owner the object that owns the descriptor, kept reachable by this channel; may be null
   */
  DescriptorChannel(FileDescriptor descriptor, boolean readable, boolean writable, Object owner) {
    Objects.requireNonNull(descriptor, "descriptor == null");
    if (!readable && !writable) {
      throw new IllegalArgumentException("a channel must be readable or writable");
    }
    // The streams attach themselves to the FileDescriptor: closing either closes the other and
    // then the descriptor, once (FileDescriptor.closeAll).
    this.input = readable ? new FileInputStream(descriptor) : null;
    this.output = writable ? new FileOutputStream(descriptor) : null;
    this.reads = readable ? input.getChannel() : null;
    this.writes = writable ? output.getChannel() : null;
    this.owner = owner;
  }

  private FileChannel reads() {
    if (reads == null) {
      throw new NonReadableChannelException();
    }
    return reads;
  }

  private FileChannel writes() {
    if (writes == null) {
      throw new NonWritableChannelException();
    }
    return writes;
  }

  /** The delegate for calls either can serve. */
  private FileChannel any() {
    return reads != null ? reads : writes;
  }

  /** One delegated call, so that a delegate closed under it (interrupt) closes this channel too. */
  @FunctionalInterface
  private interface Call<T> {
    T run() throws IOException;
  }

  private <T> T delegate(Call<T> call) throws IOException {
    try {
      return call.run();
    } catch (ClosedChannelException e) {
      // An interrupt closes the delegate, and with it the descriptor: this channel is dead too.
      if (!any().isOpen() || (writes != null && !writes.isOpen())) {
        try {
          close();
        } catch (IOException suppressed) {
          e.addSuppressed(suppressed);
        }
      }
      throw e;
    }
  }

  @Override
  public int read(ByteBuffer dst) throws IOException {
    return delegate(() -> reads().read(dst));
  }

  @Override
  public long read(ByteBuffer[] dsts, int offset, int length) throws IOException {
    return delegate(() -> reads().read(dsts, offset, length));
  }

  @Override
  public int read(ByteBuffer dst, long position) throws IOException {
    return delegate(() -> reads().read(dst, position));
  }

  @Override
  public int write(ByteBuffer src) throws IOException {
    return delegate(() -> writes().write(src));
  }

  @Override
  public long write(ByteBuffer[] srcs, int offset, int length) throws IOException {
    return delegate(() -> writes().write(srcs, offset, length));
  }

  /**
   * Linux caveat: on a descriptor with {@code O_APPEND}, {@code pwrite(2)} appends whatever the
   * position says.
   */
  @Override
  public int write(ByteBuffer src, long position) throws IOException {
    return delegate(() -> writes().write(src, position));
  }

  @Override
  public long position() throws IOException {
    return delegate(() -> any().position());
  }

  @Override
  public FileChannel position(long newPosition) throws IOException {
    delegate(() -> any().position(newPosition));
    return this;
  }

  @Override
  public long size() throws IOException {
    return delegate(() -> any().size());
  }

  @Override
  public FileChannel truncate(long size) throws IOException {
    delegate(() -> writes().truncate(size));
    return this;
  }

  @Override
  public void force(boolean metaData) throws IOException {
    delegate(
        () -> {
          any().force(metaData);
          return null;
        });
  }

  @Override
  public long transferTo(long position, long count, WritableByteChannel target) throws IOException {
    return delegate(() -> reads().transferTo(position, count, target));
  }

  @Override
  public long transferFrom(ReadableByteChannel src, long position, long count) throws IOException {
    return delegate(() -> writes().transferFrom(src, position, count));
  }

  /**
   * Maps the file read-only. {@link MapMode#READ_WRITE} and {@link MapMode#PRIVATE} throw {@link
   * UnsupportedOperationException}: the JDK checks a mapping's access against the channel it is
   * made from, and neither the stream channel that reads nor the one that writes is both readable
   * and writable, although the descriptor is. Map through {@link #fileDescriptor} in native code,
   * or open the file with {@code RandomAccessFile} where the process may.
   */
  @Override
  public MappedByteBuffer map(MapMode mode, long position, long size) throws IOException {
    Objects.requireNonNull(mode, "mode == null");
    if (mode != MapMode.READ_ONLY) {
      throw new UnsupportedOperationException(
          "Only MapMode.READ_ONLY is supported on a brokered read-write file, not "
              + mode
              + ": the JDK has no channel that is both readable and writable on a received"
              + " descriptor");
    }
    return delegate(() -> reads().map(mode, position, size));
  }

  /**
   * Locks a region with {@code fcntl} record locks: a shared lock through the readable stream
   * channel (the JDK requires a readable channel for it), an exclusive one through the writable
   * stream channel. Overlapping locks held through either are detected as on any {@code
   * FileChannel} of this JVM.
   */
  @Override
  public FileLock lock(long position, long size, boolean shared) throws IOException {
    FileLock lock = delegate(() -> (shared ? reads() : writes()).lock(position, size, shared));
    return new DelegatedLock(this, lock);
  }

  /** As {@link #lock(long, long, boolean)}, without waiting; {@code null} if another holds it. */
  @Override
  public FileLock tryLock(long position, long size, boolean shared) throws IOException {
    FileLock lock = delegate(() -> (shared ? reads() : writes()).tryLock(position, size, shared));
    // FileChannel.tryLock's contract: null when another program holds an overlapping lock.
    return lock == null ? null : new DelegatedLock(this, lock);
  }

  /** The descriptor both delegates use. */
  FileDescriptor fileDescriptor() throws IOException {
    return input != null ? input.getFD() : output.getFD();
  }

  /**
   * Closes both delegates and the descriptor, once. Closing the input stream closes its channel,
   * then every stream attached to the descriptor (the output stream, which closes its channel),
   * then the descriptor; closing the output stream afterwards does nothing.
   */
  @Override
  protected void implCloseChannel() throws IOException {
    try {
      if (input != null) {
        input.close();
      }
    } finally {
      if (output != null) {
        output.close();
      }
    }
  }

  /** A lock held through a delegate, presented as held through this channel. */
  private static final class DelegatedLock extends FileLock {
    private final FileLock lock;

    DelegatedLock(DescriptorChannel channel, FileLock lock) {
      super(channel, lock.position(), lock.size(), lock.isShared());
      this.lock = lock;
    }

    @Override
    public boolean isValid() {
      return lock.isValid();
    }

    @Override
    public void release() throws IOException {
      lock.release();
    }
  }
}
