package dev.filebroker.daemon.policy;

import java.util.Map;
import java.util.Optional;

/**
 * The running state of one decision: the first matching deny rule, the first allow rule that grants
 * everything, and the first allow rule that matched but fell short (to explain a denial).
 *
 * <p>Exists so that {@link RuleIndex} can offer candidates in any order while the decision still
 * names the first rule in policy order. One instance per decision; never shared.
 */
final class Evaluation {
  private final String[] path;
  private final AccessRequest request;
  private final Caller caller;
  private final Map<Integer, Accounts.Account> accounts;
  // Null until needed or found; these fields never leave this class as null.
  private CallerVariables variables;
  private Rule deny;
  private Rule allow;
  private Rule shortfall;

  Evaluation(
      String[] path,
      AccessRequest request,
      Caller caller,
      Map<Integer, Accounts.Account> accounts) {
    this.path = path;
    this.request = request;
    this.caller = caller;
    this.accounts = accounts;
  }

  /**
   * Takes one candidate into account; its subject is known to be the caller, and {@code exact}
   * means its pattern is known to match.
   */
  void consider(RuleIndex.Entry entry, boolean exact) {
    Rule rule = entry.rule();
    if (rule.effect() == Rule.Effect.DENY) {
      if ((deny == null || rule.order() < deny.order())
          && rule.refusesAny(request.permissions())
          && rule.matchesProcess(caller)
          && (exact || pathMatches(entry.pattern(), true))) {
        deny = rule;
      }
      return;
    }
    if (allow != null && allow.order() < rule.order()) {
      return;
    }
    if (!rule.matchesProcess(caller)) {
      return;
    }
    if (rule.grants(request)) {
      if (exact || pathMatches(entry.pattern(), false)) {
        allow = rule;
      }
    } else if ((shortfall == null || rule.order() < shortfall.order())
        && (exact || pathMatches(entry.pattern(), false))) {
      shortfall = rule;
    }
  }

  /** Whether the pattern matches; an unresolvable variable matches for deny rules only. */
  private boolean pathMatches(PathPattern pattern, boolean forDeny) {
    if (!pattern.hasVariables()) {
      return pattern.matchesComponents(path);
    }
    if (variables == null) {
      variables = CallerVariables.of(caller, accounts);
    }
    return switch (pattern.match(path, variables)) {
      case MATCH -> true;
      case NO_MATCH -> false;
      case UNRESOLVED -> forDeny;
    };
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
