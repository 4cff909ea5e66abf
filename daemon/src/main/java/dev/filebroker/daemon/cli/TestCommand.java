package dev.filebroker.daemon.cli;

import dev.filebroker.daemon.policy.PolicyError;
import dev.filebroker.daemon.policy.PolicyLoad;
import dev.filebroker.daemon.policy.PolicyLoader;
import dev.filebroker.daemon.policy.PolicyTests;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code filebroker test}: runs admin-written cases against a policy. */
@Command(
    name = "test",
    mixinStandardHelpOptions = true,
    header = "Run admin-written policy test cases against a policy.",
    description = {
      "Run policy test cases ([[case]] tables in TOML files) against a policy. Without FILE,",
      "runs the cases in the policy directory's tests/ subdirectory. Prints each mismatch",
      "with the case's file:line and an explanation; exits 1 on any mismatch or error in a",
      "case file or the policy, 0 otherwise."
    })
final class TestCommand implements Callable<Integer> {
  @Option(
      names = "--policy",
      paramLabel = "PATH",
      defaultValue = "/etc/filebroker/policy.d",
      description = "Policy file or directory (default: ${DEFAULT-VALUE}).")
  Path policy;

  @Parameters(arity = "0..*", paramLabel = "FILE", description = "Case files.")
  List<Path> files = new ArrayList<>();

  @Override
  public Integer call() {
    PolicyLoad load = PolicyLoader.load(policy);
    if (load instanceof PolicyLoad.Invalid invalid) {
      for (PolicyError error : invalid.errors()) {
        System.out.println(error);
      }
      System.out.println(policy + ": " + invalid.errors().size() + " error(s); no case ran");
      return 1;
    }
    PolicyTests tests = files.isEmpty() ? PolicyTests.discover(policy) : PolicyTests.read(files);
    PolicyTests.Report report = tests.run(((PolicyLoad.Valid) load).policy());
    for (PolicyError error : report.errors()) {
      System.out.println(error);
    }
    for (PolicyTests.Failure failure : report.failures()) {
      System.out.println(failure);
    }
    System.out.println(report.summary());
    return report.passed() ? 0 : 1;
  }
}
