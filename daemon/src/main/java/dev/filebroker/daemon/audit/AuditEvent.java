package dev.filebroker.daemon.audit;

import dev.filebroker.daemon.json.JsonString;
import java.nio.BufferOverflowException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.List;
import java.util.Objects;
import java.util.Optional;

/**
 * One audited decision: who asked for what, what the policy said, and what happened.
 *
 * @param time when the decision was made
 * @param pid the caller's pid, or -1 when unknown
 * @param uid the caller's uid, or -1 when unknown (its user name is looked up when the line is
 *     written)
 * @param gid the caller's primary gid, or -1 when unknown
 * @param groups the caller's supplementary groups
 * @param executable the caller's executable, when known
 * @param unit the caller's systemd unit, when known
 * @param path the requested path as received
 * @param access the requested permissions, comma-separated policy names
 * @param decision "allow" or "deny"
 * @param rule the deciding rule's id, when a rule decided
 * @param source the deciding rule's file:line, when a rule decided
 * @param result "ok" or the error code name sent to the client
 * @param reason a short explanation for denials and failures, empty for grants
 */
public record AuditEvent(
    Instant time,
    long pid,
    long uid,
    long gid,
    List<Integer> groups,
    Optional<String> executable,
    Optional<String> unit,
    String path,
    String access,
    String decision,
    Optional<String> rule,
    Optional<String> source,
    String result,
    String reason) {
  public AuditEvent {
    Objects.requireNonNull(time, "time == null");
    groups = List.copyOf(groups);
    Objects.requireNonNull(executable, "executable == null");
    Objects.requireNonNull(unit, "unit == null");
    Objects.requireNonNull(path, "path == null");
    Objects.requireNonNull(access, "access == null");
    Objects.requireNonNull(decision, "decision == null");
    Objects.requireNonNull(rule, "rule == null");
    Objects.requireNonNull(source, "source == null");
    Objects.requireNonNull(result, "result == null");
    Objects.requireNonNull(reason, "reason == null");
  }

  /** Whether this records a file handed out: an allow decision whose result is "ok". */
  public boolean isGrant() {
    return decision.equals("allow") && result.equals("ok");
  }

  /**
   * The event as one JSON object on one line; keys in a fixed order. The caller's user name, from
   * {@code /etc/passwd} (see {@link UserNames}), follows the uid when the file lists it.
   */
  public String toJson() {
    return toJson(UserNames.SYSTEM);
  }

  /** As {@link #toJson()}, with user names from {@code names}. */
  String toJson(UserNames names) {
    for (int size = 512; ; size *= 2) {
      ByteBuffer b = ByteBuffer.allocate(size);
      if (writeJson(b, names)) {
        return new String(b.array(), 0, b.position(), StandardCharsets.UTF_8);
      }
    }
  }

  /**
   * Writes {@link #toJson()} as UTF-8 (no newline) at {@code b}'s position, without building the
   * String. Returns false, with {@code b}'s position unchanged, when the line does not fit.
   */
  boolean writeJson(ByteBuffer b) {
    return writeJson(b, UserNames.SYSTEM);
  }

  /** As {@link #writeJson(ByteBuffer)}, with user names from {@code names}. */
  boolean writeJson(ByteBuffer b, UserNames names) {
    int start = b.position();
    try {
      JsonBytes.ascii(b, "{\"time\":");
      JsonBytes.instant(b, time);
      JsonBytes.ascii(b, ",\"pid\":");
      JsonBytes.number(b, pid);
      JsonBytes.ascii(b, ",\"uid\":");
      JsonBytes.number(b, uid);
      optional(b, ",\"user\":", uid < 0 ? Optional.empty() : names.name(uid));
      JsonBytes.ascii(b, ",\"gid\":");
      JsonBytes.number(b, gid);
      JsonBytes.ascii(b, ",\"groups\":[");
      for (int i = 0; i < groups.size(); i++) {
        if (i > 0) {
          b.put((byte) ',');
        }
        JsonBytes.number(b, Integer.toUnsignedLong(groups.get(i)));
      }
      b.put((byte) ']');
      optional(b, ",\"exe\":", executable);
      optional(b, ",\"unit\":", unit);
      JsonBytes.ascii(b, ",\"path\":");
      JsonString.put(b, path);
      JsonBytes.ascii(b, ",\"access\":");
      JsonString.put(b, access);
      JsonBytes.ascii(b, ",\"decision\":");
      JsonString.put(b, decision);
      optional(b, ",\"rule\":", rule);
      optional(b, ",\"source\":", source);
      JsonBytes.ascii(b, ",\"result\":");
      JsonString.put(b, result);
      if (!reason.isEmpty()) {
        JsonBytes.ascii(b, ",\"reason\":");
        JsonString.put(b, reason);
      }
      b.put((byte) '}');
      return true;
    } catch (BufferOverflowException e) {
      b.position(start);
      return false;
    }
  }

  private static void optional(ByteBuffer b, String key, Optional<String> value) {
    if (value.isPresent()) {
      JsonBytes.ascii(b, key);
      JsonString.put(b, value.get());
    }
  }
}
