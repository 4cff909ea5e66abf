package dev.filebroker.protocol;

/** A message a client sends. The daemon dispatches on it with an exhaustive switch. */
public sealed interface Request permits OpenRequest, OpenManyRequest {
  /** The client-chosen id, echoed by the reply. */
  int requestId();
}
