package dev.filebroker.protocol;

import java.util.Objects;

/**
 * OPEN: asks the daemon to open one file. In band: flags, create mode and path. Nothing travels as
 * SCM_RIGHTS.
 *
 * @param requestId the client-chosen id, echoed by the reply
 * @param flags open flags as defined by {@link OpenFlags}
 * @param mode the permission bits for a created file; 0 unless {@link OpenFlags#O_CREAT} is set
 * @param path the absolute, canonical path to open
 */
public record OpenRequest(int requestId, int flags, int mode, String path) implements Request {
  /** Checks only what the wire format itself cannot carry; content rules live in the validator. */
  public OpenRequest {
    Objects.requireNonNull(path, "path == null");
    if (mode < 0 || mode > 0xFFFF) {
      throw new IllegalArgumentException("mode must fit in 16 bits: " + mode);
    }
  }
}
