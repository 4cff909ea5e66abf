package dev.filebroker.protocol;

import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * Encodes and decodes filebroker frames. The daemon and the client library both use this class, so
 * the two sides cannot disagree about the layout.
 *
 * <p>Decoding reads from the buffer's position to its limit and, when a frame is consumed, advances
 * the position past it. Encoding writes at the buffer's position. The buffers' own byte order is
 * ignored: the wire is little-endian.
 */
public final class FrameCodec {
  private FrameCodec() {}

  /** Decodes one request frame, as the daemon does. */
  public static Decoded<Request> decodeRequest(ByteBuffer in) {
    Header header = readHeader(in);
    if (header.outcome != null) {
      @SuppressWarnings("unchecked")
      Decoded<Request> early = (Decoded<Request>) header.outcome;
      return early;
    }
    int base = in.position();
    int size = header.frameSize;
    return switch (header.type) {
      case Protocol.TYPE_OPEN -> decodeOpen(in, base, header.requestId, size);
      case Protocol.TYPE_OPEN_MANY -> decodeOpenMany(in, base, header.requestId, size);
      default ->
          new Decoded.Fatal<>(
              header.requestId,
              ErrorCode.UNKNOWN_TYPE,
              String.format("message type 0x%02x is not a request this daemon knows", header.type));
    };
  }

  /** Decodes one reply frame, as the client does. */
  public static Decoded<Reply> decodeReply(ByteBuffer in) {
    Header header = readHeader(in);
    if (header.outcome != null) {
      @SuppressWarnings("unchecked")
      Decoded<Reply> early = (Decoded<Reply>) header.outcome;
      return early;
    }
    int base = in.position();
    int size = header.frameSize;
    int payload = size - Protocol.HEADER_SIZE;
    int p = base + Protocol.HEADER_SIZE;
    switch (header.type) {
      case Protocol.TYPE_OPENED -> {
        if (payload != Protocol.OPENED_PAYLOAD_SIZE) {
          return malformed(header.requestId, "OPENED payload is " + payload + " bytes, expected 4");
        }
        int mode = u32(in, p);
        in.position(base + size);
        return new Decoded.Frame<>(new OpenedReply(header.requestId, mode), size);
      }
      case Protocol.TYPE_OPENED_MANY -> {
        return decodeOpenedMany(in, base, header.requestId, size);
      }
      case Protocol.TYPE_ERROR -> {
        if (payload < Protocol.ERROR_FIXED_SIZE) {
          return malformed(header.requestId, "ERROR payload is shorter than 8 bytes");
        }
        int code = u16(in, p);
        int messageLength = u16(in, p + 2);
        int errno = u32(in, p + 4);
        if (messageLength != payload - Protocol.ERROR_FIXED_SIZE) {
          return malformed(
              header.requestId,
              "ERROR message length " + messageLength + " does not fill the frame");
        }
        byte[] bytes = new byte[messageLength];
        in.get(p + Protocol.ERROR_FIXED_SIZE, bytes);
        in.position(base + size);
        String message = new String(bytes, StandardCharsets.UTF_8);
        return new Decoded.Frame<>(new ErrorReply(header.requestId, code, errno, message), size);
      }
      default -> {
        return new Decoded.Fatal<>(
            header.requestId,
            ErrorCode.UNKNOWN_TYPE,
            String.format("message type 0x%02x is not a reply this client knows", header.type));
      }
    }
  }

