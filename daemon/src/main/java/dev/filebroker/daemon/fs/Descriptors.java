package dev.filebroker.daemon.fs;

import java.io.FileDescriptor;
import java.lang.reflect.Field;
import java.lang.reflect.InaccessibleObjectException;

/**
 * Conversions between raw descriptor numbers and {@link FileDescriptor}, which the JDK and
 * junixsocket use to pass descriptors with SCM_RIGHTS.
 *
 * <p>Needs {@code --add-opens=java.base/java.io=ALL-UNNAMED} (the launcher and the test JVMs pass
 * it): the JDK has no public way to read or set the number inside a FileDescriptor.
 */
public final class Descriptors {
  private static final Field FD_FIELD = fdField();

  private Descriptors() {}

  private static Field fdField() {
    try {
      Field field = FileDescriptor.class.getDeclaredField("fd");
      field.setAccessible(true);
      return field;
    } catch (NoSuchFieldException | InaccessibleObjectException | SecurityException e) {
      throw new IllegalStateException(
          "Could not reach java.io.FileDescriptor.fd: start the JVM with"
              + " --add-opens=java.base/java.io=ALL-UNNAMED",
          e);
    }
  }

  /**
   * The descriptor number inside {@code descriptor}.
   *
   * @return the number, or -1 when {@code descriptor} is not (or no longer) valid
   * @throws IllegalStateException when the JVM was started without {@code
   *     --add-opens=java.base/java.io=ALL-UNNAMED}
   */
  public static int fdOf(FileDescriptor descriptor) {
    if (descriptor == null) {
      throw new NullPointerException("descriptor == null");
    }
    try {
      return FD_FIELD.getInt(descriptor);
    } catch (IllegalAccessException e) {
      throw new IllegalStateException(
          "Could not read java.io.FileDescriptor.fd: start the JVM with"
              + " --add-opens=java.base/java.io=ALL-UNNAMED",
          e);
    }
  }

  /**
   * A FileDescriptor naming {@code fd} that nothing closes on its own: no cleaner is registered, so
   * the descriptor stays owned by whoever owns {@code fd}. Closing a stream built on the result
   * does close {@code fd}; do not build streams on it unless you own the descriptor.
   *
   * @param fd a descriptor number, at least 0
   */
  public static FileDescriptor wrap(int fd) {
    if (fd < 0) {
      throw new IllegalArgumentException("fd < 0: " + fd);
    }
    FileDescriptor descriptor = new FileDescriptor();
    try {
      FD_FIELD.setInt(descriptor, fd);
    } catch (IllegalAccessException e) {
      throw new IllegalStateException(
          "Could not set java.io.FileDescriptor.fd: start the JVM with"
              + " --add-opens=java.base/java.io=ALL-UNNAMED",
          e);
    }
    return descriptor;
  }

  /**
   * Closes {@code fd} with close(2). On Linux the descriptor is released even when close reports an
   * error (EINTR, EIO), so the error is not retried and not reported.
   */
  public static void close(int fd) {
    if (fd >= 0) {
      LibC.close(fd);
    }
  }

  /**
   * The number of descriptors this process has open (entries of {@code /proc/self/fd}, not counting
   * the one used to list them).
   *
   * @return the count, or -1 when {@code /proc} cannot be listed
   */
  public static int openDescriptorCount() {
    String[] entries = new java.io.File("/proc/self/fd").list();
    return entries == null ? -1 : entries.length - 1;
  }
}
