package dev.filebroker.daemon.fs;

import com.sun.jna.Memory;
import com.sun.jna.Native;
import com.sun.jna.Pointer;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.List;
import java.util.function.IntConsumer;

/**
 * recvmsg(2) and sendmsg(2) on connected AF_UNIX stream sockets, with the descriptors of a reply
 * attached (SCM_RIGHTS) and any descriptor a peer attaches received, closed and counted. This is
 * the request path's socket I/O: one direct-mapped call each way, into native buffers this object
 * owns, where going through the socket library cost several JNI calls, a lambda and a descriptor
 * array per message.
 *
 * <p>One instance per thread (a serving thread); not thread-safe; {@link #close()} frees its native
 * memory at once when the thread ends. Buffers may be heap or direct; a direct buffer is used in
 * place when it is the one last used, otherwise data is copied through this object's own native
 * buffer of {@code capacity} bytes (a send then takes at most that much).
 */
public final class SocketMessages implements AutoCloseable {
  /** At most this many descriptors travel with one message (the kernel's SCM_MAX_FD is 253). */
  public static final int MAX_DESCRIPTORS = 64;

  private static final int SOL_SOCKET = 1;
  private static final int SCM_RIGHTS = 1;
  private static final int MSG_CTRUNC = 0x8;
  private static final int MSG_DONTWAIT = 0x40;
  private static final int MSG_NOSIGNAL = 0x4000;
  private static final int MSG_CMSG_CLOEXEC = 0x40000000;
  private static final int EAGAIN = 11;
  private static final int EINTR = 4;

  // struct msghdr and struct iovec on LP64 Linux (x86-64, arm64, riscv64).
  private static final int MSG_IOV = 16;
  private static final int MSG_IOVLEN = 24;
  private static final int MSG_CONTROL = 32;
  private static final int MSG_CONTROLLEN = 40;
  private static final int MSG_FLAGS = 48;
  private static final int MSGHDR_SIZE = 56;
  private static final int IOVEC_SIZE = 16;
  // struct cmsghdr: size_t cmsg_len, int cmsg_level, int cmsg_type, then the data.
  private static final int CMSG_HEADER = 16;

  /** Room for the descriptors a peer might attach to one message: all are closed, then refused. */
  private static final int CONTROL_SIZE = CMSG_HEADER + 4 * MAX_DESCRIPTORS;

  private static final int MSGHDR = 0;
  private static final int IOVEC = MSGHDR + MSGHDR_SIZE;
  private static final int CONTROL = IOVEC + IOVEC_SIZE + 8;
  private static final int DATA = CONTROL + CONTROL_SIZE;

  static {
    Native.register(SocketMessages.class, CLibrary.INSTANCE);
  }

  private static native long recvmsg(int fd, long message, int flags);

  private static native long sendmsg(int fd, long message, int flags);

  private static native int setsockopt(int fd, int level, int option, int[] value, int length);

  private static native int setsockopt(int fd, int level, int option, long[] value, int length);

  /** SO_RCVTIMEO on LP64 Linux: a struct timeval of two longs. */
  private static final int SO_RCVTIMEO = 20;

  /** SO_PASSRIGHTS (asm-generic/socket.h, Linux 6.16+): 0 makes the kernel refuse SCM_RIGHTS. */
  private static final int SO_PASSRIGHTS = 83;

  private static final int ENOPROTOOPT = 92;

  /**
   * Makes the kernel refuse descriptors sent toward {@code socket} (a listening socket passes this
   * on to the connections it accepts): a sender's sendmsg with SCM_RIGHTS then fails with EPERM and
   * nothing reaches the daemon. Linux 6.16 and later; SCM_CREDENTIALS are not affected.
   *
   * @return 0 when set; ENOPROTOOPT when the kernel does not have the option; another errno when
   *     setsockopt failed otherwise
   */
  public static int refuseDescriptors(int socket) {
    if (setsockopt(socket, SOL_SOCKET, SO_PASSRIGHTS, new int[] {0}, 4) == 0) {
      return 0;
    }
    return Native.getLastError();
  }

