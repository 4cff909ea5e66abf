package dev.filebroker.daemon.it;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;

/** What the Varlink tests send and how they read a reply: NUL-terminated JSON messages. */
final class VarlinkMessages {
  /** A call of org.varlink.service.GetInfo, with its terminating NUL. */
  static final byte[] GET_INFO =
      "{\"method\":\"org.varlink.service.GetInfo\"}\0".getBytes(StandardCharsets.UTF_8);

  private VarlinkMessages() {}

  /**
   * Reads up to the first NUL and returns the message before it; fails if the stream ends first.
   */
  static String readReply(SocketChannel c) throws IOException {
    ByteBuffer in = ByteBuffer.allocate(1 << 16);
    while (true) {
      if (c.read(in) < 0) {
        throw new IOException("the connection ended before a reply");
      }
      for (int i = 0; i < in.position(); i++) {
        if (in.get(i) == 0) {
          return new String(in.array(), 0, i, StandardCharsets.UTF_8);
        }
      }
    }
  }
}
