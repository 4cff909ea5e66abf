package dev.filebroker.protocol;

/**
 * OPENED: the file was opened. In band: the {@code st_mode} of the opened file. Exactly one
 * descriptor travels as SCM_RIGHTS with this frame's first byte.
 *
 * @param requestId the id of the OPEN request this answers
 * @param fileMode the {@code st_mode} the daemon saw when it checked the opened file
 */
public record OpenedReply(int requestId, int fileMode) implements Reply {
  @Override
  public int descriptorCount() {
    return 1;
  }
}
