package dev.filebroker.daemon.varlink;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.filebroker.daemon.control.Explanation;
import dev.filebroker.daemon.fs.Errno;
import dev.filebroker.daemon.policy.AccessRequest;
import dev.filebroker.daemon.policy.Caller;
import dev.filebroker.daemon.policy.Decision;
import dev.filebroker.daemon.server.Gateway;
import dev.filebroker.protocol.ErrorCode;
import dev.filebroker.protocol.ErrorReply;
import dev.filebroker.protocol.OpenManyRequest;
import dev.filebroker.protocol.OpenRequest;
import dev.filebroker.protocol.OpenedManyReply;
import dev.filebroker.protocol.OpenedReply;
import dev.filebroker.protocol.Protocol;
import dev.filebroker.protocol.RequestValidator;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Optional;

/**
 * Answers calls: decode, validate against the interface definitions, dispatch. Unknown methods are
 * {@code org.varlink.service.MethodNotFound}, parameters the definition refuses {@code
 * InvalidParameter} naming the parameter; Open and OpenMany become the binary protocol's requests
 * and go through the same {@link Gateway}, whose error codes come back as the interface's named
 * errors.
 */
final class BrokerService {
  static final String SERVICE = "org.varlink.service";
  static final String BROKER = "io.filebroker.Broker";

  private static final JsonNodeFactory JSON = JsonNodeFactory.instance;

  private final InterfaceDefinition service = InterfaceDefinition.resource(SERVICE);
  private final InterfaceDefinition broker = InterfaceDefinition.resource(BROKER);
  private final Gateway gateway;
  private final String version;

  BrokerService(Gateway gateway, String version) {
    this.gateway = gateway;
    this.version = version;
  }

  /** The definitions served, by name. */
  List<InterfaceDefinition> interfaces() {
    return List.of(service, broker);
  }

  /** The reply to {@code call} from {@code caller}; the caller of this method owns its files. */
  VarlinkReply answer(Optional<Caller> caller, VarlinkCodec.Call call) {
    String method = call.method();
    int dot = method.lastIndexOf('.');
    String iface = dot < 0 ? "" : method.substring(0, dot);
    String member = method.substring(dot + 1);
    InterfaceDefinition def =
        iface.equals(BROKER) ? broker : iface.equals(SERVICE) ? service : null;
    if (def == null) {
      return serviceError("InterfaceNotFound", "interface", iface);
    }
    Optional<InterfaceDefinition.Method> m = def.method(member);
    if (m.isEmpty()) {
      return serviceError("MethodNotFound", "method", method);
    }
    if (call.upgrade()) {
      return serviceError("MethodNotImplemented", "method", method);
    }
    String invalid = m.get().in().firstInvalid(call.parameters(), def.types());
    if (invalid != null) {
      return invalidParameter(invalid);
    }
    ObjectNode p = call.parameters();
    return switch (method) {
      case SERVICE + ".GetInfo" -> VarlinkReply.of(VarlinkCodec.reply(info()));
      case SERVICE + ".GetInterfaceDescription" -> describe(p.get("interface").textValue());
      case BROKER + ".Open" -> open(caller, p);
      case BROKER + ".OpenMany" -> openMany(caller, p);
      case BROKER + ".Explain" -> explain(caller, p);
      default -> serviceError("MethodNotImplemented", "method", method);
    };
  }

  private ObjectNode info() {
    ObjectNode o = JSON.objectNode();
    o.put("vendor", "filebroker");
    o.put("product", "filebroker");
    o.put("version", version);
    o.put("url", "https://filebroker.dev");
    ArrayNode names = o.putArray("interfaces");
    for (InterfaceDefinition d : interfaces()) {
      names.add(d.name());
    }
    return o;
  }

  private VarlinkReply describe(String name) {
    for (InterfaceDefinition d : interfaces()) {
      if (d.name().equals(name)) {
        ObjectNode o = JSON.objectNode();
        o.put("description", d.text());
        return VarlinkReply.of(VarlinkCodec.reply(o));
      }
    }
    return serviceError("InterfaceNotFound", "interface", name);
  }

  private VarlinkReply open(Optional<Caller> caller, ObjectNode p) {
    String invalid = invalidEntry(p);
    if (invalid != null) {
      return invalidParameter(invalid);
    }
    OpenManyRequest.Entry e = entry(p);
    Gateway.Answer answer =
        gateway.handle(caller, new OpenRequest(0, e.flags(), e.mode(), e.path()));
    try {
      return switch (answer.reply()) {
        case OpenedReply opened -> {
          ObjectNode o = JSON.objectNode();
          o.put("fileDescriptor", 0);
          o.put("fileMode", Integer.toUnsignedLong(opened.fileMode()));
          yield new VarlinkReply(VarlinkCodec.reply(o), answer.files());
        }
        case ErrorReply error -> brokerError(error.code(), error.errno(), error.message());
        case OpenedManyReply many ->
            throw new IllegalStateException("OPEN answered with OPENED_MANY");
      };
    } catch (RuntimeException ex) {
      answer.close();
      throw ex;
    }
  }

