package dev.filebroker.client;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.filebroker.client.TestBroker.Answer;
import dev.filebroker.protocol.Decoded;
import dev.filebroker.protocol.ErrorCode;
import dev.filebroker.protocol.ErrorReply;
import dev.filebroker.protocol.FrameCodec;
import dev.filebroker.protocol.OpenFlags;
import dev.filebroker.protocol.OpenRequest;
import dev.filebroker.protocol.OpenedReply;
import dev.filebroker.protocol.Protocol;
import dev.filebroker.protocol.Reply;
import dev.filebroker.protocol.Request;
import java.io.FileDescriptor;
import java.io.FileInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.RandomAccessFile;
import java.io.UncheckedIOException;
import java.net.SocketTimeoutException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.NonWritableChannelException;
import java.nio.charset.StandardCharsets;
import java.nio.file.AccessDeniedException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.NotDirectoryException;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFileAttributes;
import java.time.Duration;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.function.Function;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.newsclub.net.unix.AFUNIXServerSocket;
import org.newsclub.net.unix.AFUNIXSocket;
import org.newsclub.net.unix.AFUNIXSocketAddress;

/** FileBroker against a stand-in daemon on a real socket, passing real descriptors. */
// The stand-in daemon is a resource only for its lifetime: most bodies never reference it. The
// deprecated Access API is what these tests exercise; OpenOptionsTest covers its successor.
@SuppressWarnings({"try", "deprecation"})
class FileBrokerTest {
  private static final Duration TIMEOUT = Duration.ofSeconds(30);

  @TempDir Path dir;

  private Path socket() {
    return dir.resolve("broker.sock");
  }

  /** Serves every OPEN with the file at the requested path, opened read-write or to append. */
  private static Function<OpenRequest, Answer> servingFiles() {
    return request ->
        Answer.file(
            new OpenedReply(request.requestId(), 0100644),
            Path.of(request.path()),
            (request.flags() & OpenFlags.O_APPEND) != 0 ? "append" : "rw");
  }

  private Path file(String name, String content) throws IOException {
    return Files.writeString(dir.resolve(name), content);
  }

  private static long openDescriptors() throws IOException {
    try (Stream<Path> fds = Files.list(Path.of("/proc/self/fd"))) {
      return fds.count();
    }
  }

  private static List<String> descriptorTargets() {
    try (Stream<Path> fds = Files.list(Path.of("/proc/self/fd"))) {
      return fds.map(
              fd -> {
                try {
                  return fd.getFileName() + "->" + Files.readSymbolicLink(fd);
                } catch (IOException e) {
                  return fd.getFileName() + "->?";
                }
              })
          .toList();
    } catch (IOException e) {
      return List.of(e.toString());
    }
  }

  /** How many descriptors of this process refer to this file. */
  private static long descriptorsOn(Path file) throws IOException {
    try (Stream<Path> fds = Files.list(Path.of("/proc/self/fd"))) {
      return fds.filter(
              fd -> {
                try {
                  return Files.readSymbolicLink(fd).equals(file);
                } catch (IOException e) {
                  return false;
                }
              })
          .count();
    }
  }

  @Test
  void opensAFileAndReadsItsContent() throws Exception {
    Path file = file("a.txt", "hello");
    assertTimeoutPreemptively(
        TIMEOUT,
        () -> {
          try (TestBroker daemon = new TestBroker(socket(), servingFiles());
              FileBroker broker = FileBroker.connect(socket());
              BrokeredFile opened = broker.open(file, Access.READ);
              InputStream in = opened.inputStream()) {
            assertEquals("hello", new String(in.readAllBytes(), StandardCharsets.UTF_8));
            assertEquals(0100644, opened.fileMode());
            assertEquals(file.toString(), opened.path());
          }
        });
  }

  @Test
  void readOnlyChannelRefusesWritesAndReadWriteChannelAllowsBoth() throws Exception {
    Path file = file("b.txt", "abc");
    assertTimeoutPreemptively(
        TIMEOUT,
        () -> {
          try (TestBroker daemon = new TestBroker(socket(), servingFiles());
              FileBroker broker = FileBroker.connect(socket())) {
            try (BrokeredFile readOnly = broker.open(file, Access.READ)) {
              FileChannel channel = readOnly.channel();
              assertThrows(
                  NonWritableChannelException.class,
                  () -> channel.write(ByteBuffer.wrap(new byte[] {1})),
                  "a file opened READ must give a channel that refuses writes");
            }
            try (BrokeredFile readWrite = broker.open(file, Access.READ_WRITE)) {
              FileChannel channel = readWrite.channel();
              channel.write(ByteBuffer.wrap("XYZ!".getBytes(StandardCharsets.UTF_8)), 0);
              ByteBuffer back = ByteBuffer.allocate(4);
              channel.read(back, 0);
              assertEquals("XYZ!", new String(back.array(), StandardCharsets.UTF_8));
            }
            try (BrokeredFile append = broker.open(file, Access.APPEND)) {
              append.outputStream().write('+');
            }
            assertEquals("XYZ!+", Files.readString(file));
          }
        });
  }

