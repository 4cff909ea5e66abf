package dev.filebroker.daemon.policy;

/** STUB: replaced by the policy implementation. An immutable policy snapshot. */
public final class Policy {
  /** Decides one request. Never throws for any caller or request. */
  public Decision decide(Caller caller, AccessRequest request) {
    throw new UnsupportedOperationException("stub");
  }

  /** How many rules the policy holds. */
  public int ruleCount() {
    throw new UnsupportedOperationException("stub");
  }
}
