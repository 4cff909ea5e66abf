package dev.filebroker.client;

import java.io.FileDescriptor;
import java.io.FileInputStream;
import java.io.IOException;
import org.newsclub.net.unix.FileDescriptorCast;

/**
 * Taking ownership of received descriptors and closing them, for the reply reader and {@link
 * BrokeredFile}.
 */
final class Descriptors {
  private Descriptors() {}

  /**
   * Returns a duplicate of a descriptor junixsocket received, and closes the original.
   *
   * <p>Two junixsocket behaviours make this necessary. It receives without {@code
   * MSG_CMSG_CLOEXEC}; the duplicate is made with {@code F_DUPFD_CLOEXEC}. And it remembers every
   * received descriptor and closes those still open when the socket closes or is collected; the
   * duplicate is not remembered, so a file outlives the connection it came on.
   */
  static FileDescriptor takeOwnership(FileDescriptor received) throws IOException {
    try {
      return FileDescriptorCast.duplicating(received).getFileDescriptor();
    } finally {
      close(received);
    }
  }

  /**
   * Closes a descriptor once; a descriptor already closed through this class or a stream is left
   * alone, so a reused descriptor number is never closed by mistake.
   */
  static void close(FileDescriptor descriptor) throws IOException {
    if (descriptor.valid()) {
      // FileInputStream.close closes the descriptor and runs what others attached to it (the
      // channel, junixsocket's bookkeeping), then marks the FileDescriptor invalid.
      new FileInputStream(descriptor).close();
    }
  }

  /** Closes a descriptor nobody will use, keeping the first failure as a suppressed exception. */
  static void closeQuietly(FileDescriptor descriptor, Throwable into) {
    try {
      close(descriptor);
    } catch (IOException e) {
      into.addSuppressed(e);
    }
  }
}
