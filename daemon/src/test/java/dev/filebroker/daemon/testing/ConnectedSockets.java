package dev.filebroker.daemon.testing;

import java.io.IOException;
import java.nio.file.Path;
import org.newsclub.net.unix.AFUNIXServerSocketChannel;
import org.newsclub.net.unix.AFUNIXSocketAddress;
import org.newsclub.net.unix.AFUNIXSocketChannel;

/**
 * Two connected Unix stream sockets, made as the daemon's are: a connect to a socket bound in
 * {@code directory}, and the accept of it. The socket library's socket pairs would be shorter, but
 * each keeps two descriptors open after both its channels are closed.
 */
public final class ConnectedSockets implements AutoCloseable {
  private final AFUNIXServerSocketChannel server;
  private final AFUNIXSocketChannel client;
  private final AFUNIXSocketChannel accepted;

  private ConnectedSockets(
      AFUNIXServerSocketChannel server, AFUNIXSocketChannel client, AFUNIXSocketChannel accepted) {
    this.server = server;
    this.client = client;
    this.accepted = accepted;
  }

  /** Binds a socket named {@code name} in {@code directory}, connects to it and accepts. */
  public static ConnectedSockets open(Path directory, String name) throws IOException {
    AFUNIXSocketAddress address = AFUNIXSocketAddress.of(directory.resolve(name));
    AFUNIXServerSocketChannel server = AFUNIXServerSocketChannel.open();
    try {
      server.bind(address);
      AFUNIXSocketChannel client = AFUNIXSocketChannel.open(address);
      try {
        return new ConnectedSockets(server, client, server.accept());
      } catch (IOException | RuntimeException e) {
        client.close();
        throw e;
      }
    } catch (IOException | RuntimeException e) {
      server.close();
      throw e;
    }
  }

  /** The accepted end: the daemon's side of a connection. */
  public AFUNIXSocketChannel accepted() {
    return accepted;
  }

  /** The connecting end: the client's side. */
  public AFUNIXSocketChannel client() {
    return client;
  }

  /** Closes both ends and the listening socket. */
  @Override
  public void close() throws IOException {
    try (server;
        client;
        accepted) {
      // closed in reverse order by the try statement
    }
  }
}