  /** Writes a request frame at the buffer's position. */
  public static void encode(Request request, ByteBuffer out) {
    switch (request) {
      case OpenRequest open -> {
        byte[] path = open.path().getBytes(StandardCharsets.UTF_8);
        if (path.length > 0xFFFF) {
          throw new IllegalArgumentException("path does not fit a u16 length: " + path.length);
        }
        int size = Protocol.HEADER_SIZE + Protocol.OPEN_FIXED_SIZE + path.length;
        checkFits(size, out);
        int p = writeHeader(out, size, Protocol.TYPE_OPEN, open.requestId());
        putU32(out, p, open.flags());
        putU16(out, p + 4, open.mode());
        putU16(out, p + 6, path.length);
        out.put(p + Protocol.OPEN_FIXED_SIZE, path);
        out.position(out.position() + size);
      }
      case OpenManyRequest many -> {
        byte[][] paths = new byte[many.entries().size()][];
        int size = Protocol.HEADER_SIZE + Protocol.OPEN_MANY_FIXED_SIZE;
        for (int i = 0; i < paths.length; i++) {
          paths[i] = many.entries().get(i).path().getBytes(StandardCharsets.UTF_8);
          if (paths[i].length > 0xFFFF) {
            throw new IllegalArgumentException(
                "path " + i + " does not fit a u16 length: " + paths[i].length);
          }
          size += Protocol.OPEN_FIXED_SIZE + paths[i].length;
        }
        checkFits(size, out);
        int p = writeHeader(out, size, Protocol.TYPE_OPEN_MANY, many.requestId());
        putU16(out, p, paths.length);
        putU16(out, p + 2, 0);
        int q = p + Protocol.OPEN_MANY_FIXED_SIZE;
        for (int i = 0; i < paths.length; i++) {
          OpenManyRequest.Entry e = many.entries().get(i);
          putU32(out, q, e.flags());
          putU16(out, q + 4, e.mode());
          putU16(out, q + 6, paths[i].length);
          out.put(q + Protocol.OPEN_FIXED_SIZE, paths[i]);
          q += Protocol.OPEN_FIXED_SIZE + paths[i].length;
        }
        out.position(out.position() + size);
      }
    }
  }

  /** Writes a reply frame at the buffer's position. Error messages are cut to the wire limit. */
  public static void encode(Reply reply, ByteBuffer out) {
    switch (reply) {
      case OpenedReply opened -> {
        int size = Protocol.HEADER_SIZE + Protocol.OPENED_PAYLOAD_SIZE;
        checkFits(size, out);
        int p = writeHeader(out, size, Protocol.TYPE_OPENED, opened.requestId());
        putU32(out, p, opened.fileMode());
        out.position(out.position() + size);
      }
      case OpenedManyReply many -> {
        int size = encodedSize(many);
        checkFits(size, out);
        int p = writeHeader(out, size, Protocol.TYPE_OPENED_MANY, many.requestId());
        putU16(out, p, many.results().size());
        putU16(out, p + 2, many.descriptorCount());
        int q = p + Protocol.OPENED_MANY_FIXED_SIZE;
        for (OpenedManyReply.Result r : many.results()) {
          putU16(out, q, r.code());
          putU16(out, q + 2, 0);
          putU32(out, q + 4, r.errno());
          putU32(out, q + 8, r.fileMode());
          q += Protocol.OPENED_MANY_ENTRY_SIZE;
        }
        out.position(out.position() + size);
      }
      case ErrorReply error -> {
        byte[] message = truncatedUtf8(error.message(), Protocol.MAX_MESSAGE_LENGTH);
        int size = Protocol.HEADER_SIZE + Protocol.ERROR_FIXED_SIZE + message.length;
        checkFits(size, out);
        int p = writeHeader(out, size, Protocol.TYPE_ERROR, error.requestId());
        putU16(out, p, error.code());
        putU16(out, p + 2, message.length);
        putU32(out, p + 4, error.errno());
        out.put(p + Protocol.ERROR_FIXED_SIZE, message);
        out.position(out.position() + size);
      }
    }
  }

  /** The encoded size of a reply, for callers that size buffers. */
  public static int encodedSize(Reply reply) {
    return switch (reply) {
      case OpenedReply opened -> Protocol.HEADER_SIZE + Protocol.OPENED_PAYLOAD_SIZE;
      case OpenedManyReply many ->
          Protocol.HEADER_SIZE
              + Protocol.OPENED_MANY_FIXED_SIZE
              + many.results().size() * Protocol.OPENED_MANY_ENTRY_SIZE;
      case ErrorReply error ->
          Protocol.HEADER_SIZE
              + Protocol.ERROR_FIXED_SIZE
              + truncatedUtf8(error.message(), Protocol.MAX_MESSAGE_LENGTH).length;
    };
  }