  /**
   * Makes a blocking {@link #receive(int, ByteBuffer, boolean) receive} on {@code socket} give up
   * after {@code millis} (SO_RCVTIMEO); 0 waits for ever.
   *
   * @return 0, or the errno of setsockopt
   */
  public static int setReceiveTimeout(int socket, int millis) {
    long[] timeval = {millis / 1000, (millis % 1000) * 1000L};
    if (setsockopt(socket, SOL_SOCKET, SO_RCVTIMEO, timeval, 16) == 0) {
      return 0;
    }
    return Native.getLastError();
  }

  /** Whether {@code errno} from {@link #refuseDescriptors} says the kernel lacks the option. */
  public static boolean optionMissing(int errno) {
    return errno == ENOPROTOOPT;
  }

  private final int capacity;
  private final IntConsumer attached;
  private final Memory memory;
  private final long address;
  private final ByteBuffer view;
  private final ByteBuffer data;

  /** The buffers of {@link #input()} and {@link #output()} (empty unless asked for), and where. */
  private final ByteBuffer input;

  private final ByteBuffer output;
  private final long inputAddress;
  private final long outputAddress;

  /** The direct buffer last used in place, and its address. */
  private ByteBuffer lastDirect;

  private long lastDirectAddress;
  private int receivedDescriptors;
  private boolean truncated;

  /**
   * Native buffers for messages of up to {@code capacity} bytes copied from heap buffers;
   * descriptors a peer attaches are closed at once.
   */
  public SocketMessages(int capacity) {
    this(capacity, Descriptors::close);
  }

  /**
   * Like {@link #SocketMessages(int)}; each descriptor a peer attaches is handed to {@code
   * attached}, which owns it from then on (and closes it, on another thread where its close may
   * block: the release of a file whose last reference it is).
   */
  public SocketMessages(int capacity, IntConsumer attached) {
    this(capacity, 0, 0, attached);
  }

  /**
   * Like {@link #SocketMessages(int, IntConsumer)}, with two more native buffers, {@link #input()}
   * of {@code inputCapacity} bytes and {@link #output()} of {@code outputCapacity}, which receive
   * and send use in place (no copy, no JNI call for their address). They live in this object's
   * native memory, which {@link #close()} frees: nothing of them is left to the garbage collector.
   */
  public SocketMessages(int capacity, int inputCapacity, int outputCapacity, IntConsumer attached) {
    this.attached = java.util.Objects.requireNonNull(attached, "attached == null");
    if (capacity < 1 || inputCapacity < 0 || outputCapacity < 0) {
      throw new IllegalArgumentException(
          "capacities must be positive: "
              + capacity
              + ", "
              + inputCapacity
              + ", "
              + outputCapacity);
    }
    this.capacity = capacity;
    long total = DATA + (long) capacity + inputCapacity + outputCapacity;
    this.memory = new Memory(total);
    this.address = Pointer.nativeValue(memory);
    this.view = memory.getByteBuffer(0, DATA).order(ByteOrder.nativeOrder());
    this.data = memory.getByteBuffer(DATA, capacity);
    this.inputAddress = address + DATA + capacity;
    this.outputAddress = inputAddress + inputCapacity;
    this.input = memory.getByteBuffer(DATA + capacity, inputCapacity);
    this.output = memory.getByteBuffer(DATA + capacity + inputCapacity, outputCapacity);
    memory.clear(DATA);
    view.putLong(MSGHDR + MSG_IOV, address + IOVEC);
    view.putLong(MSGHDR + MSG_IOVLEN, 1);
  }

  /**
   * The input buffer of {@link #SocketMessages(int, int, int, IntConsumer)}: a direct buffer that
   * {@link #receive} fills in place. Valid until {@link #close()}; the same object every time.
   */
  public ByteBuffer input() {
    return input;
  }

