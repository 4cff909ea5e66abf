package dev.filebroker.daemon.policy;

import java.nio.file.Path;
import java.util.EnumSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.stream.Collectors;

/**
 * An immutable policy snapshot: the rules of a policy, in order, indexed for decisions.
 *
 * <p>Everything is denied unless one allow rule grants the whole request, and a matching deny rule
 * beats any allow rule. Instances never change after loading, so one snapshot can serve every
 * thread while a reload builds the next.
 */
public final class Policy {
  private final List<Rule> rules;
  private final List<Path> sources;
  private final RuleIndex index;
  private final Map<Integer, Accounts.Account> accounts;

  /**
   * A snapshot of {@code rules}, which must be in policy order (their {@code order} 0, 1, 2...),
   * without passwd entries (so {@code ${user}} and {@code ${home}} never resolve).
   */
  Policy(List<Rule> rules, List<Path> sources) {
    this(rules, sources, Map.of());
  }

  /**
   * A snapshot of {@code rules}, which must be in policy order, with the passwd entries that {@code
   * ${user}} and {@code ${home}} expand from (read with the policy).
   */
  Policy(List<Rule> rules, List<Path> sources, Map<Integer, Accounts.Account> accounts) {
    this.accounts = Map.copyOf(accounts);
    this.rules = List.copyOf(rules);
    this.sources = List.copyOf(sources);
    for (int i = 0; i < this.rules.size(); i++) {
      if (this.rules.get(i).order() != i) {
        throw new IllegalArgumentException("rules must be in policy order");
      }
    }
    this.index = new RuleIndex(this.rules);
  }

  /**
   * Decides one request. Never throws for a non-null caller and request; safe to call from any
   * number of threads.
   *
   * <p>The result is {@link Decision.Deny} naming the first matching deny rule that refuses part of
   * the request, else {@link Decision.Allow} naming the first allow rule that grants all of it (for
   * a directory request, {@code directory} too; for a create under a rule with {@code
   * create_exclusive}, only with O_EXCL), else {@link Decision.Deny} with no rule and a reason
   * saying what no rule granted. A rule matches when its identity subject and process constraints
   * match the caller and one of its patterns matches the path; see {@link
   * Rule#matchesProcess(Caller)} and docs/policy.md for how unknown values fail closed.
   */
  public Decision decide(Caller caller, AccessRequest request) {
    Objects.requireNonNull(caller, "caller == null");
    Objects.requireNonNull(request, "request == null");
    String path = request.path();
    if (!PathPattern.isCanonical(path)) {
      return new Decision.Deny(
          Optional.empty(), "path '" + path + "' is not absolute and canonical");
    }
    String[] components = PathPattern.components(path);
    Evaluation evaluation = new Evaluation(components, request, caller, accounts);
    index.lookup(components, caller, evaluation);
    Optional<Rule> deny = evaluation.deny();
    if (deny.isPresent()) {
      Rule rule = deny.get();
      Set<Permission> refused = EnumSet.noneOf(Permission.class);
      for (Permission permission : request.permissions()) {
        if (rule.refusesAny(Set.of(permission))) {
          refused.add(permission);
        }
      }
      return new Decision.Deny(
          deny,
          "rule "
              + rule.id()
              + " ("
              + rule.source().fileAndLine()
              + ") denies "
              + names(refused)
              + " on "
              + path
              + " to uid "
              + Integer.toUnsignedString(caller.uid()));
    }
    Optional<Rule> allow = evaluation.allow();
    if (allow.isPresent()) {
      return new Decision.Allow(allow.get());
    }
    StringBuilder reason =
        new StringBuilder("no allow rule grants ")
            .append(request.accessString())
            .append(" on ")
            .append(path)
            .append(request.directory() ? " as a directory" : "")
            .append(" to uid ")
            .append(Integer.toUnsignedString(caller.uid()));
    evaluation
        .shortfall()
        .ifPresent(
            rule -> {
              reason.append(" (rule ").append(rule.id()).append(" matches but ");
              if (rule.grants(request.permissions())) {
                reason.append("requires O_EXCL to create");
              } else {
                reason.append("grants only ").append(names(rule.permissions()));
              }
              reason.append(')');
            });
    return new Decision.Deny(Optional.empty(), reason.toString());
  }

  /** The passwd entries the policy was loaded with, by uid. */
  Map<Integer, Accounts.Account> accounts() {
    return accounts;
  }

  /** How many rules the policy holds. */
  public int ruleCount() {
    return rules.size();
  }

  /** The rules in policy order: files in name order, then by line within a file. */
  public List<Rule> rules() {
    return rules;
  }

  /** The policy files that were read, in the order they were read. */
  public List<Path> sources() {
    return sources;
  }

  private static String names(Set<Permission> permissions) {
    return EnumSet.copyOf(permissions).stream()
        .map(Permission::policyName)
        .collect(Collectors.joining(","));
  }

  /** {@code Policy[3 rules from 2 files]}. */
  @Override
  public String toString() {
    return "Policy[" + rules.size() + " rules from " + sources.size() + " files]";
  }
}
