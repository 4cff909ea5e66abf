package dev.filebroker.protocol;

/** A message the daemon sends in answer to a request. */
public sealed interface Reply permits OpenedReply, OpenedManyReply, ErrorReply {
  /** The id of the request this answers, or 0 when the request's id could not be read. */
  int requestId();

  /** How many descriptors travel as SCM_RIGHTS with this reply's first byte. */
  int descriptorCount();
}
