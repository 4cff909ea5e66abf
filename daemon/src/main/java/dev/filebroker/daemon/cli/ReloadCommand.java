package dev.filebroker.daemon.cli;

import dev.filebroker.daemon.control.ControlClient;
import dev.filebroker.daemon.control.ControlRequest;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;

/** {@code filebroker reload}: makes the running daemon re-read its policy, and says how it went. */
@Command(
    name = "reload",
    mixinStandardHelpOptions = true,
    description = {
      "Make the running daemon re-read its policy now (as SIGHUP does). Root only.",
      "Prints the rule count and exits 0; if the policy has errors, prints each as",
      "file:line:column: message, keeps the previous policy in force and exits 1."
    })
final class ReloadCommand implements Callable<Integer> {
  @Mixin ControlSocketOption socket;

  @Override
  public Integer call() {
    Optional<Path> control = socket.resolveOrReport("filebroker: ");
    if (control.isEmpty()) {
      return 1;
    }
    switch (ControlClient.exchange(control.get(), new ControlRequest.Reload())) {
      case ControlClient.Reply.Failed failed -> {
        System.err.println("filebroker: " + failed.message());
        return 1;
      }
      case ControlClient.Reply.Answered answer -> {
        if (!answer.ok()) {
          System.err.println("filebroker: could not reload: " + answer.error());
          if (answer.body().get("errors") instanceof List<?> errors) {
            errors.forEach(System.err::println);
          }
          return 1;
        }
        System.out.println(
            "filebroker: reloaded "
                + answer.body().get("rules")
                + " rule(s) from "
                + answer.body().get("source"));
        return 0;
      }
    }
  }
}