  @Test
  void pipelinedOpensFromManyThreadsEachGetTheirOwnFile() throws Exception {
    int threads = 32;
    int opensPerThread = 50;
    List<Path> files = new ArrayList<>();
    for (int i = 0; i < threads; i++) {
      files.add(file("f" + i, "content of f" + i));
    }
    assertTimeoutPreemptively(
        TIMEOUT,
        () -> {
          try (TestBroker daemon = new TestBroker(socket(), servingFiles());
              FileBroker broker = FileBroker.connect(socket());
              ExecutorService pool = Executors.newFixedThreadPool(threads)) {
            CountDownLatch start = new CountDownLatch(1);
            List<Future<Integer>> results = new ArrayList<>();
            for (int t = 0; t < threads; t++) {
              int thread = t;
              results.add(
                  pool.submit(
                      () -> {
                        start.await();
                        int right = 0;
                        for (int i = 0; i < opensPerThread; i++) {
                          Path path = files.get((thread + i) % threads);
                          try (BrokeredFile opened = broker.open(path, Access.READ);
                              InputStream in = opened.inputStream()) {
                            String content = new String(in.readAllBytes(), StandardCharsets.UTF_8);
                            assertEquals(
                                "content of " + path.getFileName(),
                                content,
                                "a reply must deliver the descriptor of its own request's file");
                            right++;
                          }
                        }
                        return right;
                      }));
            }
            start.countDown();
            for (Future<Integer> result : results) {
              assertEquals(opensPerThread, result.get());
            }
            assertTrue(
                daemon.reordered.get() > 0,
                "the stand-in daemon should have answered some requests out of order");
          }
        });
  }

  @Test
  void errorRepliesBecomeTheMatchingExceptionsNamingThePath() throws Exception {
    assertTimeoutPreemptively(
        TIMEOUT,
        () -> {
          Function<OpenRequest, Answer> errors =
              request -> {
                ErrorCode code =
                    ErrorCode.valueOf(Path.of(request.path()).getFileName().toString());
                return Answer.of(
                    ErrorReply.of(request.requestId(), code, 2, "daemon says " + code.name()));
              };
          try (TestBroker daemon = new TestBroker(socket(), errors);
              FileBroker broker = FileBroker.connect(socket())) {
            assertFailure(broker, "DENIED", AccessDeniedException.class);
            assertFailure(broker, "NOT_FOUND", NoSuchFileException.class);
            assertFailure(broker, "ALREADY_EXISTS", FileAlreadyExistsException.class);
            assertFailure(broker, "NOT_A_DIRECTORY", NotDirectoryException.class);
            BrokerRequestException symlink =
                assertFailure(broker, "SYMLINK_IN_PATH", BrokerRequestException.class);
            assertEquals(ErrorCode.SYMLINK_IN_PATH, symlink.errorCode().orElseThrow());
            assertEquals(2, symlink.errno());
            BrokerRequestException io =
                assertFailure(broker, "IO_ERROR", BrokerRequestException.class);
            assertEquals("/x/IO_ERROR: IO_ERROR: daemon says IO_ERROR (errno 2)", io.getMessage());
            assertTrue(broker.isOpen(), "an ordinary error reply must leave the connection usable");
          }
        });
  }

  private static <T extends IOException> T assertFailure(
      FileBroker broker, String name, Class<T> type) {
    T thrown = assertThrows(type, () -> broker.open(Path.of("/x/" + name), Access.READ));
    assertTrue(
        thrown.getMessage().contains("/x/" + name) && thrown.getMessage().contains("daemon says"),
        "the message must name the path and carry the daemon's message: " + thrown.getMessage());
    return thrown;
  }

  @Test
  void aReplyWithAnUnknownIdFailsTheConnection() throws Exception {
    Path file = file("c.txt", "c");
    assertTimeoutPreemptively(
        TIMEOUT,
        () -> {
          Function<OpenRequest, Answer> wrongId =
              request ->
                  Answer.file(new OpenedReply(request.requestId() + 1000, 0100644), file, "r");
          try (TestBroker daemon = new TestBroker(socket(), wrongId);
              FileBroker broker = FileBroker.connect(socket())) {
            BrokerProtocolException thrown =
                assertThrows(BrokerProtocolException.class, () -> broker.open(file, Access.READ));
            assertTrue(thrown.getMessage().contains("no request is waiting"), thrown.getMessage());
            assertFalse(broker.isOpen());
            assertThrows(BrokerProtocolException.class, () -> broker.open(file, Access.READ));
            awaitNoDescriptorOn(file);
            assertEquals(0, descriptorsOn(file), "a descriptor nobody waits for must be closed");
          }
        });
  }

