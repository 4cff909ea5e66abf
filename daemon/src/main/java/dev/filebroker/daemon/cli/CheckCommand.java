package dev.filebroker.daemon.cli;

import dev.filebroker.daemon.policy.PolicyError;
import dev.filebroker.daemon.policy.PolicyLoad;
import dev.filebroker.daemon.policy.PolicyLoader;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Parameters;

/** {@code filebroker check}: validates policy files without touching the running daemon. */
@Command(
    name = "check",
    mixinStandardHelpOptions = true,
    header = "Check policy files; print every error as file:line:column: message.",
    description = {
      "Check policy files or directories. Prints every error as file:line:column: message",
      "and exits 1 when there is any; prints a summary and exits 0 otherwise."
    })
final class CheckCommand implements Callable<Integer> {
  @Parameters(arity = "1..*", paramLabel = "PATH", description = "Policy file or directory.")
  List<Path> paths;

  @Override
  public Integer call() {
    int status = 0;
    for (Path path : paths) {
      switch (PolicyLoader.load(path)) {
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
