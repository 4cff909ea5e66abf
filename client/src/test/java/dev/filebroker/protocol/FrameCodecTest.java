package dev.filebroker.protocol;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.ForAll;
import net.jqwik.api.From;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.constraints.IntRange;
import net.jqwik.api.constraints.Size;
import org.junit.jupiter.api.Test;

/** The wire layout, byte for byte, and every way a frame can be malformed. */
// assertInstanceOf(Decoded.Fatal.class, ...) can only name the raw record type.
@SuppressWarnings("unchecked")
class FrameCodecTest {
  /** OPEN "/etc/hostname", O_RDONLY, request id 1: the dump shown in docs/protocol.md. */
  static final byte[] OPEN_ETC_HOSTNAME = {
    0x1d,
    0x00,
    0x00,
    0x00, // body length 29
    0x01, // version 1
    0x01, // type OPEN
    0x00,
    0x00, // reserved
    0x01,
    0x00,
    0x00,
    0x00, // request id 1
    0x00,
    0x00,
    0x00,
    0x00, // flags O_RDONLY
    0x00,
    0x00, // create mode 0
    0x0d,
    0x00, // path length 13
    0x2f,
    0x65,
    0x74,
    0x63,
    0x2f,
    0x68,
    0x6f,
    0x73,
    0x74,
    0x6e,
    0x61,
    0x6d,
    0x65 // "/etc/hostname"
  };

  /** OPENED for request id 1, st_mode 0100644: the dump shown in docs/protocol.md. */
  static final byte[] OPENED_REGULAR_0644 = {
    0x0c,
    0x00,
    0x00,
    0x00, // body length 12
    0x01, // version 1
    (byte) 0x81, // type OPENED
    0x00,
    0x00, // reserved
    0x01,
    0x00,
    0x00,
    0x00, // request id 1
    (byte) 0xa4,
    (byte) 0x81,
    0x00,
    0x00 // st_mode 0100644 = 0x81a4
  };

  /** OPEN_MANY "/etc/hostname" and "/etc/shadow", O_RDONLY, request id 2: docs/protocol.md. */
  static final byte[] OPEN_MANY_TWO = {
    0x34,
    0x00,
    0x00,
    0x00, // body length 52
    0x01, // version 1
    0x02, // type OPEN_MANY
    0x00,
    0x00, // reserved
    0x02,
    0x00,
    0x00,
    0x00, // request id 2
    0x02,
    0x00, // count 2
    0x00,
    0x00, // reserved
    0x00,
    0x00,
    0x00,
    0x00,
    0x00,
    0x00,
    0x0d,
    0x00, // O_RDONLY, mode 0, path length 13
    0x2f,
    0x65,
    0x74,
    0x63,
    0x2f,
    0x68,
    0x6f,
    0x73,
    0x74,
    0x6e,
    0x61,
    0x6d,
    0x65, // "/etc/hostname"
    0x00,
    0x00,
    0x00,
    0x00,
    0x00,
    0x00,
    0x0b,
    0x00, // O_RDONLY, mode 0, path length 11
    0x2f,
    0x65,
    0x74,
    0x63,
    0x2f,
    0x73,
    0x68,
    0x61,
    0x64,
    0x6f,
    0x77 // "/etc/shadow"
  };

  /** OPENED_MANY answering OPEN_MANY_TWO: the first opened, the second DENIED (EACCES). */
  static final byte[] OPENED_MANY_TWO = {
    0x24,
    0x00,
    0x00,
    0x00, // body length 36
    0x01, // version 1
    (byte) 0x82, // type OPENED_MANY
    0x00,
    0x00, // reserved
    0x02,
    0x00,
    0x00,
    0x00, // request id 2
    0x02,
    0x00, // count 2
    0x01,
    0x00, // descriptors 1
    0x00,
    0x00,
    0x00,
    0x00, // code 0 (opened), reserved
    0x00,
    0x00,
    0x00,
    0x00, // errno 0
    (byte) 0xa4,
    (byte) 0x81,
    0x00,
    0x00, // st_mode 0100644
    0x01,
    0x00,
    0x00,
    0x00, // code 1 DENIED, reserved
    0x0d,
    0x00,
    0x00,
    0x00, // errno 13 EACCES
    0x00,
    0x00,
    0x00,
    0x00 // st_mode 0
  };

