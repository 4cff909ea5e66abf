package dev.filebroker.client;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.FileDescriptor;
import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.ByteBuffer;
import java.nio.MappedByteBuffer;
import java.nio.channels.ClosedChannelException;
import java.nio.channels.FileChannel;
import java.nio.channels.FileChannel.MapMode;
import java.nio.channels.FileLock;
import java.nio.channels.OverlappingFileLockException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** DescriptorChannel on real files opened O_RDWR, checked through /proc/self/fd. */
class DescriptorChannelTest {
  @TempDir Path dir;

  /** A descriptor on a new file with this content, opened O_RDWR and owned by the caller. */
  private FileDescriptor openReadWrite(String name, String content) throws IOException {
    Path file = Files.writeString(dir.resolve(name), content);
    // takeOwnership closes the RandomAccessFile through its descriptor.
    return Descriptors.takeOwnership(new RandomAccessFile(file.toFile(), "rw").getFD());
  }

  private static String read(FileChannel channel, int length) throws IOException {
    ByteBuffer buffer = ByteBuffer.allocate(length);
    while (buffer.hasRemaining() && channel.read(buffer) > 0) {}
    return new String(buffer.array(), 0, buffer.position(), StandardCharsets.US_ASCII);
  }

  private static ByteBuffer bytes(String text) {
    return ByteBuffer.wrap(text.getBytes(StandardCharsets.US_ASCII));
  }

  private static List<String> openDescriptorNumbers() throws IOException {
    try (Stream<Path> fds = Files.list(Path.of("/proc/self/fd"))) {
      return fds.map(fd -> fd.getFileName().toString()).sorted().toList();
    }
  }

  @Test
  void interleavedReadsAndWritesShareOneOffset() throws IOException {
    try (FileChannel channel =
        new DescriptorChannel(openReadWrite("a", "0123456789"), true, true, null)) {
      assertEquals("012", read(channel, 3));
      channel.write(bytes("ab"));
      assertEquals(5, channel.position(), "a write must move the offset reads start from");
      assertEquals("56", read(channel, 2));
      channel.position(0);
      assertEquals("012ab56789", read(channel, 20));
      assertEquals("012ab56789", Files.readString(dir.resolve("a")));
    }
  }

  @Test
  void positionalReadsAndWritesLeaveTheOffsetAlone() throws IOException {
    try (FileChannel channel =
        new DescriptorChannel(openReadWrite("b", "abcdef"), true, true, null)) {
      channel.position(2);
      assertEquals(2, channel.write(bytes("XY"), 4));
      ByteBuffer back = ByteBuffer.allocate(3);
      assertEquals(3, channel.read(back, 3));
      assertEquals("dXY", new String(back.array(), StandardCharsets.US_ASCII));
      assertEquals(2, channel.position(), "positional I/O must not move the offset");
      assertEquals(2, channel.write(bytes("!!"), 8));
      assertEquals(10, channel.size(), "a write past the end must grow the file");
    }
  }

  @Test
  void scatteringAndGatheringUseTheSharedOffset() throws IOException {
    try (FileChannel channel = new DescriptorChannel(openReadWrite("c", ""), true, true, null)) {
      channel.write(new ByteBuffer[] {bytes("ab"), bytes("cd")});
      channel.position(1);
      ByteBuffer first = ByteBuffer.allocate(1);
      ByteBuffer second = ByteBuffer.allocate(2);
      assertEquals(3, channel.read(new ByteBuffer[] {first, second}));
      assertEquals("b", new String(first.array(), StandardCharsets.US_ASCII));
      assertEquals("cd", new String(second.array(), StandardCharsets.US_ASCII));
    }
  }

  @Test
  void truncateShrinksTheFileAndPullsThePositionBack() throws IOException {
    try (FileChannel channel =
        new DescriptorChannel(openReadWrite("d", "0123456789"), true, true, null)) {
      channel.position(8);
      assertSame(channel, channel.truncate(4));
      assertEquals(4, channel.size());
      assertEquals(4, channel.position());
      channel.force(true);
      assertEquals("0123", Files.readString(dir.resolve("d")));
    }
  }

