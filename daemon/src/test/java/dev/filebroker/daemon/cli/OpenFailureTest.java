package dev.filebroker.daemon.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.filebroker.client.BrokerRequestException;
import dev.filebroker.protocol.ErrorCode;
import dev.filebroker.protocol.ErrorReply;
import java.io.IOException;
import java.nio.file.AccessDeniedException;
import java.nio.file.NoSuchFileException;
import org.junit.jupiter.api.Test;

class OpenFailureTest {
  @Test
  void aDenialKeepsTheDaemonsReasonAfterTheCode() {
    assertEquals(
        "DENIED: no allow rule grants read",
        OpenFailure.describe(new AccessDeniedException("/x", null, "no allow rule grants read")));
  }

  @Test
  void aDenialWithoutReasonStillSaysWhatHappened() {
    assertEquals(
        "DENIED: the policy does not grant this",
        OpenFailure.describe(new AccessDeniedException("/x", null, "")));
  }

  @Test
  void aFailedSystemCallBecomesWordsWithTheCallAndErrnoKept() {
    assertEquals(
        "NOT_FOUND: no such file or directory (openat2: ENOENT)",
        OpenFailure.describe(new NoSuchFileException("/x", null, "openat2 failed: ENOENT")));
  }

  @Test
  void anIoErrorIsWordedByItsErrno() {
    ErrorReply reply = ErrorReply.of(1, ErrorCode.IO_ERROR, 30, "openat2 failed: EROFS");
    assertEquals(
        "IO_ERROR: read-only file system (openat2: EROFS)",
        OpenFailure.describe(new BrokerRequestException("/x", reply)));
  }

  @Test
  void anUnknownErrnoNumberIsKeptAsTheDaemonWroteIt() {
    ErrorReply reply = ErrorReply.of(1, ErrorCode.IO_ERROR, 200, "openat2 failed: errno 200");
    assertEquals(
        "IO_ERROR: the open failed (openat2: errno 200)",
        OpenFailure.describe(new BrokerRequestException("/x", reply)));
  }

  @Test
  void aGuardsReasonIsKept() {
    ErrorReply reply =
        ErrorReply.of(1, ErrorCode.CONSTRAINT_FAILED, 0, "'/x' has 2 links; rule r allows 1");
    assertEquals(
        "CONSTRAINT_FAILED: '/x' has 2 links; rule r allows 1",
        OpenFailure.describe(new BrokerRequestException("/x", reply)));
  }

  @Test
  void everyCodeOfThisVersionHasItsOwnWords() {
    for (ErrorCode code : ErrorCode.values()) {
      if (!code.isProtocolError()) {
        assertEquals(
            false,
            OpenFailure.codeWords(code.name()).equals(OpenFailure.codeWords("NO_SUCH_CODE")),
            code.name());
      }
    }
  }

  @Test
  void anythingButARefusalKeepsItsOwnMessage() {
    assertEquals("connection lost", OpenFailure.describe(new IOException("connection lost")));
  }
}