  private static byte[] encode(Request request) {
    ByteBuffer out = ByteBuffer.allocate(Protocol.MAX_FRAME_SIZE);
    FrameCodec.encode(request, out);
    return Arrays.copyOf(out.array(), out.position());
  }

  private static byte[] encode(Reply reply) {
    ByteBuffer out = ByteBuffer.allocate(Protocol.MAX_FRAME_SIZE);
    FrameCodec.encode(reply, out);
    assertEquals(FrameCodec.encodedSize(reply), out.position(), "encodedSize must match encode");
    return Arrays.copyOf(out.array(), out.position());
  }

  private static Decoded<Request> decodeRequest(byte[] bytes) {
    return FrameCodec.decodeRequest(ByteBuffer.wrap(bytes));
  }

  private static Decoded<Reply> decodeReply(byte[] bytes) {
    return FrameCodec.decodeReply(ByteBuffer.wrap(bytes));
  }

  /** A header for a frame of this body length, type and id, followed by the payload. */
  private static byte[] frame(int bodyLength, int version, int type, int reserved, byte[] payload) {
    ByteBuffer b = ByteBuffer.allocate(12 + payload.length).order(java.nio.ByteOrder.LITTLE_ENDIAN);
    b.putInt(bodyLength).put((byte) version).put((byte) type).putShort((short) reserved).putInt(7);
    b.put(payload);
    return b.array();
  }

  private static byte[] openPayload(int flags, int mode, int pathLength, byte[] path) {
    ByteBuffer b = ByteBuffer.allocate(8 + path.length).order(java.nio.ByteOrder.LITTLE_ENDIAN);
    b.putInt(flags).putShort((short) mode).putShort((short) pathLength).put(path);
    return b.array();
  }

  private static byte[] openFrame(byte[] path) {
    return frame(
        8 + 8 + path.length, 1, Protocol.TYPE_OPEN, 0, openPayload(0, 0, path.length, path));
  }

  @Test
  void encodesAnOpenRequestExactlyAsTheProtocolDocumentShows() {
    assertArrayEquals(
        OPEN_ETC_HOSTNAME, encode(new OpenRequest(1, OpenFlags.O_RDONLY, 0, "/etc/hostname")));
  }

  @Test
  void encodesAnOpenedReplyExactlyAsTheProtocolDocumentShows() {
    assertArrayEquals(OPENED_REGULAR_0644, encode(new OpenedReply(1, 0100644)));
  }

  @Test
  void roundTripsAnOpenRequest() {
    OpenRequest request =
        new OpenRequest(0xFFFFFFFE, OpenFlags.O_WRONLY | OpenFlags.O_CREAT, 0640, "/var/lib/ü/€/x");
    byte[] bytes = encode(request);
    assertEquals(new Decoded.Frame<>(request, bytes.length), decodeRequest(bytes));
  }

  @Test
  void roundTripsAnOpenedReply() {
    OpenedReply reply = new OpenedReply(42, 040755);
    byte[] bytes = encode(reply);
    assertEquals(new Decoded.Frame<>(reply, bytes.length), decodeReply(bytes));
  }

  @Test
  void roundTripsAnErrorReply() {
    ErrorReply reply = ErrorReply.of(9, ErrorCode.DENIED, 13, "no rule grants read on /etc/shadow");
    byte[] bytes = encode(reply);
    assertEquals(new Decoded.Frame<>(reply, bytes.length), decodeReply(bytes));
  }

  @Test
  void decodesTwoFramesFromOneBufferInOrder() {
    ByteBuffer both = ByteBuffer.allocate(64);
    FrameCodec.encode(new OpenedReply(1, 0100644), both);
    FrameCodec.encode(ErrorReply.of(2, ErrorCode.NOT_FOUND, 2, "gone"), both);
    both.flip();
    assertInstanceOf(
        OpenedReply.class, ((Decoded.Frame<Reply>) FrameCodec.decodeReply(both)).message());
    assertInstanceOf(
        ErrorReply.class, ((Decoded.Frame<Reply>) FrameCodec.decodeReply(both)).message());
    assertEquals(0, both.remaining());
  }

