package dev.filebroker.daemon.policy;

import dev.filebroker.daemon.json.JsonString;
import java.util.List;
import java.util.Objects;
import java.util.Optional;

/**
 * Why a policy decided a request as it did: the decision, and the rules that nearly applied with
 * what each one lacked. Built by {@link Explainer}; shown by {@code filebroker explain}.
 *
 * @param caller who asked
 * @param request what was asked
 * @param decision what the policy decided (as {@link Policy#decide} does)
 * @param nearMisses rules whose path matched (or would have, but for a variable without a safe
 *     value for the caller) but that did not decide, closest first
 */
public record DecisionExplanation(
    Caller caller, AccessRequest request, Decision decision, List<NearMiss> nearMisses) {
  public DecisionExplanation {
    Objects.requireNonNull(caller, "caller == null");
    Objects.requireNonNull(request, "request == null");
    Objects.requireNonNull(decision, "decision == null");
    nearMisses = List.copyOf(nearMisses);
  }

  /**
   * One rule that did not decide, with what matched and why it did not apply.
   *
   * @param rule the rule
   * @param pathMatches whether one of its patterns matched the path
   * @param matchedPattern the pattern with variables that matched, expanded for the caller and
   *     followed by the pattern as written ({@code /home/alice/** (/home/${user}/**)}); empty for a
   *     pattern without variables
   * @param callerMatches whether its users, groups, uids, gids or any matched the caller
   * @param processMatches whether its executables and units constraints held
   * @param accessMatches whether it grants (allow) or refuses (deny) the requested access
   * @param whyNot what kept it from applying, one phrase per problem
   */
  public record NearMiss(
      Rule rule,
      boolean pathMatches,
      Optional<String> matchedPattern,
      boolean callerMatches,
      boolean processMatches,
      boolean accessMatches,
      List<String> whyNot) {
    public NearMiss {
      Objects.requireNonNull(rule, "rule == null");
      Objects.requireNonNull(matchedPattern, "matchedPattern == null");
      whyNot = List.copyOf(whyNot);
    }

    /**
     * {@code allow x (a.toml:12): path matches, caller matches, but grants read only, not write}.
     */
    @Override
    public String toString() {
      StringBuilder b = new StringBuilder(rule.toString()).append(": ");
      String matched =
          (pathMatches ? "path matches" + matchedPattern.map(p -> " " + p).orElse("") + ", " : "")
              + (callerMatches ? "caller matches, " : "");
      return b.append(matched)
          .append(matched.isEmpty() ? "" : "but ")
          .append(String.join("; ", whyNot))
          .toString();
    }
  }

  /** Whether the request is allowed. */
  public boolean allowed() {
    return decision instanceof Decision.Allow;
  }

  /** A few lines for a terminal: decision, deciding rule, reason, then the near misses. */
  public String toText() {
    StringBuilder b = new StringBuilder();
    b.append(allowed() ? "allow" : "deny")
        .append(' ')
        .append(request.path())
        .append(" (")
        .append(request.accessString())
        .append(") for uid ")
        .append(Integer.toUnsignedString(caller.uid()))
        .append('\n');
    switch (decision) {
      case Decision.Allow allow -> b.append("  decided by ").append(allow.rule()).append('\n');
      case Decision.Deny deny -> {
        b.append("  decided by ")
            .append(deny.rule().map(Rule::toString).orElse("no rule (default deny)"))
            .append('\n');
        b.append("  reason: ").append(deny.reason()).append('\n');
      }
    }
    if (!nearMisses.isEmpty()) {
      b.append("  rules that nearly applied:\n");
      for (NearMiss miss : nearMisses) {
        b.append("    ").append(miss).append('\n');
      }
    }
    return b.toString();
  }

  /** The explanation as one JSON object (keys in a fixed order; see docs/policy.md). */
  public String toJson() {
    StringBuilder b = new StringBuilder(512);
    b.append("{\"decision\":\"").append(allowed() ? "allow" : "deny").append('"');
    b.append(",\"uid\":").append(Integer.toUnsignedString(caller.uid()));
    b.append(",\"gid\":").append(Integer.toUnsignedString(caller.gid()));
    b.append(",\"path\":");
    JsonString.append(b, request.path());
    b.append(",\"access\":");
    JsonString.append(b, request.accessString());
    switch (decision) {
      case Decision.Allow allow -> ruleKeys(b, allow.rule());
      case Decision.Deny deny -> {
        deny.rule().ifPresent(rule -> ruleKeys(b, rule));
        b.append(",\"reason\":");
        JsonString.append(b, deny.reason());
      }
    }
    b.append(",\"near_misses\":[");
    for (int i = 0; i < nearMisses.size(); i++) {
      NearMiss miss = nearMisses.get(i);
      b.append(i == 0 ? "{" : ",{");
      b.append("\"effect\":\"")
          .append(miss.rule().effect() == Rule.Effect.ALLOW ? "allow" : "deny")
          .append('"');
      b.append(",\"rule\":");
      JsonString.append(b, miss.rule().id());
      b.append(",\"source\":");
      JsonString.append(b, miss.rule().source().fileAndLine());
      b.append(",\"path_matches\":").append(miss.pathMatches());
      b.append(",\"caller_matches\":").append(miss.callerMatches());
      b.append(",\"process_matches\":").append(miss.processMatches());
      b.append(",\"access_matches\":").append(miss.accessMatches());
      b.append(",\"why_not\":[");
      for (int j = 0; j < miss.whyNot().size(); j++) {
        if (j > 0) {
          b.append(',');
        }
        JsonString.append(b, miss.whyNot().get(j));
      }
      b.append("]}");
    }
    return b.append("]}").toString();
  }

  private static void ruleKeys(StringBuilder b, Rule rule) {
    b.append(",\"rule\":");
    JsonString.append(b, rule.id());
    b.append(",\"source\":");
    JsonString.append(b, rule.source().fileAndLine());
  }
}
