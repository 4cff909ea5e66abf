package dev.filebroker.daemon.lifecycle;

import dev.filebroker.daemon.systemd.SdNotify;
import java.io.IOException;
import java.time.Duration;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Tells systemd how the daemon is doing, when systemd is listening. Notification failures are
 * logged and otherwise ignored: a lost STATUS line must never take the broker down.
 */
final class ServiceManager implements AutoCloseable {
  private final Optional<SdNotify> notify;

  ServiceManager(Optional<SdNotify> notify) {
    this.notify = notify;
  }

  /** Connects to $NOTIFY_SOCKET when it is set. */
  static ServiceManager fromEnvironment() throws IOException {
    return new ServiceManager(SdNotify.fromEnvironment());
  }

  boolean active() {
    return notify.isPresent();
  }

  Optional<Duration> watchdogInterval() {
    return notify.flatMap(SdNotify::watchdogInterval);
  }

  void ready(String status) {
    send(n -> n.ready(status));
  }

  void status(String status) {
    send(n -> n.status(status));
  }

  void reloading() {
    send(SdNotify::reloading);
  }

  void stopping() {
    send(SdNotify::stopping);
  }

  void watchdog() {
    send(SdNotify::watchdog);
  }

  private interface Notification {
    void sendTo(SdNotify notify) throws IOException;
  }

  private void send(Notification notification) {
    if (notify.isEmpty()) {
      return;
    }
    try {
      notification.sendTo(notify.get());
    } catch (IOException e) {
      log().warn("Could not notify the service manager: {}", e.toString());
    }
  }

  // Looked up when needed: the daemon makes a ServiceManager before logging is set up.
  private static Logger log() {
    return LoggerFactory.getLogger(ServiceManager.class);
  }

  @Override
  public void close() {
    if (notify.isPresent()) {
      try {
        notify.get().close();
      } catch (IOException e) {
        log().debug("Could not close the notification socket: {}", e.toString());
      }
    }
  }
}
