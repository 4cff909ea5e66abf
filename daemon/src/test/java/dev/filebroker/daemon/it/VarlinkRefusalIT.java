package dev.filebroker.daemon.it;

import static dev.filebroker.daemon.it.VarlinkMessages.GET_INFO;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.newsclub.net.unix.AFUNIXSocketAddress;
import org.newsclub.net.unix.AFUNIXSocketChannel;

/**
 * Refused Varlink connections on a kernel without SO_PASSRIGHTS (simulated with
 * FILEBROKER_KEEP_SO_PASSRIGHTS=1): a refused client attaches a loopback TCP socket with SO_LINGER
 * and unsent data to its first call, so that the daemon's close of that connection lingers on the
 * closer thread; a flood of refused connect-and-close connections behind it must not pile up in the
 * daemon as descriptors waiting for that thread. Needs root and python3.
 */
class VarlinkRefusalIT {
  private static final Duration TIMEOUT = Duration.ofSeconds(90);

  /** VarlinkServer.MAX_REFUSED_CLOSING: refused connections that may wait for the closer. */
  private static final int MAX_REFUSED_CLOSING = 256;

  private TestTree tree;
  private DaemonProcess daemon;
  private Process attacker;

  @AfterEach
  void stop() throws Exception {
    try {
      if (attacker != null) {
        attacker.destroyForcibly().waitFor();
      }
      if (daemon != null) {
        // A test that failed while the daemon was stopped; one that exited has nothing to resume.
        new ProcessBuilder("kill", "-CONT", Long.toString(daemon.pid())).start().waitFor();
      }
    } finally {
      Daemons.stop(daemon, tree);
    }
  }

  @Test
  void refusedConnectionsWaitingForALingeringCloseAreBounded() {
    assertTimeoutPreemptively(TIMEOUT, this::refusalsBehindALingeringClose);
  }

  private void refusalsBehindALingeringClose() throws Exception {
    tree = new TestTree("filebroker-varlink-refusal-");
    Path root = tree.root();
    Path varlinkSocket = root.resolve("io.filebroker.Broker");
    Path policy = tree.dir("policy");
    Files.writeString(
        policy.resolve("10-test.toml"),
        """
        [[allow]]
        name = "nobody-reads-nothing-here"
        users = [65534]
        paths = ["%s/none"]
        access = ["read"]
        """
            .formatted(root));
    Path config = root.resolve("filebroker.toml");
    Files.writeString(
        config,
        """
        varlink_socket = "%s"

        [limits]
        max_connections_per_uid = 1
        """
            .formatted(varlinkSocket));
    daemon =
        DaemonProcess.start(
            root,
            root.resolve("broker.sock"),
            Map.of("FILEBROKER_KEEP_SO_PASSRIGHTS", "1"),
            List.of(),
            "--config",
            config.toString(),
            "--policy",
            policy.toString());
    AFUNIXSocketAddress address = AFUNIXSocketAddress.of(varlinkSocket);
    try (AFUNIXSocketChannel held = AFUNIXSocketChannel.open(address)) {
      // uid 0 now has its one connection: every further one is refused.
      assertTrue(reply(held, true).contains("io.filebroker.Broker"), "the held one is served");
      // Once refused before counting, so that what the first refusal sets up is counted in before.
      refused(address);
      int before = daemon.descriptorCount();

      // Stopped, the daemon accepts only after the attacker has sent and dropped its copy.
      daemon.signal("STOP");
      attacker =
          new ProcessBuilder(
                  "/usr/bin/python3",
                  "-c",
                  FloodIT.resource("lingering_attach.py"),
                  varlinkSocket.toString(),
                  HexFormat.of().formatHex(GET_INFO))
              .redirectError(root.resolve("attacker.err").toFile())
              .start();
      BufferedReader out =
          new BufferedReader(
              new InputStreamReader(attacker.getInputStream(), StandardCharsets.UTF_8));
      assertEquals("ready", out.readLine(), "the attacker connected");
      tell("send");
      assertEquals("sent OK", out.readLine(), "without SO_PASSRIGHTS the descriptor travels");
      daemon.signal("CONT");
      String answer = out.readLine();
      String refusal =
          new String(
              HexFormat.of().parseHex(answer.substring("reply ".length())), StandardCharsets.UTF_8);
      assertTrue(refusal.contains("io.filebroker.Broker.LimitExceeded"), refusal);

      // Its close now lingers on the closer thread until the attacker drains. Behind it:
      int flood = 4 * MAX_REFUSED_CLOSING;
      // (each reads its refusal before it hangs up: one that hangs up first has the daemon's
      // write fail, and junixsocket closes such a channel on the spot).
      for (int i = 0; i < flood; i++) {
        refused(address);
      }
      int during = daemon.descriptorCount();
      assertTrue(
          during <= before + MAX_REFUSED_CLOSING + 8,
          "descriptors before "
              + before
              + ", with "
              + flood
              + " refused behind a linger "
              + during);
      assertTrue(attacker.isAlive(), "the attacker still holds its lingering socket");

      tell("drain");
      assertEquals("drained", out.readLine(), "the lingering close completes");
      int after = daemon.descriptorCount();
      for (int i = 0; i < 200 && after > before; i++) {
        Thread.sleep(50);
        after = daemon.descriptorCount();
      }
      assertTrue(after <= before, "every refused connection is closed: " + before + ", " + after);
      assertTrue(reply(held, true).contains("io.filebroker.Broker"), "the held one is served");
    }
  }

  private void tell(String line) throws IOException {
    OutputStream in = attacker.getOutputStream();
    in.write((line + "\n").getBytes(StandardCharsets.UTF_8));
    in.flush();
  }

  /** Connects, reads the refusal, hangs up. */
  private static void refused(AFUNIXSocketAddress address) throws IOException {
    try (AFUNIXSocketChannel c = AFUNIXSocketChannel.open(address)) {
      String r = reply(c, false);
      assertTrue(r.contains("io.filebroker.Broker.LimitExceeded"), r);
    }
  }

  /** With {@code send}, sends GetInfo first; reads one reply. */
  private static String reply(AFUNIXSocketChannel c, boolean send) throws IOException {
    if (send) {
      c.write(ByteBuffer.wrap(GET_INFO));
    }
    return VarlinkMessages.readReply(c);
  }
}
