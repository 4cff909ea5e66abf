package dev.filebroker.daemon.fs;

import dev.filebroker.daemon.policy.FileType;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.atomic.AtomicReferenceArray;

/**
 * How to open one path.
 *
 * @param wireFlags validated open flags in wire numbering ({@link
 *     dev.filebroker.protocol.OpenFlags})
 * @param createMode permission bits for a file this open creates (already masked by policy)
 * @param allowedTypes the file types that may be handed out; anything else is closed unopened
 * @param noCrossMounts refuse to cross a mount point while resolving (RESOLVE_NO_XDEV)
 * @param guard the checks the file must pass before anything with a side effect happens
 * @param createOwner who a created file belongs to; empty: the daemon (root)
 */
public record OpenSpec(
    int wireFlags,
    int createMode,
    Set<FileType> allowedTypes,
    boolean noCrossMounts,
    OpenGuard guard,
    Optional<CreateOwner> createOwner) {
  private static final FileType[] TYPES = FileType.values();

  /** The immutable set for each combination of types, made once: a spec is built per request. */
  private static final AtomicReferenceArray<Set<FileType>> SETS =
      new AtomicReferenceArray<>(1 << TYPES.length);

  public OpenSpec {
    allowedTypes = immutable(Objects.requireNonNull(allowedTypes, "allowedTypes == null"));
    Objects.requireNonNull(guard, "guard == null");
    Objects.requireNonNull(createOwner, "createOwner == null");
  }

  /** A spec without guards; files it creates belong to root. */
  public OpenSpec(
      int wireFlags, int createMode, Set<FileType> allowedTypes, boolean noCrossMounts) {
    this(wireFlags, createMode, allowedTypes, noCrossMounts, OpenGuard.NONE, Optional.empty());
  }

  private static Set<FileType> immutable(Set<FileType> types) {
    int mask = 0;
    for (FileType t : TYPES) {
      if (types.contains(t)) {
        mask |= 1 << t.ordinal();
      }
    }
    Set<FileType> set = SETS.get(mask);
    if (set == null || set.size() != types.size()) {
      Set<FileType> copy = Set.copyOf(types); // also rejects a null element
      if (copy.size() != Integer.bitCount(mask)) {
        return copy;
      }
      SETS.compareAndSet(mask, null, copy);
      return copy;
    }
    return set;
  }
}
