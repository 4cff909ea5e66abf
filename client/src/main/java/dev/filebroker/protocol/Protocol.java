package dev.filebroker.protocol;

/**
 * The filebroker wire contract: version, frame layout, message types and limits, in one place.
 *
 * <p>Transport is an {@code AF_UNIX} {@code SOCK_STREAM} socket. Every message is one frame; all
 * integers are little-endian. docs/protocol.md describes the same layout byte for byte.
 *
 * <pre>
 * offset size field
 *  0     4    u32 body length: bytes that follow this field (8 .. MAX_FRAME_SIZE - 4)
 *  4     1    u8  version, {@link #VERSION}
 *  5     1    u8  message type, see the TYPE_ constants
 *  6     2    u16 reserved, must be 0
 *  8     4    u32 request id, chosen by the client and echoed by the reply
 * 12     ..   payload, layout by message type
 * </pre>
 */
public final class Protocol {
  /** The protocol version this library speaks. A frame with any other version is refused. */
  public static final int VERSION = 1;

  /** Size of the fixed frame header in bytes: length, version, type, reserved, request id. */
  public static final int HEADER_SIZE = 12;

  /** Bytes of the header counted by the length field (everything after the length itself). */
  public static final int MIN_BODY_LENGTH = HEADER_SIZE - 4;

  /** Largest frame, header included, that either side sends or accepts. */
  public static final int MAX_FRAME_SIZE = 16384;

  /** Longest path in bytes (UTF-8), matching Linux's PATH_MAX of 4096 including the NUL. */
  public static final int MAX_PATH_LENGTH = 4095;

  /** Longest human-readable message carried by an ERROR reply, in bytes of UTF-8. */
  public static final int MAX_MESSAGE_LENGTH = 1024;

  /** Most descriptors one reply frame carries: an OPENED_MANY with every path opened. */
  public static final int MAX_DESCRIPTORS_PER_REPLY = 64;

  /**
   * Most descriptors the daemon attaches to one {@code sendmsg(2)}, so one {@code recvmsg(2)} never
   * needs a control buffer larger than {@code CMSG_SPACE(32 * sizeof(int))} (144 bytes). An
   * OPENED_MANY reply with more descriptors carries the first 32 on its first byte and the rest on
   * its second byte. (junixsocket, under the Java client, receives at most 60.)
   */
  public static final int MAX_DESCRIPTORS_PER_MESSAGE = 32;

  /** Most paths one OPEN_MANY request may name. */
  public static final int MAX_PATHS_PER_REQUEST = 64;

  /**
   * Request: open one file. Payload: u32 flags ({@link OpenFlags}), u16 create mode, u16 path
   * length, path bytes. Nothing travels as SCM_RIGHTS; a request that carries descriptors is a
   * protocol error.
   */
  public static final int TYPE_OPEN = 0x01;

  /**
   * Request: open up to {@link #MAX_PATHS_PER_REQUEST} files in one round trip. Payload: u16 count,
   * u16 reserved (0), then count entries laid out as an OPEN payload (u32 flags, u16 create mode,
   * u16 path length, path bytes). Nothing travels as SCM_RIGHTS.
   */
  public static final int TYPE_OPEN_MANY = 0x02;

  /**
   * Reply to {@link #TYPE_OPEN}: success. Payload: u32 {@code st_mode} of the opened file. Exactly
   * one descriptor travels as SCM_RIGHTS with the first byte of this frame.
   */
  public static final int TYPE_OPENED = 0x81;

  /**
   * Reply to {@link #TYPE_OPEN_MANY}, also when some or all paths failed. Payload: u16 count (that
   * of the request), u16 descriptor count, then count entries of u16 code (0 = opened), u16
   * reserved (0), i32 errno, u32 {@code st_mode}. One descriptor per opened entry travels as
   * SCM_RIGHTS with the first byte of this frame, in entry order.
   */
  public static final int TYPE_OPENED_MANY = 0x82;

  /**
   * Reply to any request: failure. Payload: u16 error code ({@link ErrorCode}), u16 message length,
   * i32 errno (0 when none applies), message bytes (UTF-8). No descriptor travels with it. When the
   * code is a protocol error the daemon closes the connection after sending it.
   */
  public static final int TYPE_ERROR = 0xFF;

  /** Size of the fixed part of an OPEN payload, before the path bytes. */
  public static final int OPEN_FIXED_SIZE = 8;

  /** Size of the fixed part of an OPEN_MANY payload (count, reserved), before the entries. */
  public static final int OPEN_MANY_FIXED_SIZE = 4;

  /** Size of the fixed part of an OPENED_MANY payload (count, descriptors), before the entries. */
  public static final int OPENED_MANY_FIXED_SIZE = 4;

  /** Size of one OPENED_MANY entry: code, reserved, errno, st_mode. */
  public static final int OPENED_MANY_ENTRY_SIZE = 12;

  /** Size of the OPENED payload. */
  public static final int OPENED_PAYLOAD_SIZE = 4;

  /** Size of the fixed part of an ERROR payload, before the message bytes. */
  public static final int ERROR_FIXED_SIZE = 8;

  /** Largest create mode a request may carry: permission bits plus setuid, setgid and sticky. */
  public static final int MAX_CREATE_MODE = 07777;

  private Protocol() {}
}
