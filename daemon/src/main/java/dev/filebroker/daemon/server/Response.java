package dev.filebroker.daemon.server;

import dev.filebroker.daemon.fs.OpenedFile;
import dev.filebroker.protocol.Reply;
import java.util.Objects;
import java.util.Optional;

/**
 * A reply ready to send, with the descriptor it carries. Whoever holds a Response owns its file
 * and closes it once the reply is sent or abandoned.
 *
 * @param reply the frame to send
 * @param file the descriptor that travels with it, for OPENED replies
 */
record Response(Reply reply, Optional<OpenedFile> file) implements AutoCloseable {
  Response {
    Objects.requireNonNull(reply, "reply == null");
    Objects.requireNonNull(file, "file == null");
    if (reply.descriptorCount() != (file.isPresent() ? 1 : 0)) {
      throw new IllegalArgumentException("reply carries " + reply.descriptorCount() + " descriptors");
    }
  }

  static Response of(Reply reply) {
    return new Response(reply, Optional.empty());
  }

  @Override
  public void close() {
    file.ifPresent(OpenedFile::close);
  }
}
