package dev.filebroker.daemon.varlink;

import dev.filebroker.daemon.fs.OpenedFile;
import java.util.List;
import java.util.Objects;

/**
 * One encoded reply (JSON and its NUL) and the descriptors attached to its first byte. Whoever
 * holds it owns the files and closes them once: after the first byte is sent, or instead.
 */
record VarlinkReply(byte[] message, List<OpenedFile> files) implements AutoCloseable {
  VarlinkReply {
    Objects.requireNonNull(message, "message == null");
    files = List.copyOf(files);
  }

  static VarlinkReply of(byte[] message) {
    return new VarlinkReply(message, List.of());
  }

  @Override
  public void close() {
    for (OpenedFile f : files) {
      f.close();
    }
  }
}
