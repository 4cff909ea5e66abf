package dev.filebroker.daemon.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.filebroker.protocol.ErrorCode;
import dev.filebroker.protocol.ErrorReply;
import dev.filebroker.protocol.OpenFlags;
import dev.filebroker.protocol.OpenedManyReply;
import dev.filebroker.protocol.OpenedReply;
import dev.filebroker.protocol.Reply;
import java.io.ByteArrayOutputStream;
import java.io.FileInputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * A catalogue of named bad inputs, each with the reply or disconnect docs/protocol.md promises.
 * After the whole catalogue the daemon still serves, and its descriptor count and heap are back to
 * where they were. Needs root (runs the daemon; jcmd attaches to it).
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class MalformedInputIT {
  /** Reply code meaning "an OPENED reply with its descriptor". */
  private static final int OPENED = 0;

  private TestTree tree;
  private DaemonProcess daemon;
  private String granted;
  private int baselineFds;
  private long baselineHeapKiB;

  /**
   * One catalogue entry.
   *
   * @param name what is wrong
   * @param action what the client does on a fresh connection
   * @param replies the expected replies: request id to code ({@link #OPENED} for a grant)
   * @param closed whether the daemon then closes the connection (else it must still serve)
   */
  record Case(String name, Action action, Map<Integer, Integer> replies, boolean closed) {
    @Override
    public String toString() {
      return name;
    }
  }

  @FunctionalInterface
  interface Action {
    void run(RawClient client, MalformedInputIT test) throws Exception;
  }

  // ---- frame builders (little-endian, as the wire is) ----

  static byte[] header(long bodyLength, int version, int type, int reserved, int id) {
    return ByteBuffer.allocate(12)
        .order(ByteOrder.LITTLE_ENDIAN)
        .putInt((int) bodyLength)
        .put((byte) version)
        .put((byte) type)
        .putShort((short) reserved)
        .putInt(id)
        .array();
  }

  static byte[] open(int id, int flags, int mode, byte[] path) {
    return open(id, flags, mode, path, path.length);
  }

  static byte[] open(int id, int flags, int mode, byte[] path, int declaredPathLength) {
    ByteArrayOutputStream b = new ByteArrayOutputStream();
    b.writeBytes(header(16 + path.length, 1, 0x01, 0, id));
    b.writeBytes(
        ByteBuffer.allocate(8)
            .order(ByteOrder.LITTLE_ENDIAN)
            .putInt(flags)
            .putShort((short) mode)
            .putShort((short) declaredPathLength)
            .array());
    b.writeBytes(path);
    return b.toByteArray();
  }

  static byte[] open(int id, int flags, int mode, String path) {
    return open(id, flags, mode, path.getBytes(StandardCharsets.UTF_8));
  }

  static byte[] concat(byte[]... parts) {
    ByteArrayOutputStream b = new ByteArrayOutputStream();
    for (byte[] p : parts) {
      b.writeBytes(p);
    }
    return b.toByteArray();
  }

  static byte[] bytes(int... values) {
    byte[] b = new byte[values.length];
    for (int i = 0; i < values.length; i++) {
      b[i] = (byte) values[i];
    }
    return b;
  }

  /** A path below the granted file's directory of exactly {@code length} bytes, 200-byte names. */
  static String pathOfLength(String granted, int length) {
    StringBuilder b = new StringBuilder(granted.substring(0, granted.lastIndexOf('/')));
    while (b.length() < length) {
      int n = Math.min(200, length - b.length() - 1);
      b.append('/').append("z".repeat(Math.max(1, n)));
    }
    if (b.length() != length) {
      throw new IllegalStateException("built " + b.length() + " bytes, wanted " + length);
    }
    return b.toString();
  }

  private static Action send(byte[] bytes) {
    return (c, t) -> c.send(bytes);
  }

  /** Sends what {@code bytes} builds from the granted path. */
  private static Action sendFor(java.util.function.Function<String, byte[]> bytes) {
    return (c, t) -> c.send(bytes.apply(t.granted));
  }

  private static Map<Integer, Integer> reply(int id, ErrorCode code) {
    return Map.of(id, code.code());
  }

  private static Map<Integer, Integer> opened(int id) {
    return Map.of(id, OPENED);
  }

  private static Map<Integer, Integer> none() {
    return Map.of();
  }

  static Stream<Case> catalogue() {
    List<Case> c = new ArrayList<>();
    // --- framing ---
    c.add(
        new Case(
            "truncated header then EOF",
            (cl, t) -> {
              cl.send(java.util.Arrays.copyOf(header(16, 1, 1, 0, 1), 8));
              cl.channel().shutdownOutput();
            },
            none(),
            true));
    c.add(
        new Case(
            "3 bytes then EOF",
            (cl, t) -> {
              cl.send(bytes(20, 0, 0));
              cl.channel().shutdownOutput();
            },
            none(),
            true));
    c.add(
        new Case(
            "header promising 1000 bytes then EOF",
            (cl, t) -> {
              cl.send(header(1000, 1, 1, 0, 2));
              cl.channel().shutdownOutput();
            },
            none(),
            true));
    c.add(
        new Case(
            "oversize length 16381",
            send(header(16381, 1, 1, 0, 3)),
            reply(3, ErrorCode.FRAME_TOO_LARGE),
            true));
    c.add(
        new Case(
            "length 0xFFFFFFFF",
            send(header(0xFFFFFFFFL, 1, 1, 0, 4)),
            reply(4, ErrorCode.FRAME_TOO_LARGE),
            true));
    c.add(
        new Case(
            "zero length", send(header(0, 1, 1, 0, 5)), reply(5, ErrorCode.MALFORMED_FRAME), true));
    c.add(
        new Case(
            "length 7", send(header(7, 1, 1, 0, 6)), reply(6, ErrorCode.MALFORMED_FRAME), true));
    c.add(
        new Case(
            "bad version 2",
            send(concat(header(16, 2, 1, 0, 7), new byte[8])),
            reply(7, ErrorCode.UNSUPPORTED_VERSION),
            true));
    c.add(
        new Case(
            "version 0",
            send(concat(header(16, 0, 1, 0, 8), new byte[8])),
            reply(8, ErrorCode.UNSUPPORTED_VERSION),
            true));
    c.add(
        new Case(
            "unknown type 0x03",
            send(concat(header(16, 1, 3, 0, 9), new byte[8])),
            reply(9, ErrorCode.UNKNOWN_TYPE),
            true));
    c.add(
        new Case(
            "reply type OPENED sent as a request",
            send(concat(header(12, 1, 0x81, 0, 10), new byte[4])),
            reply(10, ErrorCode.UNKNOWN_TYPE),
            true));
    c.add(
        new Case(
            "reply type ERROR sent as a request",
            send(concat(header(16, 1, 0xFF, 0, 11), new byte[8])),
            reply(11, ErrorCode.UNKNOWN_TYPE),
            true));
    c.add(
        new Case(
            "reserved bits set",
            send(concat(header(16, 1, 1, 0x0100, 12), new byte[8])),
            reply(12, ErrorCode.MALFORMED_FRAME),
            true));
    c.add(
        new Case(
            "OPEN payload shorter than 8 bytes",
            send(concat(header(12, 1, 1, 0, 13), new byte[4])),
            reply(13, ErrorCode.MALFORMED_FRAME),
            true));
    c.add(
        new Case(
            "path length field larger than the frame",
            sendFor(p -> open(14, 0, 0, p.getBytes(StandardCharsets.UTF_8), p.length() + 1)),
            reply(14, ErrorCode.MALFORMED_FRAME),
            true));
    c.add(
        new Case(
            "path length field smaller than the frame",
            sendFor(p -> open(15, 0, 0, p.getBytes(StandardCharsets.UTF_8), p.length() - 1)),
            reply(15, ErrorCode.MALFORMED_FRAME),
            true));
    c.add(
        new Case(
            "frame of exactly MAX_FRAME_SIZE with a 16364-byte path",
            send(open(16, 0, 0, ("/" + "y".repeat(16363)).getBytes(StandardCharsets.UTF_8))),
            reply(16, ErrorCode.INVALID_PATH),
            false));
    c.add(
        new Case(
            "garbage after a valid frame",
            sendFor(
                p ->
                    concat(
                        open(17, 0, 0, p), bytes(0xFF, 0xFF, 0xFF, 0xFF, 1, 1, 0, 0, 0, 0, 0, 0))),
            Map.of(17, OPENED, 0, ErrorCode.FRAME_TOO_LARGE.code()),
            true));
    c.add(
        new Case(
            "valid request after a protocol error in the same write",
            sendFor(p -> concat(header(0, 1, 1, 0, 18), open(19, 0, 0, p))),
            reply(18, ErrorCode.MALFORMED_FRAME),
            true));
    // --- path content (answered; the connection stays) ---
    c.add(
        new Case(
            "NUL in path",
            sendFor(p -> open(20, 0, 0, p + "\0x")),
            reply(20, ErrorCode.INVALID_PATH),
            false));
    c.add(
        new Case(
            "invalid UTF-8 in path",
            send(open(21, 0, 0, bytes('/', 'a', 0xFF, 0xFE))),
            reply(21, ErrorCode.INVALID_PATH),
            false));
    c.add(
        new Case(
            "overlong UTF-8 for '/'",
            send(open(22, 0, 0, bytes('/', 'a', 0xC0, 0xAF, 'b'))),
            reply(22, ErrorCode.INVALID_PATH),
            false));
    c.add(
        new Case(
            "UTF-8 encoded surrogate",
            send(open(23, 0, 0, bytes('/', 0xED, 0xA0, 0x80))),
            reply(23, ErrorCode.INVALID_PATH),
            false));
    c.add(
        new Case(
            "truncated UTF-8 sequence at the end",
            send(open(24, 0, 0, bytes('/', 'a', 0xE2, 0x82))),
            reply(24, ErrorCode.INVALID_PATH),
            false));
    c.add(
        new Case(
            "relative path",
            send(open(25, 0, 0, "etc/hostname")),
            reply(25, ErrorCode.INVALID_PATH),
            false));
    c.add(
        new Case("empty path", send(open(26, 0, 0, "")), reply(26, ErrorCode.INVALID_PATH), false));
    c.add(
        new Case(
            "double slash",
            sendFor(p -> open(27, 0, 0, p.replaceFirst("/", "//"))),
            reply(27, ErrorCode.INVALID_PATH),
            false));
    c.add(
        new Case(
            "dot component",
            sendFor(p -> open(28, 0, 0, p.replaceFirst("/", "/./"))),
            reply(28, ErrorCode.INVALID_PATH),
            false));
    c.add(
        new Case(
            "dot-dot component",
            sendFor(p -> open(29, 0, 0, p + "/../x")),
            reply(29, ErrorCode.INVALID_PATH),
            false));
    c.add(
        new Case(
            "trailing slash",
            sendFor(p -> open(30, 0, 0, p + "/")),
            reply(30, ErrorCode.INVALID_PATH),
            false));
    // 4095 bytes passes the path rules and the policy; the file does not exist.
    c.add(
        new Case(
            "path exactly at the 4095-byte limit",
            sendFor(p -> open(31, 0, 0, pathOfLength(p, 4095))),
            reply(31, ErrorCode.NOT_FOUND),
            false));
    c.add(
        new Case(
            "path one byte over the limit",
            sendFor(p -> open(32, 0, 0, pathOfLength(p, 4096))),
            reply(32, ErrorCode.INVALID_PATH),
            false));
    // --- flags and mode ---
    c.add(
        new Case(
            "mode bits without O_CREAT",
            sendFor(p -> open(33, 0, 0644, p)),
            reply(33, ErrorCode.INVALID_FLAGS),
            false));
    c.add(
        new Case(
            "mode above 07777",
            sendFor(p -> open(34, OpenFlags.O_WRONLY | OpenFlags.O_CREAT, 010000, p)),
            reply(34, ErrorCode.INVALID_FLAGS),
            false));
    c.add(
        new Case(
            "access mode 3",
            sendFor(p -> open(35, 3, 0, p)),
            reply(35, ErrorCode.INVALID_FLAGS),
            false));
    c.add(
        new Case(
            "unknown flag bit 0x40000000",
            sendFor(p -> open(36, 0x40000000, 0, p)),
            reply(36, ErrorCode.INVALID_FLAGS),
            false));
    // --- ids ---
    c.add(
        new Case(
            "huge request id 0xFFFFFFFF",
            sendFor(p -> open(0xFFFFFFFF, 0, 0, p)),
            opened(0xFFFFFFFF),
            false));
    c.add(new Case("request id 0", sendFor(p -> open(0, 0, 0, p)), opened(0), false));
    // --- stream behaviour ---
    c.add(
        new Case(
            "interleaved valid and invalid pipelined requests",
            sendFor(
                p ->
                    concat(
                        open(40, 0, 0, p),
                        open(41, 0, 0, "relative"),
                        open(42, 0, 0, p),
                        open(43, 3, 0, p),
                        open(44, 0, 0, p + "/"),
                        open(45, 0, 0, p))),
            Map.of(
                40,
                OPENED,
                41,
                ErrorCode.INVALID_PATH.code(),
                42,
                OPENED,
                43,
                ErrorCode.INVALID_FLAGS.code(),
                44,
                ErrorCode.INVALID_PATH.code(),
                45,
                OPENED),
            false));
    c.add(
        new Case(
            "valid frame dribbled one byte at a time",
            (cl, t) -> {
              for (byte b : open(50, 0, 0, t.granted)) {
                cl.send(new byte[] {b});
                Thread.sleep(2);
              }
            },
            opened(50),
            false));
    c.add(
        new Case(
            "half-closed socket after a request still gets its reply",
            (cl, t) -> {
              cl.send(open(51, 0, 0, t.granted));
              cl.channel().shutdownOutput();
            },
            opened(51),
            true));
    c.add(
        new Case(
            "descriptor attached to a request (SCM_RIGHTS) is refused by the kernel",
            (cl, t) -> {
              try (FileInputStream f = new FileInputStream(t.granted)) {
                cl.channel().setOutboundFileDescriptors(f.getFD());
                // SO_PASSRIGHTS = 0 on the daemon's socket: sendmsg fails (EPERM), nothing sent.
                assertThrows(IOException.class, () -> cl.send(open(52, 0, 0, t.granted)));
                cl.channel().setOutboundFileDescriptors();
                cl.send(open(52, 0, 0, t.granted));
              }
            },
            opened(52),
            false));
    c.add(
        new Case(
            "forged SCM_CREDENTIALS claiming uid 65534 on a request for a root-only grant",
            (cl, t) -> t.sendWithForgedCredentials(open(53, 0, 0, t.granted)),
            none(),
            false));
    return c.stream();
  }

  @BeforeAll
  void startDaemon() throws Exception {
    tree = new TestTree("filebroker-malformed-");
    granted = tree.file("granted.txt", "granted\n", "rw-------").toString();
    daemon =
        Daemons.start(
            tree,
            """
            [[allow]]
            name = "root-reads-tree"
            users = [0]
            paths = ["%s/**"]
            access = ["read"]
            """
                .formatted(tree.root()),
            "");
    // Warm up (class loading, lazily opened files) before the baselines.
    for (int i = 0; i < 3; i++) {
      assertServes(1000 + i);
    }
    // jcmd makes the daemon's JVM open its attach socket: measure the heap first.
    baselineHeapKiB = Daemons.usedHeapKiBAfterGc(daemon);
    Thread.sleep(300);
    baselineFds = daemon.descriptorCount();
  }

  @AfterAll
  void stopDaemon() throws Exception {
    Daemons.stop(daemon, tree);
  }

  @Order(1)
  @ParameterizedTest(name = "{0}")
  @MethodSource("catalogue")
  void answersBadInputAsDocumented(Case c) {
    assertTimeoutPreemptively(
        Duration.ofSeconds(15),
        () -> {
          try (RawClient client = new RawClient(daemon.socket())) {
            c.action().run(client, this);
            Map<Integer, Integer> got = new TreeMap<>();
            for (int i = 0; i < c.replies().size(); i++) {
              var r =
                  client
                      .receive()
                      .orElseThrow(
                          () -> new AssertionError(c.name() + ": closed early; got " + got));
              got.put(r.reply().requestId(), codeOf(r.reply()));
              assertEquals(
                  r.reply() instanceof OpenedReply ? 1 : 0,
                  r.descriptors().size(),
                  c.name() + ": descriptors with " + r.reply());
              RawClient.close(r.descriptors());
            }
            assertEquals(new TreeMap<>(c.replies()), got, c.name() + ": replies by request id");
            if (c.closed()) {
              assertTrue(client.receive().isEmpty(), c.name() + ": the daemon must close");
            } else {
              var probe = client.open(999, OpenFlags.O_RDONLY, granted);
              assertInstanceOf(OpenedReply.class, probe.reply(), c.name() + ": must still serve");
              RawClient.close(probe.descriptors());
            }
            assertEquals(0, client.strayDescriptors(), c.name() + ": stray descriptors");
          }
        },
        c.name());
  }

  @Order(2)
  @Test
  void daemonStillServesWithBaselineDescriptorsAndHeapAfterTheCatalogue() throws Exception {
    assertTimeoutPreemptively(
        Duration.ofSeconds(60),
        () -> {
          assertServes(2000);
          long deadline = System.nanoTime() + Duration.ofSeconds(5).toNanos();
          int fds = daemon.descriptorCount();
          while (fds != baselineFds && System.nanoTime() < deadline) {
            Thread.sleep(100);
            fds = daemon.descriptorCount();
          }
          assertEquals(baselineFds, fds, "daemon descriptors after the catalogue");
          long heap = Daemons.usedHeapKiBAfterGc(daemon);
          System.out.printf(
              "MalformedInputIT: heap after full GC %d KiB before, %d KiB after the catalogue%n",
              baselineHeapKiB, heap);
          // Class loading and JIT metadata settle; connection state must not remain.
          assertTrue(
              heap <= baselineHeapKiB + Math.max(1024, baselineHeapKiB / 5),
              "used heap grew from " + baselineHeapKiB + " KiB to " + heap + " KiB");
        });
  }

  private void assertServes(int id) throws Exception {
    try (RawClient c = new RawClient(daemon.socket())) {
      var r = c.open(id, OpenFlags.O_RDONLY, granted);
      assertInstanceOf(OpenedReply.class, r.reply());
      RawClient.close(r.descriptors());
    }
  }

  private static int codeOf(Reply reply) {
    return switch (reply) {
      case OpenedReply o -> OPENED;
      case ErrorReply e -> e.code();
      case OpenedManyReply m -> throw new AssertionError("OPENED_MANY for a single request: " + m);
    };
  }

  /**
   * Sends {@code frame} from Python with an SCM_CREDENTIALS message claiming uid 65534 (root may
   * claim any uid). The daemon does not set SO_PASSCRED, so the kernel drops the message; the
   * daemon's view of the caller comes from SO_PEERCRED at connect time, and it answers as for root.
   * The case's own connection stays unused.
   */
  void sendWithForgedCredentials(byte[] frame) throws Exception {
    String script =
        """
        import socket, struct, sys, os, array
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.connect(sys.argv[1])
        creds = struct.pack('iII', os.getpid(), 65534, 65534)
        s.sendmsg([bytes.fromhex(sys.argv[2])],
                  [(socket.SOL_SOCKET, socket.SCM_CREDENTIALS, creds)])
        fds = array.array('i')
        msg, anc, flags, addr = s.recvmsg(4096, socket.CMSG_SPACE(4 * fds.itemsize))
        ok = len(anc) == 1 and anc[0][1] == socket.SCM_RIGHTS and msg[5] == 0x81
        print('OPENED' if ok else 'OTHER ' + msg.hex())
        """;
    Command r =
        Command.run(
            List.of(
                "/usr/bin/python3",
                "-c",
                script,
                daemon.socket().toString(),
                java.util.HexFormat.of().formatHex(frame)),
            "");
    assertEquals(0, r.exitCode(), r.stderr());
    assertEquals("OPENED", r.stdout().trim(), "forged credentials must not change the caller");
  }
}
