package dev.filebroker.daemon.cli;

import dev.filebroker.client.Access;
import dev.filebroker.client.BrokeredFile;
import dev.filebroker.client.FileBroker;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.file.FileSystemException;
import java.nio.file.Path;
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
      "Open a file through the daemon. read copies the file to standard output;",
      "write and append copy standard input into it.",
      "A refused or failed open prints 'filebroker: PATH: CODE: what happened',",
      "CODE being the protocol's error name (DENIED, NOT_FOUND, ALREADY_EXISTS,",
      "SYMLINK_IN_PATH, ...).",
      "Exit status: 0 done; 2 the daemon refused the file or the open failed, or",
      "the options are wrong; 1 anything else (the daemon cannot be reached, a",
      "read or write failed)."
    })
@SuppressWarnings("deprecation") // Access, until AccessWords maps to OpenOptions
final class OpenCommand implements Callable<Integer> {
  @Option(
      names = "--socket",
      paramLabel = "PATH",
      description =
          "Daemon socket (default: $FILEBROKER_SOCKET, else /run/filebroker/filebroker.sock).")
  Path socket;

  @Option(
      names = "--access",
      paramLabel = "WORDS",
      defaultValue = "read",
      description = {
        "Comma-separated: one access of read, write, append,",
        "with the options create, truncate, exclusive (create,",
        "failing if the file exists); write,create,truncate is",
        "what the shell's '>' does (default: ${DEFAULT-VALUE})."
      })
  String access;

  @Option(names = "--create", description = "Same as the word create.")
  boolean create;

  @Option(names = "--truncate", description = "Same as the word truncate.")
  boolean truncate;

  @Option(names = "--exclusive", description = "Same as the word exclusive.")
  boolean exclusive;

  @Option(
      names = "--mode",
      paramLabel = "OCTAL",
      defaultValue = "0600",
      description = {
        "Permission bits of a file --create makes (default:",
        "${DEFAULT-VALUE}); the policy's create_mode caps them."
      })
  String createMode;

  @Parameters(paramLabel = "PATH", description = "Absolute path of the file.")
  Path path;

  @Override
  public Integer call() {
    String text =
        access
            + (create ? ",create" : "")
            + (truncate ? ",truncate" : "")
            + (exclusive ? ",exclusive" : "");
    AccessWords words;
    try {
      words = AccessWords.parse(text, AccessWords.READ, false);
    } catch (AccessWords.InvalidWordsException e) {
      System.err.println("filebroker: " + e.getMessage());
      return 2;
    }
    if (words.reads() && words.writes()) {
      System.err.println(
          "filebroker: open copies one way: give read, or write or append (given: "
              + words.text()
              + ")");
      return 2;
    }
    int modeBits;
    try {
      modeBits = Integer.parseInt(createMode, 8);
    } catch (NumberFormatException e) {
      System.err.println("filebroker: --mode must be octal, e.g. 0640: " + createMode);
      return 2;
    }
    Set<Access> accesses = words.access();
    try (FileBroker broker = socket == null ? FileBroker.connect() : FileBroker.connect(socket);
        BrokeredFile file =
            accesses.contains(Access.CREATE)
                ? broker.open(path, accesses, modeBits)
                : broker.open(path, accesses.toArray(Access[]::new))) {
      if (words.reads()) {
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
      System.err.println("filebroker: " + path + ": " + OpenFailure.describe(e));
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