  @Test
  void aDescriptorAttachedToAnErrorReplyFailsTheConnection() throws Exception {
    Path file = file("d.txt", "d");
    assertTimeoutPreemptively(
        TIMEOUT,
        () -> {
          Function<OpenRequest, Answer> stray =
              request ->
                  Answer.file(
                      ErrorReply.of(request.requestId(), ErrorCode.DENIED, 0, "no"), file, "r");
          try (TestBroker daemon = new TestBroker(socket(), stray);
              FileBroker broker = FileBroker.connect(socket())) {
            IOException thrown =
                assertThrows(IOException.class, () -> broker.open(file, Access.READ));
            // The error may reach the caller before the reader sees the stray descriptor.
            if (!(thrown instanceof AccessDeniedException)) {
              assertInstanceOf(BrokerProtocolException.class, thrown);
            }
            assertThrows(BrokerProtocolException.class, () -> broker.open(file, Access.READ));
          }
        });
  }

  @Test
  void aProtocolErrorCodeFailsTheConnection() throws Exception {
    assertTimeoutPreemptively(
        TIMEOUT,
        () -> {
          Function<OpenRequest, Answer> fatal =
              request -> Answer.of(ErrorReply.of(0, ErrorCode.MALFORMED_FRAME, 0, "bad frame"));
          try (TestBroker daemon = new TestBroker(socket(), fatal);
              FileBroker broker = FileBroker.connect(socket())) {
            BrokerProtocolException thrown =
                assertThrows(
                    BrokerProtocolException.class, () -> broker.open(Path.of("/a"), Access.READ));
            assertTrue(
                thrown.getMessage().contains("MALFORMED_FRAME: bad frame"), thrown.getMessage());
          }
        });
  }

  @Test
  void connectingToAMissingSocketSaysTheDaemonIsUnavailable() {
    Path missing = dir.resolve("missing.sock");
    BrokerUnavailableException thrown =
        assertTimeoutPreemptively(
            TIMEOUT,
            () ->
                assertThrows(BrokerUnavailableException.class, () -> FileBroker.connect(missing)));
    assertEquals(missing, thrown.socket());
    assertTrue(thrown.getMessage().contains(missing.toString()), thrown.getMessage());
  }

  @Test
  void connectingToAFileThatIsNotASocketSaysTheDaemonIsUnavailable() throws Exception {
    Path notSocket = file("plain", "");
    assertTimeoutPreemptively(
        TIMEOUT,
        () -> assertThrows(BrokerUnavailableException.class, () -> FileBroker.connect(notSocket)));
  }

  @Test
  void aThousandOpensAndClosesLeakNoDescriptor() throws Exception {
    Path file = file("e.txt", "e");
    assertTimeoutPreemptively(
        TIMEOUT,
        () -> {
          try (TestBroker daemon = new TestBroker(socket(), servingFiles());
              FileBroker broker = FileBroker.connect(socket())) {
            broker.open(file, Access.READ).close();
            awaitNoDescriptorOn(file);
            long baseline = openDescriptors();
            for (int i = 0; i < 1000; i++) {
              Access access = List.of(Access.READ, Access.WRITE, Access.READ_WRITE).get(i % 3);
              try (BrokeredFile opened = broker.open(file, access)) {
                opened.channel();
              }
            }
            awaitNoDescriptorOn(file);
            assertEquals(baseline, openDescriptors(), "every received descriptor must be closed");
            assertEquals(0, descriptorsOn(file));
            assertTrue(
                Files.readAttributes(Path.of("/dev/null"), PosixFileAttributes.class).isOther(),
                "read-write channels must leave /dev/null a device");
          }
        });
  }

  /** The stand-in daemon closes its own copy of a file just after sending it: wait for that. */
  private static void awaitNoDescriptorOn(Path file) throws IOException, InterruptedException {
    long deadline = System.nanoTime() + Duration.ofSeconds(5).toNanos();
    while (descriptorsOn(file) > 0 && System.nanoTime() < deadline) {
      Thread.sleep(10);
    }
  }

  /** Collects garbage until no descriptor refers to the file; gives up after 200 collections. */
  private static long collectUntilNoDescriptorOn(Path file) throws Exception {
    for (int i = 0; i < 200 && descriptorsOn(file) > 0; i++) {
      System.gc();
      Thread.sleep(10);
    }
    return descriptorsOn(file);
  }