  private static Decoded<Request> decodeOpen(ByteBuffer in, int base, int requestId, int size) {
    int payload = size - Protocol.HEADER_SIZE;
    if (payload < Protocol.OPEN_FIXED_SIZE) {
      return malformed(requestId, "OPEN payload is " + payload + " bytes, shorter than 8");
    }
    int p = base + Protocol.HEADER_SIZE;
    int flags = u32(in, p);
    int mode = u16(in, p + 4);
    int pathLength = u16(in, p + 6);
    if (pathLength != payload - Protocol.OPEN_FIXED_SIZE) {
      return malformed(
          requestId,
          "OPEN path length "
              + pathLength
              + " does not match the "
              + (payload - Protocol.OPEN_FIXED_SIZE)
              + " path bytes in the frame");
    }
    in.position(base + size);
    if (pathLength > Protocol.MAX_PATH_LENGTH) {
      return new Decoded.Rejected<>(
          requestId,
          ErrorCode.INVALID_PATH,
          "path is " + pathLength + " bytes; the limit is " + Protocol.MAX_PATH_LENGTH,
          size);
    }
    Optional<String> path = utf8(in, p + Protocol.OPEN_FIXED_SIZE, pathLength);
    if (path.isEmpty()) {
      return new Decoded.Rejected<>(
          requestId, ErrorCode.INVALID_PATH, "path is not valid UTF-8", size);
    }
    return new Decoded.Frame<>(new OpenRequest(requestId, flags, mode, path.get()), size);
  }

  private static Decoded<Request> decodeOpenMany(ByteBuffer in, int base, int requestId, int size) {
    int payload = size - Protocol.HEADER_SIZE;
    if (payload < Protocol.OPEN_MANY_FIXED_SIZE) {
      return malformed(requestId, "OPEN_MANY payload is " + payload + " bytes, shorter than 4");
    }
    int p = base + Protocol.HEADER_SIZE;
    int count = u16(in, p);
    int reserved = u16(in, p + 2);
    if (reserved != 0) {
      return malformed(requestId, "OPEN_MANY reserved bits are set: " + reserved);
    }
    if (count < 1 || count > Protocol.MAX_PATHS_PER_REQUEST) {
      return malformed(
          requestId,
          "OPEN_MANY count " + count + " is outside 1.." + Protocol.MAX_PATHS_PER_REQUEST);
    }
    int end = base + size;
    int q = p + Protocol.OPEN_MANY_FIXED_SIZE;
    List<OpenManyRequest.Entry> entries = new ArrayList<>(count);
    String refusal = "";
    for (int i = 0; i < count; i++) {
      if (end - q < Protocol.OPEN_FIXED_SIZE) {
        return malformed(requestId, "OPEN_MANY entry " + i + " is cut short by the frame's end");
      }
      int flags = u32(in, q);
      int mode = u16(in, q + 4);
      int pathLength = u16(in, q + 6);
      if (end - q - Protocol.OPEN_FIXED_SIZE < pathLength) {
        return malformed(
            requestId,
            "OPEN_MANY entry " + i + " path length " + pathLength + " runs past the frame's end");
      }
      if (refusal.isEmpty()) {
        if (pathLength > Protocol.MAX_PATH_LENGTH) {
          refusal =
              "path "
                  + i
                  + " is "
                  + pathLength
                  + " bytes; the limit is "
                  + Protocol.MAX_PATH_LENGTH;
        } else {
          Optional<String> path = utf8(in, q + Protocol.OPEN_FIXED_SIZE, pathLength);
          if (path.isEmpty()) {
            refusal = "path " + i + " is not valid UTF-8";
          } else {
            entries.add(new OpenManyRequest.Entry(flags, mode, path.get()));
          }
        }
      }
      q += Protocol.OPEN_FIXED_SIZE + pathLength;
    }
    if (q != end) {
      return malformed(
          requestId, "OPEN_MANY has " + (end - q) + " bytes after its " + count + " entries");
    }
    in.position(end);
    if (!refusal.isEmpty()) {
      return new Decoded.Rejected<>(requestId, ErrorCode.INVALID_PATH, refusal, size);
    }
    return new Decoded.Frame<>(new OpenManyRequest(requestId, entries), size);
  }

