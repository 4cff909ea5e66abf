package dev.filebroker.daemon.policy;

import java.util.Optional;
import java.util.Set;

/**
 * The running state of one decision: the first matching deny rule, the first allow rule that
 * grants everything, and the first allow rule that matched but fell short (to explain a denial).
 *
 * <p>Exists so that {@link RuleIndex} can offer candidates in any order while the decision still
 * names the first rule in policy order. One instance per decision; never shared.
 */
final class Evaluation {
  private final String[] path;
  private final Set<Permission> requested;
  private final boolean directory;
  // Null until found; these fields never leave this class as null.
  private Rule deny;
  private Rule allow;
  private Rule shortfall;

  Evaluation(String[] path, Set<Permission> requested, boolean directory) {
    this.path = path;
    this.requested = requested;
    this.directory = directory;
  }

  /** Takes one candidate into account; {@code exact} means its pattern is known to match. */
  void consider(RuleIndex.Entry entry, boolean exact) {
    Rule rule = entry.rule();
    if (rule.effect() == Rule.Effect.DENY) {
      if ((deny == null || rule.order() < deny.order())
          && rule.refusesAny(requested)
          && (exact || entry.pattern().matchesComponents(path))) {
        deny = rule;
      }
      return;
    }
    if (allow != null && allow.order() < rule.order()) {
      return;
    }
    boolean sufficient =
        rule.grants(requested) && (!directory || rule.fileTypes().contains(FileType.DIRECTORY));
    if (sufficient) {
      if (exact || entry.pattern().matchesComponents(path)) {
        allow = rule;
      }
    } else if ((shortfall == null || rule.order() < shortfall.order())
        && (exact || entry.pattern().matchesComponents(path))) {
      shortfall = rule;
    }
  }

  /** The first matching deny rule that refuses part of the request. */
  Optional<Rule> deny() {
    return Optional.ofNullable(deny);
  }

  /** The first allow rule that grants the whole request. */
  Optional<Rule> allow() {
    return Optional.ofNullable(allow);
  }

  /** The first allow rule that matched caller and path but did not grant the whole request. */
  Optional<Rule> shortfall() {
    return Optional.ofNullable(shortfall);
  }
}