  @Test
  void theCleanerClosesAnUnreferencedFileButNotOneWhoseStreamIsInUse() throws Exception {
    Path dropped = file("g.txt", "g");
    Path kept = file("k.txt", "kept");
    assertTimeoutPreemptively(
        TIMEOUT,
        () -> {
          try (TestBroker daemon = new TestBroker(socket(), servingFiles());
              FileBroker broker = FileBroker.connect(socket())) {
            openAndDrop(broker, dropped);
            InputStream stream = openAndKeepOnlyTheStream(broker, kept);
            awaitNoDescriptorOn(dropped); // the stand-in's own copy
            assertEquals(0, collectUntilNoDescriptorOn(dropped), "the cleaner closes it");
            assertEquals(1, descriptorsOn(kept), "a stream in use keeps its file open");
            assertEquals("kept", new String(stream.readAllBytes(), StandardCharsets.UTF_8));
            stream.close();
            assertEquals(0, descriptorsOn(kept));
          }
        });
  }

  private static void openAndDrop(FileBroker broker, Path file) throws IOException {
    broker.open(file, Access.READ).channel();
  }

  private static InputStream openAndKeepOnlyTheStream(FileBroker broker, Path file)
      throws IOException {
    return broker.open(file, Access.READ).inputStream();
  }

  @Test
  void filesStayOpenAfterTheBrokerIsClosed() throws Exception {
    Path file = file("h.txt", "still here");
    assertTimeoutPreemptively(
        TIMEOUT,
        () -> {
          BrokeredFile opened;
          try (TestBroker daemon = new TestBroker(socket(), servingFiles());
              FileBroker broker = FileBroker.connect(socket())) {
            opened = broker.open(file, Access.READ);
          }
          try (opened;
              InputStream in = opened.inputStream()) {
            assertEquals("still here", new String(in.readAllBytes(), StandardCharsets.UTF_8));
          }
        });
  }

  @Test
  void closingTheBrokerFailsWaitingRequests() throws Exception {
    assertTimeoutPreemptively(
        TIMEOUT,
        () -> {
          CountDownLatch received = new CountDownLatch(1);
          CountDownLatch never = new CountDownLatch(1);
          Function<OpenRequest, Answer> silent =
              request -> {
                received.countDown();
                try {
                  never.await();
                } catch (InterruptedException e) {
                  Thread.currentThread().interrupt();
                }
                return Answer.of(ErrorReply.of(request.requestId(), ErrorCode.DENIED, 0, "late"));
              };
          try (TestBroker daemon = new TestBroker(socket(), silent)) {
            FileBroker broker = FileBroker.connect(socket());
            CompletableFuture<BrokeredFile> waiting =
                CompletableFuture.supplyAsync(
                    () -> {
                      try {
                        return broker.open(Path.of("/slow"), Access.READ);
                      } catch (IOException e) {
                        throw new RuntimeException(e);
                      }
                    });
            received.await();
            broker.close();
            ExecutionException thrown = assertThrows(ExecutionException.class, waiting::get);
            assertInstanceOf(BrokerConnectionClosedException.class, thrown.getCause().getCause());
            assertThrows(
                BrokerConnectionClosedException.class,
                () -> broker.open(Path.of("/a"), Access.READ));
          } finally {
            never.countDown();
          }
        });
  }

  @Test
  void aPathThatIsNotCanonicalFailsAsTheDaemonWouldWithoutSending() throws Exception {
    assertTimeoutPreemptively(
        TIMEOUT,
        () -> {
          try (TestBroker daemon = new TestBroker(socket(), servingFiles());
              FileBroker broker = FileBroker.connect(socket())) {
            BrokerRequestException thrown =
                assertThrows(
                    BrokerRequestException.class,
                    () -> broker.open(Path.of("/etc/../x"), Access.READ));
            assertEquals(ErrorCode.INVALID_PATH, thrown.errorCode().orElseThrow());
            assertEquals(
                "/etc/../x: INVALID_PATH: path must not contain a '..' component",
                thrown.getMessage());
            assertThrows(
                BrokerRequestException.class, () -> broker.open(Path.of("relative"), Access.READ));
            assertTrue(broker.isOpen());
          }
        });
  }

