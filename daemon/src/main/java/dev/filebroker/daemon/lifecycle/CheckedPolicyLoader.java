package dev.filebroker.daemon.lifecycle;

import dev.filebroker.daemon.policy.PolicyError;
import dev.filebroker.daemon.policy.PolicyLoad;
import dev.filebroker.daemon.policy.PolicyLoader;
import dev.filebroker.daemon.policy.PolicyTests;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Loads a policy the way the daemon puts one in force: it must parse, and it must pass the admin's
 * test cases shipped beside it ({@code tests/*.toml} in the policy directory). Either failure
 * rejects it, at start (the daemon refuses to start) and on reload (the old policy stays).
 */
final class CheckedPolicyLoader {
  private CheckedPolicyLoader() {}

  static PolicyLoad load(Path source) {
    PolicyLoad load = PolicyLoader.load(source);
    if (!(load instanceof PolicyLoad.Loaded loaded)) {
      return load;
    }
    PolicyTests.Report report = PolicyTests.discover(source).run(loaded.policy());
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
}
