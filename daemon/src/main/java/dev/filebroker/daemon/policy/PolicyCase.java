package dev.filebroker.daemon.policy;

import java.util.Objects;
import java.util.Optional;

/**
 * One admin-written test case: a caller, a request, and the expected outcome (and optionally the
 * rule expected to decide).
 *
 * @param source where the {@code [[case]]} starts
 * @param caller who asks
 * @param request what is asked
 * @param expectAllow whether the request should be allowed
 * @param rule the id of the rule expected to decide, when the case names one
 */
public record PolicyCase(
    SourceLocation source,
    Caller caller,
    AccessRequest request,
    boolean expectAllow,
    Optional<String> rule) {
  public PolicyCase {
    Objects.requireNonNull(source, "source == null");
    Objects.requireNonNull(caller, "caller == null");
    Objects.requireNonNull(request, "request == null");
    Objects.requireNonNull(rule, "rule == null");
  }

  /** What is wrong with {@code explanation} for this case, or empty when it is as expected. */
  Optional<String> mismatch(DecisionExplanation explanation) {
    Optional<String> decidedBy =
        switch (explanation.decision()) {
          case Decision.Allow allow -> Optional.of(allow.rule().id());
          case Decision.Deny deny -> deny.rule().map(Rule::id);
        };
    String actual =
        (explanation.allowed() ? "allow" : "deny")
            + decidedBy.map(id -> " by rule " + id).orElse(" by no rule");
    if (explanation.allowed() != expectAllow) {
      return Optional.of("expected " + (expectAllow ? "allow" : "deny") + ", got " + actual);
    }
    if (rule.isPresent() && !rule.equals(decidedBy)) {
      return Optional.of("expected rule " + rule.get() + " to decide, got " + actual);
    }
    return Optional.empty();
  }
}
