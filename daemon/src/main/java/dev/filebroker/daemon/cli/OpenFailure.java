package dev.filebroker.daemon.cli;

import dev.filebroker.client.BrokerRequestException;
import dev.filebroker.protocol.ErrorCode;
import java.io.IOException;
import java.nio.file.AccessDeniedException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.FileSystemException;
import java.nio.file.NoSuchFileException;
import java.nio.file.NotDirectoryException;
import java.util.Map;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * How {@code open} and {@code run} word a file the daemon refused or could not open: {@code CODE:
 * what happened}, with the protocol's error name first (so scripts can match it) and then words. A
 * daemon reason that is only a failed system call ({@code "openat2 failed: ENOENT"}) becomes words
 * with the call and errno name in parentheses; any other reason (a denial's, a guard's) is kept as
 * the daemon wrote it.
 */
final class OpenFailure {
  /**
   * The daemon's wording of a failed call: {@code "<call> failed: <ERRNO-NAME>"} or {@code "errno
   * N"}.
   */
  private static final Pattern SYSCALL =
      Pattern.compile("([a-z0-9_]+) failed: (E[A-Z0-9]+|errno [0-9]+)");

  private static final Map<String, String> ERRNO_WORDS =
      Map.ofEntries(
          Map.entry("EPERM", "operation not permitted"),
          Map.entry("ENOENT", "no such file or directory"),
          Map.entry("EIO", "input/output error"),
          Map.entry("ENXIO", "no such device or address"),
          Map.entry("EAGAIN", "resource temporarily unavailable"),
          Map.entry("ENOMEM", "the daemon is out of memory"),
          Map.entry("EACCES", "permission denied to the daemon itself"),
          Map.entry("EBUSY", "device or resource busy"),
          Map.entry("EEXIST", "the file already exists"),
          Map.entry("EXDEV", "the path crosses a mount point"),
          Map.entry("ENODEV", "no such device"),
          Map.entry("ENOTDIR", "a component of the path is not a directory"),
          Map.entry("EISDIR", "it is a directory"),
          Map.entry("EINVAL", "invalid argument"),
          Map.entry("ENFILE", "too many open files in the system"),
          Map.entry("EMFILE", "the daemon has too many open files"),
          Map.entry("ETXTBSY", "text file busy"),
          Map.entry("EFBIG", "file too large"),
          Map.entry("ENOSPC", "no space left on device"),
          Map.entry("EROFS", "read-only file system"),
          Map.entry("EMLINK", "too many links"),
          Map.entry("ENAMETOOLONG", "file name too long"),
          Map.entry("ELOOP", "a component of the path is a symbolic link"),
          Map.entry("EOVERFLOW", "value too large for the daemon's data type"),
          Map.entry("EOPNOTSUPP", "operation not supported by the file system"),
          Map.entry("ESTALE", "stale file handle"),
          Map.entry("EDQUOT", "disk quota exceeded"),
          Map.entry("EFTYPE", "the file's type is not a regular file"));

  private OpenFailure() {}

  /**
   * {@code "CODE: what happened"} for a refused or failed open, or the exception's own message when
   * it is no refusal (a lost connection, a protocol violation).
   */
  static String describe(IOException e) {
    Optional<String> code = codeName(e);
    if (code.isEmpty()) {
      return e.getMessage();
    }
    String reason =
        switch (e) {
          case BrokerRequestException b -> b.daemonMessage();
          case FileSystemException f -> f.getReason() == null ? "" : f.getReason();
          default -> "";
        };
    return code.get() + ": " + words(code.get(), reason);
  }

  /** The protocol's name for the daemon's error code behind {@code e}, if it is a refusal. */
  static Optional<String> codeName(IOException e) {
    return Optional.ofNullable(
        switch (e) {
          case BrokerRequestException b -> b.codeName();
          case AccessDeniedException a -> ErrorCode.DENIED.name();
          case NoSuchFileException n -> ErrorCode.NOT_FOUND.name();
          case FileAlreadyExistsException f -> ErrorCode.ALREADY_EXISTS.name();
          case NotDirectoryException n -> ErrorCode.NOT_A_DIRECTORY.name();
          default -> null;
        });
  }

  /** The words for {@code code} given the daemon's {@code reason} (possibly empty). */
  static String words(String code, String reason) {
    Matcher call = SYSCALL.matcher(reason);
    if (call.matches()) {
      String errno = call.group(2);
      String what =
          code.equals(ErrorCode.IO_ERROR.name()) || code.equals(ErrorCode.INTERNAL_ERROR.name())
              ? ERRNO_WORDS.getOrDefault(errno, codeWords(code))
              : codeWords(code);
      return what + " (" + call.group(1) + ": " + errno + ")";
    }
    return reason.isBlank() ? codeWords(code) : reason;
  }

  /** What each error code means, in the words of docs/protocol.md's table. */
  static String codeWords(String code) {
    return switch (code) {
      case "DENIED" -> "the policy does not grant this";
      case "NOT_FOUND" -> "no such file or directory";
      case "SYMLINK_IN_PATH" ->
          "a component of the path is a symbolic link, which is never followed";
      case "INVALID_PATH" -> "the path is not absolute and canonical";
      case "WRONG_FILE_TYPE" -> "the file's type is not one the rule allows";
      case "INVALID_FLAGS" -> "the daemon refuses this combination of access and options";
      case "ALREADY_EXISTS" -> "the file already exists";
      case "NOT_A_DIRECTORY" -> "a component of the path is not a directory";
      case "CROSSES_MOUNT" -> "the path crosses a mount point, which the rule forbids";
      case "LIMIT_EXCEEDED" -> "a daemon limit was reached; retry later";
      case "IO_ERROR" -> "the open failed";
      case "INTERNAL_ERROR" -> "the daemon failed unexpectedly; its log has the details";
      case "CONSTRAINT_FAILED" -> "the file does not meet the allowing rule's guards";
      case "CASE_INSENSITIVE" ->
          "the file is where names match regardless of case, so path rules cannot hold there";
      default -> "an error this version does not know";
    };
  }
}
