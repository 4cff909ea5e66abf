package dev.filebroker.client;

import dev.filebroker.protocol.ErrorReply;
import java.io.IOException;
import java.nio.file.AccessDeniedException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.NoSuchFileException;

/**
 * Exceptions made on the reply reader's thread, thrown again on the caller's: a fresh exception of
 * the same type and message, whose stack trace is the caller's and whose cause is the original. A
 * stack trace then shows which call of the application failed, and the cause what the reader saw.
 * One original may fail many callers (a lost connection fails every waiting request); each gets its
 * own exception.
 */
final class CallerStack {
  private CallerStack() {}

  /** A copy of {@code original} made on the calling thread, with {@code original} as its cause. */
  static IOException rethrown(IOException original) {
    IOException copy =
        switch (original) {
          case AccessDeniedException e ->
              new AccessDeniedException(e.getFile(), e.getOtherFile(), e.getReason());
          case NoSuchFileException e ->
              new NoSuchFileException(e.getFile(), e.getOtherFile(), e.getReason());
          case FileAlreadyExistsException e ->
              new FileAlreadyExistsException(e.getFile(), e.getOtherFile(), e.getReason());
          case ErrorReplies.DaemonNotDirectoryException e ->
              new ErrorReplies.DaemonNotDirectoryException(e.getFile(), e.getReason());
          case BrokerRequestException e ->
              new BrokerRequestException(
                  e.getFile(), new ErrorReply(0, e.code(), e.errno(), e.daemonMessage()));
          case BrokerConnectionClosedException e ->
              new BrokerConnectionClosedException(e.getMessage(), e);
          case BrokerUnavailableException e ->
              new BrokerUnavailableException(e.socket(), e.getMessage(), e);
          case BrokerProtocolException e -> new BrokerProtocolException(e.getMessage());
          default -> new IOException(original.getMessage(), original);
        };
    if (copy.getCause() == null) {
      copy.initCause(original);
    }
    return copy;
  }
}
