package dev.filebroker.daemon.control;

import dev.filebroker.daemon.policy.AccessRequest;
import dev.filebroker.daemon.policy.Caller;
import dev.filebroker.daemon.policy.Permission;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;

/**
 * A described request for {@code explain}: a caller the administrator names (no process needs to
 * exist) and what it would ask for.
 *
 * @param caller who would ask; pid 0 when the query names no process
 * @param request the path, permissions and directory flag it would ask for
 */
public record ExplainQuery(Caller caller, AccessRequest request) {
  public ExplainQuery {
    Objects.requireNonNull(caller, "caller == null");
    Objects.requireNonNull(request, "request == null");
  }

  /**
   * Reads the query's keys from an explain request: {@code uid}, {@code gid}, {@code path}, {@code
   * access} (a list of permission names) required; {@code pid}, {@code groups}, {@code exe}, {@code
   * unit}, {@code directory} optional.
   *
   * @throws Json.MalformedJsonException naming the first missing or mistyped key
   */
  public static ExplainQuery fromJson(Map<String, Object> o) {
    long uid = Fields.integer(o, "uid");
    long gid = Fields.integer(o, "gid");
    long pid = o.containsKey("pid") ? Fields.integer(o, "pid") : 0;
    List<Integer> groups = new ArrayList<>();
    for (long g : Fields.integers(o, "groups")) {
      groups.add(id("groups", g));
    }
    Set<Permission> access = EnumSet.noneOf(Permission.class);
    for (String name : Fields.strings(o, "access")) {
      access.add(permission(name));
    }
    if (access.isEmpty()) {
      throw new Json.MalformedJsonException("'access' must name at least one permission");
    }
    String path = Fields.string(o, "path");
    Caller caller =
        new Caller(
            (int) Math.max(0, Math.min(pid, Integer.MAX_VALUE)),
            id("uid", uid),
            id("gid", gid),
            groups,
            Fields.optionalString(o, "exe"),
            Fields.optionalString(o, "unit"));
    return new ExplainQuery(
        caller, new AccessRequest(path, access, Fields.bool(o, "directory", false)));
  }

  /** The query's keys, as {@link #fromJson} reads them. */
  public Map<String, Object> toJson() {
    Map<String, Object> o = new LinkedHashMap<>();
    o.put("uid", Integer.toUnsignedLong(caller.uid()));
    o.put("gid", Integer.toUnsignedLong(caller.gid()));
    if (caller.pid() != 0) {
      o.put("pid", (long) caller.pid());
    }
    o.put("groups", caller.groups().stream().map(Integer::toUnsignedLong).toList());
    caller.executable().ifPresent(e -> o.put("exe", e));
    caller.unit().ifPresent(u -> o.put("unit", u));
    o.put("path", request.path());
    o.put(
        "access",
        EnumSet.copyOf(request.permissions()).stream().map(Permission::policyName).toList());
    o.put("directory", request.directory());
    return o;
  }

  private static int id(String key, long value) {
    // uids and gids are unsigned 32-bit; (uid_t) -1 means "no id" and is never a caller's.
    if (value < 0 || value >= 0xFFFF_FFFFL) {
      throw new Json.MalformedJsonException("'" + key + "' must be from 0 to 4294967294");
    }
    return (int) value;
  }

  private static Permission permission(String name) {
    for (Permission p : Permission.values()) {
      if (p.policyName().equals(name)) {
        return p;
      }
    }
    List<String> names = new ArrayList<>();
    for (Permission p : Permission.values()) {
      names.add(p.policyName());
    }
    throw new Json.MalformedJsonException(
        "'access' has unknown permission '" + name + "'; expected: " + String.join(", ", names));
  }
}
