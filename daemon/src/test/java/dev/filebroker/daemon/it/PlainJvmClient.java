package dev.filebroker.daemon.it;

import dev.filebroker.client.BrokeredFile;
import dev.filebroker.client.FileBroker;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

/**
 * An application using the client library, run by {@link JavaClientIT} in a JVM of its own with
 * nothing but a class path: opens a file through the daemon, receives one from a fixed endpoint,
 * and prints both.
 */
final class PlainJvmClient {
  private PlainJvmClient() {}

  /**
   * Runs the application.
   *
   * @param args the daemon's socket, a file to open through it, an endpoint socket
   */
  public static void main(String[] args) throws IOException {
    try (FileBroker broker = FileBroker.connect(Path.of(args[0]));
        BrokeredFile opened = broker.open(Path.of(args[1]), StandardOpenOption.READ)) {
      System.out.print("opened: " + read(opened));
    }
    try (BrokeredFile received = FileBroker.receiveFrom(Path.of(args[2]))) {
      System.out.print("received: " + read(received));
    }
  }

  private static String read(BrokeredFile file) throws IOException {
    return new String(file.inputStream().readAllBytes(), StandardCharsets.UTF_8);
  }
}
