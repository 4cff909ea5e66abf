package dev.filebroker.daemon.control;

/**
 * The operations the control socket offers, implemented by the running daemon. Called on the
 * control socket's request threads, up to {@link ControlServer#MAX_CONNECTIONS} requests at once;
 * implementations must be safe against each other and against concurrent SIGHUP reloads.
 */
public interface ControlHandler {
  /** Re-reads the policy, as SIGHUP does; on errors the previous policy stays in force. */
  ReloadOutcome reload();

  /** The daemon's figures now. */
  StatusReport status();

  /** Decides {@code query} against the policy in force, without opening anything. */
  Explanation explain(ExplainQuery query);
}
