package dev.filebroker.daemon.systemd;

import java.io.IOException;
import java.net.SocketAddress;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import org.newsclub.net.unix.AFUNIXDatagramChannel;
import org.newsclub.net.unix.AFUNIXSocketAddress;

/**
 * Sends state notifications to the service manager, as {@code sd_notify(3)} does.
 *
 * <p>Exists so the daemon can run as a {@code Type=notify} unit: it reports {@code READY=1} once it
 * accepts connections, {@code RELOADING=1} while it swaps in a new policy, {@code STOPPING=1} on
 * shutdown and {@code WATCHDOG=1} keep-alives. The protocol is one datagram of newline-separated
 * {@code KEY=VALUE} assignments on the AF_UNIX datagram socket named by {@code $NOTIFY_SOCKET}.
 *
 * <p>Linux caveats:
 *
 * <ul>
 *   <li>A Java process cannot remove a variable from its own environment, so {@code NOTIFY_SOCKET}
 *       stays set and every child process the daemon starts inherits it. Remove it from {@link
 *       ProcessBuilder#environment()} before starting a child; with {@code NotifyAccess=main} the
 *       service manager ignores datagrams from children anyway.
 *   <li>The service manager attributes a datagram to the unit by the sender's pid ({@code
 *       SCM_CREDENTIALS}), so the JVM must be the unit's main process: the launcher script {@code
 *       exec}s it.
 * </ul>
 *
 * <p>Instances are thread-safe.
 */
public final class SdNotify implements AutoCloseable {
  private static final String NOTIFY_SOCKET = "NOTIFY_SOCKET";
  private static final String WATCHDOG_USEC = "WATCHDOG_USEC";
  private static final String WATCHDOG_PID = "WATCHDOG_PID";

  private final AFUNIXDatagramChannel channel;
  private final SocketAddress address;
  private final Optional<Duration> watchdogInterval;

  private SdNotify(
      AFUNIXDatagramChannel channel, SocketAddress address, Optional<Duration> watchdogInterval) {
    this.channel = channel;
    this.address = address;
    this.watchdogInterval = watchdogInterval;
  }

  /**
   * Connects to the notification socket named by this process's {@code NOTIFY_SOCKET}.
   *
   * @return the notifier, or empty when {@code NOTIFY_SOCKET} is unset or empty (the process was
   *     not started by a service manager that waits for notifications)
   * @throws IllegalArgumentException if {@code NOTIFY_SOCKET}, {@code WATCHDOG_USEC} or {@code
   *     WATCHDOG_PID} is malformed; the message names the variable
   * @throws IOException if the socket cannot be created or connected
   */
  public static Optional<SdNotify> fromEnvironment() throws IOException {
    return fromEnvironment(System.getenv(), ProcessHandle.current().pid());
  }

  /**
   * Connects to the notification socket named by {@code env}, as {@link #fromEnvironment()} does
   * with the process environment. Exists because a JVM cannot set its own environment.
   */
  static Optional<SdNotify> fromEnvironment(Map<String, String> env, long pid) throws IOException {
    Objects.requireNonNull(env, "env == null");
    String target = env.getOrDefault(NOTIFY_SOCKET, "");
    if (target.isEmpty()) {
      return Optional.empty();
    }
    AFUNIXSocketAddress address = parseAddress(target);
    Optional<Duration> watchdog = parseWatchdog(env, pid);
    AFUNIXDatagramChannel channel = AFUNIXDatagramChannel.open();
    try {
      channel.connect(address);
    } catch (IOException e) {
      channel.close();
      throw new IOException("Could not connect to NOTIFY_SOCKET " + target + ": " + e, e);
    }
    return Optional.of(new SdNotify(channel, address, watchdog));
  }

  private static AFUNIXSocketAddress parseAddress(String target) throws IOException {
    if (target.startsWith("@")) {
      // Abstract namespace: the leading '@' stands for the NUL byte that starts the name.
      return AFUNIXSocketAddress.inAbstractNamespace(target.substring(1));
    }
    if (target.startsWith("/")) {
      return AFUNIXSocketAddress.of(java.nio.file.Path.of(target));
    }
    throw new IllegalArgumentException(
        "NOTIFY_SOCKET must be an absolute path or an abstract name starting with '@', got '"
            + target
            + "'");
  }

  private static Optional<Duration> parseWatchdog(Map<String, String> env, long pid) {
    String usec = env.getOrDefault(WATCHDOG_USEC, "");
    if (usec.isEmpty()) {
      return Optional.empty();
    }
    long micros = parsePositive(WATCHDOG_USEC, usec);
    String forPid = env.getOrDefault(WATCHDOG_PID, "");
    if (!forPid.isEmpty() && parsePositive(WATCHDOG_PID, forPid) != pid) {
      // The watchdog was armed for another process (typically our parent, which exec'd us).
      return Optional.empty();
    }
    return Optional.of(Duration.ofNanos(Math.multiplyExact(micros, 1000L)));
  }

