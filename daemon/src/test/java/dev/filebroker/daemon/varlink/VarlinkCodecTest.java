package dev.filebroker.daemon.varlink;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import java.nio.charset.StandardCharsets;
import java.util.List;
import org.junit.jupiter.api.Test;

class VarlinkCodecTest {
  private static VarlinkCodec.Decoded decode(String text) {
    byte[] b = text.getBytes(StandardCharsets.UTF_8);
    return VarlinkCodec.decode(b, 0, b.length);
  }

  @Test
  void aCallDecodes() {
    VarlinkCodec.Call call =
        assertInstanceOf(
            VarlinkCodec.Call.class,
            decode(
                "{\"method\":\"io.filebroker.Broker.Open\",\"parameters\":{\"path\":\"/a\"},\"more\":false}"));
    assertEquals("io.filebroker.Broker.Open", call.method());
    assertEquals("/a", call.parameters().get("path").textValue());
    assertTrue(!call.oneway());
    VarlinkCodec.Call bare =
        assertInstanceOf(
            VarlinkCodec.Call.class, decode("{\"method\":\"org.varlink.service.GetInfo\"}"));
    assertTrue(bare.parameters().isEmpty());
  }

  @Test
  void malformedMessagesAreNotCalls() {
    for (String bad :
        List.of(
            "",
            "[]",
            "\"x\"",
            "{\"method\":1}",
            "{\"parameters\":{}}",
            "{\"method\":\"a.b.C\",\"method\":\"a.b.D\"}",
            "{\"method\":\"a.b.C\",\"uid\":0}",
            "{\"method\":\"a.b.C\",\"parameters\":[]}",
            "{\"method\":\"a.b.C\",\"oneway\":\"yes\"}",
            "{\"method\":\"a.b.C\"} {}",
            "{\"method\":\"a.b.C\"",
            "{\"method\":\"a.b.C\",\"parameters\":{\"n\":NaN}}")) {
      assertInstanceOf(VarlinkCodec.Malformed.class, decode(bad), bad);
    }
    byte[] notUtf8 = {'{', '"', 'm', (byte) 0xff, '"', ':', '1', '}'};
    assertInstanceOf(VarlinkCodec.Malformed.class, VarlinkCodec.decode(notUtf8, 0, notUtf8.length));
  }

  @Test
  void deepNestingIsRefused() {
    String deep =
        "{\"method\":\"a.b.C\",\"parameters\":{\"x\":" + "[".repeat(100) + "]".repeat(100) + "}}";
    assertInstanceOf(VarlinkCodec.Malformed.class, decode(deep));
  }

  @Test
  void repliesEndWithOneNul() {
    byte[] r = VarlinkCodec.error("a.b.E", JsonNodeFactory.instance.objectNode().put("errno", 13));
    assertEquals(0, r[r.length - 1]);
    assertEquals(
        "{\"error\":\"a.b.E\",\"parameters\":{\"errno\":13}}",
        new String(r, 0, r.length - 1, StandardCharsets.UTF_8));
  }
}
