package dev.filebroker.client.example;

import dev.filebroker.client.BrokeredFile;
import dev.filebroker.client.FileBroker;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Set;

/** Prints a file the daemon opens, and appends a line to another, creating it rw-r-----. */
public final class PrintFile {
  public static void main(String[] args) throws IOException {
    try (FileBroker broker = FileBroker.connect()) { // $FILEBROKER_SOCKET or the default socket
      try (BrokeredFile file = broker.open(Path.of(args[0]), StandardOpenOption.READ);
          InputStream in = file.inputStream()) {
        in.transferTo(System.out);
      }
      try (BrokeredFile log =
              broker.open(
                  Path.of(args[1]),
                  Set.of(StandardOpenOption.APPEND, StandardOpenOption.CREATE),
                  PosixFilePermissions.asFileAttribute(
                      PosixFilePermissions.fromString("rw-r-----")));
          OutputStream out = log.outputStream()) {
        out.write("printed\n".getBytes(StandardCharsets.UTF_8));
      }
    }
  }
}