  /** The output buffer, which {@link #send} sends from in place; as {@link #input()}. */
  public ByteBuffer output() {
    return output;
  }

  /**
   * Reads what the socket has into {@code dst} (at most its remaining room), advancing its
   * position. Descriptors the peer attached are handed to this object's owner of attached
   * descriptors (closed at once by default); {@link #receivedDescriptors()} and {@link
   * #descriptorsTruncated()} tell about them until the next call.
   *
   * @return the bytes read; 0 when nothing is waiting (or {@code dst} is full); -1 at end of stream
   * @throws IOException when the socket reports an error (ECONNRESET and the like)
   */
  public int receive(int socket, ByteBuffer dst) throws IOException {
    return receive(socket, dst, false);
  }

  /**
   * Like {@link #receive(int, ByteBuffer)}; with {@code wait}, on a socket in blocking mode, waits
   * for input up to the socket's receive timeout ({@link #setReceiveTimeout}) and returns 0 when
   * none came.
   */
  public int receive(int socket, ByteBuffer dst, boolean wait) throws IOException {
    receivedDescriptors = 0;
    truncated = false;
    int room = dst.remaining();
    if (room == 0) {
      return 0;
    }
    boolean inPlace = dst.isDirect();
    long target = inPlace ? addressOf(dst) + dst.position() : address + DATA;
    int length = inPlace ? room : Math.min(room, capacity);
    view.putLong(IOVEC, target);
    view.putLong(IOVEC + 8, length);
    view.putLong(MSGHDR + MSG_CONTROL, address + CONTROL);
    view.putLong(MSGHDR + MSG_CONTROLLEN, CONTROL_SIZE);
    view.putInt(MSGHDR + MSG_FLAGS, 0);
    long n;
    do {
      n = recvmsg(socket, address + MSGHDR, (wait ? 0 : MSG_DONTWAIT) | MSG_CMSG_CLOEXEC);
    } while (n < 0 && Native.getLastError() == EINTR);
    if (n < 0) {
      int errno = Native.getLastError();
      if (errno == EAGAIN) {
        return 0;
      }
      throw new IOException("recvmsg failed: " + Errno.name(errno));
    }
    closeReceivedDescriptors();
    if (n == 0) {
      return -1;
    }
    int count = (int) n;
    if (inPlace) {
      dst.position(dst.position() + count);
    } else {
      dst.put(data.duplicate().limit(count));
    }
    return count;
  }

  /** How many descriptors the peer attached to what the last {@link #receive} read (closed). */
  public int receivedDescriptors() {
    return receivedDescriptors;
  }

  /** Whether the peer attached more descriptors than there was room for (the rest were dropped). */
  public boolean descriptorsTruncated() {
    return truncated;
  }

  private void closeReceivedDescriptors() {
    truncated = (view.getInt(MSGHDR + MSG_FLAGS) & MSG_CTRUNC) != 0;
    long controlLength = view.getLong(MSGHDR + MSG_CONTROLLEN);
    int offset = 0;
    while (offset + CMSG_HEADER <= controlLength) {
      int at = CONTROL + offset;
      long length = view.getLong(at);
      if (length < CMSG_HEADER || offset + length > controlLength) {
        break;
      }
      if (view.getInt(at + 8) == SOL_SOCKET && view.getInt(at + 12) == SCM_RIGHTS) {
        int fds = (int) ((length - CMSG_HEADER) / 4);
        for (int i = 0; i < fds; i++) {
          attached.accept(view.getInt(at + CMSG_HEADER + 4 * i));
          receivedDescriptors++;
        }
      }
      offset += (int) ((length + 7) & ~7L);
    }
  }