  @Test
  void refusedAccessCombinationsThrowBeforeSending() throws Exception {
    assertTimeoutPreemptively(
        TIMEOUT,
        () -> {
          try (TestBroker daemon = new TestBroker(socket(), servingFiles());
              FileBroker broker = FileBroker.connect(socket())) {
            Path path = Path.of("/tmp/x");
            assertEquals(
                "Access.CREATE needs WRITE, READ_WRITE or APPEND (access [READ, CREATE])",
                assertThrows(
                        IllegalArgumentException.class,
                        () -> broker.open(path, Access.READ, Access.CREATE))
                    .getMessage());
            assertThrows(IllegalArgumentException.class, () -> broker.open(path, new Access[0]));
            assertThrows(
                IllegalArgumentException.class,
                () -> broker.open(path, Access.WRITE, Access.DIRECTORY));
            assertEquals(
                "create mode 0644 given without Access.CREATE",
                assertThrows(
                        IllegalArgumentException.class,
                        () -> broker.open(path, EnumSet.of(Access.WRITE), 0644))
                    .getMessage());
            assertTrue(broker.isOpen());
          }
        });
  }

  @Test
  void accessesMapToTheirOpenFlags() {
    assertEquals(OpenFlags.O_RDONLY, Access.toFlags(Set.of(Access.READ)));
    assertEquals(OpenFlags.O_WRONLY | OpenFlags.O_APPEND, Access.toFlags(Set.of(Access.APPEND)));
    assertEquals(OpenFlags.O_RDWR, Access.toFlags(Set.of(Access.READ, Access.WRITE)));
    assertEquals(
        OpenFlags.O_WRONLY | OpenFlags.O_CREAT | OpenFlags.O_EXCL | OpenFlags.O_TRUNC,
        Access.toFlags(Set.of(Access.WRITE, Access.CREATE, Access.EXCLUSIVE, Access.TRUNCATE)));
    assertEquals(
        OpenFlags.O_RDONLY | OpenFlags.O_DIRECTORY, Access.toFlags(Set.of(Access.DIRECTORY)));
  }

  /**
   * A one-shot classic descriptor sender: accepts one connection, writes what {@code send} says,
   * closes it.
   */
  private Thread sender(Path socket, SendAction send) throws IOException {
    AFUNIXServerSocket server = AFUNIXServerSocket.newInstance();
    server.bind(AFUNIXSocketAddress.of(socket));
    Thread thread =
        new Thread(
            () -> {
              try (server;
                  AFUNIXSocket client = server.accept()) {
                send.to(client);
              } catch (IOException e) {
                throw new UncheckedIOException(e);
              }
            },
            "test-sender");
    thread.setDaemon(true);
    thread.start();
    return thread;
  }

  @FunctionalInterface
  private interface SendAction {
    void to(AFUNIXSocket client) throws IOException;
  }

  private static void sendWithDescriptors(AFUNIXSocket client, FileDescriptor... descriptors)
      throws IOException {
    client.setOutboundFileDescriptors(descriptors);
    client.getOutputStream().write('x');
  }

  /** More descriptors on one byte than junixsocket's 256-byte control buffer holds. */
  private static final int TOO_MANY_DESCRIPTORS = 64;

  /** Attaches {@value #TOO_MANY_DESCRIPTORS} descriptors of /dev/null to {@code frame}. */
  private static void sendTruncating(AFUNIXSocket client, byte[] frame) throws IOException {
    List<FileInputStream> opened = new ArrayList<>();
    try {
      FileDescriptor[] descriptors = new FileDescriptor[TOO_MANY_DESCRIPTORS];
      for (int i = 0; i < descriptors.length; i++) {
        FileInputStream in = new FileInputStream("/dev/null");
        opened.add(in);
        descriptors[i] = in.getFD();
      }
      client.setOutboundFileDescriptors(descriptors);
      client.getOutputStream().write(frame);
    } finally {
      for (FileInputStream in : opened) {
        in.close();
      }
    }
  }

  /** Whether the descriptor is close-on-exec, as /proc/self/fdinfo says (O_CLOEXEC in flags). */
  private static boolean closeOnExec(FileDescriptor descriptor) throws IOException {
    return (Descriptors.statusFlags(descriptor) & 02000000) != 0;
  }

