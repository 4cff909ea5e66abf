package dev.filebroker.protocol;

import java.util.Optional;

/**
 * The error codes an ERROR reply carries. Names and numbers are stable API: clients may switch on
 * either. Codes of at least 100 are protocol errors: the daemon closes the connection after sending
 * one.
 */
public enum ErrorCode {
  /**
   * No rule grants the request, a deny rule matches it, or the caller's credentials are unknown.
   */
  DENIED(1),
  /** The file, or a directory on its path, does not exist ({@code ENOENT}). */
  NOT_FOUND(2),
  /** A component of the path is a symbolic link; filebroker never follows one ({@code ELOOP}). */
  SYMLINK_IN_PATH(3),
  /** The path is not absolute and canonical, too long, contains NUL or is not valid UTF-8. */
  INVALID_PATH(4),
  /** The opened file's type (directory, FIFO, device, socket) is not allowed by the rule. */
  WRONG_FILE_TYPE(5),
  /** The flags carry an unknown bit, a refused flag (O_PATH, O_TMPFILE) or a bad combination. */
  INVALID_FLAGS(6),
  /** {@code O_CREAT|O_EXCL} and the file exists ({@code EEXIST}). */
  ALREADY_EXISTS(7),
  /** A component of the path is not a directory ({@code ENOTDIR}). */
  NOT_A_DIRECTORY(8),
  /** The path crosses a mount point where the rule forbids it ({@code EXDEV}). */
  CROSSES_MOUNT(9),
  /** A limit was reached (requests in flight, rate, connections); retry later. */
  LIMIT_EXCEEDED(10),
  /** The open failed for another reason; the errno field says which. */
  IO_ERROR(11),
  /** The daemon failed in a way it did not expect; it logged the details. */
  INTERNAL_ERROR(12),
  /**
   * The opened file does not meet the allowing rule's guards (link count, owner, append-only
   * attribute, directory); it was closed, not handed out.
   */
  CONSTRAINT_FAILED(13),
  /**
   * The file is on a file system, or in a directory, that matches names without regard to case
   * (vfat, exfat, CIFS, a casefold directory): path rules cannot be enforced there, so the daemon
   * opens nothing there. Linux only knows such names on the file systems listed in the protocol
   * documentation.
   */
  CASE_INSENSITIVE(14),

  /** Protocol error: the frame's layout is inconsistent (lengths, reserved bits). */
  MALFORMED_FRAME(100),
  /** Protocol error: the frame's version is not {@link Protocol#VERSION}. */
  UNSUPPORTED_VERSION(101),
  /** Protocol error: the message type is unknown or not a request. */
  UNKNOWN_TYPE(102),
  /** Protocol error: the frame's length field exceeds {@link Protocol#MAX_FRAME_SIZE}. */
  FRAME_TOO_LARGE(103),
  /** Protocol error: the client attached descriptors or other ancillary data to a request. */
  UNEXPECTED_DESCRIPTOR(104),
  /** Protocol error: the client stopped mid-frame for longer than the daemon waits. */
  TIMEOUT(105);

  private final int code;

  ErrorCode(int code) {
    this.code = code;
  }

  /** The number carried on the wire. */
  public int code() {
    return code;
  }

  /** Whether the daemon closes the connection after this error. */
  public boolean isProtocolError() {
    return code >= 100;
  }

  /** The code with this wire number, or empty when this library does not know it. */
  public static Optional<ErrorCode> fromCode(int code) {
    for (ErrorCode c : values()) {
      if (c.code == code) {
        return Optional.of(c);
      }
    }
    return Optional.empty();
  }
}
