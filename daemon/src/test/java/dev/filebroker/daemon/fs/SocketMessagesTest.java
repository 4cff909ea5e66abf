package dev.filebroker.daemon.fs;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.filebroker.daemon.policy.FileType;
import dev.filebroker.daemon.testing.ConnectedSockets;
import java.io.FileDescriptor;
import java.io.FileInputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.newsclub.net.unix.AFUNIXSocketChannel;

/** recvmsg/sendmsg with descriptors over a real connection, as the serving threads use them. */
class SocketMessagesTest {
  private static final Duration TIMEOUT = Duration.ofSeconds(10);

  @TempDir Path temp;

  private ConnectedSockets pair;
  private int daemonSide;
  private final SocketMessages io = new SocketMessages(64);

  @BeforeEach
  void open() throws IOException {
    pair = ConnectedSockets.open(temp, "s");
    pair.accepted().configureBlocking(false);
    daemonSide = Descriptors.fdOf(pair.accepted().getFileDescriptor());
  }

  @AfterEach
  void close() throws IOException {
    pair.close();
  }

  private static ByteBuffer ascii(String s, boolean direct) {
    byte[] bytes = s.getBytes(StandardCharsets.US_ASCII);
    ByteBuffer b =
        direct ? ByteBuffer.allocateDirect(bytes.length) : ByteBuffer.allocate(bytes.length);
    return b.put(bytes).flip();
  }

  @Test
  void sentDescriptorsArriveWithTheFirstByteAndStayOwnedByTheSender() throws Exception {
    Path file = Files.writeString(temp.resolve("data"), "content");
    assertTimeoutPreemptively(
        TIMEOUT,
        () -> {
          try (FileInputStream in = new FileInputStream(file.toFile())) {
            int fd = Descriptors.fdOf(in.getFD());
            ByteBuffer reply = ascii("reply", false);
            assertEquals(5, io.send(daemonSide, reply, new int[] {fd}, 1));
            assertFalse(reply.hasRemaining());
            assertTrue(in.getFD().valid(), "the sender's descriptor is still its own");

            AFUNIXSocketChannel client = pair.client();
            client.setAncillaryReceiveBufferSize(256);
            ByteBuffer got = ByteBuffer.allocate(16);
            assertEquals(5, client.read(got));
            assertEquals("reply", new String(got.array(), 0, 5, StandardCharsets.US_ASCII));
            FileDescriptor[] received = client.getReceivedFileDescriptors();
            assertEquals(1, received.length, "one descriptor travels with the reply");
            try (FileInputStream copy = new FileInputStream(received[0])) {
              assertEquals("content", new String(copy.readAllBytes(), StandardCharsets.US_ASCII));
            }
          }
        });
  }

  @Test
  void opensFilesTravelFromAList() throws Exception {
    Path file = Files.writeString(temp.resolve("data"), "x");
    assertTimeoutPreemptively(
        TIMEOUT,
        () -> {
          try (FileOpener opener = FileOpener.create()) {
            List<OpenedFile> files = new ArrayList<>();
            for (int i = 0; i < 3; i++) {
              OpenOutcome outcome =
                  opener.open(file.toString(), new OpenSpec(0, 0, Set.of(FileType.REGULAR), false));
              files.add(((OpenOutcome.Opened) outcome).file());
            }
            try {
              assertEquals(2, io.send(daemonSide, ascii("ab", true), files));
              AFUNIXSocketChannel client = pair.client();
              client.setAncillaryReceiveBufferSize(256);
              assertEquals(2, client.read(ByteBuffer.allocate(8)));
              FileDescriptor[] received = client.getReceivedFileDescriptors();
              assertEquals(3, received.length);
              for (FileDescriptor d : received) {
                new FileInputStream(d).close();
              }
            } finally {
              files.forEach(OpenedFile::close);
            }
            files.get(0).close();
            IllegalStateException e =
                assertThrows(
                    IllegalStateException.class,
                    () -> io.send(daemonSide, ascii("c", true), files));
            assertTrue(e.getMessage().startsWith("OpenedFile is closed"), e.getMessage());
          }
        });
  }

  @Test
  void receivesIntoHeapAndDirectBuffersAndReportsNothingWaitingAndTheEnd() throws Exception {
    assertTimeoutPreemptively(
        TIMEOUT,
        () -> {
          ByteBuffer heap = ByteBuffer.allocate(32);
          assertEquals(0, io.receive(daemonSide, heap), "nothing waits: 0, not an error");
          pair.client().write(ascii("hello", false));
          assertEquals(5, io.receive(daemonSide, heap));
          assertEquals("hello", new String(heap.array(), 0, 5, StandardCharsets.US_ASCII));
          pair.client().write(ascii("world", false));
          ByteBuffer direct = ByteBuffer.allocateDirect(32).position(3);
          assertEquals(5, io.receive(daemonSide, direct));
          assertEquals(8, direct.position());
          assertEquals(0, io.receivedDescriptors());
          pair.client().close();
          assertEquals(-1, io.receive(daemonSide, direct), "end of stream");
        });
  }