  private static Decoded<Reply> decodeOpenedMany(ByteBuffer in, int base, int requestId, int size) {
    int payload = size - Protocol.HEADER_SIZE;
    if (payload < Protocol.OPENED_MANY_FIXED_SIZE) {
      return malformed(requestId, "OPENED_MANY payload is " + payload + " bytes, shorter than 4");
    }
    int p = base + Protocol.HEADER_SIZE;
    int count = u16(in, p);
    int descriptors = u16(in, p + 2);
    if (count < 1 || count > Protocol.MAX_PATHS_PER_REQUEST) {
      return malformed(
          requestId,
          "OPENED_MANY count " + count + " is outside 1.." + Protocol.MAX_PATHS_PER_REQUEST);
    }
    if (payload != Protocol.OPENED_MANY_FIXED_SIZE + count * Protocol.OPENED_MANY_ENTRY_SIZE) {
      return malformed(
          requestId, "OPENED_MANY payload is " + payload + " bytes, expected " + (4 + 12 * count));
    }
    List<OpenedManyReply.Result> results = new ArrayList<>(count);
    int opened = 0;
    int q = p + Protocol.OPENED_MANY_FIXED_SIZE;
    for (int i = 0; i < count; i++, q += Protocol.OPENED_MANY_ENTRY_SIZE) {
      if (u16(in, q + 2) != 0) {
        return malformed(requestId, "OPENED_MANY entry " + i + " has reserved bits set");
      }
      OpenedManyReply.Result r =
          new OpenedManyReply.Result(u16(in, q), u32(in, q + 4), u32(in, q + 8));
      if (r.isOpened()) {
        opened++;
      }
      results.add(r);
    }
    if (opened != descriptors) {
      return malformed(
          requestId,
          "OPENED_MANY states " + descriptors + " descriptors but " + opened + " entries opened");
    }
    in.position(base + size);
    return new Decoded.Frame<>(new OpenedManyReply(requestId, results), size);
  }

  /** The UTF-8 text of {@code length} bytes at {@code from}, or empty when it is not valid. */
  private static Optional<String> utf8(ByteBuffer in, int from, int length) {
    // Most paths are ASCII, where UTF-8 and ISO-8859-1 agree: one copy, no decoder.
    byte[] raw = new byte[length];
    in.get(from, raw);
    boolean ascii = true;
    for (byte b : raw) {
      if (b < 0) {
        ascii = false;
        break;
      }
    }
    if (ascii) {
      return Optional.of(new String(raw, StandardCharsets.ISO_8859_1));
    }
    ByteBuffer bytes = ByteBuffer.wrap(raw);
    try {
      return Optional.of(
          StandardCharsets.UTF_8
              .newDecoder()
              .onMalformedInput(CodingErrorAction.REPORT)
              .onUnmappableCharacter(CodingErrorAction.REPORT)
              .decode(bytes)
              .toString());
    } catch (CharacterCodingException e) {
      return Optional.empty();
    }
  }

  /**
   * Header fields, or an early outcome when the header itself decides: not enough bytes yet, a bad
   * length or version.
   */
  private record Header(int frameSize, int type, int requestId, Decoded<?> outcome) {}

  /**
   * The outcome for a buffer holding 0 to 3 bytes, made once: every read that empties a
   * connection's buffer ends with one.
   */
  private static final Header[] NEED_LENGTH = {
    early(new Decoded.NeedMore<>(4)),
    early(new Decoded.NeedMore<>(3)),
    early(new Decoded.NeedMore<>(2)),
    early(new Decoded.NeedMore<>(1))
  };