  @Test
  void aTruncatedControlMessageFailsTheConnectionAndIsNotTakenForAHangUp() throws Exception {
    Path socket = socket();
    CountDownLatch answered = new CountDownLatch(1);
    assertTimeoutPreemptively(
        TIMEOUT,
        () -> {
          Thread thread =
              sender(
                  socket,
                  client -> {
                    // Reads the OPEN, answers it with an OPENED frame carrying 64 descriptors
                    // instead of one, and keeps the connection open.
                    ByteBuffer in = ByteBuffer.allocate(Protocol.MAX_FRAME_SIZE);
                    Decoded<Request> request;
                    do {
                      int n =
                          client.getInputStream().read(in.array(), in.position(), in.remaining());
                      if (n < 0) {
                        return;
                      }
                      in.position(in.position() + n);
                      in.flip();
                      request = FrameCodec.decodeRequest(in);
                      in.compact();
                    } while (!(request instanceof Decoded.Frame<Request>));
                    Reply reply =
                        new OpenedReply(
                            ((Decoded.Frame<Request>) request).message().requestId(), 0100644);
                    ByteBuffer out = ByteBuffer.allocate(FrameCodec.encodedSize(reply));
                    FrameCodec.encode(reply, out);
                    sendTruncating(client, out.array());
                    try {
                      answered.await();
                    } catch (InterruptedException e) {
                      Thread.currentThread().interrupt();
                    }
                  });
          try (FileBroker broker = FileBroker.connect(socket)) {
            BrokerProtocolException thrown =
                assertThrows(
                    BrokerProtocolException.class,
                    () -> broker.open(Path.of("/etc/hostname"), Access.READ),
                    "a truncated control message breaks the protocol; it is no hang-up to"
                        + " reconnect after");
            assertTrue(thrown.getMessage().contains("MSG_CTRUNC"), thrown.getMessage());
          } finally {
            answered.countDown();
          }
          thread.join();
        });
  }

  @Test
  void aClassicSenderWhoseDescriptorsAreTruncatedBreaksTheProtocol() throws Exception {
    Path socket = dir.resolve("sender.sock");
    assertTimeoutPreemptively(
        TIMEOUT,
        () -> {
          Thread thread = sender(socket, client -> sendTruncating(client, new byte[] {0}));
          BrokerProtocolException thrown =
              assertThrows(BrokerProtocolException.class, () -> FileBroker.receiveFrom(socket));
          assertTrue(thrown.getMessage().contains("MSG_CTRUNC"), thrown.getMessage());
          thread.join();
        });
  }

  @Test
  void receivedDescriptorsAreCloseOnExec() throws Exception {
    Path file = file("x.txt", "x");
    Path socket = dir.resolve("sender.sock");
    assertTimeoutPreemptively(
        TIMEOUT,
        () -> {
          try (TestBroker daemon = new TestBroker(socket(), servingFiles());
              FileBroker broker = FileBroker.connect(socket());
              BrokeredFile opened = broker.open(file, Access.READ)) {
            assertTrue(closeOnExec(opened.fileDescriptor()), "a brokered file is close-on-exec");
          }
          sender(
              socket,
              client -> {
                try (FileInputStream in = new FileInputStream(file.toFile())) {
                  sendWithDescriptors(client, in.getFD());
                }
              });
          try (BrokeredFile received = FileBroker.receiveFrom(socket)) {
            assertTrue(
                closeOnExec(received.fileDescriptor()), "a received descriptor is close-on-exec");
          }
        });
  }

  @Test
  void receivesOneDescriptorFromAClassicSender() throws Exception {
    Path file = file("r.txt", "sent");
    Path socket = dir.resolve("sender.sock");
    assertTimeoutPreemptively(
        TIMEOUT,
        () -> {
          // junixsocket opens a descriptor of its own on first use: count after one round.
          Thread warmUp = sender(dir.resolve("warm-up.sock"), client -> {});
          assertThrows(
              AccessDeniedException.class,
              () -> FileBroker.receiveFrom(dir.resolve("warm-up.sock")));
          warmUp.join();
          long before = openDescriptors();
          Thread thread =
              sender(
                  socket,
                  client -> {
                    try (RandomAccessFile opened = new RandomAccessFile(file.toFile(), "rw")) {
                      client.getOutputStream().write("hello".getBytes(StandardCharsets.US_ASCII));
                      sendWithDescriptors(client, opened.getFD());
                    }
                  });
          try (BrokeredFile received = FileBroker.receiveFrom(socket)) {
            assertEquals(socket.toString(), received.path());
            assertTrue(received.isReadable() && received.isWritable(), received.toString());
            assertEquals(OpenFlags.O_RDWR, received.openFlags());
            assertEquals(0100000, received.fileMode() & 0170000, "a regular file");
            assertEquals(
                "sent", new String(received.inputStream().readAllBytes(), StandardCharsets.UTF_8));
            thread.join();
            assertEquals(1, descriptorsOn(file), "the file must hold exactly one descriptor");
          }
          assertEquals(0, descriptorsOn(file));
          assertEquals(
              before,
              openDescriptors(),
              () -> "the connection must be closed too: " + descriptorTargets());
        });
  }

  @Test
  void aReceivedReadOnlyDescriptorIsNotWritable() throws Exception {
    Path file = file("ro.txt", "ro");
    Path socket = dir.resolve("sender.sock");
    assertTimeoutPreemptively(
        TIMEOUT,
        () -> {
          sender(
              socket,
              client -> {
                try (FileInputStream opened = new FileInputStream(file.toFile())) {
                  sendWithDescriptors(client, opened.getFD());
                }
              });
          try (BrokeredFile received = FileBroker.receiveFrom(socket, Duration.ofSeconds(10))) {
            assertTrue(received.isReadable());
            assertFalse(received.isWritable());
            assertThrows(
                NonWritableChannelException.class,
                () -> received.channel().write(ByteBuffer.wrap(new byte[] {1})));
          }
        });
  }

