package dev.filebroker.daemon.varlink;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.Iterator;
import java.util.List;
import java.util.Map;

/**
 * A type of the Varlink interface definition language, and the check of a JSON value against it.
 */
public sealed interface VarlinkType {
  /** Whether {@code value} is a value of this type; {@code types} resolves named types. */
  boolean accepts(JsonNode value, Map<String, VarlinkType> types);

  record Bool() implements VarlinkType {
    @Override
    public boolean accepts(JsonNode value, Map<String, VarlinkType> types) {
      return value.isBoolean();
    }
  }

  record Int() implements VarlinkType {
    @Override
    public boolean accepts(JsonNode value, Map<String, VarlinkType> types) {
      return value.isIntegralNumber() && value.canConvertToLong();
    }
  }

  record Float() implements VarlinkType {
    @Override
    public boolean accepts(JsonNode value, Map<String, VarlinkType> types) {
      return value.isNumber();
    }
  }

  record Str() implements VarlinkType {
    @Override
    public boolean accepts(JsonNode value, Map<String, VarlinkType> types) {
      return value.isTextual();
    }
  }

  /** {@code object}: any JSON object. */
  record Obj() implements VarlinkType {
    @Override
    public boolean accepts(JsonNode value, Map<String, VarlinkType> types) {
      return value.isObject();
    }
  }

  record Named(String name) implements VarlinkType {
    @Override
    public boolean accepts(JsonNode value, Map<String, VarlinkType> types) {
      VarlinkType t = types.get(name);
      return t != null && t.accepts(value, types);
    }
  }

  /** {@code ?T}: absent, null, or a T. */
  record Maybe(VarlinkType inner) implements VarlinkType {
    @Override
    public boolean accepts(JsonNode value, Map<String, VarlinkType> types) {
      return value == null || value.isNull() || inner.accepts(value, types);
    }
  }

  /** {@code []T}. */
  record Array(VarlinkType element) implements VarlinkType {
    @Override
    public boolean accepts(JsonNode value, Map<String, VarlinkType> types) {
      if (!value.isArray()) {
        return false;
      }
      for (JsonNode e : value) {
        if (!element.accepts(e, types)) {
          return false;
        }
      }
      return true;
    }
  }

  /** {@code [string]T}. */
  record Dict(VarlinkType element) implements VarlinkType {
    @Override
    public boolean accepts(JsonNode value, Map<String, VarlinkType> types) {
      if (!value.isObject()) {
        return false;
      }
      for (JsonNode e : value) {
        if (!element.accepts(e, types)) {
          return false;
        }
      }
      return true;
    }
  }

  /** {@code (a, b)}: one of the names, as a string. */
  record Enum(List<String> names) implements VarlinkType {
    public Enum {
      names = List.copyOf(names);
    }

    @Override
    public boolean accepts(JsonNode value, Map<String, VarlinkType> types) {
      return value.isTextual() && names.contains(value.textValue());
    }
  }

  /** {@code (a: T, b: U)}: an object with exactly these fields; optional ones may be absent. */
  record Struct(Map<String, VarlinkType> fields) implements VarlinkType {
    public Struct {
      fields = java.util.Collections.unmodifiableMap(new java.util.LinkedHashMap<>(fields));
    }

    @Override
    public boolean accepts(JsonNode value, Map<String, VarlinkType> types) {
      return value.isObject() && firstInvalid(value, types) == null;
    }

    /** The first field of {@code object} that is missing, mistyped or unknown; null if none. */
    public String firstInvalid(JsonNode object, Map<String, VarlinkType> types) {
      for (Map.Entry<String, VarlinkType> f : fields.entrySet()) {
        JsonNode v = object.get(f.getKey());
        boolean ok =
            f.getValue() instanceof Maybe m
                ? m.accepts(v, types)
                : v != null && !v.isNull() && f.getValue().accepts(v, types);
        if (!ok) {
          return f.getKey();
        }
      }
      for (Iterator<String> names = object.fieldNames(); names.hasNext(); ) {
        String name = names.next();
        if (!fields.containsKey(name)) {
          return name;
        }
      }
      return null;
    }
  }
}
