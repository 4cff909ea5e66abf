package dev.filebroker.protocol;

import java.util.Objects;
import java.util.Optional;

/**
 * ERROR: the request failed or was refused. In band: code, errno and a short message. No descriptor
 * travels with it.
 *
 * @param requestId the id of the request this answers, or 0 when it could not be read
 * @param code the wire number of the error code; see {@link ErrorCode}
 * @param errno the Linux errno behind the failure, or 0 when none applies
 * @param message a short human-readable explanation, at most {@link Protocol#MAX_MESSAGE_LENGTH}
 *     bytes of UTF-8
 */
public record ErrorReply(int requestId, int code, int errno, String message) implements Reply {
  /** Checks the message is present; encoders truncate it to the wire limit. */
  public ErrorReply {
    Objects.requireNonNull(message, "message == null");
    if (code < 0 || code > 0xFFFF) {
      throw new IllegalArgumentException("code must fit in 16 bits: " + code);
    }
  }

  /** An error reply for a known code. */
  public static ErrorReply of(int requestId, ErrorCode code, int errno, String message) {
    return new ErrorReply(requestId, code.code(), errno, message);
  }

  /** The code as this library knows it, or empty for a code from a newer daemon. */
  public Optional<ErrorCode> errorCode() {
    return ErrorCode.fromCode(code);
  }

  /** The code's stable name, or {@code "UNKNOWN(n)"} for a code this library does not know. */
  public String codeName() {
    return errorCode().map(Enum::name).orElse("UNKNOWN(" + code + ")");
  }

  @Override
  public int descriptorCount() {
    return 0;
  }
}
