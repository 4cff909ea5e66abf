package dev.filebroker.daemon.fs;

import com.sun.jna.Memory;
import com.sun.jna.Native;
import com.sun.jna.Platform;
import com.sun.jna.Pointer;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/**
 * Readiness of many descriptors through epoll(7), for the threads that watch idle connections.
 * Unlike junixsocket's selector, which hands the kernel every registered descriptor on each call
 * (poll), a wait here costs the number of ready descriptors, so ten thousand idle connections cost
 * nothing while one client is active.
 *
 * <p>Level-triggered. Each registration carries a caller-chosen {@code long} token that comes back
 * with its events. One thread waits; {@link #wakeup()} may be called from any thread. Not otherwise
 * thread-safe.
 *
 * <p>Once {@link #close() closed} (by the thread that waits, as it ends), every call is refused or
 * does nothing, from whichever thread: the two descriptors' numbers are the kernel's to give to the
 * next open, and a late wakeup must not write eight bytes into a client's connection or a file the
 * daemon opened, nor a late remove take a descriptor out of another poller.
 */
public final class Poller implements AutoCloseable {
  /** Interest in, and readiness for, reading (EPOLLIN; hang-ups are reported as readable). */
  public static final int READ = 0x001;

  /** Interest in, and readiness for, writing (EPOLLOUT). */
  public static final int WRITE = 0x004;

  /**
   * With {@link #add} or {@link #modify}: report the descriptor once, then disarm it until the next
   * {@link #modify} (EPOLLONESHOT), so that its owner can hand it to another thread.
   */
  public static final int ONCE = 1 << 30;

  private static final int EPOLLERR = 0x008;
  private static final int EPOLLHUP = 0x010;
  private static final int EPOLLRDHUP = 0x2000;
  private static final int EPOLL_CTL_ADD = 1;
  private static final int EPOLL_CTL_DEL = 2;
  private static final int EPOLL_CTL_MOD = 3;
  private static final int EPOLL_CLOEXEC = 02000000;
  private static final int EFD_CLOEXEC = 02000000;
  private static final int EFD_NONBLOCK = 04000;
  private static final long WAKEUP_TOKEN = Long.MIN_VALUE;

  // struct epoll_event is packed on x86-64 (12 bytes) and naturally aligned elsewhere (16).
  private static final int EVENT_SIZE = Platform.isIntel() && Platform.is64Bit() ? 12 : 16;
  private static final int DATA_OFFSET = EVENT_SIZE == 12 ? 4 : 8;

  static {
    Native.register(Poller.class, CLibrary.INSTANCE);
  }

  private static native int epoll_create1(int flags);

  // Addresses travel as long: a Pointer argument costs JNA a JNI field read per call.
  private static native int epoll_ctl(int epfd, int op, int fd, long event);

  private static native int epoll_wait(int epfd, long events, int maxEvents, int timeout);

  private static native int eventfd(int initval, int flags);

  private static native long write(int fd, long buffer, long count);

  private static native long read(int fd, long buffer, long count);

  private static native int close(int fd);

  private final int epfd;
  private final int wakeFd;
  private final int capacity;

  /** Native memory: the epoll_ctl argument, the eventfd counters, then the ready events. */
  private final Memory memory;

  private final long address;
  private final ByteBuffer view;

  /** Guards the two descriptors: set by {@link #close()}, checked by every call made on them. */
  private final Object lock = new Object();

  private volatile boolean closed;

  private static final int CONTROL = 0;
  private static final int COUNTER = 16;
  private static final int WAKE_VALUE = 24;
  private static final int EVENTS = 32;

  private Poller(int epfd, int wakeFd, int capacity) {
    this.epfd = epfd;
    this.wakeFd = wakeFd;
    this.capacity = capacity;
    long size = EVENTS + (long) EVENT_SIZE * capacity;
    this.memory = new Memory(size);
    this.address = Pointer.nativeValue(memory);
    this.view = memory.getByteBuffer(0, size).order(ByteOrder.nativeOrder());
    view.putLong(WAKE_VALUE, 1);
  }

