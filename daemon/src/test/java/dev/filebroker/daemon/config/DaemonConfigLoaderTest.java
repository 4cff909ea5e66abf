package dev.filebroker.daemon.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.filebroker.daemon.server.ServerSettings;
import dev.filebroker.daemon.testing.TrustedTempDir;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class DaemonConfigLoaderTest {
  @TempDir(factory = TrustedTempDir.class)
  Path dir;

  private DaemonConfigLoader.Result load(String text) throws IOException {
    Path f = dir.resolve("filebroker.toml");
    Files.writeString(f, text);
    return DaemonConfigLoader.load(f);
  }

  private List<String> errors(String text) throws IOException {
    return assertInstanceOf(DaemonConfigLoader.Result.Invalid.class, load(text)).errors();
  }

  @Test
  void shippedConfigurationEqualsTheDefaults() {
    Path shipped = repositoryRoot().resolve("config/filebroker.toml");
    var loaded =
        assertInstanceOf(DaemonConfigLoader.Result.Loaded.class, DaemonConfigLoader.parse(shipped));
    assertEquals(DaemonConfig.defaults(), loaded.config());
  }

  @Test
  void emptyFileMeansDefaults() throws IOException {
    var loaded = assertInstanceOf(DaemonConfigLoader.Result.Loaded.class, load(""));
    assertEquals(DaemonConfig.defaults(), loaded.config());
  }

  @Test
  void readsEveryLimit() throws IOException {
    var loaded =
        assertInstanceOf(
            DaemonConfigLoader.Result.Loaded.class,
            load(
                """
                socket = "run/x.sock"
                socket_mode = "0660"
                control_socket = "run/control.sock"
                [limits]
                event_loops = 3
                max_connections = 10
                max_connections_per_uid = 5
                requests_per_second_per_uid = 100
                request_burst_per_uid = 7
                max_requests_in_flight = 4
                partial_frame_timeout_seconds = 2
                idle_timeout_seconds = 30
                """));
    DaemonConfig c = loaded.config();
    assertEquals(dir.resolve("run/x.sock"), c.socket(), "relative paths resolve against the file");
    assertEquals(0660, c.socketMode());
    assertEquals(dir.resolve("run/control.sock"), c.controlSocket());
    assertEquals(
        new ServerSettings(3, 10, 5, 100, 7, 4, Duration.ofSeconds(2), Duration.ofSeconds(30)),
        c.limits());
  }

  @Test
  void unknownKeyIsAnErrorWithItsPosition() throws IOException {
    assertEquals(
        List.of(
            dir.resolve("filebroker.toml")
                + ":2:1: unknown key 'max_conections' in [limits]; expected one of: event_loops,"
                + " idle_timeout_seconds, max_connections, max_connections_per_uid,"
                + " max_requests_in_flight, partial_frame_timeout_seconds, request_burst_per_uid,"
                + " requests_per_second_per_uid (did you mean 'max_connections'?)"),
        errors("[limits]\nmax_conections = 5\n"));
  }

  @Test
  void auditDestinationIsStdoutOrAnAbsoluteFile() throws IOException {
    var loaded =
        assertInstanceOf(
            DaemonConfigLoader.Result.Loaded.class,
            load("[audit]\ndestination = \"/var/log/filebroker/audit.log\"\n"));
    assertEquals(
        java.util.Optional.of(Path.of("/var/log/filebroker/audit.log")),
        loaded.config().audit().file());
    List<String> errors = errors("[audit]\ndestination = \"audit.log\"\n");
    assertEquals(1, errors.size());
    assertEquals(
        dir.resolve("filebroker.toml")
            + ":2:1: audit destination 'audit.log' must be \"stdout\" or an absolute file path"
            + " such as \"/var/log/filebroker/audit.log\"",
        errors.get(0));
  }

  @Test
  void auditQueueLinesIsARangeCheckedInteger() throws IOException {
    var loaded =
        assertInstanceOf(
            DaemonConfigLoader.Result.Loaded.class, load("[audit]\nqueue_lines = 64\n"));
    assertEquals(64, loaded.config().audit().queueLines());
    assertEquals(
        List.of(
            dir.resolve("filebroker.toml")
                + ":2:1: 'queue_lines' must be an integer from 16 to 16777216"),
        errors("[audit]\nqueue_lines = 8\n"));
  }

  @Test
  void auditReasonsToClientsIsABooleanThatDefaultsToTrue() throws IOException {
    var defaults = assertInstanceOf(DaemonConfigLoader.Result.Loaded.class, load(""));
    assertTrue(defaults.config().audit().reasonsToClients());
    var loaded =
        assertInstanceOf(
            DaemonConfigLoader.Result.Loaded.class,
            load("[audit]\ndestination = \"/var/log/a.log\"\nreasons_to_clients = false\n"));
    assertFalse(loaded.config().audit().reasonsToClients());
    assertEquals(
        List.of(
            dir.resolve("filebroker.toml") + ":2:1: 'reasons_to_clients' must be true or false"),
        errors("[audit]\nreasons_to_clients = \"no\"\n"));
  }

  @Test
  void outOfRangeLimitIsAnError() throws IOException {
    assertEquals(
        List.of(
            dir.resolve("filebroker.toml")
                + ":2:1: 'max_requests_in_flight' must be an integer from 1 to 1024"),
        errors("[limits]\nmax_requests_in_flight = 0\n"));
  }

  @Test
  void socketModeMustBeOctalString() throws IOException {
    assertEquals(
        List.of(
            dir.resolve("filebroker.toml")
                + ":1:1: 'socket_mode' must be an octal string such as \"0666\""),
        errors("socket_mode = 666\n"));
  }

  @Test
  void controlSocketDefaultsUnderRunFilebroker() throws IOException {
    var loaded =
        assertInstanceOf(DaemonConfigLoader.Result.Loaded.class, load("socket = \"/x.sock\"\n"));
    assertEquals(Path.of("/run/filebroker/control.sock"), loaded.config().controlSocket());
  }

  @Test
  void controlSocketMustBeNonEmptyString() throws IOException {
    assertEquals(
        List.of(
            dir.resolve("filebroker.toml") + ":1:1: 'control_socket' must be a non-empty string"),
        errors("control_socket = 5\n"));
  }

  @Test
  void varlinkSocketIsOffUnlessSetAndMustBeASocketOfItsOwn() throws IOException {
    var off =
        assertInstanceOf(DaemonConfigLoader.Result.Loaded.class, load("socket = \"/x.sock\"\n"));
    assertEquals(java.util.Optional.empty(), off.config().varlinkSocket());
    var on =
        assertInstanceOf(
            DaemonConfigLoader.Result.Loaded.class, load("varlink_socket = \"/run/x/io.a.B\"\n"));
    assertEquals(java.util.Optional.of(Path.of("/run/x/io.a.B")), on.config().varlinkSocket());
    assertEquals(
        List.of(
            dir.resolve("filebroker.toml")
                + ":2:1: 'varlink_socket' must differ from 'socket' and 'control_socket'"),
        errors("socket = \"/x.sock\"\nvarlink_socket = \"/x.sock\"\n"));
  }

  @Test
  void syntaxErrorCarriesPosition() throws IOException {
    List<String> errors = errors("socket = \n");
    assertEquals(1, errors.size());
    assertEquals(
        true, errors.get(0).startsWith(dir.resolve("filebroker.toml") + ":1:"), errors.get(0));
  }

  static Path repositoryRoot() {
    String home = System.getProperty("filebroker.home");
    if (home != null) {
      return Path.of(home);
    }
    Path p = Path.of("").toAbsolutePath();
    while (p != null && !Files.exists(p.resolve("config/filebroker.toml"))) {
      p = p.getParent();
    }
    if (p == null) {
      throw new IllegalStateException(
          "repository root not found from " + Path.of("").toAbsolutePath());
    }
    return p;
  }

  @Test
  void readsFixedEndpoints() throws IOException {
    var loaded =
        assertInstanceOf(
            DaemonConfigLoader.Result.Loaded.class,
            load(
                """
                [[endpoint]]
                name = "nobody-reads-hostname"
                socket = "/tmp/hostname.sock"
                path = "/etc/hostname"
                access = "read"
                users = [65534]
                """));
    assertEquals(1, loaded.config().endpoints().size());
    assertEquals("nobody-reads-hostname", loaded.config().endpoints().getFirst().name());
  }

  @Test
  void endpointOnTheDaemonSocketIsAnError() throws IOException {
    assertEquals(
        List.of(dir.resolve("filebroker.toml") + ":2:1: endpoint e uses the daemon's own socket"),
        errors(
            """
            socket = "/tmp/x.sock"
            [[endpoint]]
            name = "e"
            socket = "/tmp/x.sock"
            path = "/etc/hostname"
            access = "read"
            any = true
            """));
  }
}
