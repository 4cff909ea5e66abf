package dev.filebroker.daemon.systemd;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.net.DatagramPacket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.newsclub.net.unix.AFUNIXDatagramSocket;
import org.newsclub.net.unix.AFUNIXSocketAddress;

/** Plays the service manager: listens on its own datagram socket named by NOTIFY_SOCKET. */
@Timeout(30)
class SdNotifyTest {
  private static final long PID = ProcessHandle.current().pid();

  @TempDir Path dir;

  private AFUNIXDatagramSocket manager;

  @AfterEach
  void closeManager() throws IOException {
    if (manager != null) {
      manager.close();
    }
  }

  private String listenOnPath() throws IOException {
    Path path = dir.resolve("notify");
    manager = AFUNIXDatagramSocket.newInstance();
    manager.bind(AFUNIXSocketAddress.of(path));
    manager.setSoTimeout(10_000);
    return path.toString();
  }

  private String listenOnAbstractName() throws IOException {
    String name = "filebroker-test-" + UUID.randomUUID();
    manager = AFUNIXDatagramSocket.newInstance();
    manager.bind(AFUNIXSocketAddress.inAbstractNamespace(name));
    manager.setSoTimeout(10_000);
    return "@" + name;
  }

  private String receive() throws IOException {
    DatagramPacket packet = new DatagramPacket(new byte[4096], 4096);
    manager.receive(packet);
    return new String(packet.getData(), 0, packet.getLength(), StandardCharsets.UTF_8);
  }

  private static SdNotify notifier(Map<String, String> env) throws IOException {
    return SdNotify.fromEnvironment(env, PID).orElseThrow();
  }

  @Test
  void isAbsentWithoutNotifySocket() throws IOException {
    assertEquals(Optional.empty(), SdNotify.fromEnvironment(Map.of(), PID));
    assertEquals(Optional.empty(), SdNotify.fromEnvironment(Map.of("NOTIFY_SOCKET", ""), PID));
  }

  @Test
  void sendsReadyWithStatusToPathSocket() throws IOException {
    String target = listenOnPath();
    try (SdNotify notify = notifier(Map.of("NOTIFY_SOCKET", target))) {
      notify.ready("Listening on /run/filebroker/filebroker.sock");
      assertEquals("READY=1\nSTATUS=Listening on /run/filebroker/filebroker.sock", receive());
    }
  }

  @Test
  void sendsToAbstractSocket() throws IOException {
    String target = listenOnAbstractName();
    try (SdNotify notify = notifier(Map.of("NOTIFY_SOCKET", target))) {
      notify.stopping();
      assertEquals("STOPPING=1", receive());
    }
  }

  @Test
  void sendsEachHelperAsOneDatagram() throws IOException {
    String target = listenOnPath();
    try (SdNotify notify = notifier(Map.of("NOTIFY_SOCKET", target))) {
      notify.status("3 clients");
      notify.watchdog();
      notify.stopping();
      notify.send("ERRNO=2", "BUSERROR=x");
      assertEquals("STATUS=3 clients", receive());
      assertEquals("WATCHDOG=1", receive());
      assertEquals("STOPPING=1", receive());
      assertEquals("ERRNO=2\nBUSERROR=x", receive());
    }
  }

  @Test
  void reloadingCarriesMonotonicTimestampInMicroseconds() throws IOException {
    String target = listenOnPath();
    try (SdNotify notify = notifier(Map.of("NOTIFY_SOCKET", target))) {
      long before = System.nanoTime() / 1000;
      notify.reloading();
      long after = System.nanoTime() / 1000;
      Matcher m = Pattern.compile("RELOADING=1\nMONOTONIC_USEC=(\\d+)").matcher(receive());
      assertTrue(m.matches(), "datagram must be RELOADING=1 and MONOTONIC_USEC");
      long usec = Long.parseLong(m.group(1));
      assertTrue(before <= usec && usec <= after, "MONOTONIC_USEC must be taken at send time");
    }
  }

