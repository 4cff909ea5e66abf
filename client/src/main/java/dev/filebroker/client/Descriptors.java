package dev.filebroker.client;

import java.io.FileDescriptor;
import java.io.FileInputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.newsclub.net.unix.FileDescriptorCast;

/**
 * Taking ownership of received descriptors, closing them, and reading what the kernel says about
 * them, for the reply reader, {@link FileBroker#receiveFrom} and {@link BrokeredFile}.
 */
final class Descriptors {
  private Descriptors() {}

  /**
   * Returns a duplicate of a descriptor junixsocket received, and closes the original.
   *
   * <p>Two junixsocket behaviours make this necessary. It receives without {@code MSG_CMSG_CLOEXEC}
   * ({@code recvmsg(2)} flags 0, checked with {@code strace}; its API has no way to ask for it);
   * the duplicate is made close-on-exec. And it remembers every received descriptor and closes
   * those still open when the socket closes or is collected; the duplicate is not remembered, so a
   * file outlives the connection it came on.
   *
   * <p>{@code FileDescriptorCast.duplicating} touches no path: in junixsocket 2.11.1 it is {@code
   * dup(2)}, {@code fcntl(F_SETFD, FD_CLOEXEC)} and a {@code getsockname(2)} probe (checked with
   * {@code javap -c} and {@code strace}). Linux caveat: a {@code fork} and {@code exec} by another
   * thread between the {@code recvmsg(2)} and the close of the original inherits the original (and
   * the duplicate, between the two calls). The JDK's own process launching closes every descriptor
   * above 2 in the child before it executes anything, so only native code that forks and executes
   * by itself can be that other thread.
   */
  static FileDescriptor takeOwnership(FileDescriptor received) throws IOException {
    try {
      return FileDescriptorCast.duplicating(received).getFileDescriptor();
    } finally {
      close(received);
    }
  }

  /**
   * Whether a failed read is junixsocket's report of {@code MSG_CTRUNC}. junixsocket 2.11.1 passes
   * no flags to {@code recvmsg(2)} (checked with {@code strace}) and, when the kernel sets {@code
   * MSG_CTRUNC} (a sender attached more descriptors than the 256-byte control buffer holds, about
   * 60, or this process ran out of descriptors), fails the read with {@code ENOBUFS} ("No buffer
   * space available"), dropping the bytes that read returned. The descriptors that did fit are
   * installed in this process but never handed to Java; those that did not were closed by the
   * kernel. Either way the stream can no longer be trusted.
   *
   * <p>Linux caveat: recognised by its message, the C library's text for {@code ENOBUFS}.
   */
  static boolean isControlTruncation(IOException e) {
    String message = e.getMessage();
    return message != null
        && (message.contains("No buffer space available") || message.contains("ENOBUFS"));
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

  /**
   * The descriptor's number. The JDK has no API for it; junixsocket reads it in its native code
   * ({@code FileDescriptorCast.as(Integer.class)}), so no JVM option is needed.
   *
   * @throws IOException if the descriptor is closed
   */
  static int number(FileDescriptor descriptor) throws IOException {
    if (!descriptor.valid()) {
      throw new IOException("The descriptor is closed");
    }
    return FileDescriptorCast.using(descriptor).as(Integer.class);
  }

  /**
   * The descriptor's file status flags and access mode, as {@code fcntl(F_GETFL)} would return
   * them: the octal {@code flags:} line of {@code /proc/self/fdinfo/<fd>}. Linux caveat: that line
   * also carries {@code O_CLOEXEC}, a descriptor flag, and {@code O_LARGEFILE} on 64-bit kernels.
   */
  static int statusFlags(FileDescriptor descriptor) throws IOException {
    Path info = Path.of("/proc/self/fdinfo", Integer.toString(number(descriptor)));
    for (String line : Files.readAllLines(info, StandardCharsets.US_ASCII)) {
      if (line.startsWith("flags:")) {
        try {
          return Integer.parseInt(line.substring("flags:".length()).strip(), 8);
        } catch (NumberFormatException e) {
          throw new IOException("Could not parse the flags line of " + info + ": " + line, e);
        }
      }
    }
    throw new IOException("Could not find a flags line in " + info);
  }

  /**
   * The {@code st_mode} of the file the descriptor refers to. {@code stat(2)} through the {@code
   * /proc/self/fd} magic link reaches the open file itself, whatever the permissions on the path it
   * was opened by, and also works for pipes, sockets and deleted files.
   */
  static int fileMode(FileDescriptor descriptor) throws IOException {
    Path link = Path.of("/proc/self/fd", Integer.toString(number(descriptor)));
    return (Integer) Files.getAttribute(link, "unix:mode");
  }
}