  @Test
  void descriptorsAPeerAttachesAreClosedCountedAndTruncationReported() throws Exception {
    Path file = Files.writeString(temp.resolve("data"), "x");
    assertTimeoutPreemptively(
        TIMEOUT,
        () -> {
          List<FileInputStream> streams = new ArrayList<>();
          try {
            for (int i = 0; i < 3; i++) {
              streams.add(new FileInputStream(file.toFile()));
            }
            FileDescriptor[] three =
                streams.stream()
                    .map(
                        s -> {
                          try {
                            return s.getFD();
                          } catch (IOException e) {
                            throw new AssertionError(e);
                          }
                        })
                    .toArray(FileDescriptor[]::new);
            int before = Descriptors.openDescriptorCount();
            pair.client().setOutboundFileDescriptors(three);
            pair.client().write(ascii("r", false));
            pair.client().setOutboundFileDescriptors();
            assertEquals(1, io.receive(daemonSide, ByteBuffer.allocate(8)));
            assertEquals(3, io.receivedDescriptors());
            assertFalse(io.descriptorsTruncated());
            assertEquals(before, Descriptors.openDescriptorCount(), "received copies are closed");

            FileDescriptor[] many = new FileDescriptor[SocketMessages.MAX_DESCRIPTORS + 10];
            Arrays.fill(many, three[0]);
            pair.client().setOutboundFileDescriptors(many);
            pair.client().write(ascii("s", false));
            pair.client().setOutboundFileDescriptors();
            assertEquals(1, io.receive(daemonSide, ByteBuffer.allocate(8)));
            assertTrue(io.descriptorsTruncated(), "more than fit: MSG_CTRUNC");
            assertEquals(SocketMessages.MAX_DESCRIPTORS, io.receivedDescriptors());
            assertEquals(before, Descriptors.openDescriptorCount(), "none is left open");
          } finally {
            for (FileInputStream s : streams) {
              s.close();
            }
          }
        });
  }

  @Test
  void aFullSocketTakesNothingAndNoDescriptor() throws Exception {
    Path file = Files.writeString(temp.resolve("data"), "x");
    assertTimeoutPreemptively(
        TIMEOUT,
        () -> {
          ByteBuffer chunk = ByteBuffer.allocateDirect(1 << 16);
          while (io.send(daemonSide, chunk.clear(), new int[0], 0) > 0) {
            // fill the socket buffers
          }
          try (FileInputStream in = new FileInputStream(file.toFile())) {
            ByteBuffer reply = ascii("x", true);
            assertEquals(
                0, io.send(daemonSide, reply, new int[] {Descriptors.fdOf(in.getFD())}, 1));
            assertEquals(0, reply.position(), "nothing was taken");
          }
          pair.client().close();
          assertThrows(
              IOException.class, () -> io.send(daemonSide, ascii("y", true), new int[0], 0));
        });
  }

  @Test
  void refusesMoreDescriptorsThanOneMessageCarries() {
    IllegalArgumentException e =
        assertThrows(
            IllegalArgumentException.class,
            () ->
                io.send(
                    daemonSide,
                    ascii("x", true),
                    new int[SocketMessages.MAX_DESCRIPTORS + 1],
                    SocketMessages.MAX_DESCRIPTORS + 1));
    assertEquals("cannot attach 65 descriptors", e.getMessage());
  }

  @Test
  void theOwnInputAndOutputBuffersAreUsedInPlaceNotThroughTheCopyArea() throws Exception {
    assertTimeoutPreemptively(
        TIMEOUT,
        () -> {
          // A copy area of 4 bytes: a heap buffer goes out 4 bytes per call.
          try (SocketMessages own = new SocketMessages(4, 64, 64, fd -> {})) {
            ByteBuffer heap = ascii("through the copy area", false);
            assertEquals(4, own.send(daemonSide, heap, List.of()), "a heap buffer, 4 at a time");
            ByteBuffer out = own.output();
            assertTrue(out.isDirect());
            out.clear().put("in place, all of it".getBytes(StandardCharsets.US_ASCII)).flip();
            assertEquals(19, own.send(daemonSide, out, List.of()), "the output buffer at once");
            AFUNIXSocketChannel client = pair.client();
            ByteBuffer got = ByteBuffer.allocate(64);
            while (got.position() < 23) {
              client.read(got);
            }
            assertEquals(
                "throin place, all of it",
                new String(got.array(), 0, 23, StandardCharsets.US_ASCII));
            client.write(ascii("request bytes", false));
            ByteBuffer in = own.input();
            in.clear();
            int n = 0;
            while (n < 13) {
              n += Math.max(0, own.receive(daemonSide, in));
            }
            assertEquals(13, in.position(), "received into the input buffer in place");
            assertEquals("request bytes", StandardCharsets.US_ASCII.decode(in.flip()).toString());
            assertTrue(own.input() == in && own.output() == out, "the same buffers every time");
          }
        });
  }
}
