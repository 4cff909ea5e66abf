package dev.filebroker.daemon.fs;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.sun.jna.Memory;
import com.sun.jna.Pointer;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import org.newsclub.net.unix.AFUNIXSocketChannel;
import org.newsclub.net.unix.AFUNIXSocketPair;

/**
 * Both bindings of the request path's calls, JNA and the foreign function API, against the real
 * kernel: results as C returns them, failures as {@code -errno}.
 */
class RequestCallsTest {
  private static final int ENOENT = 2;
  private static final int EBADF = 9;
  private static final long O_PATH = 010000000;
  private static final long O_CLOEXEC = 02000000;
  private static final int F_GETFL = 3;

  @TempDir Path temp;

  static List<RequestCalls> bindings() {
    List<RequestCalls> all = new ArrayList<>();
    all.add(RequestCalls.jna());
    RequestCalls.foreign().ifPresent(all::add);
    return all;
  }

  @Test
  void theForeignBindingIsWhatJava22AndLaterGet() {
    // The tests run with native access enabled, as the launchers run the daemon.
    if (Runtime.version().feature() >= 22) {
      assertTrue(RequestCalls.foreign().isPresent(), "bound on Java " + Runtime.version());
      assertInstanceOf(ForeignCalls.class, RequestCalls.bind());
      assertInstanceOf(ForeignCalls.class, LibC.CALLS);
    } else {
      assertTrue(RequestCalls.foreign().isEmpty());
      assertEquals(RequestCalls.jna(), LibC.CALLS);
    }
  }

  @ParameterizedTest
  @MethodSource("bindings")
  void openat2OpensAndFailsWithTheErrno(RequestCalls calls) throws IOException {
    Path file = Files.writeString(temp.resolve("f"), "x");
    try (Memory path = cString(file.toString());
        Memory missing = cString(temp.resolve("missing").toString());
        Memory how = new Memory(24)) {
      how.clear();
      how.setLong(0, O_PATH | O_CLOEXEC);
      long fd = calls.openat2(LibC.AT_FDCWD, address(path), address(how), 24);
      assertTrue(fd >= 0, "a descriptor: " + fd);
      assertEquals(O_PATH, calls.fcntl((int) fd, F_GETFL, 0) & O_PATH, "opened O_PATH");
      assertEquals(0, calls.close((int) fd));
      assertEquals(-EBADF, calls.close((int) fd), "closed already");
      assertEquals(-EBADF, calls.fcntl((int) fd, F_GETFL, 0));
      assertEquals(-ENOENT, calls.openat2(LibC.AT_FDCWD, address(missing), address(how), 24));
    }
  }

  @ParameterizedTest
  @MethodSource("bindings")
  void statxOfADescriptorFillsTheBufferAndFailsWithTheErrno(RequestCalls calls) throws IOException {
    Path file = Files.writeString(temp.resolve("f"), "12345");
    try (Memory path = cString(file.toString());
        Memory empty = cString("");
        Memory how = new Memory(24);
        Memory statx = new Memory(256)) {
      how.clear();
      how.setLong(0, O_PATH | O_CLOEXEC);
      int fd = (int) calls.openat2(LibC.AT_FDCWD, address(path), address(how), 24);
      try {
        statx.clear();
        // STATX_SIZE, AT_EMPTY_PATH
        assertEquals(0, calls.statx(fd, address(empty), LibC.AT_EMPTY_PATH, 0x200, address(statx)));
        assertEquals(5, statx.getLong(40), "stx_size");
        assertEquals(
            -EBADF, calls.statx(-1, address(empty), LibC.AT_EMPTY_PATH, 0x200, address(statx)));
      } finally {
        calls.close(fd);
      }
    }
  }

  @ParameterizedTest
  @MethodSource("bindings")
  void sendmsgAndRecvmsgCarryBytesAndFailWithTheErrno(RequestCalls calls) throws IOException {
    AFUNIXSocketPair<AFUNIXSocketChannel> pair = AFUNIXSocketPair.open();
    try (AFUNIXSocketChannel a = pair.getSocket1();
        AFUNIXSocketChannel b = pair.getSocket2();
        Memory data = new Memory(16);
        Memory iovec = new Memory(16);
        Memory message = new Memory(56)) {
      int sender = Descriptors.fdOf(a.getFileDescriptor());
      int receiver = Descriptors.fdOf(b.getFileDescriptor());
      data.write(0, "hello".getBytes(StandardCharsets.US_ASCII), 0, 5);
      message.clear();
      iovec.setLong(0, address(data));
      iovec.setLong(8, 5);
      message.setLong(16, address(iovec));
      message.setLong(24, 1);
      assertEquals(5, calls.sendmsg(sender, address(message), 0));
      data.clear();
      iovec.setLong(8, 16);
      assertEquals(5, calls.recvmsg(receiver, address(message), 0));
      ByteBuffer got = data.getByteBuffer(0, 5);
      assertEquals("hello", StandardCharsets.US_ASCII.decode(got).toString());
      assertEquals(-EBADF, calls.sendmsg(-1, address(message), 0));
      assertEquals(-EBADF, calls.recvmsg(-1, address(message), 0));
    }
  }

  private static Memory cString(String s) {
    byte[] bytes = s.getBytes(StandardCharsets.UTF_8);
    Memory m = new Memory(bytes.length + 1);
    m.write(0, bytes, 0, bytes.length);
    m.setByte(bytes.length, (byte) 0);
    return m;
  }

  private static long address(Memory m) {
    return Pointer.nativeValue(m);
  }
}
