package dev.filebroker.daemon.varlink;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.json.JsonMapper;
import dev.filebroker.protocol.ErrorCode;
import java.util.List;
import org.junit.jupiter.api.Test;

class InterfaceDefinitionTest {
  private static final JsonMapper JSON = new JsonMapper();
  private final InterfaceDefinition broker = InterfaceDefinition.resource(BrokerService.BROKER);
  private final InterfaceDefinition service = InterfaceDefinition.resource(BrokerService.SERVICE);

  private static JsonNode json(String text) throws Exception {
    return JSON.readTree(text);
  }

  @Test
  void theShippedDefinitionsParseWithTheirMembers() {
    assertEquals("io.filebroker.Broker", broker.name());
    assertEquals(List.of("Open", "OpenMany", "Explain"), List.copyOf(broker.methods().keySet()));
    assertEquals("org.varlink.service", service.name());
    assertTrue(service.methods().containsKey("GetInfo"));
    assertTrue(service.methods().containsKey("GetInterfaceDescription"));
    for (String e :
        List.of(
            "MethodNotFound", "InvalidParameter", "InterfaceNotFound", "MethodNotImplemented")) {
      assertTrue(service.errors().containsKey(e), e);
    }
  }

  @Test
  void everyErrorCodeARequestCanGetHasANamedErrorWithItsErrno() {
    for (ErrorCode code : ErrorCode.values()) {
      if (code.isProtocolError()) {
        continue;
      }
      String name = BrokerService.errorName(code.code());
      VarlinkType.Struct params = broker.errors().get(name);
      assertTrue(params != null, code + " has no error " + name + " in the definition");
      assertTrue(params.fields().get("errno") instanceof VarlinkType.Maybe, name + " errno");
      assertTrue(params.fields().get("message") instanceof VarlinkType.Str, name + " message");
    }
    assertEquals("NotADirectory", BrokerService.errorName(ErrorCode.NOT_A_DIRECTORY.code()));
    assertEquals("IoError", BrokerService.errorName(ErrorCode.IO_ERROR.code()));
  }

  @Test
  void parametersAreCheckedAgainstTheMethod() throws Exception {
    VarlinkType.Struct open = broker.method("Open").orElseThrow().in();
    assertNull(open.firstInvalid(json("{\"path\":\"/a\",\"access\":[\"read\"]}"), broker.types()));
    assertNull(
        open.firstInvalid(
            json(
                "{\"path\":\"/a\",\"access\":[\"write\",\"create\"],\"mode\":420,\"exclusive\":null}"),
            broker.types()));
    assertEquals("path", open.firstInvalid(json("{\"access\":[\"read\"]}"), broker.types()));
    assertEquals(
        "access", open.firstInvalid(json("{\"path\":\"/a\",\"access\":[\"rw\"]}"), broker.types()));
    assertEquals(
        "mode",
        open.firstInvalid(
            json("{\"path\":\"/a\",\"access\":[\"read\"],\"mode\":1.5}"), broker.types()));
    assertEquals(
        "uid",
        open.firstInvalid(
            json("{\"path\":\"/a\",\"access\":[\"read\"],\"uid\":0}"), broker.types()),
        "a parameter the method does not declare is refused by name");
    VarlinkType.Struct many = broker.method("OpenMany").orElseThrow().in();
    assertEquals(
        "files", many.firstInvalid(json("{\"files\":[{\"path\":\"/a\"}]}"), broker.types()));
  }

  @Test
  void malformedDefinitionsAreRefused() {
    for (String bad :
        List.of(
            "method Open() -> ()",
            "interface x",
            "interface a.b\nmethod Open() -> ()\nmethod Open() -> ()",
            "interface a.b\ntype T (a, b: int)",
            "interface a.b\nmethod open() -> ()",
            "interface a.b\nmethod M(a: ??int) -> ()",
            "interface a.b\nmethod M(a: int) ->",
            "interface a.b\nmethod M(a: int) -> () $")) {
      assertThrows(
          InterfaceDefinition.SyntaxException.class, () -> InterfaceDefinition.parse(bad), bad);
    }
  }

  @Test
  void typesOfTheLanguageAreRead() throws Exception {
    InterfaceDefinition d =
        InterfaceDefinition.parse(
            "interface a.b\n# c\ntype T (x: [string]int, y: ?[]bool, z: (p, q), w: object)\n"
                + "method M(t: T, f: float) -> ()\nerror E ()");
    VarlinkType.Struct in = d.method("M").orElseThrow().in();
    assertNull(
        in.firstInvalid(json("{\"t\":{\"x\":{\"k\":1},\"z\":\"q\",\"w\":{}},\"f\":2}"), d.types()));
    assertEquals(
        "t",
        in.firstInvalid(
            json("{\"t\":{\"x\":{\"k\":\"1\"},\"z\":\"q\",\"w\":{}},\"f\":2}"), d.types()));
    assertEquals("a.b.E", d.error("E"));
  }
}
