package dev.filebroker.protocol;

/**
 * The outcome of decoding one frame from a buffer.
 *
 * @param <T> {@link Request} on the daemon's side, {@link Reply} on the client's
 */
public sealed interface Decoded<T> {
  /** The buffer holds less than one whole frame; nothing was consumed. */
  record NeedMore<T>(int bytesNeeded) implements Decoded<T> {}

  /** One whole, well-formed frame; {@code size} bytes were consumed. */
  record Frame<T>(T message, int size) implements Decoded<T> {}

  /**
   * A frame whose framing is intact but whose content is refused (a path that is not UTF-8, too
   * long a path). {@code size} bytes were consumed; answer with an ERROR reply and go on.
   */
  record Rejected<T>(int requestId, ErrorCode code, String message, int size)
      implements Decoded<T> {}

  /**
   * The stream cannot be read further: answer with an ERROR reply carrying a protocol-error code
   * where possible, then close the connection.
   */
  record Fatal<T>(int requestId, ErrorCode code, String message) implements Decoded<T> {}
}