  /** A poller returning at most {@code capacity} ready descriptors per wait. */
  public static Poller open(int capacity) throws IOException {
    if (capacity < 1) {
      throw new IllegalArgumentException("capacity must be positive: " + capacity);
    }
    int epfd = epoll_create1(EPOLL_CLOEXEC);
    if (epfd < 0) {
      throw new IOException("epoll_create1 failed: " + Errno.name(Native.getLastError()));
    }
    int wakeFd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    if (wakeFd < 0) {
      int errno = Native.getLastError();
      close(epfd);
      throw new IOException("eventfd failed: " + Errno.name(errno));
    }
    Poller poller = new Poller(epfd, wakeFd, capacity);
    try {
      poller.control(EPOLL_CTL_ADD, wakeFd, WAKEUP_TOKEN, READ);
    } catch (IOException e) {
      poller.close();
      throw e;
    }
    return poller;
  }

  /** Watches {@code fd} for {@code interest} ({@link #READ} and/or {@link #WRITE}). */
  public void add(int fd, long token, int interest) throws IOException {
    control(EPOLL_CTL_ADD, fd, token, interest);
  }

  /** Changes what {@code fd} is watched for. */
  public void modify(int fd, long token, int interest) throws IOException {
    control(EPOLL_CTL_MOD, fd, token, interest);
  }

  /** Stops watching {@code fd}; call before closing it. Unknown descriptors are ignored. */
  public void remove(int fd) {
    synchronized (lock) {
      if (!closed) {
        epoll_ctl(epfd, EPOLL_CTL_DEL, fd, 0);
      }
    }
  }

  private void control(int op, int fd, long token, int interest) throws IOException {
    synchronized (lock) {
      if (closed) {
        throw new IOException("epoll_ctl on fd " + fd + ": the poller is closed");
      }
      controlOpen(op, fd, token, interest);
    }
  }

  private void controlOpen(int op, int fd, long token, int interest) throws IOException {
    // EPOLLRDHUP only while reading: a half-closed peer must not wake a loop that waits to write.
    int bits = interest & (READ | WRITE);
    bits = (bits & READ) != 0 ? bits | EPOLLRDHUP : bits;
    view.putInt(CONTROL, (interest & ONCE) != 0 ? bits | ONCE : bits);
    view.putLong(CONTROL + DATA_OFFSET, token);
    if (epoll_ctl(epfd, op, fd, address + CONTROL) != 0) {
      throw new IOException(
          "epoll_ctl on fd " + fd + " failed: " + Errno.name(Native.getLastError()));
    }
  }

  /**
   * Waits up to {@code timeoutMillis} (-1: forever) and fills {@code tokens}/{@code ready} with the
   * ready registrations; returns how many. A {@link #wakeup()} ends the wait early and is not
   * reported as an event. Errors, hang-ups and peer shutdowns are reported as {@link #READ}, so the
   * owner's next read sees them.
   */
  public int poll(long[] tokens, int[] ready, int timeoutMillis) throws IOException {
    int max = Math.min(capacity, Math.min(tokens.length, ready.length));
    if (closed) {
      // Only the waiting thread closes: it does not wait on a closed poller. Another may not.
      throw new IOException("epoll_wait: the poller is closed");
    }
    int n = epoll_wait(epfd, address + EVENTS, max, timeoutMillis);
    if (n < 0) {
      int errno = Native.getLastError();
      if (errno == 4) { // EINTR: a signal arrived; nothing is ready.
        return 0;
      }
      throw new IOException("epoll_wait failed: " + Errno.name(errno));
    }
    int count = 0;
    for (int i = 0; i < n; i++) {
      int offset = EVENTS + i * EVENT_SIZE;
      int bits = view.getInt(offset);
      long token = view.getLong(offset + DATA_OFFSET);
      if (token == WAKEUP_TOKEN) {
        read(wakeFd, address + COUNTER, 8);
        continue;
      }
      int mapped = bits & (READ | WRITE);
      if ((bits & (EPOLLERR | EPOLLHUP | EPOLLRDHUP)) != 0) {
        mapped |= READ;
      }
      tokens[count] = token;
      ready[count] = mapped;
      count++;
    }
    return count;
  }

  /** Ends a {@link #poll} in progress, or the next one, at once. Safe from any thread. */
  public void wakeup() {
    synchronized (lock) {
      if (!closed) {
        write(wakeFd, address + WAKE_VALUE, 8);
      }
    }
  }

  /** The eventfd {@link #wakeup()} writes to (for tests). */
  int wakeDescriptor() {
    return wakeFd;
  }

  /** Closes the two descriptors, once; every later call is refused or does nothing. */
  @Override
  public void close() {
    synchronized (lock) {
      if (closed) {
        return;
      }
      closed = true;
      close(wakeFd);
      close(epfd);
    }
  }
}
