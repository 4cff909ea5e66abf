package dev.filebroker.client;

import dev.filebroker.protocol.ErrorCode;
import dev.filebroker.protocol.ErrorReply;
import java.io.IOException;
import java.nio.file.AccessDeniedException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.NoSuchFileException;
import java.nio.file.NotDirectoryException;

/**
 * Turns an ERROR reply to an ordinary request into the exception {@link FileBroker#open} throws:
 * the nearest JDK type where one exists, so callers catch a condition instead of parsing text.
 */
final class ErrorReplies {
  private ErrorReplies() {}

  static IOException toException(String path, ErrorReply reply) {
    String reason = reply.message().isEmpty() ? reply.codeName() : reply.message();
    ErrorCode code = reply.errorCode().orElse(ErrorCode.INTERNAL_ERROR);
    if (reply.errorCode().isEmpty()) {
      return new BrokerRequestException(path, reply);
    }
    return switch (code) {
      case DENIED -> new AccessDeniedException(path, null, reason);
      case NOT_FOUND -> new NoSuchFileException(path, null, reason);
      case ALREADY_EXISTS -> new FileAlreadyExistsException(path, null, reason);
      case NOT_A_DIRECTORY -> new DaemonNotDirectoryException(path, reason);
      default -> new BrokerRequestException(path, reply);
    };
  }

  /** {@link NotDirectoryException} has no reason parameter; this one carries the daemon's. */
  static final class DaemonNotDirectoryException extends NotDirectoryException {
    private final String reason;

    DaemonNotDirectoryException(String path, String reason) {
      super(path);
      this.reason = reason;
    }

    @Override
    public String getReason() {
      return reason;
    }
  }
}
