package dev.filebroker.daemon.systemd;

import java.util.List;

/**
 * Child-process entry point for {@link SocketActivationTest}: prints what {@link
 * SocketActivation#inherit()} returned, one {@code socket <name> <fd> <address>} line per socket,
 * or one {@code refused <message>} line; then {@value #END}.
 */
final class SocketActivationProbe {
  /** Last line of every run. */
  static final String END = "end";

  private SocketActivationProbe() {}

  public static void main(String[] args) throws Exception {
    List<ActivatedSocket> sockets;
    try {
      sockets = SocketActivation.inherit();
    } catch (java.io.IOException | IllegalArgumentException e) {
      System.out.println("refused " + e.getMessage());
      System.out.println(END);
      return;
    }
    System.out.println("count " + sockets.size());
    for (ActivatedSocket socket : sockets) {
      System.out.println(
          "socket "
              + socket.name()
              + " "
              + socket.fd()
              + " "
              + socket.channel().getLocalAddress()
              + " blocking="
              + socket.channel().isBlocking());
    }
    System.out.println(END);
  }
}
