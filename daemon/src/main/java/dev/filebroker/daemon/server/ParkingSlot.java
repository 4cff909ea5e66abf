package dev.filebroker.daemon.server;

import dev.filebroker.daemon.fs.SocketMessages;

/**
 * A session's place in the machinery: its socket, whether it waits to read or to write, its park
 * delay, and its entry in its parker's epoll set. It travels with its session between the parker
 * and a serving thread, touched by one thread at a time.
 */
final class ParkingSlot {
  final int fd;
  final Parker parker;
  final ParkDelay delay = new ParkDelay();
  private boolean wantsWrite;
  private boolean inEpoll;
  private boolean cancelled;
  private int receiveTimeoutMillis;

  ParkingSlot(int fd, Parker parker) {
    this.fd = fd;
    this.parker = parker;
  }

  /** Waits for readable input only. */
  void wantRead() {
    wantsWrite = false;
  }

  /** Waits until the socket can take more output; input is not read meanwhile (backpressure). */
  void wantWrite() {
    wantsWrite = true;
  }

  boolean wantsWrite() {
    return wantsWrite;
  }

  /** Whether the parker already added the socket to its epoll set (then it only re-arms it). */
  boolean inEpoll() {
    return inEpoll;
  }

  void addedToEpoll() {
    inEpoll = true;
  }

  /** Sets the socket's receive timeout to the park delay, when it changed; false on an error. */
  boolean applyDelay() {
    int millis = delay.millis();
    if (millis == receiveTimeoutMillis) {
      return true;
    }
    if (SocketMessages.setReceiveTimeout(fd, millis) != 0) {
      return false;
    }
    receiveTimeoutMillis = millis;
    return true;
  }

  /** Leaves the epoll set; called once, before the socket is closed. */
  void cancel() {
    if (!cancelled) {
      cancelled = true;
      if (inEpoll) {
        // Before the socket closes, so a reused descriptor number never inherits this entry.
        parker.remove(fd);
      }
    }
  }
}