  @Test
  void asksForMoreWhileTheHeaderOrBodyIsIncomplete() {
    for (int cut = 0; cut < OPEN_ETC_HOSTNAME.length; cut++) {
      ByteBuffer partial = ByteBuffer.wrap(Arrays.copyOf(OPEN_ETC_HOSTNAME, cut));
      Decoded<Request> decoded = FrameCodec.decodeRequest(partial);
      assertInstanceOf(Decoded.NeedMore.class, decoded, "after " + cut + " bytes");
      assertEquals(0, partial.position(), "NeedMore must consume nothing");
    }
    assertEquals(new Decoded.NeedMore<Request>(4), decodeRequest(new byte[0]));
    assertEquals(
        new Decoded.NeedMore<Request>(33 - 12),
        decodeRequest(Arrays.copyOf(OPEN_ETC_HOSTNAME, 12)));
  }

  @Test
  void refusesALengthAboveTheFrameLimit() {
    byte[] bytes = frame(Protocol.MAX_FRAME_SIZE - 3, 1, Protocol.TYPE_OPEN, 0, new byte[0]);
    Decoded.Fatal<Request> fatal = assertInstanceOf(Decoded.Fatal.class, decodeRequest(bytes));
    assertEquals(ErrorCode.FRAME_TOO_LARGE, fatal.code());
    assertEquals(7, fatal.requestId());
    assertEquals(
        "frame length 16381 exceeds the limit of 16380 bytes after the length field",
        fatal.message());
    byte[] huge = {(byte) 0xff, (byte) 0xff, (byte) 0xff, (byte) 0xff};
    assertEquals(ErrorCode.FRAME_TOO_LARGE, ((Decoded.Fatal<Request>) decodeRequest(huge)).code());
  }

  @Test
  void refusesALengthShorterThanTheHeader() {
    Decoded.Fatal<Request> fatal =
        assertInstanceOf(Decoded.Fatal.class, decodeRequest(new byte[] {7, 0, 0, 0}));
    assertEquals(ErrorCode.MALFORMED_FRAME, fatal.code());
    assertEquals("frame length 7 is shorter than the 8-byte header body", fatal.message());
  }

  @Test
  void refusesAnotherVersion() {
    byte[] bytes = OPEN_ETC_HOSTNAME.clone();
    bytes[4] = 2;
    Decoded.Fatal<Request> fatal = assertInstanceOf(Decoded.Fatal.class, decodeRequest(bytes));
    assertEquals(ErrorCode.UNSUPPORTED_VERSION, fatal.code());
    assertEquals(
        "protocol version 2 is not supported; this side speaks version 1", fatal.message());
    assertEquals(
        ErrorCode.UNSUPPORTED_VERSION,
        ((Decoded.Fatal<Request>) decodeRequest(Arrays.copyOf(bytes, 5))).code());
  }

  @Test
  void refusesUnknownTypesOnEitherSide() {
    byte[] bytes = OPEN_ETC_HOSTNAME.clone();
    bytes[5] = 0x42;
    Decoded.Fatal<Request> fatal = assertInstanceOf(Decoded.Fatal.class, decodeRequest(bytes));
    assertEquals(ErrorCode.UNKNOWN_TYPE, fatal.code());
    assertEquals("message type 0x42 is not a request this daemon knows", fatal.message());
    Decoded.Fatal<Reply> asReply =
        assertInstanceOf(Decoded.Fatal.class, decodeReply(OPEN_ETC_HOSTNAME));
    assertEquals("message type 0x01 is not a reply this client knows", asReply.message());
    Decoded.Fatal<Request> replyAsRequest =
        assertInstanceOf(Decoded.Fatal.class, decodeRequest(OPENED_REGULAR_0644));
    assertEquals(ErrorCode.UNKNOWN_TYPE, replyAsRequest.code());
  }

  @Test
  void refusesReservedBits() {
    byte[] bytes = OPEN_ETC_HOSTNAME.clone();
    bytes[7] = 1;
    Decoded.Fatal<Request> fatal = assertInstanceOf(Decoded.Fatal.class, decodeRequest(bytes));
    assertEquals(ErrorCode.MALFORMED_FRAME, fatal.code());
    assertEquals("reserved header bits are set: 256", fatal.message());
  }

