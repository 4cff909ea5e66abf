package dev.filebroker.daemon.fs;

import dev.filebroker.daemon.policy.FileType;
import java.util.Objects;
import java.util.Set;

/**
 * How to open one path.
 *
 * @param wireFlags validated open flags in wire numbering ({@link dev.filebroker.protocol.OpenFlags})
 * @param createMode permission bits for a file this open creates (already masked by policy)
 * @param allowedTypes the file types that may be handed out; anything else is closed unopened
 * @param noCrossMounts refuse to cross a mount point while resolving (RESOLVE_NO_XDEV)
 */
public record OpenSpec(int wireFlags, int createMode, Set<FileType> allowedTypes, boolean noCrossMounts) {
  public OpenSpec {
    allowedTypes = Set.copyOf(Objects.requireNonNull(allowedTypes, "allowedTypes == null"));
  }
}
