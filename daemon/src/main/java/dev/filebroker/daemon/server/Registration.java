package dev.filebroker.daemon.server;

/** A session's place in its event loop: what it waits for, and leaving. */
interface Registration {
  /** Waits for readable input only. */
  void wantRead();

  /** Waits until the socket can take more output; input is not read meanwhile (backpressure). */
  void wantWrite();

  /** Leaves the loop; called once, before the channel is closed. */
  void cancel();
}
