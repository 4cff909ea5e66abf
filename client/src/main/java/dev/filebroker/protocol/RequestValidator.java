package dev.filebroker.protocol;

import java.util.Optional;

/**
 * Content rules for requests that decoded cleanly: a canonical absolute path and a consistent set
 * of flags. A violation is answered with an ERROR reply and the connection stays open.
 *
 * <p>The daemon applies these rules before it looks at any policy or file. The client library
 * applies the same rules before sending, so a bad request fails fast with the same message.
 */
public final class RequestValidator {
  private RequestValidator() {}

  /** Returns the refusal for this request, or empty when it may proceed to policy. */
  public static Optional<ErrorReply> validate(Request request) {
    return switch (request) {
      case OpenRequest open -> validateOpen(open);
      // Each entry is validated on its own (validateEntry), so one bad path fails only itself.
      case OpenManyRequest many -> Optional.empty();
    };
  }

  /**
   * Returns the refusal for entry {@code index} of an OPEN_MANY request, or empty when it may
   * proceed to policy. The refusal carries the request's id.
   */
  public static Optional<ErrorReply> validateEntry(OpenManyRequest request, int index) {
    return validateOpen(request.entries().get(index).asOpenRequest(request.requestId()));
  }

  private static Optional<ErrorReply> validateOpen(OpenRequest open) {
    Optional<String> pathProblem = pathProblem(open.path());
    if (pathProblem.isPresent()) {
      return Optional.of(
          ErrorReply.of(open.requestId(), ErrorCode.INVALID_PATH, 0, pathProblem.get()));
    }
    Optional<String> flagProblem = flagProblem(open.flags(), open.mode());
    if (flagProblem.isPresent()) {
      return Optional.of(
          ErrorReply.of(open.requestId(), ErrorCode.INVALID_FLAGS, 0, flagProblem.get()));
    }
    return Optional.empty();
  }

  /**
   * Why this path is not absolute and canonical, or empty when it is. Canonical means: starts with
   * {@code /}, no empty component ({@code //}), no {@code .} or {@code ..} component, no trailing
   * {@code /} (except the root itself), no NUL, no unpaired UTF-16 surrogate (it has no UTF-8
   * encoding), at most {@link Protocol#MAX_PATH_LENGTH} bytes.
   */
  public static Optional<String> pathProblem(String path) {
    if (path.isEmpty()) {
      return Optional.of("path is empty");
    }
    if (path.indexOf('\0') >= 0) {
      return Optional.of("path contains a NUL byte");
    }
    if (hasUnpairedSurrogate(path)) {
      // String.getBytes would silently encode it as '?', naming another file.
      return Optional.of("path is not valid UTF-8");
    }
    int bytes = utf8Length(path);
    if (bytes > Protocol.MAX_PATH_LENGTH) {
      return Optional.of("path is " + bytes + " bytes; the limit is " + Protocol.MAX_PATH_LENGTH);
    }
    if (path.charAt(0) != '/') {
      return Optional.of("path must be absolute (start with /)");
    }
    if (path.length() == 1) {
      return Optional.empty();
    }
    if (path.endsWith("/")) {
      return Optional.of("path must not end with /");
    }
    int start = 1;
    while (start <= path.length()) {
      int end = path.indexOf('/', start);
      if (end < 0) {
        end = path.length();
      }
      int length = end - start;
      if (length == 0) {
        return Optional.of("path must not contain an empty component (//)");
      }
      if (path.charAt(start) == '.'
          && (length == 1 || (length == 2 && path.charAt(start + 1) == '.'))) {
        return Optional.of(
            "path must not contain a '" + path.substring(start, end) + "' component");
      }
      start = end + 1;
    }
    return Optional.empty();
  }

  /** Why this combination of open flags and create mode is refused, or empty when it is not. */
  public static Optional<String> flagProblem(int flags, int mode) {
    if ((flags & OpenFlags.O_PATH) != 0) {
      return Optional.of("O_PATH is refused: filebroker hands out only readable or writable files");
    }
    if ((flags & (OpenFlags.O_TMPFILE & ~OpenFlags.O_DIRECTORY)) != 0) {
      return Optional.of("O_TMPFILE is refused: filebroker does not broker anonymous files");
    }
    int unknown = flags & ~OpenFlags.ALLOWED;
    if (unknown != 0) {
      return Optional.of(String.format("unknown flag bits 0x%x", unknown));
    }
    int accmode = flags & OpenFlags.O_ACCMODE;
    if (accmode == OpenFlags.O_ACCMODE) {
      return Optional.of("access mode 3 is not O_RDONLY, O_WRONLY or O_RDWR");
    }
    boolean writes = accmode != OpenFlags.O_RDONLY;
    if (!writes && (flags & OpenFlags.O_TRUNC) != 0) {
      return Optional.of("O_TRUNC needs O_WRONLY or O_RDWR");
    }
    if (!writes && (flags & OpenFlags.O_APPEND) != 0) {
      return Optional.of("O_APPEND needs O_WRONLY or O_RDWR");
    }
    if (!writes && (flags & OpenFlags.O_CREAT) != 0) {
      return Optional.of("O_CREAT needs O_WRONLY or O_RDWR");
    }
    if ((flags & OpenFlags.O_EXCL) != 0 && (flags & OpenFlags.O_CREAT) == 0) {
      return Optional.of("O_EXCL is only meaningful with O_CREAT");
    }
    if ((flags & OpenFlags.O_DIRECTORY) != 0 && flags != (flags & DIRECTORY_COMPATIBLE)) {
      return Optional.of("O_DIRECTORY opens read-only: no write, create, truncate or append");
    }
    if ((flags & OpenFlags.O_CREAT) == 0 && mode != 0) {
      return Optional.of(String.format("create mode 0%o given without O_CREAT", mode));
    }
    if (mode > Protocol.MAX_CREATE_MODE) {
      return Optional.of(String.format("create mode 0%o has bits above 07777", mode));
    }
    return Optional.empty();
  }

  private static final int DIRECTORY_COMPATIBLE =
      OpenFlags.O_DIRECTORY
          | OpenFlags.O_NOCTTY
          | OpenFlags.O_NONBLOCK
          | OpenFlags.O_NOFOLLOW
          | OpenFlags.O_CLOEXEC;

  private static boolean hasUnpairedSurrogate(String s) {
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      if (Character.isHighSurrogate(c)
          && i + 1 < s.length()
          && Character.isLowSurrogate(s.charAt(i + 1))) {
        i++;
      } else if (Character.isSurrogate(c)) {
        return true;
      }
    }
    return false;
  }

  private static int utf8Length(String s) {
    int n = 0;
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      if (c < 0x80) {
        n += 1;
      } else if (c < 0x800) {
        n += 2;
      } else if (Character.isHighSurrogate(c)) {
        n += 4;
        i++;
      } else {
        n += 3;
      }
    }
    return n;
  }
}
