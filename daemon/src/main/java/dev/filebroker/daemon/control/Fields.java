package dev.filebroker.daemon.control;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;

/** Typed reads of a parsed JSON object; a missing or mistyped key names itself in the error. */
final class Fields {
  private Fields() {}

  static String string(Map<String, Object> o, String key) {
    if (o.get(key) instanceof String s) {
      return s;
    }
    throw wrong(key, "a string");
  }

  static Optional<String> optionalString(Map<String, Object> o, String key) {
    return o.containsKey(key) ? Optional.of(string(o, key)) : Optional.empty();
  }

  static long integer(Map<String, Object> o, String key) {
    if (o.get(key) instanceof Long l) {
      return l;
    }
    throw wrong(key, "an integer");
  }

  static boolean bool(Map<String, Object> o, String key, boolean fallback) {
    if (!o.containsKey(key)) {
      return fallback;
    }
    if (o.get(key) instanceof Boolean b) {
      return b;
    }
    throw wrong(key, "true or false");
  }

  static List<String> strings(Map<String, Object> o, String key) {
    List<String> out = new ArrayList<>();
    if (o.get(key) instanceof List<?> list) {
      for (Object item : list) {
        if (!(item instanceof String s)) {
          throw wrong(key, "a list of strings");
        }
        out.add(s);
      }
      return List.copyOf(out);
    }
    throw wrong(key, "a list of strings");
  }

  static List<Long> integers(Map<String, Object> o, String key) {
    if (!o.containsKey(key)) {
      return List.of();
    }
    List<Long> out = new ArrayList<>();
    if (o.get(key) instanceof List<?> list) {
      for (Object item : list) {
        if (!(item instanceof Long l)) {
          throw wrong(key, "a list of integers");
        }
        out.add(l);
      }
      return List.copyOf(out);
    }
    throw wrong(key, "a list of integers");
  }

  static Map<String, Long> counters(Map<String, Object> o, String key) {
    Map<String, Long> out = new TreeMap<>();
    if (o.get(key) instanceof Map<?, ?> map) {
      for (Map.Entry<?, ?> e : map.entrySet()) {
        if (!(e.getValue() instanceof Long l)) {
          throw wrong(key, "an object of integers");
        }
        out.put((String) e.getKey(), l);
      }
      return out;
    }
    throw wrong(key, "an object of integers");
  }

  private static Json.MalformedJsonException wrong(String key, String what) {
    return new Json.MalformedJsonException("'" + key + "' must be " + what);
  }
}