  @Test
  void refusesAPathLengthThatDoesNotFillTheFrame() {
    byte[] path = "/etc".getBytes(StandardCharsets.UTF_8);
    byte[] bytes = frame(8 + 8 + 4, 1, Protocol.TYPE_OPEN, 0, openPayload(0, 0, 3, path));
    Decoded.Fatal<Request> fatal = assertInstanceOf(Decoded.Fatal.class, decodeRequest(bytes));
    assertEquals(ErrorCode.MALFORMED_FRAME, fatal.code());
    assertEquals(
        "OPEN path length 3 does not match the 4 path bytes in the frame", fatal.message());
    byte[] tooShort = frame(8 + 4, 1, Protocol.TYPE_OPEN, 0, new byte[4]);
    assertEquals(
        "OPEN payload is 4 bytes, shorter than 8",
        ((Decoded.Fatal<Request>) decodeRequest(tooShort)).message());
  }

  @Test
  void rejectsAPathThatIsNotUtf8ButKeepsTheStream() {
    byte[] bytes = openFrame(new byte[] {'/', (byte) 0xc3, (byte) 0x28});
    Decoded.Rejected<Request> rejected =
        assertInstanceOf(Decoded.Rejected.class, decodeRequest(bytes));
    assertEquals(ErrorCode.INVALID_PATH, rejected.code());
    assertEquals("path is not valid UTF-8", rejected.message());
    assertEquals(bytes.length, rejected.size());
    assertEquals(7, rejected.requestId());
  }

  @Test
  void rejectsAPathOverTheLimitButKeepsTheStream() {
    byte[] path = new byte[Protocol.MAX_PATH_LENGTH + 1];
    Arrays.fill(path, (byte) 'a');
    path[0] = '/';
    byte[] bytes = openFrame(path);
    ByteBuffer in = ByteBuffer.wrap(bytes);
    Decoded.Rejected<Request> rejected =
        assertInstanceOf(Decoded.Rejected.class, FrameCodec.decodeRequest(in));
    assertEquals("path is 4096 bytes; the limit is 4095", rejected.message());
    assertEquals(bytes.length, in.position(), "a rejected frame is consumed");
    byte[] atLimit = Arrays.copyOf(path, Protocol.MAX_PATH_LENGTH);
    assertInstanceOf(Decoded.Frame.class, decodeRequest(openFrame(atLimit)));
  }

  @Test
  void refusesMalformedReplies() {
    byte[] opened = frame(8 + 5, 1, Protocol.TYPE_OPENED, 0, new byte[5]);
    assertEquals(
        "OPENED payload is 5 bytes, expected 4",
        ((Decoded.Fatal<Reply>) decodeReply(opened)).message());
    byte[] error =
        frame(8 + 9, 1, Protocol.TYPE_ERROR, 0, new byte[] {1, 0, 2, 0, 0, 0, 0, 0, 'x'});
    assertEquals(
        "ERROR message length 2 does not fill the frame",
        ((Decoded.Fatal<Reply>) decodeReply(error)).message());
    byte[] shortError = frame(8 + 4, 1, Protocol.TYPE_ERROR, 0, new byte[4]);
    assertEquals(
        "ERROR payload is shorter than 8 bytes",
        ((Decoded.Fatal<Reply>) decodeReply(shortError)).message());
  }

  @Test
  void truncatesLongErrorMessagesOnACharacterBoundary() {
    String message = "a" + "€".repeat(400); // 1 + 1200 bytes; 1024 falls inside a '€'
    ErrorReply reply = ErrorReply.of(3, ErrorCode.IO_ERROR, 5, message);
    Decoded.Frame<Reply> frame = assertInstanceOf(Decoded.Frame.class, decodeReply(encode(reply)));
    String carried = ((ErrorReply) frame.message()).message();
    assertEquals(1 + 3 * 341, carried.getBytes(StandardCharsets.UTF_8).length);
    assertTrue(message.startsWith(carried));
    String exact = "b".repeat(Protocol.MAX_MESSAGE_LENGTH + 10);
    ErrorReply cut =
        (ErrorReply)
            ((Decoded.Frame<Reply>)
                    decodeReply(encode(ErrorReply.of(3, ErrorCode.IO_ERROR, 5, exact))))
                .message();
    assertEquals(Protocol.MAX_MESSAGE_LENGTH, cut.message().length());
  }

