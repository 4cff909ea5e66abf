package dev.filebroker.daemon.policy;

/** What a request asks to do with a file; what an allow rule grants and a deny rule refuses. */
public enum Permission {
  READ("read"),
  WRITE("write"),
  APPEND("append"),
  CREATE("create"),
  TRUNCATE("truncate"),
  /**
   * A read-only directory descriptor. A request with O_DIRECTORY needs it, and so does any request
   * whose opened file turns out to be a directory.
   */
  DIRECTORY("directory");

  private final String policyName;

  Permission(String policyName) {
    this.policyName = policyName;
  }

  /** The name policy files use for this permission. */
  public String policyName() {
    return policyName;
  }
}
