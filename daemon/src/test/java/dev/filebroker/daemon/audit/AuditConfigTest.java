package dev.filebroker.daemon.audit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.nio.file.Path;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/** The audit destination setting. */
class AuditConfigTest {
  @Test
  void stdoutMeansTheLogger() {
    assertEquals(Optional.empty(), AuditConfig.of("stdout").file());
  }

  @Test
  void absolutePathMeansAFile() {
    assertEquals(
        Optional.of(Path.of("/var/log/filebroker/audit.log")),
        AuditConfig.of("/var/log/filebroker/audit.log").file());
  }

  @Test
  void rejectsRelativePathsWithTheFix() {
    IllegalArgumentException e =
        assertThrows(IllegalArgumentException.class, () -> AuditConfig.of("audit.log"));
    assertEquals(
        "audit destination 'audit.log' must be \"stdout\" or an absolute file path such as"
            + " \"/var/log/filebroker/audit.log\"",
        e.getMessage());
  }
}
