package dev.filebroker.daemon.policy;

import java.util.Set;

/** STUB: replaced by the policy implementation. One rule of a policy. */
public final class Rule {
  /** The rule's name from the policy, or {@code file:line} when it has none. */
  public String id() {
    throw new UnsupportedOperationException("stub");
  }

  /** Where the rule starts in its policy file. */
  public SourceLocation source() {
    throw new UnsupportedOperationException("stub");
  }

  /** The file types an allow rule lets the daemon hand out. */
  public Set<FileType> fileTypes() {
    throw new UnsupportedOperationException("stub");
  }

  /** Permission bits a file created under this rule may carry at most (e.g. 0600). */
  public int createModeMask() {
    throw new UnsupportedOperationException("stub");
  }
}