  /**
   * Sends as much of {@code src}'s remaining bytes as the socket takes, advancing its position,
   * with the first {@code count} descriptors of {@code fds} attached to the first byte. The
   * descriptors travel only if at least one byte does; the caller still owns (and closes) them.
   *
   * @return the bytes sent; 0 when the socket would block (nothing, and no descriptor, was sent)
   * @throws IOException when the socket reports an error (EPIPE, ECONNRESET and the like)
   * @throws IllegalArgumentException for more than {@link #MAX_DESCRIPTORS} descriptors
   */
  public int send(int socket, ByteBuffer src, int[] fds, int count) throws IOException {
    if (count < 0 || count > MAX_DESCRIPTORS || count > fds.length) {
      throw new IllegalArgumentException("cannot attach " + count + " descriptors");
    }
    for (int i = 0; i < count; i++) {
      view.putInt(CONTROL + CMSG_HEADER + 4 * i, fds[i]);
    }
    return send(socket, src, count);
  }

  /**
   * Like {@link #send(int, ByteBuffer, int[], int)}, with the descriptors of {@code files}
   * attached; the caller still owns the files.
   *
   * @throws IllegalStateException when one of the files is closed
   */
  public int send(int socket, ByteBuffer src, List<OpenedFile> files) throws IOException {
    int count = files.size();
    if (count > MAX_DESCRIPTORS) {
      throw new IllegalArgumentException("cannot attach " + count + " descriptors");
    }
    for (int i = 0; i < count; i++) {
      OpenedFile file = files.get(i);
      if (file.isClosed()) {
        throw new IllegalStateException("OpenedFile is closed: fd " + file.fd());
      }
      view.putInt(CONTROL + CMSG_HEADER + 4 * i, file.fd());
    }
    return send(socket, src, count);
  }

  /** Sends with the first {@code count} descriptors already in the control buffer. */
  private int send(int socket, ByteBuffer src, int count) throws IOException {
    int remaining = src.remaining();
    if (remaining == 0) {
      return 0;
    }
    boolean inPlace = src.isDirect();
    int length = inPlace ? remaining : Math.min(remaining, capacity);
    long source;
    if (inPlace) {
      source = addressOf(src) + src.position();
    } else {
      data.clear();
      data.put(0, src, src.position(), length);
      source = address + DATA;
    }
    view.putLong(IOVEC, source);
    view.putLong(IOVEC + 8, length);
    if (count > 0) {
      view.putLong(CONTROL, CMSG_HEADER + 4L * count);
      view.putInt(CONTROL + 8, SOL_SOCKET);
      view.putInt(CONTROL + 12, SCM_RIGHTS);
      view.putLong(MSGHDR + MSG_CONTROL, address + CONTROL);
      view.putLong(MSGHDR + MSG_CONTROLLEN, (CMSG_HEADER + 4L * count + 7) & ~7L);
    } else {
      view.putLong(MSGHDR + MSG_CONTROL, 0);
      view.putLong(MSGHDR + MSG_CONTROLLEN, 0);
    }
    view.putInt(MSGHDR + MSG_FLAGS, 0);
    long n;
    do {
      n = sendmsg(socket, address + MSGHDR, MSG_DONTWAIT | MSG_NOSIGNAL);
    } while (n < 0 && Native.getLastError() == EINTR);
    if (n < 0) {
      int errno = Native.getLastError();
      if (errno == EAGAIN) {
        return 0;
      }
      throw new IOException("sendmsg failed: " + Errno.name(errno));
    }
    src.position(src.position() + (int) n);
    return (int) n;
  }

  /** Frees the native buffers; the object must not be used afterwards. */
  @Override
  public void close() {
    memory.close();
  }

  private long addressOf(ByteBuffer direct) {
    if (direct == input) {
      return inputAddress;
    }
    if (direct == output) {
      return outputAddress;
    }
    if (direct != lastDirect) {
      lastDirectAddress = Pointer.nativeValue(Native.getDirectBufferPointer(direct));
      lastDirect = direct;
    }
    return lastDirectAddress;
  }
}