  @Property(tries = 2000)
  void randomBytesNeverMakeTheDecoderThrow(@ForAll @Size(max = 64) byte[] bytes) {
    ByteBuffer in = ByteBuffer.wrap(bytes);
    Decoded<Request> request = FrameCodec.decodeRequest(in);
    assertTrue(in.position() <= bytes.length);
    if (!(request instanceof Decoded.Frame<Request>
        || request instanceof Decoded.Rejected<Request>)) {
      assertEquals(0, in.position(), "only a whole frame is consumed");
    }
    FrameCodec.decodeReply(ByteBuffer.wrap(bytes));
  }

  @Property(tries = 2000)
  void randomBodiesBehindAValidHeaderNeverMakeTheDecoderThrow(
      @ForAll @IntRange(min = 0, max = 255) int type, @ForAll @Size(max = 64) byte[] body) {
    byte[] bytes = frame(8 + body.length, 1, type, 0, body);
    FrameCodec.decodeRequest(ByteBuffer.wrap(bytes));
    FrameCodec.decodeReply(ByteBuffer.wrap(bytes));
  }

  @Property(tries = 1000)
  void openRequestsRoundTrip(
      @ForAll int requestId,
      @ForAll int flags,
      @ForAll @IntRange(min = 0, max = 0xFFFF) int mode,
      @ForAll("paths") String path) {
    OpenRequest request = new OpenRequest(requestId, flags, mode, path);
    byte[] bytes = encode(request);
    assertEquals(new Decoded.Frame<>(request, bytes.length), decodeRequest(bytes));
  }

  @Provide
  Arbitrary<String> paths() {
    return Arbitraries.strings()
        .all()
        .ofMaxLength(300)
        .filter(s -> s.getBytes(StandardCharsets.UTF_8).length <= Protocol.MAX_PATH_LENGTH)
        .filter(s -> StandardCharsets.UTF_8.newEncoder().canEncode(s))
        .map(s -> "/" + s);
  }

  @Property(tries = 500)
  void errorRepliesRoundTrip(
      @ForAll int requestId,
      @ForAll @IntRange(min = 0, max = 0xFFFF) int code,
      @ForAll int errno,
      @ForAll @Size(max = 200) String message) {
    ErrorReply reply = new ErrorReply(requestId, code, errno, message);
    byte[] bytes = encode(reply);
    Decoded.Frame<Reply> frame = assertInstanceOf(Decoded.Frame.class, decodeReply(bytes));
    ErrorReply back = (ErrorReply) frame.message();
    assertEquals(requestId, back.requestId());
    assertEquals(code, back.code());
    assertEquals(errno, back.errno());
    if (StandardCharsets.UTF_8.newEncoder().canEncode(message)) {
      assertEquals(message, back.message());
    }
  }

  private static OpenManyRequest twoPaths() {
    return new OpenManyRequest(
        2,
        java.util.List.of(
            new OpenManyRequest.Entry(OpenFlags.O_RDONLY, 0, "/etc/hostname"),
            new OpenManyRequest.Entry(OpenFlags.O_RDONLY, 0, "/etc/shadow")));
  }

  private static OpenedManyReply twoResults() {
    return new OpenedManyReply(
        2,
        java.util.List.of(
            OpenedManyReply.Result.opened(0100644),
            OpenedManyReply.Result.failed(ErrorCode.DENIED, 13)));
  }

  @Test
  void encodesAnOpenManyRequestExactlyAsTheProtocolDocumentShows() {
    assertArrayEquals(OPEN_MANY_TWO, encode(twoPaths()));
    assertEquals(
        new Decoded.Frame<>(twoPaths(), OPEN_MANY_TWO.length), decodeRequest(OPEN_MANY_TWO));
  }

  @Test
  void encodesAnOpenedManyReplyExactlyAsTheProtocolDocumentShows() {
    assertArrayEquals(OPENED_MANY_TWO, encode(twoResults()));
    assertEquals(
        new Decoded.Frame<>(twoResults(), OPENED_MANY_TWO.length), decodeReply(OPENED_MANY_TWO));
    assertEquals(1, twoResults().descriptorCount(), "one descriptor per opened entry");
  }

