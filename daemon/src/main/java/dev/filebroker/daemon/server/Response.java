package dev.filebroker.daemon.server;

import dev.filebroker.daemon.fs.OpenedFile;
import dev.filebroker.protocol.Reply;
import java.util.List;
import java.util.Objects;
import java.util.Optional;

/**
 * A reply ready to send, with the descriptors it carries. Whoever holds a Response owns its files
 * and closes them once the reply is sent or abandoned.
 *
 * @param reply the frame to send
 * @param files the descriptors that travel with it, in order: one for OPENED, one per opened path
 *     for OPENED_MANY, none otherwise
 */
record Response(Reply reply, List<OpenedFile> files) implements AutoCloseable {
  Response {
    Objects.requireNonNull(reply, "reply == null");
    files = List.copyOf(files);
    if (reply.descriptorCount() != files.size()) {
      throw new IllegalArgumentException(
          "reply carries " + reply.descriptorCount() + " descriptors, " + files.size() + " given");
    }
  }

  static Response of(Reply reply) {
    return new Response(reply, List.of());
  }

  static Response of(Reply reply, OpenedFile file) {
    return new Response(reply, List.of(file));
  }

  /** The one descriptor of an OPENED reply; empty for replies that carry none or several. */
  Optional<OpenedFile> file() {
    return files.size() == 1 ? Optional.of(files.get(0)) : Optional.empty();
  }

  @Override
  public void close() {
    for (OpenedFile f : files) {
      f.close();
    }
  }
}
