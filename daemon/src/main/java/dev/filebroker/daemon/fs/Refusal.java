package dev.filebroker.daemon.fs;

import dev.filebroker.protocol.ErrorCode;
import java.util.Objects;

/**
 * Why a file that the policy allows must not be opened after all, decided before anything with a
 * side effect happened.
 *
 * @param code the error code the client sees
 * @param errno the errno it carries (0 for none)
 * @param reason a message for the client and the audit line
 */
public record Refusal(ErrorCode code, int errno, String reason) {
  public Refusal {
    Objects.requireNonNull(code, "code == null");
    Objects.requireNonNull(reason, "reason == null");
  }
}
