package dev.filebroker.daemon.varlink;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.core.StreamReadConstraints;
import com.fasterxml.jackson.core.StreamReadFeature;
import com.fasterxml.jackson.core.json.JsonReadFeature;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.json.JsonMapper;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.Iterator;
import java.util.Set;

/**
 * Varlink's framing (https://varlink.org/Method-Call-Interface): each message is one JSON object
 * followed by a NUL byte. Decodes a call strictly (valid UTF-8, one object, no duplicate keys, only
 * the keys the specification defines, bounded nesting) and encodes replies.
 */
final class VarlinkCodec {
  /**
   * The largest message accepted, in bytes without its NUL: an OpenMany of 64 paths of 4095 bytes
   * fits, with the paths written as UTF-8 rather than escaped.
   */
  static final int MAX_MESSAGE_SIZE = 320 * 1024;

  private static final Set<String> CALL_KEYS =
      Set.of("method", "parameters", "oneway", "more", "upgrade");

  private static final JsonMapper MAPPER =
      JsonMapper.builder()
          .enable(StreamReadFeature.STRICT_DUPLICATE_DETECTION)
          .disable(JsonReadFeature.ALLOW_NON_NUMERIC_NUMBERS)
          .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS)
          .build();

  static {
    MAPPER
        .getFactory()
        .setStreamReadConstraints(
            StreamReadConstraints.builder()
                .maxNestingDepth(16)
                .maxStringLength(MAX_MESSAGE_SIZE)
                .maxNumberLength(32)
                .build());
  }

  private VarlinkCodec() {}

  /** A decoded message: a call, or why it is not one (the connection then closes). */
  sealed interface Decoded {}

  /**
   * A call of {@code method} (fully qualified) with {@code parameters} (an object, empty when
   * absent).
   */
  record Call(String method, ObjectNode parameters, boolean oneway, boolean more, boolean upgrade)
      implements Decoded {}

  record Malformed(String reason) implements Decoded {}

  /** Decodes one message (without its NUL terminator). */
  static Decoded decode(byte[] message, int offset, int length) {
    String text;
    try {
      text =
          StandardCharsets.UTF_8
              .newDecoder()
              .onMalformedInput(CodingErrorAction.REPORT)
              .onUnmappableCharacter(CodingErrorAction.REPORT)
              .decode(java.nio.ByteBuffer.wrap(message, offset, length))
              .toString();
    } catch (CharacterCodingException e) {
      return new Malformed("not valid UTF-8");
    }
    JsonNode root;
    try (JsonParser p = MAPPER.createParser(text)) {
      if (p.nextToken() != JsonToken.START_OBJECT) {
        return new Malformed("a message must be a JSON object");
      }
      root = MAPPER.readTree(p);
      if (p.nextToken() != null) {
        return new Malformed("text after the JSON object");
      }
    } catch (JsonProcessingException e) {
      return new Malformed("not valid JSON: " + e.getOriginalMessage());
    } catch (IOException e) {
      return new Malformed("not valid JSON: " + e.getMessage());
    }
    for (Iterator<String> keys = root.fieldNames(); keys.hasNext(); ) {
      String key = keys.next();
      if (!CALL_KEYS.contains(key)) {
        return new Malformed("unknown key '" + key + "' in a call");
      }
    }
    JsonNode method = root.get("method");
    if (method == null || !method.isTextual()) {
      return new Malformed("'method' must be a string");
    }
    JsonNode parameters = root.get("parameters");
    if (parameters != null && !parameters.isNull() && !parameters.isObject()) {
      return new Malformed("'parameters' must be an object");
    }
    for (String flag : new String[] {"oneway", "more", "upgrade"}) {
      JsonNode f = root.get(flag);
      if (f != null && !f.isNull() && !f.isBoolean()) {
        return new Malformed("'" + flag + "' must be a boolean");
      }
    }
    ObjectNode params =
        parameters == null || parameters.isNull()
            ? JsonNodeFactory.instance.objectNode()
            : (ObjectNode) parameters;
    return new Call(
        method.textValue(),
        params,
        root.path("oneway").asBoolean(false),
        root.path("more").asBoolean(false),
        root.path("upgrade").asBoolean(false));
  }

  /** A reply: {@code {"parameters": ...}} and its NUL. */
  static byte[] reply(ObjectNode parameters) {
    ObjectNode o = JsonNodeFactory.instance.objectNode();
    o.set("parameters", parameters);
    return encode(o);
  }

  /** An error reply: {@code {"error": name, "parameters": ...}} and its NUL. */
  static byte[] error(String name, ObjectNode parameters) {
    ObjectNode o = JsonNodeFactory.instance.objectNode();
    o.put("error", name);
    o.set("parameters", parameters);
    return encode(o);
  }

  private static byte[] encode(ObjectNode o) {
    try {
      byte[] json = MAPPER.writeValueAsBytes(o);
      byte[] framed = java.util.Arrays.copyOf(json, json.length + 1);
      framed[json.length] = 0;
      return framed;
    } catch (JsonProcessingException e) {
      throw new IllegalStateException("a tree of plain nodes did not serialize", e);
    }
  }
}
