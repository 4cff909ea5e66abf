package dev.filebroker.daemon.policy;

import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.Set;

/**
 * The parts of a rule beyond subjects, paths, access, types and create mode: process constraints,
 * create options and alias guards, with their defaults.
 *
 * <p>Exists to keep {@link Rule}'s constructor readable as keys are added.
 *
 * @param executables executables the caller must run (empty: no constraint)
 * @param units systemd units the caller must run in (empty: no constraint)
 * @param exclusiveCreate whether a create must carry O_EXCL
 * @param createOwner who owns a file created under the rule
 * @param noCrossMounts whether resolving the path may not cross a mount point
 * @param maxLinks the most hard links the opened file may have
 * @param owner who must own the opened file
 * @param appendOnlyInode whether the opened file must have the append-only attribute
 */
record RuleOptions(
    Set<String> executables,
    Set<String> units,
    boolean exclusiveCreate,
    Rule.CreateOwner createOwner,
    boolean noCrossMounts,
    OptionalInt maxLinks,
    Optional<RequiredOwner> owner,
    boolean appendOnlyInode) {
  /** No process constraint, no guard, files created owned by the requester. */
  static final RuleOptions DEFAULT = processes(List.of(), List.of());

  RuleOptions {
    executables = Set.copyOf(executables);
    units = Set.copyOf(units);
    Objects.requireNonNull(createOwner, "createOwner == null");
    Objects.requireNonNull(maxLinks, "maxLinks == null");
    Objects.requireNonNull(owner, "owner == null");
    if (maxLinks.isPresent() && maxLinks.getAsInt() < 1) {
      throw new IllegalArgumentException("maxLinks must be at least 1");
    }
  }

  /** Options with only the given process constraints. */
  static RuleOptions processes(List<String> executables, List<String> units) {
    return new RuleOptions(
        Set.copyOf(executables),
        Set.copyOf(units),
        false,
        Rule.CreateOwner.REQUESTER,
        false,
        OptionalInt.empty(),
        Optional.empty(),
        false);
  }
}