  @Test
  void transfersInBothDirections() throws IOException {
    try (FileChannel source =
            new DescriptorChannel(openReadWrite("e", "payload"), true, true, null);
        FileChannel target = new DescriptorChannel(openReadWrite("f", ""), true, true, null)) {
      assertEquals(7, source.transferTo(0, 7, target));
      assertEquals(0, source.position(), "transferTo must not move the source's offset");
      assertEquals(3, target.transferFrom(source.position(4), 7, 3));
      assertEquals(7, source.position(), "transferFrom must read from the source's offset");
      assertEquals("payloadoad", Files.readString(dir.resolve("f")));
    }
  }

  @Test
  void locksAreHeldThroughThisChannelAndOverlapsAreRefused() throws IOException {
    try (FileChannel channel =
        new DescriptorChannel(openReadWrite("g", "locked"), true, true, null)) {
      FileLock exclusive = channel.lock(0, 3, false);
      assertSame(channel, exclusive.channel(), "a lock must report the channel it was taken on");
      assertTrue(exclusive.isValid());
      assertFalse(exclusive.isShared());
      assertThrows(OverlappingFileLockException.class, () -> channel.tryLock(1, 1, true));
      FileLock shared = channel.tryLock(3, 3, true);
      assertNotNull(shared);
      assertTrue(shared.isShared());
      exclusive.release();
      assertFalse(exclusive.isValid());
      try (FileLock again = channel.tryLock(0, 3, false)) {
        assertNotNull(again, "a released region must be lockable again");
      }
      shared.release();
    }
  }

  @Test
  void mapsReadOnlyAndRefusesWritableMappingsWithAReason() throws IOException {
    try (FileChannel channel =
        new DescriptorChannel(openReadWrite("h", "mapped"), true, true, null)) {
      MappedByteBuffer mapped = channel.map(MapMode.READ_ONLY, 0, 6);
      assertEquals('m', mapped.get(0));
      UnsupportedOperationException refused =
          assertThrows(
              UnsupportedOperationException.class, () -> channel.map(MapMode.READ_WRITE, 0, 6));
      assertTrue(refused.getMessage().contains("READ_ONLY"), refused.getMessage());
      assertThrows(UnsupportedOperationException.class, () -> channel.map(MapMode.PRIVATE, 0, 6));
    }
  }

  @Test
  void closeClosesTheDescriptorExactlyOnce() throws IOException {
    List<String> before = openDescriptorNumbers();
    FileDescriptor descriptor = openReadWrite("i", "data");
    String number = Integer.toString(Descriptors.number(descriptor));
    FileChannel channel = new DescriptorChannel(descriptor, true, true, null);
    read(channel, 1);
    channel.close();
    assertFalse(channel.isOpen());
    assertFalse(descriptor.valid(), "closing the channel must close the descriptor");
    assertEquals(before, openDescriptorNumbers(), "the channel must leave no descriptor open");

    // The kernel hands out the lowest free number: the next file most likely reuses it. Closing
    // again in every way must not close that file.
    Path other = Files.writeString(dir.resolve("other"), "other");
    try (RandomAccessFile reuser = new RandomAccessFile(other.toFile(), "r")) {
      channel.close();
      Descriptors.close(descriptor);
      assertThrows(ClosedChannelException.class, () -> channel.read(ByteBuffer.allocate(1)));
      assertEquals("other", reuser.readLine(), "a second close must not close a reused number");
      assertEquals(
          other,
          Files.readSymbolicLink(
              Path.of("/proc/self/fd", Integer.toString(Descriptors.number(reuser.getFD())))));
      if (Integer.toString(Descriptors.number(reuser.getFD())).equals(number)) {
        assertTrue(openDescriptorNumbers().contains(number));
      }
    }
  }

  @Test
  void closingThroughTheDescriptorClosesBothHalves() throws IOException {
    FileDescriptor descriptor = openReadWrite("j", "data");
    FileChannel channel = new DescriptorChannel(descriptor, true, true, null);
    Descriptors.close(descriptor);
    assertThrows(ClosedChannelException.class, () -> channel.read(ByteBuffer.allocate(1)));
    assertThrows(ClosedChannelException.class, () -> channel.write(bytes("x")));
    assertFalse(channel.isOpen(), "a channel whose halves were closed must report itself closed");
  }
}