  @Test
  void refusesAnOpenManyCountOutsideTheLimits() {
    byte[] none = OPEN_MANY_TWO.clone();
    none[12] = 0;
    Decoded.Fatal<Request> zero = assertInstanceOf(Decoded.Fatal.class, decodeRequest(none));
    assertEquals(ErrorCode.MALFORMED_FRAME, zero.code());
    assertEquals("OPEN_MANY count 0 is outside 1..64", zero.message());
    byte[] many = OPEN_MANY_TWO.clone();
    many[12] = 65;
    Decoded.Fatal<Request> tooMany = assertInstanceOf(Decoded.Fatal.class, decodeRequest(many));
    assertEquals("OPEN_MANY count 65 is outside 1..64", tooMany.message());
  }

  @Test
  void refusesOpenManyEntriesThatDoNotFillTheFrame() {
    byte[] three = OPEN_MANY_TWO.clone();
    three[12] = 3;
    Decoded.Fatal<Request> cut = assertInstanceOf(Decoded.Fatal.class, decodeRequest(three));
    assertEquals(ErrorCode.MALFORMED_FRAME, cut.code());
    assertEquals("OPEN_MANY entry 2 is cut short by the frame's end", cut.message());
    byte[] one = OPEN_MANY_TWO.clone();
    one[12] = 1;
    Decoded.Fatal<Request> extra = assertInstanceOf(Decoded.Fatal.class, decodeRequest(one));
    assertEquals("OPEN_MANY has 19 bytes after its 1 entries", extra.message());
    byte[] longPath = OPEN_MANY_TWO.clone();
    longPath[22] = 0x40;
    Decoded.Fatal<Request> past = assertInstanceOf(Decoded.Fatal.class, decodeRequest(longPath));
    assertEquals("OPEN_MANY entry 0 path length 64 runs past the frame's end", past.message());
    byte[] reserved = OPEN_MANY_TWO.clone();
    reserved[14] = 1;
    Decoded.Fatal<Request> bits = assertInstanceOf(Decoded.Fatal.class, decodeRequest(reserved));
    assertEquals("OPEN_MANY reserved bits are set: 1", bits.message());
    byte[] shortPayload = frame(8 + 2, 1, Protocol.TYPE_OPEN_MANY, 0, new byte[] {1, 0});
    Decoded.Fatal<Request> tiny =
        assertInstanceOf(Decoded.Fatal.class, decodeRequest(shortPayload));
    assertEquals("OPEN_MANY payload is 2 bytes, shorter than 4", tiny.message());
  }

  @Test
  void rejectsAnOpenManyWithAPathThatIsNotUtf8ButKeepsTheStream() {
    byte[] bytes = OPEN_MANY_TWO.clone();
    bytes[OPEN_MANY_TWO.length - 1] = (byte) 0xff;
    ByteBuffer in = ByteBuffer.wrap(bytes);
    Decoded.Rejected<Request> rejected =
        assertInstanceOf(Decoded.Rejected.class, FrameCodec.decodeRequest(in));
    assertEquals(ErrorCode.INVALID_PATH, rejected.code());
    assertEquals("path 1 is not valid UTF-8", rejected.message());
    assertEquals(2, rejected.requestId());
    assertEquals(bytes.length, in.position(), "the whole frame is consumed");
  }

  @Test
  void refusesMalformedOpenedManyReplies() {
    byte[] wrongCount = OPENED_MANY_TWO.clone();
    wrongCount[14] = 2;
    Decoded.Fatal<Reply> count = assertInstanceOf(Decoded.Fatal.class, decodeReply(wrongCount));
    assertEquals("OPENED_MANY states 2 descriptors but 1 entries opened", count.message());
    byte[] reserved = OPENED_MANY_TWO.clone();
    reserved[18] = 1;
    Decoded.Fatal<Reply> bits = assertInstanceOf(Decoded.Fatal.class, decodeReply(reserved));
    assertEquals("OPENED_MANY entry 0 has reserved bits set", bits.message());
    byte[] size = OPENED_MANY_TWO.clone();
    size[12] = 3;
    Decoded.Fatal<Reply> payload = assertInstanceOf(Decoded.Fatal.class, decodeReply(size));
    assertEquals("OPENED_MANY payload is 28 bytes, expected 40", payload.message());
  }

