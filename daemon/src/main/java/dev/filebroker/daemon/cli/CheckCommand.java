package dev.filebroker.daemon.cli;

import dev.filebroker.daemon.lifecycle.CheckedPolicyLoader;
import dev.filebroker.daemon.policy.PolicyError;
import dev.filebroker.daemon.policy.PolicyLoad;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Parameters;

/**
 * {@code filebroker check}: validates policy files without touching the running daemon, and gives
 * the verdict the daemon would give at start or reload: the files' owners and modes, the rules, and
 * the directory's own test cases ({@code tests/*.toml}).
 */
@Command(
    name = "check",
    mixinStandardHelpOptions = true,
    header = "Check policy files; print every error as file:line:column: message.",
    description = {
      "Check policy files or directories as the daemon checks them at start and reload:",
      "every file, and each directory above it, must be owned by root and not writable by",
      "group or others; the rules must be valid; and the cases in the directory's tests/",
      "subdirectory must pass. Prints every error as file:line:column: message and exits 1",
      "when there is any; prints a summary and exits 0 otherwise."
    })
final class CheckCommand implements Callable<Integer> {
  @Parameters(arity = "1..*", paramLabel = "PATH", description = "Policy file or directory.")
  List<Path> paths;

  @Override
  public Integer call() {
    int status = 0;
    for (Path path : paths) {
      switch (CheckedPolicyLoader.load(path)) {
        case PolicyLoad.Invalid invalid -> {
          for (PolicyError e : invalid.errors()) {
            System.out.println(e);
          }
          System.out.println(path + ": " + invalid.errors().size() + " error(s)");
          status = 1;
        }
        case PolicyLoad.Loaded loaded ->
            System.out.println(path + ": OK, " + loaded.policy().ruleCount() + " rule(s)");
      }
    }
    return status;
  }
}
