package dev.filebroker.daemon.control;

import dev.filebroker.daemon.policy.PolicyError;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * What re-reading the policy did: a new policy is in force, or the policy on disk has errors and
 * the previous one stays in force. SIGHUP and {@code filebroker reload} share this outcome.
 */
public sealed interface ReloadOutcome {
  /**
   * The policy read from {@code source} is in force.
   *
   * @param source the policy file or directory
   * @param ruleCount how many rules it holds
   */
  record Reloaded(Path source, int ruleCount) implements ReloadOutcome {
    public Reloaded {
      Objects.requireNonNull(source, "source == null");
    }
  }

  /**
   * The policy read from {@code source} has errors; nothing changed.
   *
   * @param source the policy file or directory
   * @param errors every error, never empty
   */
  record Rejected(Path source, List<PolicyError> errors) implements ReloadOutcome {
    public Rejected {
      Objects.requireNonNull(source, "source == null");
      errors = List.copyOf(errors);
      if (errors.isEmpty()) {
        throw new IllegalArgumentException("a rejected reload must have errors");
      }
    }
  }

  /** The control-socket response for this outcome. */
  default Map<String, Object> toJson() {
    Map<String, Object> o = new LinkedHashMap<>();
    switch (this) {
      case Reloaded r -> {
        o.put("ok", true);
        o.put("source", r.source().toString());
        o.put("rules", r.ruleCount());
      }
      case Rejected r -> {
        o.put("ok", false);
        o.put(
            "error",
            "the policy in "
                + r.source()
                + " has "
                + r.errors().size()
                + " error(s); the previous policy stays in force");
        o.put("source", r.source().toString());
        o.put("errors", r.errors().stream().map(PolicyError::toString).toList());
      }
    }
    return o;
  }
}
