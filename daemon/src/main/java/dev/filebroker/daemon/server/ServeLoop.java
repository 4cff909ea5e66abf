package dev.filebroker.daemon.server;

import java.time.Duration;

/**
 * What a serving thread does with a connection: answers what its client sends, waiting for the next
 * request in a blocking recvmsg for the connection's park delay, and parks the connection when the
 * client pauses longer, when the client does not read its replies (no thread waits on a full
 * socket), or, while other connections wait for its thread (any connection waiting for a thread, or
 * one of the same uid waiting for the uid's share), after one read's worth of requests.
 */
final class ServeLoop {
  private final long frameTimeoutNanos;
  private volatile boolean draining;
  private ServingThreads<Session> serving;

  ServeLoop(Duration frameTimeout) {
    this.frameTimeoutNanos = frameTimeout.toNanos();
  }

  void use(ServingThreads<Session> serving) {
    this.serving = serving;
  }

  /** From now on, answer what clients already sent and close their connections. */
  void drain() {
    draining = true;
  }

  void serve(Session s, ServingThreads.Buffers b) {
    FairShare.Gate gate = s.gate();
    gate.serving();
    try {
      serveHeld(s, b);
    } finally {
      gate.notServing();
    }
  }

  private void serveHeld(Session s, ServingThreads.Buffers b) {
    ParkingSlot slot = s.slot();
    s.bind(b.io());
    if (slot.wantsWrite()) {
      s.onWritable(b.in(), b.out());
    }
    while (!s.isClosed()) {
      if (slot.wantsWrite()) {
        slot.parker.park(s);
        return;
      }
      if (draining) {
        s.drain(b.in(), b.out());
        if (!s.isClosed()) {
          slot.parker.park(s);
        }
        return;
      }
      boolean othersWait = serving.othersWaiting(s);
      boolean wait = !othersWait && slot.applyDelay();
      int n = s.onReadable(b.in(), b.out(), wait);
      if (s.isClosed()) {
        return;
      }
      if (s.frameAge(System.nanoTime()) > frameTimeoutNanos) {
        s.timeOut(b.out(), "a frame took too long to arrive");
        return;
      }
      if (slot.wantsWrite() || n == 0) {
        // Waits for the client: to read its replies, or to send again after a pause.
        slot.parker.park(s);
        return;
      }
      if (othersWait) {
        // One read's worth, then the back of the line: a busy client cannot keep a thread.
        serving.submit(s);
        return;
      }
    }
  }
}