  private static Header readHeader(ByteBuffer in) {
    int available = in.remaining();
    int base = in.position();
    if (available < 4) {
      return NEED_LENGTH[available];
    }
    long bodyLength = Integer.toUnsignedLong(u32(in, base));
    int requestId = available >= Protocol.HEADER_SIZE ? u32(in, base + 8) : 0;
    if (bodyLength > Protocol.MAX_FRAME_SIZE - 4) {
      return early(
          new Decoded.Fatal<>(
              requestId,
              ErrorCode.FRAME_TOO_LARGE,
              "frame length "
                  + bodyLength
                  + " exceeds the limit of "
                  + (Protocol.MAX_FRAME_SIZE - 4)
                  + " bytes after the length field"));
    }
    if (bodyLength < Protocol.MIN_BODY_LENGTH) {
      return early(
          new Decoded.Fatal<>(
              requestId,
              ErrorCode.MALFORMED_FRAME,
              "frame length " + bodyLength + " is shorter than the 8-byte header body"));
    }
    if (available >= 5 && (in.get(base + 4) & 0xFF) != Protocol.VERSION) {
      return early(
          new Decoded.Fatal<>(
              requestId,
              ErrorCode.UNSUPPORTED_VERSION,
              "protocol version "
                  + (in.get(base + 4) & 0xFF)
                  + " is not supported; this side speaks version "
                  + Protocol.VERSION));
    }
    int frameSize = (int) bodyLength + 4;
    if (available < frameSize) {
      return early(new Decoded.NeedMore<>(frameSize - available));
    }
    int reserved = u16(in, base + 6);
    if (reserved != 0) {
      return early(malformed(requestId, "reserved header bits are set: " + reserved));
    }
    return new Header(frameSize, in.get(base + 5) & 0xFF, requestId, null);
  }

  private static Header early(Decoded<?> outcome) {
    return new Header(0, 0, 0, outcome);
  }

  private static <T> Decoded<T> malformed(int requestId, String message) {
    return new Decoded.Fatal<>(requestId, ErrorCode.MALFORMED_FRAME, message);
  }

  private static int writeHeader(ByteBuffer out, int frameSize, int type, int requestId) {
    int base = out.position();
    putU32(out, base, frameSize - 4);
    out.put(base + 4, (byte) Protocol.VERSION);
    out.put(base + 5, (byte) type);
    putU16(out, base + 6, 0);
    putU32(out, base + 8, requestId);
    return base + Protocol.HEADER_SIZE;
  }

  private static void checkFits(int size, ByteBuffer out) {
    if (size > Protocol.MAX_FRAME_SIZE) {
      throw new IllegalArgumentException(
          "frame of " + size + " bytes exceeds MAX_FRAME_SIZE " + Protocol.MAX_FRAME_SIZE);
    }
    if (out.remaining() < size) {
      throw new IllegalArgumentException(
          "buffer has " + out.remaining() + " bytes left, frame needs " + size);
    }
  }

  static byte[] truncatedUtf8(String s, int maxBytes) {
    byte[] bytes = s.getBytes(StandardCharsets.UTF_8);
    if (bytes.length <= maxBytes) {
      return bytes;
    }
    int end = maxBytes;
    // Do not cut a multi-byte sequence: back up to the start of the last character.
    while (end > 0 && (bytes[end] & 0xC0) == 0x80) {
      end--;
    }
    byte[] cut = new byte[end];
    System.arraycopy(bytes, 0, cut, 0, end);
    return cut;
  }

  private static int u16(ByteBuffer b, int i) {
    return (b.get(i) & 0xFF) | (b.get(i + 1) & 0xFF) << 8;
  }

  private static int u32(ByteBuffer b, int i) {
    return (b.get(i) & 0xFF)
        | (b.get(i + 1) & 0xFF) << 8
        | (b.get(i + 2) & 0xFF) << 16
        | (b.get(i + 3) & 0xFF) << 24;
  }

  private static void putU16(ByteBuffer b, int i, int v) {
    b.put(i, (byte) v);
    b.put(i + 1, (byte) (v >>> 8));
  }

  private static void putU32(ByteBuffer b, int i, int v) {
    b.put(i, (byte) v);
    b.put(i + 1, (byte) (v >>> 8));
    b.put(i + 2, (byte) (v >>> 16));
    b.put(i + 3, (byte) (v >>> 24));
  }
}
