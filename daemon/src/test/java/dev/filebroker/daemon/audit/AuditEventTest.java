package dev.filebroker.daemon.audit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/** One audit line: its JSON form, as a String and as bytes written in place. */
class AuditEventTest {
  private static AuditEvent event(String path, String reason) {
    return new AuditEvent(
        Instant.parse("2025-01-02T03:04:05.123456Z"),
        42,
        1000,
        100,
        List.of(4, 27, -2),
        Optional.of("/usr/bin/cat"),
        Optional.empty(),
        path,
        "read,write",
        "allow",
        Optional.of("open"),
        Optional.of("/etc/filebroker/policy.d/10.toml:3"),
        "ok",
        reason);
  }

  @Test
  void jsonHasEveryFieldInOrder() {
    assertEquals(
        "{\"time\":\"2025-01-02T03:04:05.123456Z\",\"pid\":42,\"uid\":1000,\"gid\":100,"
            + "\"groups\":[4,27,4294967294],\"exe\":\"/usr/bin/cat\",\"path\":\"/srv/a \\\"b\\\"\","
            + "\"access\":\"read,write\",\"decision\":\"allow\",\"rule\":\"open\","
            + "\"source\":\"/etc/filebroker/policy.d/10.toml:3\",\"result\":\"ok\","
            + "\"reason\":\"caf\u00e9\"}",
        event("/srv/a \"b\"", "caf\u00e9").toJson(UserNames.NONE));
  }

  @Test
  void theUserNameFollowsTheUidWhenPasswdListsIt() {
    String line = event("/srv/a", "").toJson(UserNames.fixed(java.util.Map.of(1000L, "alice")));
    assertTrue(line.contains(",\"uid\":1000,\"user\":\"alice\",\"gid\":100,"), line);
    ByteBuffer b = ByteBuffer.allocate(1024);
    assertTrue(event("/srv/a", "").writeJson(b, UserNames.fixed(java.util.Map.of(1000L, "alice"))));
    assertEquals(line, new String(b.array(), 0, b.position(), StandardCharsets.UTF_8));
  }

  @Test
  void bytesWrittenInPlaceAreTheUtf8OfTheJson() {
    AuditEvent e = event("/srv/\u20ac/\ud83d\ude00", "");
    ByteBuffer b = ByteBuffer.allocateDirect(1024);
    b.put((byte) 'x');
    assertTrue(e.writeJson(b));
    byte[] written = new byte[b.position() - 1];
    b.flip().position(1);
    b.get(written);
    assertEquals(e.toJson(), new String(written, StandardCharsets.UTF_8));
  }

  @Test
  void aLineThatDoesNotFitLeavesTheBufferAsItWas() {
    AuditEvent e = event("/srv/" + "x".repeat(300), "");
    ByteBuffer b = ByteBuffer.allocate(200);
    b.put((byte) 'x');
    assertFalse(e.writeJson(b), "300 bytes of path cannot fit 199 bytes");
    assertEquals(1, b.position());
    assertEquals(e.toJson().length(), e.toJson().getBytes(StandardCharsets.UTF_8).length);
  }

  @Test
  void everyBufferSizeEitherHoldsTheWholeLineOrIsLeftAsItWas() {
    AuditEvent e = event("/srv/caf\u00e9/\ud83d\ude00", "why \"not\"");
    byte[] line = e.toJson().getBytes(StandardCharsets.UTF_8);
    for (int size = 0; size <= line.length + 1; size++) {
      ByteBuffer b = ByteBuffer.allocate(size);
      boolean fits = e.writeJson(b);
      assertEquals(size >= line.length, fits, "buffer of " + size + " bytes");
      assertEquals(fits ? line.length : 0, b.position(), "position after " + size + " bytes");
    }
  }
}
