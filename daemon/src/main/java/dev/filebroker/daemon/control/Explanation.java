package dev.filebroker.daemon.control;

import dev.filebroker.daemon.policy.Decision;
import dev.filebroker.daemon.policy.Explainer;
import dev.filebroker.daemon.policy.Rule;
import dev.filebroker.daemon.server.PolicyHolder;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;

/**
 * How the policy in force decides a described request, for {@code explain}. Evaluated against the
 * very snapshot requests are decided against, so it shows what the daemon does now, not what the
 * files on disk say.
 *
 * @param query the described request
 * @param policy the snapshot it was decided against
 * @param decision the policy's decision
 * @param detail the explainer's account: deciding rule and the rules that nearly matched
 */
public record Explanation(
    ExplainQuery query, PolicyHolder.Loaded policy, Decision decision, String detail) {
  public Explanation {
    Objects.requireNonNull(query, "query == null");
    Objects.requireNonNull(policy, "policy == null");
    Objects.requireNonNull(decision, "decision == null");
    Objects.requireNonNull(detail, "detail == null");
  }

  /** Decides {@code query} against {@code policy}, with the explainer's near misses. */
  public static Explanation evaluate(PolicyHolder.Loaded policy, ExplainQuery query) {
    return new Explanation(
        query,
        policy,
        policy.policy().decide(query.caller(), query.request()),
        Explainer.explain(policy.policy(), query.caller(), query.request()).toText());
  }

  /**
   * The control-socket response: {@code decision} ("allow" or "deny"), {@code rule} (id and
   * file:line of the deciding rule, absent for a default denial), {@code reason}, the {@code
   * policy} it was decided against and the {@code request} as understood.
   */
  public Map<String, Object> toJson() {
    Map<String, Object> o = new LinkedHashMap<>();
    o.put("ok", true);
    o.put("explanation", detail);
    switch (decision) {
      case Decision.Allow allow -> {
        o.put("decision", "allow");
        o.put("rule", rule(allow.rule()));
        o.put(
            "reason",
            "rule "
                + allow.rule().id()
                + " ("
                + allow.rule().source().fileAndLine()
                + ") grants "
                + query.request().accessString()
                + " on "
                + query.request().path());
      }
      case Decision.Deny deny -> {
        o.put("decision", "deny");
        deny.rule().ifPresent(r -> o.put("rule", rule(r)));
        o.put("reason", deny.reason());
      }
    }
    Map<String, Object> source = new LinkedHashMap<>();
    source.put("source", policy.source().toString());
    source.put("loaded_at", policy.loadedAt().toString());
    source.put("rules", (long) policy.policy().ruleCount());
    o.put("policy", source);
    o.put("request", query.toJson());
    return o;
  }

  private static Map<String, Object> rule(Rule rule) {
    Map<String, Object> r = new LinkedHashMap<>();
    r.put("id", rule.id());
    r.put("source", rule.source().fileAndLine());
    r.put("effect", rule.effect().name().toLowerCase(java.util.Locale.ROOT));
    return r;
  }
}
