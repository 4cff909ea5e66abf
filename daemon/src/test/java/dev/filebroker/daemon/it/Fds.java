package dev.filebroker.daemon.it;

import java.io.FileDescriptor;
import java.io.FileInputStream;
import java.io.IOException;
import java.lang.reflect.Field;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.Map;

/**
 * What a received descriptor refers to, read by the kernel through {@code /proc/self/fd/N}: the
 * attack tests compare every descriptor the daemon hands out against the inodes the policy grants.
 */
final class Fds {
  /** A file's identity: device and inode number. */
  record Inode(long dev, long ino) {
    static Inode of(Path path) throws IOException {
      Map<String, Object> a = Files.readAttributes(path, "unix:dev,ino", LinkOption.NOFOLLOW_LINKS);
      return new Inode((Long) a.get("dev"), (Long) a.get("ino"));
    }
  }

  private Fds() {}

  /** The descriptor number (the tests run with --add-opens java.base/java.io). */
  static int number(FileDescriptor fd) {
    try {
      Field f = FileDescriptor.class.getDeclaredField("fd");
      f.setAccessible(true);
      return f.getInt(fd);
    } catch (ReflectiveOperationException e) {
      throw new IllegalStateException("cannot read the descriptor number", e);
    }
  }

  /** fstat of the descriptor: follows the /proc magic link to the open file itself. */
  static Inode inode(FileDescriptor fd) throws IOException {
    Map<String, Object> a =
        Files.readAttributes(Path.of("/proc/self/fd/" + number(fd)), "unix:dev,ino");
    return new Inode((Long) a.get("dev"), (Long) a.get("ino"));
  }

  /** The open flags of the descriptor, from /proc/self/fdinfo (octal, as the kernel prints). */
  static int openFlags(FileDescriptor fd) throws IOException {
    for (String line : Files.readAllLines(Path.of("/proc/self/fdinfo/" + number(fd)))) {
      if (line.startsWith("flags:")) {
        return Integer.parseInt(line.substring("flags:".length()).trim(), 8);
      }
    }
    throw new IOException("no flags line in fdinfo of " + number(fd));
  }

  static void close(FileDescriptor fd) throws IOException {
    new FileInputStream(fd).close();
  }
}