  @Test
  void aSenderThatClosesWithoutADescriptorDenies() throws Exception {
    Path socket = dir.resolve("sender.sock");
    assertTimeoutPreemptively(
        TIMEOUT,
        () -> {
          sender(
              socket,
              client -> client.getOutputStream().write("no".getBytes(StandardCharsets.US_ASCII)));
          AccessDeniedException thrown =
              assertThrows(AccessDeniedException.class, () -> FileBroker.receiveFrom(socket));
          assertEquals(socket.toString(), thrown.getFile());
          assertEquals(
              "the endpoint closed the connection without sending a descriptor (denied?)",
              thrown.getReason());
        });
  }

  @Test
  void aSenderOfTwoDescriptorsBreaksTheProtocolAndBothAreClosed() throws Exception {
    Path first = file("one.txt", "1");
    Path second = file("two.txt", "2");
    Path socket = dir.resolve("sender.sock");
    assertTimeoutPreemptively(
        TIMEOUT,
        () -> {
          Thread thread =
              sender(
                  socket,
                  client -> {
                    try (FileInputStream one = new FileInputStream(first.toFile());
                        FileInputStream two = new FileInputStream(second.toFile())) {
                      sendWithDescriptors(client, one.getFD(), two.getFD());
                    }
                  });
          BrokerProtocolException thrown =
              assertThrows(BrokerProtocolException.class, () -> FileBroker.receiveFrom(socket));
          assertTrue(thrown.getMessage().contains("sent 2 descriptors"), thrown.getMessage());
          thread.join();
          assertEquals(0, descriptorsOn(first), "every surplus descriptor must be closed");
          assertEquals(0, descriptorsOn(second), "every surplus descriptor must be closed");
        });
  }

  @Test
  void aSilentSenderTimesOut() throws Exception {
    Path socket = dir.resolve("sender.sock");
    CountDownLatch release = new CountDownLatch(1);
    assertTimeoutPreemptively(
        TIMEOUT,
        () -> {
          sender(
              socket,
              client -> {
                try {
                  release.await();
                } catch (InterruptedException e) {
                  Thread.currentThread().interrupt();
                }
              });
          try {
            SocketTimeoutException thrown =
                assertThrows(
                    SocketTimeoutException.class,
                    () -> FileBroker.receiveFrom(socket, Duration.ofMillis(300)));
            assertTrue(thrown.getMessage().contains(socket.toString()), thrown.getMessage());
          } finally {
            release.countDown();
          }
        });
  }

  @Test
  void receivingFromAMissingSocketSaysTheSenderIsUnavailable() {
    Path missing = dir.resolve("missing.sock");
    BrokerUnavailableException thrown =
        assertTimeoutPreemptively(
            TIMEOUT,
            () ->
                assertThrows(
                    BrokerUnavailableException.class, () -> FileBroker.receiveFrom(missing)));
    assertEquals(missing, thrown.socket());
    assertThrows(
        IllegalArgumentException.class, () -> FileBroker.receiveFrom(missing, Duration.ZERO));
  }

  // ---- reconnection after the daemon ends the connection ----

  @Test
  void unansweredOpensAreSentAgainOnANewConnectionAndAnsweredOnesNeverAre() throws Exception {
    List<Path> files = new ArrayList<>();
    for (int i = 0; i < 40; i++) {
      files.add(file("r" + i + ".txt", "content " + i));
    }
    java.util.Set<Integer> answered = java.util.concurrent.ConcurrentHashMap.newKeySet();
    java.util.concurrent.atomic.AtomicInteger seen =
        new java.util.concurrent.atomic.AtomicInteger();
    java.util.concurrent.atomic.AtomicInteger againAfterAnswer =
        new java.util.concurrent.atomic.AtomicInteger();
    Function<OpenRequest, Answer> serve = servingFiles();
    assertTimeoutPreemptively(
        TIMEOUT,
        () -> {
          try (TestBroker daemon =
                  new TestBroker(
                      socket(),
                      request -> {
                        if (answered.contains(request.requestId())) {
                          againAfterAnswer.incrementAndGet();
                        }
                        // Every 23rd request arriving ends the connection instead of an answer.
                        if (seen.incrementAndGet() % 23 == 0) {
                          return Answer.drop();
                        }
                        answered.add(request.requestId());
                        return serve.apply(request);
                      });
              FileBroker broker = FileBroker.connect(socket())) {
            ExecutorService pool = Executors.newFixedThreadPool(8);
            try {
              List<Future<String>> results = new ArrayList<>();
              for (int round = 0; round < 5; round++) {
                for (Path f : files) {
                  results.add(
                      pool.submit(
                          () -> {
                            try (BrokeredFile opened = broker.open(f, Access.READ);
                                InputStream in = opened.inputStream()) {
                              return f.getFileName()
                                  + "="
                                  + new String(in.readAllBytes(), StandardCharsets.UTF_8);
                            }
                          }));
                }
              }
              for (int k = 0; k < results.size(); k++) {
                Path f = files.get(k % files.size());
                int i = k % files.size();
                assertEquals(
                    f.getFileName() + "=content " + i,
                    results.get(k).get(),
                    "each open gets its own file");
              }
            } finally {
              pool.shutdownNow();
            }
            assertTrue(daemon.connections.get() > 1, "the connection was made again");
            assertEquals(0, againAfterAnswer.get(), "an answered request must never be sent again");
            assertTrue(broker.isOpen());
          }
        });
  }