  private VarlinkReply openMany(Optional<Caller> caller, ObjectNode p) {
    JsonNode files = p.get("files");
    if (files.isEmpty() || files.size() > Protocol.MAX_PATHS_PER_REQUEST) {
      return invalidParameter("files");
    }
    List<OpenManyRequest.Entry> entries = new ArrayList<>(files.size());
    for (JsonNode f : files) {
      if (invalidEntry((ObjectNode) f) != null) {
        return invalidParameter("files");
      }
      entries.add(entry((ObjectNode) f));
    }
    Gateway.Answer answer = gateway.handle(caller, new OpenManyRequest(0, entries));
    try {
      return switch (answer.reply()) {
        case OpenedManyReply many -> {
          ObjectNode o = JSON.objectNode();
          ArrayNode results = o.putArray("results");
          int index = 0;
          for (OpenedManyReply.Result r : many.results()) {
            ObjectNode one = results.addObject();
            if (r.code() == 0) {
              one.put("fileDescriptor", index++);
              one.put("fileMode", Integer.toUnsignedLong(r.fileMode()));
            } else {
              one.put("error", broker.error(errorName(r.code())));
              if (r.errno() != 0) {
                one.put("errno", r.errno());
              }
            }
          }
          yield new VarlinkReply(VarlinkCodec.reply(o), answer.files());
        }
        case ErrorReply error -> brokerError(error.code(), error.errno(), error.message());
        case OpenedReply opened ->
            throw new IllegalStateException("OPEN_MANY answered with OPENED");
      };
    } catch (RuntimeException ex) {
      answer.close();
      throw ex;
    }
  }

  private VarlinkReply explain(Optional<Caller> caller, ObjectNode p) {
    if (caller.isEmpty()) {
      return brokerError(
          ErrorCode.DENIED.code(),
          Errno.EACCES,
          "the caller's credentials could not be read from the kernel");
    }
    if (p.get("access").isEmpty()) {
      return invalidParameter("access");
    }
    String path = p.get("path").textValue();
    int flags = AccessWords.flags(p.get("access"), false);
    Optional<ErrorReply> invalid = RequestValidator.validate(new OpenRequest(0, flags, 0, path));
    if (invalid.isPresent()) {
      return brokerError(invalid.get().code(), 0, invalid.get().message());
    }
    Optional<Explanation> found =
        gateway.explain(caller.get(), AccessRequest.fromOpenFlags(path, flags));
    if (found.isEmpty()) {
      return limitExceeded("over the request rate of this uid; retry later");
    }
    Explanation x = found.get();
    ObjectNode o = JSON.objectNode();
    Object reason = x.toJson().get("reason");
    switch (x.decision()) {
      case Decision.Allow allow -> {
        o.put("decision", "allow");
        o.put("rule", allow.rule().id());
        o.put("source", allow.rule().source().fileAndLine());
      }
      case Decision.Deny deny -> {
        o.put("decision", "deny");
        deny.rule().ifPresent(r -> o.put("rule", r.id()).put("source", r.source().fileAndLine()));
      }
    }
    o.put("reason", String.valueOf(reason));
    return VarlinkReply.of(VarlinkCodec.reply(o));
  }

  /**
   * The parameter of an Open or OpenMany entry the definition's types let through but the protocol
   * cannot carry (no access word, a mode beyond 07777); null if none.
   */
  private static String invalidEntry(ObjectNode p) {
    if (p.get("access").isEmpty()) {
      return "access";
    }
    JsonNode mode = p.get("mode");
    if (mode != null
        && !mode.isNull()
        && (mode.asLong() < 0 || mode.asLong() > Protocol.MAX_CREATE_MODE)) {
      return "mode";
    }
    return null;
  }

  /** An Open or OpenMany entry (checked by {@link #invalidEntry}) as the binary protocol's. */
  private static OpenManyRequest.Entry entry(ObjectNode p) {
    boolean exclusive = p.path("exclusive").asBoolean(false);
    int mode = (int) p.path("mode").asLong(0);
    int flags = AccessWords.flags(p.get("access"), exclusive);
    return new OpenManyRequest.Entry(flags, mode, p.get("path").textValue());
  }

  /**
   * The interface's name for a protocol error code: DENIED is Denied, NOT_A_DIRECTORY
   * NotADirectory.
   */
  static String errorName(int code) {
    ErrorCode c = ErrorCode.fromCode(code).orElse(ErrorCode.INTERNAL_ERROR);
    if (c.isProtocolError()) {
      c = ErrorCode.INTERNAL_ERROR;
    }
    StringBuilder b = new StringBuilder();
    for (String part : c.name().split("_")) {
      b.append(part.charAt(0)).append(part.substring(1).toLowerCase(Locale.ROOT));
    }
    return b.toString();
  }

  /** The error a connection or call over a limit is answered with. */
  VarlinkReply limitExceeded(String message) {
    return brokerError(ErrorCode.LIMIT_EXCEEDED.code(), 0, message);
  }

  private VarlinkReply brokerError(int code, int errno, String message) {
    ObjectNode o = JSON.objectNode();
    o.put("message", message);
    if (errno != 0) {
      o.put("errno", errno);
    }
    return VarlinkReply.of(VarlinkCodec.error(broker.error(errorName(code)), o));
  }

  private VarlinkReply invalidParameter(String name) {
    return serviceError("InvalidParameter", "parameter", name);
  }

  private VarlinkReply serviceError(String error, String key, String value) {
    ObjectNode o = JSON.objectNode();
    o.put(key, value);
    return VarlinkReply.of(VarlinkCodec.error(service.error(error), o));
  }
}
