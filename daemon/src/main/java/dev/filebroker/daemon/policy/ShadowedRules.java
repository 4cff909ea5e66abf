package dev.filebroker.daemon.policy;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Finds allow rules that can never grant anything because a deny rule refuses everything they would
 * hand out: the same callers (or everyone), every one of their paths, every permission they grant.
 * Those are warnings, not errors: the policy is still what it says.
 *
 * <p>Only coverage that is certain from the text is found: a deny that names every subject of the
 * allow (or {@code any = true}) and narrows no process, and for each allowed path a deny path that
 * is the same pattern, {@code /**}, or a literal directory followed by {@code /**} that the allowed
 * path lies under. A deny that covers an allow in a way needing more reasoning is not reported.
 */
final class ShadowedRules {
  private ShadowedRules() {}

  /** One warning per fully shadowed allow rule, naming the first deny rule that covers it. */
  static List<PolicyError> find(List<Rule> rules) {
    // Deny rules by each of their path patterns: an allowed path can be covered only by its own
    // pattern, "/**", or "DIR/**" for a directory above it, so each allow looks at few denies.
    Map<String, List<Rule>> deniesByPath = new HashMap<>();
    for (Rule rule : rules) {
      if (rule.effect() == Rule.Effect.DENY) {
        for (PathPattern path : rule.paths()) {
          deniesByPath.computeIfAbsent(path.text(), k -> new ArrayList<>()).add(rule);
        }
      }
    }
    if (deniesByPath.isEmpty()) {
      return List.of();
    }
    List<PolicyError> warnings = new ArrayList<>();
    for (Rule allow : rules) {
      if (allow.effect() != Rule.Effect.ALLOW || allow.paths().isEmpty()) {
        continue;
      }
      candidates(deniesByPath, allow.paths().get(0).text()).stream()
          .filter(deny -> covers(deny, allow))
          .min(Comparator.comparingInt(Rule::order))
          .ifPresent(
              deny ->
                  warnings.add(
                      new PolicyError(
                          allow.source(),
                          "warning: rule "
                              + allow.id()
                              + " can never grant anything: deny rule "
                              + deny.id()
                              + " at "
                              + deny.source().fileAndLine()
                              + " refuses every caller, path and access it allows; remove it or"
                              + " narrow the deny")));
    }
    return warnings;
  }

  /** The deny rules with a path that could cover {@code allowed}. */
  private static Set<Rule> candidates(Map<String, List<Rule>> deniesByPath, String allowed) {
    Set<Rule> found = new HashSet<>(deniesByPath.getOrDefault(allowed, List.of()));
    found.addAll(deniesByPath.getOrDefault("/**", List.of()));
    for (int slash = allowed.indexOf('/', 1); slash > 0; slash = allowed.indexOf('/', slash + 1)) {
      found.addAll(deniesByPath.getOrDefault(allowed.substring(0, slash) + "/**", List.of()));
    }
    return found;
  }

  private static boolean covers(Rule deny, Rule allow) {
    if (!deny.executables().isEmpty() || !deny.units().isEmpty()) {
      return false;
    }
    if (!deny.permissions().containsAll(allow.permissions())) {
      return false;
    }
    Set<Subject> denied = Set.copyOf(deny.subjects());
    boolean everyone = denied.contains(new Subject.Anyone());
    if (!everyone && !denied.containsAll(allow.subjects())) {
      return false;
    }
    for (PathPattern path : allow.paths()) {
      if (deny.paths().stream().noneMatch(d -> covers(d.text(), path.text()))) {
        return false;
      }
    }
    return true;
  }

  /** Whether every path {@code allowed} matches is certainly matched by {@code denied}. */
  static boolean covers(String denied, String allowed) {
    if (denied.equals(allowed) || denied.equals("/**")) {
      return true;
    }
    if (!denied.endsWith("/**")) {
      return false;
    }
    String directory = denied.substring(0, denied.length() - "/**".length());
    return isLiteral(directory) && allowed.startsWith(directory + "/");
  }

  private static boolean isLiteral(String text) {
    return text.indexOf('*') < 0
        && text.indexOf('?') < 0
        && text.indexOf('[') < 0
        && text.indexOf('$') < 0;
  }
}
