package dev.filebroker.daemon.policy;

import java.nio.file.Path;

/** STUB: replaced by the policy implementation. Reads a policy file or directory. */
public final class PolicyLoader {
  private PolicyLoader() {}

  /** Loads one {@code .toml} file, or every {@code *.toml} file of a directory in name order. */
  public static PolicyLoad load(Path fileOrDirectory) {
    throw new UnsupportedOperationException("stub");
  }
}