  private static long parsePositive(String variable, String value) {
    long parsed;
    try {
      parsed = Long.parseLong(value);
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException(
          variable + " must be a positive decimal integer, got '" + value + "'", e);
    }
    if (parsed <= 0 || !value.chars().allMatch(c -> c >= '0' && c <= '9')) {
      throw new IllegalArgumentException(
          variable + " must be a positive decimal integer, got '" + value + "'");
    }
    return parsed;
  }

  /**
   * Sends one datagram carrying the given assignments, joined by newlines.
   *
   * @param assignments {@code KEY=VALUE} strings, at least one; none may contain a newline
   * @throws IllegalArgumentException if an assignment lacks {@code '='} or contains a newline
   * @throws IOException if the datagram cannot be sent (for example, the service manager went away)
   */
  public void send(String... assignments) throws IOException {
    Objects.requireNonNull(assignments, "assignments == null");
    if (assignments.length == 0) {
      throw new IllegalArgumentException("assignments must not be empty");
    }
    StringBuilder message = new StringBuilder();
    for (String assignment : assignments) {
      Objects.requireNonNull(assignment, "assignment == null");
      if (assignment.indexOf('=') <= 0) {
        throw new IllegalArgumentException(
            "assignment must have the form KEY=VALUE, got '" + assignment + "'");
      }
      if (assignment.indexOf('\n') >= 0) {
        throw new IllegalArgumentException(
            "assignment must not contain a newline, got '" + assignment + "'");
      }
      if (!message.isEmpty()) {
        message.append('\n');
      }
      message.append(assignment);
    }
    ByteBuffer datagram = ByteBuffer.wrap(message.toString().getBytes(StandardCharsets.UTF_8));
    synchronized (channel) {
      int sent = channel.write(datagram);
      if (sent != datagram.limit()) {
        throw new IOException(
            "Could not send notification to " + address + ": only " + sent + " bytes sent");
      }
    }
  }

  /**
   * Tells the service manager that start-up is complete ({@code READY=1}) with a status line.
   *
   * @param status a one-line human-readable status, shown by {@code systemctl status}
   * @throws IOException if the datagram cannot be sent
   */
  public void ready(String status) throws IOException {
    send("READY=1", "STATUS=" + status);
  }

  /**
   * Updates the one-line status shown by {@code systemctl status} ({@code STATUS=...}).
   *
   * @param status the new status line, without newlines
   * @throws IOException if the datagram cannot be sent
   */
  public void status(String status) throws IOException {
    send("STATUS=" + status);
  }

  /**
   * Tells the service manager that the daemon is reloading its configuration ({@code RELOADING=1}
   * with {@code MONOTONIC_USEC}). Send {@link #ready(String)} when the reload is done.
   *
   * <p>{@code MONOTONIC_USEC} is {@link System#nanoTime()} in microseconds: on Linux, HotSpot
   * implements {@code nanoTime} with {@code clock_gettime(CLOCK_MONOTONIC)}, the clock systemd
   * expects. systemd before version 253 ignores {@code MONOTONIC_USEC}.
   *
   * @throws IOException if the datagram cannot be sent
   */
  public void reloading() throws IOException {
    send("RELOADING=1", "MONOTONIC_USEC=" + System.nanoTime() / 1000L);
  }

  /**
   * Tells the service manager that the daemon is shutting down ({@code STOPPING=1}).
   *
   * @throws IOException if the datagram cannot be sent
   */
  public void stopping() throws IOException {
    send("STOPPING=1");
  }

  /**
   * Sends a watchdog keep-alive ({@code WATCHDOG=1}). Send it at least once per half of {@link
   * #watchdogInterval()}.
   *
   * @throws IOException if the datagram cannot be sent
   */
  public void watchdog() throws IOException {
    send("WATCHDOG=1");
  }

  /**
   * The watchdog interval the service manager enforces ({@code WATCHDOG_USEC}, {@code WatchdogSec=}
   * in the unit).
   *
   * @return the interval, or empty when no watchdog is armed or {@code WATCHDOG_PID} names another
   *     process
   */
  public Optional<Duration> watchdogInterval() {
    return watchdogInterval;
  }

  /** Closes the socket. Further sends fail with an {@link IOException}. */
  @Override
  public void close() throws IOException {
    channel.close();
  }

  @Override
  public String toString() {
    return "SdNotify[" + address + "]";
  }
}
