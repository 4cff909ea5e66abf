package dev.filebroker.client;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.filebroker.protocol.OpenFlags;
import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.ByteBuffer;
import java.nio.channels.ClosedChannelException;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFileAttributes;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** BrokeredFile on descriptors of real files, as the reply reader hands them over. */
class BrokeredFileTest {
  private static final Path DEV_NULL = Path.of("/dev/null");

  @TempDir Path dir;

  private BrokeredFile openReadWrite(String content) throws IOException {
    Path file = Files.writeString(dir.resolve("file"), content);
    return new BrokeredFile(
        Descriptors.takeOwnership(new RandomAccessFile(file.toFile(), "rw").getFD()),
        file.toString(),
        OpenFlags.O_RDWR,
        0100644);
  }

  private static long descriptorsOnDevNull() throws IOException {
    try (Stream<Path> fds = Files.list(Path.of("/proc/self/fd"))) {
      return fds.filter(
              fd -> {
                try {
                  return Files.readSymbolicLink(fd).equals(DEV_NULL);
                } catch (IOException e) {
                  return false;
                }
              })
          .count();
    }
  }

  private static String statFileType(Path path) throws IOException, InterruptedException {
    Process stat = new ProcessBuilder("stat", "-c", "%F", path.toString()).start();
    assertTrue(stat.waitFor(10, TimeUnit.SECONDS), "stat must finish");
    return new String(stat.getInputStream().readAllBytes(), StandardCharsets.UTF_8).strip();
  }

  /**
   * Regression: junixsocket's FileDescriptorCast made read-write channels from a RandomAccessFile
   * on /dev/null and deleted that path on close. Run as root (as CI does), that replaced the
   * character device with a regular file.
   */
  @Test
  void aReadWriteChannelLeavesDevNullACharacterDevice() throws Exception {
    long devNullBefore = descriptorsOnDevNull();
    try (BrokeredFile file = openReadWrite("abc")) {
      FileChannel channel = file.channel();
      assertInstanceOf(DescriptorChannel.class, channel);
      channel.write(ByteBuffer.wrap("XY".getBytes(StandardCharsets.US_ASCII)), 0);
      assertEquals(devNullBefore, descriptorsOnDevNull(), "the channel must not open /dev/null");
      channel.close();
    }
    assertTrue(
        Files.readAttributes(DEV_NULL, PosixFileAttributes.class).isOther(),
        "/dev/null must still be a device, not a regular file");
    assertEquals("character special file", statFileType(DEV_NULL));
    assertEquals("XYc", Files.readString(dir.resolve("file")));
  }

  @Test
  void aReadWriteFileSharesOneOffsetBetweenItsStreams() throws IOException {
    try (BrokeredFile file = openReadWrite("hello world")) {
      assertEquals(
          "hello", new String(file.inputStream().readNBytes(5), StandardCharsets.US_ASCII));
      file.channel().write(ByteBuffer.wrap("_".getBytes(StandardCharsets.US_ASCII)));
      assertEquals(
          "world", new String(file.inputStream().readAllBytes(), StandardCharsets.US_ASCII));
    }
    assertEquals("hello_world", Files.readString(dir.resolve("file")));
  }

  @Test
  void closeClosesChannelAndDescriptorOnce() throws IOException {
    BrokeredFile file = openReadWrite("x");
    FileChannel channel = file.channel();
    file.close();
    file.close();
    assertFalse(channel.isOpen());
    assertFalse(file.fileDescriptor().valid());
    assertFalse(file.isOpen());
  }

  @Test
  void anOPathDescriptorIsNeitherReadableNorWritable() throws IOException {
    try (BrokeredFile file =
        new BrokeredFile(
            Descriptors.takeOwnership(
                new RandomAccessFile(Files.writeString(dir.resolve("p"), "").toFile(), "r")
                    .getFD()),
            "/p",
            OpenFlags.O_PATH,
            0100644)) {
      assertFalse(file.isReadable());
      assertFalse(file.isWritable());
    }
  }

  @Test
  void closingAStreamOrTheChannelClosesTheFile() throws IOException {
    BrokeredFile byInput = openReadWrite("in");
    byInput.inputStream().close();
    assertFalse(byInput.isOpen(), "closing inputStream() closes the file");
    assertFalse(byInput.fileDescriptor().valid());
    assertThrows(ClosedChannelException.class, byInput::channel);
    byInput.close();

    BrokeredFile byOutput = openReadWrite("out");
    byOutput.outputStream().close();
    assertFalse(byOutput.isOpen(), "closing outputStream() closes the file");

    BrokeredFile byChannel = openReadWrite("channel");
    byChannel.channel().close();
    assertFalse(byChannel.isOpen(), "closing channel() closes the file");
    byChannel.close();
    assertFalse(byChannel.isOpen());
  }
}
