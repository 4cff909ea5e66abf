package dev.filebroker.daemon.policy;

import java.util.List;

/** The result of loading a policy: a sealed, immutable policy or every error found. */
public sealed interface PolicyLoad {
  /**
   * The policy parsed and checked cleanly, with warnings about rules that can never apply (each
   * "file:line:column: warning: ..."; the policy is valid all the same).
   */
  record Valid(Policy policy, List<PolicyError> warnings) implements PolicyLoad {
    public Valid {
      warnings = List.copyOf(warnings);
    }

    /** A policy without warnings. */
    public Valid(Policy policy) {
      this(policy, List.of());
    }
  }

  /** The policy has errors; nothing of it may be used. The list is never empty. */
  record Invalid(List<PolicyError> errors) implements PolicyLoad {
    public Invalid {
      errors = List.copyOf(errors);
      if (errors.isEmpty()) {
        throw new IllegalArgumentException("errors must not be empty");
      }
    }
  }
}