  @Test
  void openManyIsNotAReplyAndOpenedManyIsNotARequest() {
    assertEquals(
        ErrorCode.UNKNOWN_TYPE, ((Decoded.Fatal<Reply>) decodeReply(OPEN_MANY_TWO)).code());
    assertEquals(
        ErrorCode.UNKNOWN_TYPE, ((Decoded.Fatal<Request>) decodeRequest(OPENED_MANY_TWO)).code());
  }

  @Test
  void encodesTheLargestOpenManyWithinTheFrameLimit() {
    String path = "/" + "p".repeat(240);
    java.util.List<OpenManyRequest.Entry> entries = new java.util.ArrayList<>();
    for (int i = 0; i < Protocol.MAX_PATHS_PER_REQUEST; i++) {
      entries.add(new OpenManyRequest.Entry(0, 0, path));
    }
    byte[] bytes = encode(new OpenManyRequest(9, entries));
    assertTrue(bytes.length <= Protocol.MAX_FRAME_SIZE, "frame fits: " + bytes.length);
    String tooLong = "/" + "p".repeat(260);
    java.util.List<OpenManyRequest.Entry> big = new java.util.ArrayList<>();
    for (int i = 0; i < Protocol.MAX_PATHS_PER_REQUEST; i++) {
      big.add(new OpenManyRequest.Entry(0, 0, tooLong));
    }
    IllegalArgumentException e =
        org.junit.jupiter.api.Assertions.assertThrows(
            IllegalArgumentException.class,
            () -> FrameCodec.encode(new OpenManyRequest(9, big), ByteBuffer.allocate(1 << 16)));
    assertEquals("frame of 17232 bytes exceeds MAX_FRAME_SIZE 16384", e.getMessage());
  }

  @Property(tries = 300)
  void openManyRequestsRoundTrip(
      @ForAll int requestId,
      @ForAll @Size(min = 1, max = 64)
          java.util.List<OpenManyRequest.@From("entries") Entry> entries) {
    OpenManyRequest request = new OpenManyRequest(requestId, entries);
    ByteBuffer out = ByteBuffer.allocate(1 << 16);
    int size = Protocol.HEADER_SIZE + Protocol.OPEN_MANY_FIXED_SIZE;
    for (OpenManyRequest.Entry e : entries) {
      size += 8 + e.path().getBytes(StandardCharsets.UTF_8).length;
    }
    net.jqwik.api.Assume.that(size <= Protocol.MAX_FRAME_SIZE);
    FrameCodec.encode(request, out);
    byte[] bytes = Arrays.copyOf(out.array(), out.position());
    assertEquals(new Decoded.Frame<>(request, bytes.length), decodeRequest(bytes));
  }

  @Provide
  Arbitrary<OpenManyRequest.Entry> entries() {
    return net.jqwik.api.Combinators.combine(
            Arbitraries.integers(),
            Arbitraries.integers().between(0, 0xFFFF),
            Arbitraries.strings()
                .all()
                .ofMaxLength(60)
                .filter(s -> StandardCharsets.UTF_8.newEncoder().canEncode(s))
                .map(s -> "/" + s))
        .as(OpenManyRequest.Entry::new);
  }

  @Property(tries = 300)
  void openedManyRepliesRoundTrip(
      @ForAll int requestId,
      @ForAll @Size(min = 1, max = 64)
          java.util.List<OpenedManyReply.@From("results") Result> results) {
    OpenedManyReply reply = new OpenedManyReply(requestId, results);
    byte[] bytes = encode(reply);
    assertEquals(new Decoded.Frame<>(reply, bytes.length), decodeReply(bytes));
  }

  @Provide
  Arbitrary<OpenedManyReply.Result> results() {
    return net.jqwik.api.Combinators.combine(
            Arbitraries.integers().between(0, 0xFFFF),
            Arbitraries.integers(),
            Arbitraries.integers())
        .as(OpenedManyReply.Result::new);
  }
}
