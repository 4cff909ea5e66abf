package dev.filebroker.client;

import dev.filebroker.protocol.ErrorCode;
import dev.filebroker.protocol.ErrorReply;
import java.nio.file.FileSystemException;
import java.util.Objects;
import java.util.Optional;

/**
 * The daemon refused or failed one request with an error code that has no closer JDK exception
 * ({@code SYMLINK_IN_PATH}, {@code INVALID_PATH}, {@code WRONG_FILE_TYPE}, {@code LIMIT_EXCEEDED},
 * {@code IO_ERROR}, ...). The connection stays usable. Codes with a JDK counterpart are thrown as
 * that type instead: see {@link FileBroker#open(java.nio.file.Path, Access...)}.
 *
 * <p>The message reads {@code "<path>: <CODE>: <daemon message>"}, with {@code " (errno N)"}
 * appended when the daemon reported one.
 */
public final class BrokerRequestException extends FileSystemException {
  private final int code;
  private final int errno;
  private final String daemonMessage;

  /**
   * Creates the exception for an ERROR reply.
   *
   * @param path the path of the request, as sent
   * @param reply the daemon's ERROR reply
   */
  public BrokerRequestException(String path, ErrorReply reply) {
    super(Objects.requireNonNull(path, "path == null"), null, reason(reply));
    this.code = reply.code();
    this.errno = reply.errno();
    this.daemonMessage = reply.message();
  }

  private static String reason(ErrorReply reply) {
    String reason = reply.codeName() + ": " + reply.message();
    return reply.errno() == 0 ? reason : reason + " (errno " + reply.errno() + ")";
  }

  /** The error code, or empty for a code this library does not know (a newer daemon). */
  public Optional<ErrorCode> errorCode() {
    return ErrorCode.fromCode(code);
  }

  /** The error code's wire number. */
  public int code() {
    return code;
  }

  /** The error code's name, or {@code "UNKNOWN(n)"} for a code this library does not know. */
  public String codeName() {
    return ErrorCode.fromCode(code).map(Enum::name).orElse("UNKNOWN(" + code + ")");
  }

  /** The Linux errno behind the failure, or 0 when none applies. */
  public int errno() {
    return errno;
  }

  /** The daemon's message, without the path and code. */
  public String daemonMessage() {
    return daemonMessage;
  }
}
