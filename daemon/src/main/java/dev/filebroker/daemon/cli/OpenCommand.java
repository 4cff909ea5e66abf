package dev.filebroker.daemon.cli;

import dev.filebroker.client.Access;
import dev.filebroker.client.BrokeredFile;
import dev.filebroker.client.FileBroker;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.file.FileSystemException;
import java.nio.file.Path;
import java.util.EnumSet;
import java.util.Set;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * {@code filebroker open}: obtains one file through the daemon, as any unprivileged client would.
 */
@Command(
    name = "open",
    mixinStandardHelpOptions = true,
    header = "Open one file through the daemon: read to stdout, or write/append stdin into it.",
    description = {
      "Open a file through the daemon. read copies the file to standard output; write and",
      "append copy standard input into it. Exit status: 0 done, 2 the daemon refused or the",
      "open failed (its error code and message are printed), 1 anything else."
    })
final class OpenCommand implements Callable<Integer> {
  /** The access modes this command offers. */
  enum Mode {
    READ,
    WRITE,
    APPEND
  }

  @Option(
      names = "--socket",
      paramLabel = "PATH",
      description =
          "Daemon socket (default: $FILEBROKER_SOCKET, else /run/filebroker/filebroker.sock).")
  Path socket;

  @Option(
      names = "--access",
      paramLabel = "MODE",
      defaultValue = "read",
      description = "read, write or append (default: ${DEFAULT-VALUE}).")
  Mode mode;

  @Option(names = "--create", description = "Create the file if it does not exist.")
  boolean create;

  @Option(names = "--truncate", description = "Truncate the file when opening it for write.")
  boolean truncate;

  @Option(
      names = "--mode",
      paramLabel = "OCTAL",
      defaultValue = "0600",
      description = {
        "Permission bits of a file --create makes (default: ${DEFAULT-VALUE});",
        "the policy's create_mode caps them."
      })
  String createMode;

  @Parameters(paramLabel = "PATH", description = "Absolute path of the file.")
  Path path;

  @Override
  public Integer call() {
    Set<Access> access =
        EnumSet.of(
            switch (mode) {
              case READ -> Access.READ;
              case WRITE -> Access.WRITE;
              case APPEND -> Access.APPEND;
            });
    if (create) {
      access.add(Access.CREATE);
    }
    int modeBits;
    try {
      modeBits = Integer.parseInt(createMode, 8);
    } catch (NumberFormatException e) {
      System.err.println("filebroker: --mode must be octal, e.g. 0640: " + createMode);
      return 2;
    }
    if (truncate) {
      access.add(Access.TRUNCATE);
    }
    try (FileBroker broker = socket == null ? FileBroker.connect() : FileBroker.connect(socket);
        BrokeredFile file =
            create
                ? broker.open(path, access, modeBits)
                : broker.open(path, access.toArray(Access[]::new))) {
      if (mode == Mode.READ) {
        try (InputStream in = file.inputStream()) {
          in.transferTo(System.out);
        }
        System.out.flush();
      } else {
        try (OutputStream out = file.outputStream()) {
          System.in.transferTo(out);
        }
      }
      return 0;
    } catch (FileSystemException e) {
      System.err.println("filebroker: " + e.getMessage());
      return 2;
    } catch (IllegalArgumentException e) {
      System.err.println("filebroker: " + e.getMessage());
      return 2;
    } catch (IOException e) {
      System.err.println("filebroker: " + e.getMessage());
      return 1;
    }
  }
}
