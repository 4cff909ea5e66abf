package dev.filebroker.daemon.policy;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.EnumSet;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.stream.Collectors;

/**
 * Explains a decision: decides as {@link Policy#decide} does, then checks every rule on its own to
 * say which ones nearly applied and why not.
 *
 * <p>Checks all rules one by one (no index): meant for admins and tests, not for the request path.
 * Stateless; safe from any thread.
 */
public final class Explainer {
  /** How many near misses an explanation lists at most. */
  public static final int MAX_NEAR_MISSES = 10;

  private Explainer() {}

  /** Explains how {@code policy} decides {@code request} from {@code caller}. */
  public static DecisionExplanation explain(Policy policy, Caller caller, AccessRequest request) {
    Objects.requireNonNull(policy, "policy == null");
    Objects.requireNonNull(caller, "caller == null");
    Objects.requireNonNull(request, "request == null");
    Decision decision = policy.decide(caller, request);
    Rule decider =
        switch (decision) {
          case Decision.Allow allow -> allow.rule();
          case Decision.Deny deny -> deny.rule().orElse(null);
        };
    String[] path =
        PathPattern.isCanonical(request.path()) ? PathPattern.components(request.path()) : null;
    CallerVariables variables = CallerVariables.of(caller, policy.accounts());
    List<DecisionExplanation.NearMiss> misses = new ArrayList<>();
    for (Rule rule : policy.rules()) {
      if (rule == decider) {
        continue;
      }
      if (path == null || !nearPath(rule, path, variables)) {
        continue; // a rule for other paths did not nearly apply, whoever it names
      }
      DecisionExplanation.NearMiss miss = check(rule, caller, request, path, variables);
      if (!miss.whyNot().isEmpty()) {
        misses.add(miss);
      }
    }
    misses.sort(Comparator.comparingInt((DecisionExplanation.NearMiss m) -> m.whyNot().size()));
    return new DecisionExplanation(
        caller, request, decision, misses.subList(0, Math.min(MAX_NEAR_MISSES, misses.size())));
  }

  /**
   * Whether one of the rule's patterns matches the path, or would but for a variable without a safe
   * value for this caller while the path starts with the pattern's fixed components.
   */
  private static boolean nearPath(Rule rule, String[] path, CallerVariables variables) {
    for (PathPattern pattern : rule.paths()) {
      switch (pattern.match(path, variables)) {
        case MATCH -> {
          return true;
        }
        case UNRESOLVED -> {
          List<String> prefix = pattern.literalPrefix();
          if (prefix.size() <= path.length
              && prefix.equals(List.of(path).subList(0, prefix.size()))) {
            return true;
          }
        }
        case NO_MATCH -> {}
      }
    }
    return false;
  }

  private static DecisionExplanation.NearMiss check(
      Rule rule, Caller caller, AccessRequest request, String[] path, CallerVariables variables) {
    boolean deny = rule.effect() == Rule.Effect.DENY;
    List<String> whyNot = new ArrayList<>();
    boolean pathMatches = false;
    boolean unresolved = false;
    Optional<String> matched = Optional.empty();
    for (PathPattern pattern : rule.paths()) {
      PathPattern.Match match = pattern.match(path, variables);
      if (match == PathPattern.Match.MATCH && matched.isEmpty() && pattern.hasVariables()) {
        matched = pattern.expandedText(variables).map(t -> t + " (" + pattern.text() + ")");
      }
      pathMatches |=
          match == PathPattern.Match.MATCH || (deny && match == PathPattern.Match.UNRESOLVED);
      unresolved |= match == PathPattern.Match.UNRESOLVED;
    }
    if (!pathMatches) {
      whyNot.add(
          "path matches none of "
              + rule.paths().stream()
                  .map(p -> p.expandedText(variables).orElse(p.text()))
                  .collect(Collectors.joining(", "))
              + (unresolved
                  ? " (a variable has no safe value for uid "
                      + Integer.toUnsignedString(caller.uid())
                      + ")"
                  : ""));
    }
    boolean callerMatches = rule.matchesIdentity(caller);
    if (!callerMatches) {
      whyNot.add(
          "caller is not "
              + rule.subjects().stream().map(Subject::toString).collect(Collectors.joining(" or "))
              + " ("
              + describe(caller)
              + ")");
    }
    boolean processMatches = rule.matchesProcess(caller);
    if (!processMatches) {
      if (!rule.executables().isEmpty() && !rule.matchesProcess(withUnitOnly(caller, rule))) {
        whyNot.add(
            caller
                    .executable()
                    .map(e -> "caller runs " + e)
                    .orElse("caller's executable is unknown")
                + ", not one of "
                + String.join(", ", rule.executables().stream().sorted().toList()));
      }
      if (!rule.units().isEmpty() && !rule.matchesProcess(withExecutableOnly(caller, rule))) {
        whyNot.add(
            caller.unit().map(u -> "caller runs in " + u).orElse("caller's unit is unknown")
                + ", not one of "
                + String.join(", ", rule.units().stream().sorted().toList()));
      }
    }
    boolean accessMatches;
    if (deny) {
      accessMatches = rule.refusesAny(request.permissions());
      if (!accessMatches) {
        whyNot.add("refuses only " + names(rule.permissions()) + ", not " + request.accessString());
      }
    } else {
      accessMatches = rule.grants(request);
      if (!rule.grants(request.permissions())) {
        Set<Permission> missing = EnumSet.copyOf(request.permissions());
        missing.removeIf(p -> rule.grants(Set.of(p)));
        whyNot.add("grants " + names(rule.permissions()) + " only, not " + names(missing));
      } else if (!accessMatches) {
        whyNot.add("requires O_EXCL to create");
      }
    }
    return new DecisionExplanation.NearMiss(
        rule, pathMatches, matched, callerMatches, processMatches, accessMatches, whyNot);
  }

  /** The caller with a unit that meets the rule, to tell which constraint failed. */
  private static Caller withUnitOnly(Caller caller, Rule rule) {
    return new Caller(
        caller.pid(),
        caller.uid(),
        caller.gid(),
        caller.groups(),
        caller.executable(),
        rule.units().stream().findFirst().or(caller::unit));
  }

  /** The caller with an executable that meets the rule, to tell which constraint failed. */
  private static Caller withExecutableOnly(Caller caller, Rule rule) {
    return new Caller(
        caller.pid(),
        caller.uid(),
        caller.gid(),
        caller.groups(),
        rule.executables().stream().findFirst().or(caller::executable),
        caller.unit());
  }

  private static String describe(Caller caller) {
    return "uid "
        + Integer.toUnsignedString(caller.uid())
        + ", gid "
        + Integer.toUnsignedString(caller.gid())
        + ", groups "
        + caller.groups().stream().map(Integer::toUnsignedString).collect(Collectors.joining(","));
  }

  private static String names(Set<Permission> permissions) {
    return EnumSet.copyOf(permissions).stream()
        .map(Permission::policyName)
        .collect(Collectors.joining(","));
  }
}
