package dev.filebroker.daemon.policy;

import java.util.Objects;

/**
 * One problem found while loading a policy, with where it is and how to fix it.
 *
 * @param location where the problem is
 * @param message what is wrong and how to fix it
 */
public record PolicyError(SourceLocation location, String message) {
  public PolicyError {
    Objects.requireNonNull(location, "location == null");
    Objects.requireNonNull(message, "message == null");
  }

  /** {@code file:line:column: message}, the form {@code filebroker check} prints. */
  @Override
  public String toString() {
    return location + ": " + message;
  }
}
