package dev.filebroker.daemon.policy;

import java.util.Objects;
import java.util.Optional;

/** The outcome of evaluating one request against one policy snapshot. */
public sealed interface Decision {
  /**
   * The request is allowed by {@code rule}, the first allow rule (in source order) that grants all
   * of it.
   */
  record Allow(Rule rule) implements Decision {
    public Allow {
      Objects.requireNonNull(rule, "rule == null");
    }
  }

  /**
   * The request is denied: by a deny rule when {@code rule} is present, otherwise because no allow
   * rule grants it (default deny).
   */
  record Deny(Optional<Rule> rule, String reason) implements Decision {
    public Deny {
      Objects.requireNonNull(rule, "rule == null");
      Objects.requireNonNull(reason, "reason == null");
    }
  }
}
