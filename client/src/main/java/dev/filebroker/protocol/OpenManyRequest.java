package dev.filebroker.protocol;

import java.util.List;
import java.util.Objects;

/**
 * OPEN_MANY: asks the daemon to open up to {@link Protocol#MAX_PATHS_PER_REQUEST} files in one
 * round trip. In band: one entry per path, each with its own flags, create mode and path, laid out
 * as an OPEN payload. Nothing travels as SCM_RIGHTS. The daemon decides, opens and audits every
 * entry on its own and answers with one {@link OpenedManyReply}.
 *
 * @param requestId the client-chosen id, echoed by the reply
 * @param entries the files to open, in the order the reply reports them; 1 to {@link
 *     Protocol#MAX_PATHS_PER_REQUEST}
 */
public record OpenManyRequest(int requestId, List<Entry> entries) implements Request {
  /** Checks only what the wire format itself cannot carry; content rules live in the validator. */
  public OpenManyRequest {
    Objects.requireNonNull(entries, "entries == null");
    entries = List.copyOf(entries);
    if (entries.isEmpty() || entries.size() > Protocol.MAX_PATHS_PER_REQUEST) {
      throw new IllegalArgumentException(
          "entries must number 1 to " + Protocol.MAX_PATHS_PER_REQUEST + ": " + entries.size());
    }
  }

  /**
   * One file of an OPEN_MANY request.
   *
   * @param flags open flags as defined by {@link OpenFlags}
   * @param mode the permission bits for a created file; 0 unless {@link OpenFlags#O_CREAT} is set
   * @param path the absolute, canonical path to open
   */
  public record Entry(int flags, int mode, String path) {
    /** Checks only what the wire format itself cannot carry. */
    public Entry {
      Objects.requireNonNull(path, "path == null");
      if (mode < 0 || mode > 0xFFFF) {
        throw new IllegalArgumentException("mode must fit in 16 bits: " + mode);
      }
    }

    /** This entry as a single OPEN request with {@code requestId}, to validate and decide it. */
    public OpenRequest asOpenRequest(int requestId) {
      return new OpenRequest(requestId, flags, mode, path);
    }
  }
}
