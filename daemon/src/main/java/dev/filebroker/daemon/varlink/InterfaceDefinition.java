package dev.filebroker.daemon.varlink;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;

/**
 * A Varlink interface definition (https://varlink.org/Interface-Definition), parsed: its name, its
 * named types, methods and errors. The daemon validates every call against the one it serves and
 * hands the text out unchanged through {@code org.varlink.service.GetInterfaceDescription}.
 *
 * @param name the interface name, such as {@code io.filebroker.Broker}
 * @param text the definition as written
 * @param types the named types ({@code type})
 * @param methods each method's parameters and reply
 * @param errors each error's parameters, by short name
 */
public record InterfaceDefinition(
    String name,
    String text,
    Map<String, VarlinkType> types,
    Map<String, Method> methods,
    Map<String, VarlinkType.Struct> errors) {

  /** A method's input and output. */
  public record Method(VarlinkType.Struct in, VarlinkType.Struct out) {}

  public InterfaceDefinition {
    Objects.requireNonNull(name, "name == null");
    Objects.requireNonNull(text, "text == null");
    types = Map.copyOf(types);
    methods = java.util.Collections.unmodifiableMap(new LinkedHashMap<>(methods));
    errors = java.util.Collections.unmodifiableMap(new LinkedHashMap<>(errors));
  }

  /** A definition that does not parse. */
  public static final class SyntaxException extends IllegalArgumentException {
    private static final long serialVersionUID = 1L;

    SyntaxException(String message) {
      super(message);
    }
  }

  /**
   * The definition shipped as a resource next to this class, such as {@code io.filebroker.Broker}.
   */
  public static InterfaceDefinition resource(String interfaceName) {
    String file = interfaceName + ".varlink";
    try (InputStream in = InterfaceDefinition.class.getResourceAsStream(file)) {
      if (in == null) {
        throw new IllegalStateException("missing resource " + file);
      }
      return parse(new String(in.readAllBytes(), StandardCharsets.UTF_8));
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** The fully qualified name of error {@code shortName}, which must be declared. */
  public String error(String shortName) {
    if (!errors.containsKey(shortName)) {
      throw new IllegalArgumentException(name + " declares no error " + shortName);
    }
    return name + "." + shortName;
  }

  public Optional<Method> method(String shortName) {
    return Optional.ofNullable(methods.get(shortName));
  }

  /** Parses {@code text}; comments and line breaks are whitespace. */
  public static InterfaceDefinition parse(String text) {
    Parser p = new Parser(tokens(text));
    p.expect("interface");
    String name = p.word();
    if (!name.matches("[A-Za-z](-*[A-Za-z0-9])*(\\.[A-Za-z0-9](-*[A-Za-z0-9])*)+")) {
      throw new SyntaxException("invalid interface name '" + name + "'");
    }
    Map<String, VarlinkType> types = new LinkedHashMap<>();
    Map<String, Method> methods = new LinkedHashMap<>();
    Map<String, VarlinkType.Struct> errors = new LinkedHashMap<>();
    while (p.more()) {
      String keyword = p.word();
      String member = p.word();
      if (!member.matches("[A-Z][A-Za-z0-9]*")) {
        throw new SyntaxException("invalid member name '" + member + "'");
      }
      switch (keyword) {
        case "type" -> put(types, member, p.structOrEnum());
        case "method" -> {
          VarlinkType.Struct in = p.struct();
          p.expect("->");
          put(methods, member, new Method(in, p.struct()));
        }
        case "error" -> put(errors, member, p.struct());
        default ->
            throw new SyntaxException("expected type, method or error, not '" + keyword + "'");
      }
    }
    return new InterfaceDefinition(name, text, types, methods, errors);
  }

  private static <T> void put(Map<String, T> map, String key, T value) {
    if (map.putIfAbsent(key, value) != null) {
      throw new SyntaxException("'" + key + "' is declared twice");
    }
  }

  private static List<String> tokens(String text) {
    List<String> out = new ArrayList<>();
    int i = 0;
    while (i < text.length()) {
      char c = text.charAt(i);
      if (c == '#') {
        while (i < text.length() && text.charAt(i) != '\n') {
          i++;
        }
      } else if (Character.isWhitespace(c)) {
        i++;
      } else if (c == '-' && i + 1 < text.length() && text.charAt(i + 1) == '>') {
        out.add("->");
        i += 2;
      } else if ("():,?[]".indexOf(c) >= 0) {
        out.add(String.valueOf(c));
        i++;
      } else if (Character.isLetterOrDigit(c) || c == '_' || c == '.' || c == '-') {
        int start = i;
        while (i < text.length()
            && (Character.isLetterOrDigit(text.charAt(i)) || "_.-".indexOf(text.charAt(i)) >= 0)
            && !text.startsWith("->", i)) {
          i++;
        }
        out.add(text.substring(start, i));
      } else {
        throw new SyntaxException("unexpected character '" + c + "'");
      }
    }
    return out;
  }

  private static final class Parser {
    private final List<String> tokens;
    private int at;

    Parser(List<String> tokens) {
      this.tokens = tokens;
    }

    boolean more() {
      return at < tokens.size();
    }

    String peek() {
      return more() ? tokens.get(at) : "";
    }

    String next() {
      if (!more()) {
        throw new SyntaxException("unexpected end of the definition");
      }
      return tokens.get(at++);
    }

    void expect(String token) {
      String t = next();
      if (!t.equals(token)) {
        throw new SyntaxException("expected '" + token + "', found '" + t + "'");
      }
    }

    String word() {
      String t = next();
      if (!Character.isLetterOrDigit(t.charAt(0)) && t.charAt(0) != '_') {
        throw new SyntaxException("expected a name, found '" + t + "'");
      }
      return t;
    }

    VarlinkType.Struct struct() {
      VarlinkType t = structOrEnum();
      if (t instanceof VarlinkType.Struct s) {
        return s;
      }
      throw new SyntaxException("expected fields with types, found an enum");
    }

    /** {@code ( )}, {@code (a: T, ...)} or {@code (a, b, ...)}. */
    VarlinkType structOrEnum() {
      expect("(");
      Map<String, VarlinkType> fields = new LinkedHashMap<>();
      List<String> names = new ArrayList<>();
      if (peek().equals(")")) {
        next();
        return new VarlinkType.Struct(fields);
      }
      while (true) {
        String field = word();
        if (peek().equals(":")) {
          next();
          if (!names.isEmpty()) {
            throw new SyntaxException("enum and struct mixed at '" + field + "'");
          }
          put(fields, field, type());
        } else {
          if (!fields.isEmpty()) {
            throw new SyntaxException("enum and struct mixed at '" + field + "'");
          }
          if (names.contains(field)) {
            throw new SyntaxException("'" + field + "' is declared twice");
          }
          names.add(field);
        }
        String t = next();
        if (t.equals(")")) {
          break;
        }
        if (!t.equals(",")) {
          throw new SyntaxException("expected ',' or ')', found '" + t + "'");
        }
      }
      return names.isEmpty() ? new VarlinkType.Struct(fields) : new VarlinkType.Enum(names);
    }

    VarlinkType type() {
      String t = peek();
      switch (t) {
        case "?" -> {
          next();
          if (peek().equals("?")) {
            throw new SyntaxException("'??' is not a type");
          }
          return new VarlinkType.Maybe(type());
        }
        case "[" -> {
          next();
          if (peek().equals("]")) {
            next();
            return new VarlinkType.Array(type());
          }
          expect("string");
          expect("]");
          return new VarlinkType.Dict(type());
        }
        case "(" -> {
          return structOrEnum();
        }
        default -> {
          String w = word();
          return switch (w) {
            case "bool" -> new VarlinkType.Bool();
            case "int" -> new VarlinkType.Int();
            case "float" -> new VarlinkType.Float();
            case "string" -> new VarlinkType.Str();
            case "object" -> new VarlinkType.Obj();
            default -> {
              if (!w.matches("[A-Z][A-Za-z0-9]*")) {
                throw new SyntaxException("unknown type '" + w + "'");
              }
              yield new VarlinkType.Named(w);
            }
          };
        }
      }
    }
  }
}
