package dev.filebroker.protocol;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** Each path and flag rule, with the exact message a caller sees. */
class RequestValidatorTest {
  private static void assertPathProblem(String path, String message) {
    assertEquals(Optional.of(message), RequestValidator.pathProblem(path), "path " + path);
  }

  private static void assertFlagProblem(int flags, int mode, String message) {
    assertEquals(Optional.of(message), RequestValidator.flagProblem(flags, mode));
  }

  @ParameterizedTest
  @ValueSource(
      strings = {"/", "/etc", "/etc/hostname", "/a/b c/d.e", "/..a/b..", "/.hidden", "/ü/€"})
  void acceptsCanonicalAbsolutePaths(String path) {
    assertEquals(Optional.empty(), RequestValidator.pathProblem(path));
  }

  @Test
  void refusesEachNonCanonicalPathWithItsRule() {
    assertPathProblem("", "path is empty");
    assertPathProblem("/etc/\0x", "path contains a NUL byte");
    assertPathProblem("etc/hostname", "path must be absolute (start with /)");
    assertPathProblem("/etc/", "path must not end with /");
    assertPathProblem("/etc//hostname", "path must not contain an empty component (//)");
    assertPathProblem("/etc/./hostname", "path must not contain a '.' component");
    assertPathProblem("/etc/..", "path must not contain a '..' component");
    assertPathProblem("/tmp/\uD800", "path is not valid UTF-8");
    assertPathProblem("/" + "a".repeat(4095), "path is 4096 bytes; the limit is 4095");
    assertEquals(Optional.empty(), RequestValidator.pathProblem("/" + "a".repeat(4094)));
    assertPathProblem("/" + "€".repeat(1365), "path is 4096 bytes; the limit is 4095");
  }

  @Test
  void acceptsConsistentFlags() {
    assertEquals(Optional.empty(), RequestValidator.flagProblem(OpenFlags.O_RDONLY, 0));
    assertEquals(
        Optional.empty(),
        RequestValidator.flagProblem(
            OpenFlags.O_WRONLY | OpenFlags.O_CREAT | OpenFlags.O_EXCL | OpenFlags.O_TRUNC, 0600));
    assertEquals(
        Optional.empty(), RequestValidator.flagProblem(OpenFlags.O_RDWR | OpenFlags.O_APPEND, 0));
    assertEquals(
        Optional.empty(),
        RequestValidator.flagProblem(
            OpenFlags.O_DIRECTORY
                | OpenFlags.O_CLOEXEC
                | OpenFlags.O_NOFOLLOW
                | OpenFlags.O_NONBLOCK
                | OpenFlags.O_NOCTTY,
            0));
  }

  @Test
  void refusesEachBadFlagCombinationWithItsRule() {
    assertFlagProblem(
        OpenFlags.O_PATH,
        0,
        "O_PATH is refused: filebroker hands out only readable or writable files");
    assertFlagProblem(
        OpenFlags.O_TMPFILE | OpenFlags.O_RDWR,
        0,
        "O_TMPFILE is refused: filebroker does not broker anonymous files");
    assertFlagProblem(0x100000, 0, "unknown flag bits 0x100000");
    assertFlagProblem(3, 0, "access mode 3 is not O_RDONLY, O_WRONLY or O_RDWR");
    assertFlagProblem(OpenFlags.O_TRUNC, 0, "O_TRUNC needs O_WRONLY or O_RDWR");
    assertFlagProblem(OpenFlags.O_APPEND, 0, "O_APPEND needs O_WRONLY or O_RDWR");
    assertFlagProblem(OpenFlags.O_CREAT, 0600, "O_CREAT needs O_WRONLY or O_RDWR");
    assertFlagProblem(
        OpenFlags.O_WRONLY | OpenFlags.O_EXCL, 0, "O_EXCL is only meaningful with O_CREAT");
    assertFlagProblem(
        OpenFlags.O_DIRECTORY | OpenFlags.O_WRONLY,
        0,
        "O_DIRECTORY opens read-only: no write, create, truncate or append");
    assertFlagProblem(OpenFlags.O_WRONLY, 0644, "create mode 0644 given without O_CREAT");
    assertFlagProblem(
        OpenFlags.O_WRONLY | OpenFlags.O_CREAT, 010000, "create mode 010000 has bits above 07777");
  }

  @Test
  void validateAnswersWithTheMatchingErrorReply() {
    assertEquals(
        Optional.of(
            ErrorReply.of(5, ErrorCode.INVALID_PATH, 0, "path must be absolute (start with /)")),
        RequestValidator.validate(new OpenRequest(5, 0, 0, "x")));
    assertEquals(
        Optional.of(
            ErrorReply.of(6, ErrorCode.INVALID_FLAGS, 0, "O_TRUNC needs O_WRONLY or O_RDWR")),
        RequestValidator.validate(new OpenRequest(6, OpenFlags.O_TRUNC, 0, "/x")));
    assertEquals(Optional.empty(), RequestValidator.validate(new OpenRequest(7, 0, 0, "/x")));
  }

  @Test
  void validatesEachOpenManyEntryOnItsOwn() {
    OpenManyRequest many =
        new OpenManyRequest(
            6,
            java.util.List.of(
                new OpenManyRequest.Entry(0, 0, "/etc/hostname"),
                new OpenManyRequest.Entry(0, 0, "relative"),
                new OpenManyRequest.Entry(OpenFlags.O_TRUNC, 0, "/etc/hostname")));
    assertEquals(
        Optional.empty(), RequestValidator.validate(many), "the request as a whole is fine");
    assertEquals(Optional.empty(), RequestValidator.validateEntry(many, 0));
    assertEquals(
        Optional.of(
            ErrorReply.of(6, ErrorCode.INVALID_PATH, 0, "path must be absolute (start with /)")),
        RequestValidator.validateEntry(many, 1));
    assertEquals(
        Optional.of(
            ErrorReply.of(6, ErrorCode.INVALID_FLAGS, 0, "O_TRUNC needs O_WRONLY or O_RDWR")),
        RequestValidator.validateEntry(many, 2));
  }
}
