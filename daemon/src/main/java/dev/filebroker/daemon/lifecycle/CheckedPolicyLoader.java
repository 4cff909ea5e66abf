package dev.filebroker.daemon.lifecycle;

import dev.filebroker.daemon.config.TrustedFiles;
import dev.filebroker.daemon.policy.PolicyError;
import dev.filebroker.daemon.policy.PolicyLoad;
import dev.filebroker.daemon.policy.PolicyLoader;
import dev.filebroker.daemon.policy.PolicyTests;
import dev.filebroker.daemon.policy.SourceLocation;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;

/**
 * Loads a policy the way the daemon puts one in force: only root may be able to have written its
 * files (see {@link TrustedFiles}), it must parse, and it must pass the admin's test cases shipped
 * beside it ({@code tests/*.toml} in the policy directory). Any failure rejects it, at start (the
 * daemon refuses to start), on reload (the old policy stays) and in {@code filebroker check}, so
 * that one policy gets one verdict.
 */
public final class CheckedPolicyLoader {
  private CheckedPolicyLoader() {}

  /** The policy at {@code source}, or every reason it would not be put in force. */
  public static PolicyLoad load(Path source) {
    List<TrustedFiles.Untrusted> untrusted = TrustedFiles.checkPolicy(source);
    if (!untrusted.isEmpty()) {
      // Not even parsed: what it says may have been written by anyone.
      return new PolicyLoad.Invalid(
          untrusted.stream()
              .map(u -> new PolicyError(SourceLocation.wholeFile(u.path()), u.problem()))
              .toList());
    }
    // The cases need the policy only to run: they are read while the policy is.
    CompletableFuture<PolicyTests> tests =
        CompletableFuture.supplyAsync(() -> PolicyTests.discover(source));
    PolicyLoad load = PolicyLoader.load(source);
    PolicyTests cases = join(tests);
    if (!(load instanceof PolicyLoad.Valid loaded)) {
      return load;
    }
    PolicyTests.Report report = cases.run(loaded.policy());
    if (report.passed()) {
      return load;
    }
    List<PolicyError> errors = new ArrayList<>(report.errors());
    for (PolicyTests.Failure f : report.failures()) {
      errors.add(
          new PolicyError(
              f.testCase().source(),
              "policy test case failed: "
                  + f.mismatch()
                  + " (the policy is rejected until its tests pass)"));
    }
    return new PolicyLoad.Invalid(errors);
  }

  /** The cases read, or what reading them threw, thrown again. */
  private static PolicyTests join(CompletableFuture<PolicyTests> tests) {
    try {
      return tests.join();
    } catch (CompletionException e) {
      if (e.getCause() instanceof RuntimeException r) {
        throw r;
      }
      if (e.getCause() instanceof Error error) {
        throw error;
      }
      throw e;
    }
  }
}
