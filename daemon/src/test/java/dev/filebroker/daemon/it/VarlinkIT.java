package dev.filebroker.daemon.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.json.JsonMapper;
import dev.filebroker.daemon.varlink.InterfaceDefinition;
import dev.filebroker.daemon.varlink.VarlinkType;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.newsclub.net.unix.AFUNIXSocketAddress;
import org.newsclub.net.unix.AFUNIXSocketChannel;

/**
 * The Varlink interface of a real daemon: a client written from the Varlink specification alone
 * (examples/python/fbvarlink.py) run as an unprivileged user, and every reply checked against the
 * shipped interface definition. Needs root (daemon, setpriv) and python3.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class VarlinkIT {
  private static final int NOBODY = 65534;
  private static final String SECRET = "root-only secret for varlink\n";
  private static final Duration TIMEOUT = Duration.ofSeconds(60);
  private static final JsonMapper JSON = new JsonMapper();

  private final InterfaceDefinition broker = InterfaceDefinition.resource("io.filebroker.Broker");
  private final InterfaceDefinition service = InterfaceDefinition.resource("org.varlink.service");
  private TestTree tree;
  private DaemonProcess daemon;
  private Path client;
  private Path varlinkSocket;
  private Path audit;

  @BeforeAll
  void start() throws Exception {
    tree = new TestTree("filebroker-varlink-");
    Path root = tree.root();
    tree.file("secret.txt", SECRET, "rw-------");
    tree.file("not-granted.txt", "nobody may have this\n", "rw-------");
    varlinkSocket = root.resolve("io.filebroker.Broker");
    audit = root.resolve("audit.log");
    client = tree.executable(DaemonProcess.home().resolve("examples/python/fbvarlink.py"));
    daemon =
        Daemons.start(
            tree,
            """
            [[allow]]
            name = "nobody-reads-secret"
            users = [65534]
            paths = ["%s/secret.txt", "%s/missing.txt"]
            access = ["read"]
            """
                .formatted(root, root),
            """
            varlink_socket = "%s"

            [audit]
            destination = "%s"

            [limits]
            requests_per_second_per_uid = 10000000
            request_burst_per_uid = 10000000
            """
                .formatted(varlinkSocket, audit));
  }

  @AfterAll
  void stop() throws Exception {
    Daemons.stop(daemon, tree);
  }

  private Command asNobody(String... args) {
    List<String> command = new ArrayList<>();
    command.add("/usr/bin/python3");
    command.add(client.toString());
    command.add("--socket");
    command.add(varlinkSocket.toString());
    command.addAll(List.of(args));
    return assertTimeoutPreemptively(
        TIMEOUT, () -> Command.asUser(NOBODY, NOBODY, command.toArray(String[]::new)));
  }

  private String path(String relative) {
    return tree.root().resolve(relative).toString();
  }

  private static String open(String path) {
    return "{\"path\":\"" + path + "\",\"access\":[\"read\"]}";
  }

  private static JsonNode firstLine(Command r) throws Exception {
    return JSON.readTree(r.stdout().lines().findFirst().orElseThrow());
  }

  @Test
  void aGrantReturnsAWorkingDescriptor() throws Exception {
    Command r = asNobody("--read", "io.filebroker.Broker.Open", open(path("secret.txt")));
    assertEquals(0, r.exitCode(), r.stderr());
    JsonNode reply = firstLine(r);
    assertNull(reply.get("error"), r.stdout());
    assertEquals(0, reply.get("parameters").get("fileDescriptor").intValue());
    assertEquals(SECRET, r.stdout().substring(r.stdout().indexOf('\n') + 1));
    conforms("Open", reply);
  }

  @Test
  void aDenialIsTheNamedErrorWithItsErrnoAndIsAudited() throws Exception {
    Command r = asNobody("io.filebroker.Broker.Open", open(path("not-granted.txt")));
    assertEquals(2, r.exitCode(), r.stderr());
    JsonNode reply = firstLine(r);
    assertEquals("io.filebroker.Broker.Denied", reply.get("error").textValue());
    assertEquals(13, reply.get("parameters").get("errno").intValue());
    conforms("Open", reply);
    String log = awaitAudit(path("not-granted.txt"));
    assertTrue(log.contains("\"uid\":65534"), log);
    assertTrue(log.contains("\"decision\":\"deny\""), log);
  }

  @Test
  void aGrantedPathThatIsMissingIsNotFound() throws Exception {
    Command r = asNobody("io.filebroker.Broker.Open", open(path("missing.txt")));
    assertEquals(2, r.exitCode(), r.stderr());
    JsonNode reply = firstLine(r);
    assertEquals("io.filebroker.Broker.NotFound", reply.get("error").textValue());
    assertEquals(2, reply.get("parameters").get("errno").intValue());
    conforms("Open", reply);
  }

  @Test
  void openManyAnswersEachPathInOrder() throws Exception {
    String files =
        "{\"files\":[" + open(path("secret.txt")) + "," + open(path("not-granted.txt")) + "]}";
    Command r = asNobody("io.filebroker.Broker.OpenMany", files);
    assertEquals(0, r.exitCode(), r.stderr());
    JsonNode reply = firstLine(r);
    conforms("OpenMany", reply);
    JsonNode results = reply.get("parameters").get("results");
    assertEquals(0, results.get(0).get("fileDescriptor").intValue());
    assertEquals("io.filebroker.Broker.Denied", results.get(1).get("error").textValue());
  }

  @Test
  void explainDecidesTheCallersOwnRequestWithoutOpening() throws Exception {
    Command r = asNobody("io.filebroker.Broker.Explain", open(path("secret.txt")));
    assertEquals(0, r.exitCode(), r.stderr());
    JsonNode reply = firstLine(r);
    conforms("Explain", reply);
    assertEquals("allow", reply.get("parameters").get("decision").textValue());
    assertEquals("nobody-reads-secret", reply.get("parameters").get("rule").textValue());
  }

  @Test
  void unknownMethodsAndBadParametersAreTheStandardErrors() throws Exception {
    Command unknown = asNobody("io.filebroker.Broker.Delete", "{}");
    JsonNode u = firstLine(unknown);
    assertEquals("org.varlink.service.MethodNotFound", u.get("error").textValue());
    assertServiceError(u);
    Command bad = asNobody("io.filebroker.Broker.Open", "{\"path\":\"/x\",\"access\":[\"rw\"]}");
    JsonNode b = firstLine(bad);
    assertEquals("org.varlink.service.InvalidParameter", b.get("error").textValue());
    assertEquals("access", b.get("parameters").get("parameter").textValue());
    assertServiceError(b);
    Command notMine =
        asNobody("io.filebroker.Broker.Open", "{\"path\":\"/x\",\"access\":[\"read\"],\"uid\":0}");
    assertEquals("uid", firstLine(notMine).get("parameters").get("parameter").textValue());
  }

  @Test
  void introspectionServesTheDefinitionAsShipped() throws Exception {
    JsonNode info = firstLine(asNobody("org.varlink.service.GetInfo"));
    assertTrue(
        service
                .method("GetInfo")
                .orElseThrow()
                .out()
                .firstInvalid(info.get("parameters"), service.types())
            == null,
        info.toString());
    assertTrue(info.toString().contains("io.filebroker.Broker"), info.toString());
    JsonNode d =
        firstLine(
            asNobody(
                "org.varlink.service.GetInterfaceDescription",
                "{\"interface\":\"io.filebroker.Broker\"}"));
    assertEquals(broker.text(), d.get("parameters").get("description").textValue());
  }

  @Test
  void manyRequestsAndHangUpsLeaveNoDescriptorBehind() throws Exception {
    // Warm up the paths once, so that what the JVM opens lazily is open before counting.
    asNobody("--count", "5", "io.filebroker.Broker.Open", open(path("secret.txt")));
    hangUps(5);
    int before = daemon.descriptorCount();
    Command r = asNobody("--count", "300", "io.filebroker.Broker.Open", open(path("secret.txt")));
    assertEquals(0, r.exitCode(), r.stderr());
    asNobody("--count", "100", "io.filebroker.Broker.Open", open(path("not-granted.txt")));
    hangUps(100);
    int after = 0;
    for (int i = 0; i < 100; i++) {
      after = daemon.descriptorCount();
      if (after <= before) {
        break;
      }
      Thread.sleep(50);
    }
    assertTrue(after <= before, "descriptors before " + before + ", after " + after);
  }

  /**
   * Each Varlink connection holds a serving thread; a uid may hold a quarter of as many as the
   * binary protocol's pool has (32 per CPU, at least 128), and the next is answered LimitExceeded.
   */
  @Test
  void oneUidBeyondItsShareOfTheServingThreadsIsAnsweredLimitExceeded() throws Exception {
    int share = Math.max(128, 32 * Runtime.getRuntime().availableProcessors()) / 4;
    awaitNoConnections();
    long acceptedBefore = status().get("connections_accepted").asLong();
    // The JDK's channel: it stays open for reading after a write meets a closed pipe.
    UnixDomainSocketAddress address = UnixDomainSocketAddress.of(varlinkSocket);
    byte[] info = "{\"method\":\"org.varlink.service.GetInfo\"}\0".getBytes(StandardCharsets.UTF_8);
    List<SocketChannel> held = new ArrayList<>();
    int answered = 0;
    JsonNode refusal = null;
    try {
      for (int i = 0; i <= share + 4 && refusal == null; i++) {
        SocketChannel c = SocketChannel.open(address);
        held.add(c);
        try {
          c.write(ByteBuffer.wrap(info));
        } catch (java.io.IOException answeredFirst) {
          // A refused connection may be answered and closed before the call is written.
        }
        JsonNode reply = readReply(c);
        if (reply.has("error")) {
          refusal = reply;
        } else {
          answered++;
        }
      }
    } finally {
      for (SocketChannel c : held) {
        c.close();
      }
    }
    assertNotNull(refusal, "connection " + (share + 1) + " of one uid is refused");
    assertEquals(share, answered);
    assertEquals(
        share,
        status().get("connections_accepted").asLong() - acceptedBefore,
        "a connection refused for the thread share is not counted as accepted");
    assertEquals("io.filebroker.Broker.LimitExceeded", refusal.get("error").textValue());
    assertTrue(
        refusal.get("parameters").get("message").textValue().contains("Varlink connections"),
        refusal.toString());
    conforms("Open", refusal);
  }

  private static JsonNode readReply(SocketChannel c) throws Exception {
    return JSON.readTree(VarlinkMessages.readReply(c));
  }

  /**
   * Connections that end without a reply: mid-message, after a malformed message, after a message
   * over the size cap, after a call whose reply is never read.
   */
  private void hangUps(int rounds) throws Exception {
    AFUNIXSocketAddress address = AFUNIXSocketAddress.of(varlinkSocket);
    byte[] partial = "{\"method\":\"io.filebroker.Bro".getBytes(StandardCharsets.UTF_8);
    byte[] malformed = "{not json}\0".getBytes(StandardCharsets.UTF_8);
    byte[] call =
        ("{\"method\":\"io.filebroker.Broker.Open\",\"parameters\":{\"path\":\""
                + path("secret.txt")
                + "\",\"access\":[\"read\"]}}\0")
            .getBytes(StandardCharsets.UTF_8);
    for (int i = 0; i < rounds; i++) {
      sendAndHangUp(address, partial, false);
      sendAndHangUp(address, malformed, true);
      sendAndHangUp(address, call, false);
    }
    try (AFUNIXSocketChannel c = AFUNIXSocketChannel.open(address)) {
      ByteBuffer big = ByteBuffer.allocate(1 << 16);
      while (big.hasRemaining()) {
        big.put((byte) ' ');
      }
      long sent = 0;
      boolean closedByDaemon = false;
      try {
        while (sent <= 8 << 20) {
          big.clear();
          sent += c.write(big);
        }
      } catch (java.io.IOException e) {
        closedByDaemon = true;
      }
      assertTrue(closedByDaemon, "a message without end is cut off; sent " + sent);
    }
  }

  /**
   * Connects, sends {@code bytes} and hangs up; with {@code expectClose}, first checks that the
   * daemon closes the connection without a byte of answer.
   */
  private static void sendAndHangUp(AFUNIXSocketAddress address, byte[] bytes, boolean expectClose)
      throws Exception {
    try (AFUNIXSocketChannel c = AFUNIXSocketChannel.open(address)) {
      try {
        c.write(ByteBuffer.wrap(bytes));
      } catch (java.io.IOException refused) {
        return;
      }
      if (expectClose) {
        assertEquals(-1, c.read(ByteBuffer.allocate(16)), "a malformed message gets no answer");
      }
    }
  }

  private String awaitAudit(String path) throws Exception {
    for (int i = 0; i < 200; i++) {
      if (Files.exists(audit)) {
        String text = Files.readString(audit);
        for (String line : text.split("\n")) {
          if (line.contains(path)) {
            return line;
          }
        }
      }
      Thread.sleep(50);
    }
    throw new AssertionError("no audit line for " + path);
  }

  /** The reply's parameters are those the method returns, or those of a declared error. */
  private void conforms(String method, JsonNode reply) {
    JsonNode parameters = reply.get("parameters");
    assertNotNull(parameters, reply.toString());
    if (reply.has("error")) {
      String name = reply.get("error").textValue();
      String prefix = broker.name() + ".";
      assertTrue(name.startsWith(prefix), name);
      VarlinkType.Struct declared = broker.errors().get(name.substring(prefix.length()));
      assertNotNull(declared, name + " is not declared in " + broker.name());
      assertNull(declared.firstInvalid(parameters, broker.types()), reply.toString());
    } else {
      VarlinkType.Struct out = broker.method(method).orElseThrow().out();
      assertNull(out.firstInvalid(parameters, broker.types()), reply.toString());
      if (method.equals("OpenMany")) {
        for (JsonNode r : parameters.get("results")) {
          if (r.has("error")) {
            String name = r.get("error").textValue();
            assertTrue(
                broker.errors().containsKey(name.substring(broker.name().length() + 1)), name);
          }
        }
      }
    }
  }

  private void assertServiceError(JsonNode reply) {
    String name = reply.get("error").textValue();
    VarlinkType.Struct declared = service.errors().get(name.substring(service.name().length() + 1));
    assertNotNull(declared, name);
    assertNull(declared.firstInvalid(reply.get("parameters"), service.types()), reply.toString());
  }

  /**
   * Waits until the daemon counts no connection open (those earlier tests closed end a moment after
   * their clients hang up), so that a test's own connections are the only ones counted.
   */
  private void awaitNoConnections() throws Exception {
    for (int i = 0; ; i++) {
      long open = status().get("connections_open").asLong();
      if (open == 0) {
        return;
      }
      assertTrue(i < 50, "connections still open: " + open);
      Thread.sleep(100);
    }
  }

  /** The daemon's status report. */
  private JsonNode status() throws Exception {
    Command r =
        DaemonProcess.command(
            "status", "--format=json", "--control-socket", daemon.controlSocket().toString());
    assertEquals(0, r.exitCode(), r.stderr());
    return JSON.readTree(r.stdout());
  }
}