  @Test
  void anUnansweredCreateFailsSayingItMayHaveRunAndIsNotSentAgain() throws Exception {
    Path created = file("created.txt", "");
    Path plain = file("plain.txt", "plain");
    java.util.concurrent.atomic.AtomicInteger creates =
        new java.util.concurrent.atomic.AtomicInteger();
    Function<OpenRequest, Answer> serve = servingFiles();
    assertTimeoutPreemptively(
        TIMEOUT,
        () -> {
          try (TestBroker daemon =
                  new TestBroker(
                      socket(),
                      request -> {
                        if ((request.flags() & OpenFlags.O_CREAT) != 0) {
                          creates.incrementAndGet();
                          return Answer.drop();
                        }
                        return serve.apply(request);
                      });
              FileBroker broker = FileBroker.connect(socket())) {
            BrokerConnectionClosedException e =
                assertThrows(
                    BrokerConnectionClosedException.class,
                    () -> broker.open(created, Access.WRITE, Access.CREATE));
            assertTrue(
                e.getMessage().contains("may or may not have carried it out"), e.getMessage());
            assertEquals(1, creates.get(), "a request that creates is sent once");
            try (BrokeredFile opened = broker.open(plain, Access.READ)) {
              assertEquals(plain.toString(), opened.path(), "the broker connected again");
            }
            assertEquals(2, daemon.connections.get());
          }
        });
  }

  @Test
  void aRequestThatLosesEveryConnectionFailsAfterItsLastSend() throws Exception {
    Path poison = file("poison.txt", "");
    java.util.concurrent.atomic.AtomicInteger sends =
        new java.util.concurrent.atomic.AtomicInteger();
    assertTimeoutPreemptively(
        TIMEOUT,
        () -> {
          try (TestBroker daemon =
                  new TestBroker(
                      socket(),
                      request -> {
                        sends.incrementAndGet();
                        return Answer.drop();
                      });
              FileBroker broker = FileBroker.connect(socket())) {
            BrokerConnectionClosedException e =
                assertThrows(
                    BrokerConnectionClosedException.class, () -> broker.open(poison, Access.READ));
            assertTrue(
                e.getMessage().contains("sent " + Connection.MAX_SENDS + " times"), e.getMessage());
            assertEquals(Connection.MAX_SENDS, sends.get());
            assertTrue(broker.isOpen(), "the broker itself stays usable");
          }
        });
  }

  @Test
  void whenNoConnectionCanBeMadeAgainWaitingRequestsFailAndTheBrokerCloses() throws Exception {
    Path file = file("gone.txt", "");
    assertTimeoutPreemptively(
        TIMEOUT,
        () -> {
          TestBroker daemon = new TestBroker(socket(), request -> Answer.drop());
          try (FileBroker broker = FileBroker.connect(socket())) {
            // The daemon goes away for good: its socket is gone before the connection drops.
            Files.delete(socket());
            long t0 = System.nanoTime();
            BrokerConnectionClosedException e =
                assertThrows(
                    BrokerConnectionClosedException.class, () -> broker.open(file, Access.READ));
            double seconds = (System.nanoTime() - t0) / 1e9;
            assertTrue(
                e.getMessage()
                    .contains(
                        "could not be made again in "
                            + Connection.RECONNECT_ATTEMPTS
                            + " attempts"),
                e.getMessage());
            assertTrue(seconds < 10, "reconnection attempts are bounded: " + seconds + " s");
            assertFalse(broker.isOpen());
            assertThrows(
                BrokerConnectionClosedException.class, () -> broker.open(file, Access.READ));
          } finally {
            daemon.close();
          }
        });
  }
}
