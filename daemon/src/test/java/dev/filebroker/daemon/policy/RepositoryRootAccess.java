package dev.filebroker.daemon.policy;

import java.nio.file.Path;

/** Lets tests of other packages find the source tree as {@link RepositoryRoot} does. */
public final class RepositoryRootAccess {
  private RepositoryRootAccess() {}

  /** The repository root. */
  public static Path find() {
    return RepositoryRoot.find();
  }
}