  @Test
  void monotonicClockIsTheKernelsClockMonotonic() throws IOException {
    // /proc/uptime is CLOCK_BOOTTIME; it equals CLOCK_MONOTONIC unless the machine was suspended,
    // so only check that nanoTime is not some unrelated origin (it must not exceed boot time).
    String uptime = java.nio.file.Files.readString(Path.of("/proc/uptime")).split(" ")[0];
    double bootSeconds = Double.parseDouble(uptime);
    double monotonicSeconds = System.nanoTime() / 1e9;
    assertTrue(
        monotonicSeconds <= bootSeconds + 1,
        "System.nanoTime() must count from boot like CLOCK_MONOTONIC");
  }

  @Test
  void rejectsAssignmentsThatWouldCorruptTheDatagram() throws IOException {
    String target = listenOnPath();
    try (SdNotify notify = notifier(Map.of("NOTIFY_SOCKET", target))) {
      IllegalArgumentException newline =
          assertThrows(IllegalArgumentException.class, () -> notify.status("a\nREADY=1"));
      assertEquals(
          "assignment must not contain a newline, got 'STATUS=a\nREADY=1'", newline.getMessage());
      IllegalArgumentException noKey =
          assertThrows(IllegalArgumentException.class, () -> notify.send("READY"));
      assertEquals("assignment must have the form KEY=VALUE, got 'READY'", noKey.getMessage());
      assertThrows(IllegalArgumentException.class, notify::send);
    }
  }

  @Test
  void rejectsRelativeNotifySocket() {
    IllegalArgumentException e =
        assertThrows(
            IllegalArgumentException.class,
            () -> SdNotify.fromEnvironment(Map.of("NOTIFY_SOCKET", "run/notify"), PID));
    assertEquals(
        "NOTIFY_SOCKET must be an absolute path or an abstract name starting with '@', got"
            + " 'run/notify'",
        e.getMessage());
  }

  @Test
  void failsWhenNobodyListens() {
    String missing = dir.resolve("missing").toString();
    IOException e =
        assertThrows(
            IOException.class,
            () -> SdNotify.fromEnvironment(Map.of("NOTIFY_SOCKET", missing), PID));
    assertTrue(e.getMessage().startsWith("Could not connect to NOTIFY_SOCKET " + missing));
  }

  @Test
  void readsWatchdogIntervalForThisProcess() throws IOException {
    String target = listenOnPath();
    Map<String, String> env =
        Map.of("NOTIFY_SOCKET", target, "WATCHDOG_USEC", "30000000", "WATCHDOG_PID", "" + PID);
    try (SdNotify notify = notifier(env)) {
      assertEquals(Optional.of(Duration.ofSeconds(30)), notify.watchdogInterval());
    }
    try (SdNotify notify = notifier(Map.of("NOTIFY_SOCKET", target, "WATCHDOG_USEC", "500"))) {
      assertEquals(Optional.of(Duration.ofNanos(500_000)), notify.watchdogInterval());
    }
  }

  @Test
  void ignoresWatchdogArmedForAnotherProcess() throws IOException {
    String target = listenOnPath();
    Map<String, String> env =
        Map.of(
            "NOTIFY_SOCKET", target, "WATCHDOG_USEC", "30000000", "WATCHDOG_PID", "" + (PID + 1));
    try (SdNotify notify = notifier(env)) {
      assertEquals(Optional.empty(), notify.watchdogInterval());
    }
    try (SdNotify notify = notifier(Map.of("NOTIFY_SOCKET", target))) {
      assertEquals(Optional.empty(), notify.watchdogInterval());
    }
  }

  @Test
  void rejectsMalformedWatchdogUsec() throws IOException {
    String target = listenOnPath();
    IllegalArgumentException e =
        assertThrows(
            IllegalArgumentException.class,
            () ->
                SdNotify.fromEnvironment(
                    Map.of("NOTIFY_SOCKET", target, "WATCHDOG_USEC", "30s"), PID));
    assertEquals("WATCHDOG_USEC must be a positive decimal integer, got '30s'", e.getMessage());
    assertThrows(
        IllegalArgumentException.class,
        () -> SdNotify.fromEnvironment(Map.of("NOTIFY_SOCKET", target, "WATCHDOG_USEC", "0"), PID));
  }

  @Test
  void sendFailsAfterClose() throws IOException {
    String target = listenOnPath();
    SdNotify notify = notifier(Map.of("NOTIFY_SOCKET", target));
    notify.close();
    assertThrows(IOException.class, notify::stopping);
  }
}
