package dev.filebroker.daemon.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.filebroker.client.BrokeredFile;
import dev.filebroker.client.FileBroker;
import dev.filebroker.client.OpenResult;
import java.io.File;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.AccessDeniedException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.FileAttribute;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Set;
import java.util.jar.JarFile;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/**
 * The Java client library as an application uses it, against a real daemon: exceptions, open
 * options, file lifetime, and a plain JVM without options. Needs root (the daemon runs as root).
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class JavaClientIT {
  private static final Duration TIMEOUT = Duration.ofSeconds(60);

  private TestTree tree;
  private DaemonProcess daemon;
  private Path endpoint;

  @BeforeAll
  void startDaemon() throws Exception {
    tree = new TestTree("filebroker-java-client-");
    Path root = tree.root();
    tree.file("secret.txt", "not granted\n", "rw-------");
    tree.file("data/plain.txt", "plain\n", "rw-------");
    tree.dir("out");
    Path policy = tree.dir("policy");
    Files.writeString(
        policy.resolve("10-test.toml"),
        """
        [[allow]]
        name = "root-reads-data"
        users = [0]
        paths = ["%1$s/data/**"]
        access = ["read"]

        [[allow]]
        name = "root-writes-out"
        users = [0]
        paths = ["%1$s/out/*"]
        access = ["read", "write", "create", "truncate"]
        create_mode = "0640"
        """
            .formatted(root));
    Path config = root.resolve("filebroker.toml");
    endpoint = root.resolve("plain.sock");
    Files.writeString(
        config,
        """
        [limits]
        requests_per_second_per_uid = 100000
        request_burst_per_uid = 10000

        [[endpoint]]
        name = "root-receives-plain"
        socket = "%s"
        socket_mode = "0600"
        path = "%s"
        access = "read"
        users = [0]
        """
            .formatted(endpoint, path("data/plain.txt")));
    daemon =
        DaemonProcess.start(
            root,
            root.resolve("broker.sock"),
            "--config",
            config.toString(),
            "--policy",
            policy.toString());
  }

  @AfterAll
  void stopDaemon() throws Exception {
    Daemons.stop(daemon, tree);
  }

  private Path path(String relative) {
    return tree.root().resolve(relative);
  }

  private static List<String> methods(Throwable t) {
    return Arrays.stream(t.getStackTrace()).map(StackTraceElement::getMethodName).toList();
  }

  private static List<String> classes(Throwable t) {
    return Arrays.stream(t.getStackTrace()).map(StackTraceElement::getClassName).toList();
  }

  // Named so that the stack trace of what it throws can be searched for it.
  private BrokeredFile openTheSecretFromTheCallersOwnMethod(FileBroker broker) throws Exception {
    return broker.open(path("secret.txt"), Set.of(StandardOpenOption.READ));
  }

  @Test
  void aDenialIsThrownWithTheCallersStackAndTheReadersAsItsCause() {
    assertTimeoutPreemptively(
        TIMEOUT,
        () -> {
          try (FileBroker broker = FileBroker.connect(daemon.socket())) {
            AccessDeniedException e =
                assertThrows(
                    AccessDeniedException.class,
                    () -> openTheSecretFromTheCallersOwnMethod(broker));
            assertTrue(
                methods(e).contains("openTheSecretFromTheCallersOwnMethod"),
                "the caller's method must be in the stack trace: " + methods(e));
            assertEquals(path("secret.txt").toString(), e.getFile());
            AccessDeniedException cause =
                assertInstanceOf(AccessDeniedException.class, e.getCause());
            assertTrue(
                classes(cause).stream().anyMatch(c -> c.endsWith(".ReplyReader")),
                "the cause is the exception made where the reply was read: " + classes(cause));
          }
        });
  }

  @Test
  void aFailedResultOfOpenAllThrowsWithTheCallersStack() {
    assertTimeoutPreemptively(
        TIMEOUT,
        () -> {
          try (FileBroker broker = FileBroker.connect(daemon.socket())) {
            List<OpenResult> results =
                broker.openAll(
                    List.of(path("data/plain.txt"), path("secret.txt")),
                    Set.of(StandardOpenOption.READ));
            results.get(0).fileOrThrow().close();
            AccessDeniedException e =
                assertThrows(AccessDeniedException.class, () -> results.get(1).fileOrThrow());
            assertTrue(
                methods(e).stream().anyMatch(m -> m.contains("aFailedResultOfOpenAll")),
                "the caller's method must be in the stack trace: " + methods(e));
          }
        });
  }

  @Test
  void createNewWithPermissionsCreatesOnceWithThoseBits() {
    assertTimeoutPreemptively(
        TIMEOUT,
        () -> {
          Path created = path("out/created.txt");
          FileAttribute<Set<PosixFilePermission>> mode =
              PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-r-----"));
          try (FileBroker broker = FileBroker.connect(daemon.socket())) {
            try (BrokeredFile file =
                    broker.open(
                        created,
                        Set.of(StandardOpenOption.WRITE, StandardOpenOption.CREATE_NEW),
                        mode);
                OutputStream out = file.outputStream()) {
              out.write("new\n".getBytes(StandardCharsets.UTF_8));
            }
            assertEquals("new\n", Files.readString(created));
            assertEquals(
                "rw-r-----", PosixFilePermissions.toString(Files.getPosixFilePermissions(created)));
            assertThrows(
                FileAlreadyExistsException.class,
                () ->
                    broker.open(
                        created,
                        Set.of(StandardOpenOption.WRITE, StandardOpenOption.CREATE_NEW),
                        mode));
          }
        });
  }

  @Test
  void truncateExistingAndAppendWriteAsTheirNamesSay() {
    assertTimeoutPreemptively(
        TIMEOUT,
        () -> {
          Path file = tree.file("out/rewritten.txt", "1 long old content\n", "rw-------");
          try (FileBroker broker = FileBroker.connect(daemon.socket())) {
            try (BrokeredFile f =
                    broker.open(
                        file, StandardOpenOption.WRITE, StandardOpenOption.TRUNCATE_EXISTING);
                OutputStream out = f.outputStream()) {
              out.write("NEW\n".getBytes(StandardCharsets.UTF_8));
            }
            assertEquals("NEW\n", Files.readString(file));
            try (BrokeredFile f = broker.open(file, StandardOpenOption.APPEND);
                OutputStream out = f.outputStream()) {
              out.write("more\n".getBytes(StandardCharsets.UTF_8));
            }
            assertEquals("NEW\nmore\n", Files.readString(file));
          }
        });
  }

  @Test
  void unsupportedOptionsAndBadCombinationsAreRefusedByNameBeforeSending() {
    assertTimeoutPreemptively(
        TIMEOUT,
        () -> {
          Path file = path("data/plain.txt");
          try (FileBroker broker = FileBroker.connect(daemon.socket())) {
            UnsupportedOperationException unsupported =
                assertThrows(
                    UnsupportedOperationException.class,
                    () ->
                        broker.open(
                            file, StandardOpenOption.READ, StandardOpenOption.DELETE_ON_CLOSE));
            assertTrue(
                unsupported
                    .getMessage()
                    .startsWith("StandardOpenOption.DELETE_ON_CLOSE is not supported"),
                unsupported.getMessage());
            IllegalArgumentException combination =
                assertThrows(
                    IllegalArgumentException.class,
                    () -> broker.open(file, StandardOpenOption.READ, StandardOpenOption.CREATE));
            assertTrue(
                combination.getMessage().startsWith("CREATE needs WRITE or APPEND"),
                combination.getMessage());
            try (BrokeredFile f = broker.open(file, StandardOpenOption.READ)) {
              assertEquals(
                  "plain\n", new String(f.inputStream().readAllBytes(), StandardCharsets.UTF_8));
            }
            assertTrue(broker.isOpen(), "a refused option costs the connection nothing");
          }
        });
  }

  /** How many descriptors of this JVM refer to the file, from /proc/self/fd. */
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

  private static void openAndDrop(FileBroker broker, Path file, int times) throws IOException {
    for (int i = 0; i < times; i++) {
      broker.open(file, StandardOpenOption.READ).inputStream();
    }
  }

  @Test
  void unreferencedUnclosedFilesReleaseTheirDescriptors() {
    assertTimeoutPreemptively(
        TIMEOUT,
        () -> {
          Path file = path("data/plain.txt");
          try (FileBroker broker = FileBroker.connect(daemon.socket())) {
            long before = descriptorsOn(file);
            openAndDrop(broker, file, 20);
            assertEquals(before + 20, descriptorsOn(file), "20 files opened, none closed");
            // The cleaner runs after a collection has found the files unreachable.
            for (int i = 0; i < 200 && descriptorsOn(file) > before; i++) {
              System.gc();
              Thread.sleep(10);
            }
            assertEquals(before, descriptorsOn(file), "the cleaner closed every dropped file");
          }
        });
  }

  @Test
  void closingAStreamClosesTheFile() {
    assertTimeoutPreemptively(
        TIMEOUT,
        () -> {
          Path file = path("data/plain.txt");
          try (FileBroker broker = FileBroker.connect(daemon.socket());
              BrokeredFile opened = broker.open(file, StandardOpenOption.READ)) {
            long open = descriptorsOn(file);
            InputStream in = opened.inputStream();
            assertEquals("plain\n", new String(in.readAllBytes(), StandardCharsets.UTF_8));
            in.close();
            assertFalse(opened.isOpen(), "closing the stream closes the file");
            assertEquals(open - 1, descriptorsOn(file));
          }
        });
  }

  @Test
  void openWithoutOptionsReads() {
    assertTimeoutPreemptively(
        TIMEOUT,
        () -> {
          try (FileBroker broker = FileBroker.connect(daemon.socket());
              BrokeredFile opened = broker.open(path("data/plain.txt"));
              InputStream in = opened.inputStream()) {
            assertEquals("plain\n", new String(in.readAllBytes(), StandardCharsets.UTF_8));
          }
        });
  }

  /** The output of a child JVM and its exit status. */
  private record Child(int exitCode, String stdout, List<String> stderr) {}

  /**
   * Runs {@link PlainJvmClient} as {@code java [OPTIONS] -cp CLASSPATH Main ARGS}: the class path
   * holds the client library, junixsocket and the application, and nothing from the environment
   * adds JVM options.
   */
  private Child runPlainJvm(String... options) throws Exception {
    List<String> classPath = new ArrayList<>();
    for (String entry : System.getProperty("java.class.path").split(File.pathSeparator)) {
      if (entry.contains("junixsocket")
          || entry.contains("filebroker-client")
          || entry.endsWith("client/target/classes")) {
        classPath.add(entry);
      }
    }
    classPath.add(
        Path.of(PlainJvmClient.class.getProtectionDomain().getCodeSource().getLocation().toURI())
            .toString());
    List<String> command = new ArrayList<>(List.of(DaemonProcess.java()));
    command.addAll(List.of(options));
    command.addAll(
        List.of(
            "-cp",
            String.join(File.pathSeparator, classPath),
            PlainJvmClient.class.getName(),
            daemon.socket().toString(),
            path("data/plain.txt").toString(),
            endpoint.toString()));
    ProcessBuilder builder = new ProcessBuilder(command);
    builder.environment().remove("JAVA_TOOL_OPTIONS");
    builder.environment().remove("JDK_JAVA_OPTIONS");
    builder.environment().remove("_JAVA_OPTIONS");
    Path err = tree.root().resolve("child-" + System.nanoTime() + ".err");
    Process process = builder.redirectError(err.toFile()).start();
    process.getOutputStream().close();
    String stdout = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    int exit = process.waitFor();
    return new Child(exit, stdout, Files.readAllLines(err));
  }

  /**
   * The notice JDK 24 and later print when junixsocket loads its native library without native
   * access enabled (JEP 472); Java gives a class-path library no way to enable it for itself.
   */
  private static boolean isTheJdksNativeAccessNotice(List<String> stderr) {
    List<String> lines = stderr.stream().filter(l -> !l.isBlank()).toList();
    return lines.size() == 4
        && lines.get(0).equals("WARNING: A restricted method in java.lang.System has been called")
        && lines.get(1).contains("org.newsclub.net.unix.NativeLibraryLoader")
        && lines
            .get(2)
            .equals(
                "WARNING: Use --enable-native-access=ALL-UNNAMED to avoid a warning for callers in"
                    + " this module")
        && lines.get(3).startsWith("WARNING: Restricted methods will be blocked");
  }

  @Test
  void aPlainJvmOpensAndReceivesDescriptorsWithoutOptions() {
    assertTimeoutPreemptively(
        TIMEOUT,
        () -> {
          Child plain = runPlainJvm();
          assertEquals(0, plain.exitCode(), String.join("\n", plain.stderr()));
          assertEquals("opened: plain\nreceived: plain\n", plain.stdout());
          if (Runtime.version().feature() < 24) {
            assertEquals(List.of(), plain.stderr(), "no warning before JDK 24");
          } else {
            assertTrue(
                isTheJdksNativeAccessNotice(plain.stderr()),
                "only the JDK's own native-access notice, which names the option: "
                    + plain.stderr());
          }
          // That notice is the JDK's alone: with native access enabled, nothing is printed, and
          // no other option (no --add-opens) is needed.
          Child enabled = runPlainJvm("--enable-native-access=ALL-UNNAMED");
          assertEquals(0, enabled.exitCode(), String.join("\n", enabled.stderr()));
          assertEquals("opened: plain\nreceived: plain\n", enabled.stdout());
          assertEquals(List.of(), enabled.stderr());
        });
  }

  @Test
  void aJvmThatDeniesNativeAccessFailsNamingTheOption() {
    assumeTrue(Runtime.version().feature() >= 24, "--illegal-native-access exists from JDK 24");
    assertTimeoutPreemptively(
        TIMEOUT,
        () -> {
          Child denied = runPlainJvm("--illegal-native-access=deny");
          assertNotEquals(0, denied.exitCode());
          String stderr = String.join("\n", denied.stderr());
          assertTrue(
              stderr.contains(
                      "UnsupportedOperationException: The filebroker client cannot receive"
                          + " descriptors")
                  && stderr.contains("start it with --enable-native-access=ALL-UNNAMED"),
              stderr);
        });
  }

  @Test
  void theClientJarNamesItsModuleAndComesWithSourcesAndJavadoc() throws Exception {
    Path jar =
        Arrays.stream(System.getProperty("java.class.path").split(File.pathSeparator))
            .map(Path::of)
            .filter(p -> p.getFileName().toString().matches("filebroker-client-.*\\.jar"))
            .findFirst()
            .orElseThrow(() -> new AssertionError("the client jar is not on the class path"));
    try (JarFile file = new JarFile(jar.toFile())) {
      assertEquals(
          "dev.filebroker.client",
          file.getManifest().getMainAttributes().getValue("Automatic-Module-Name"));
    }
    String name = jar.getFileName().toString().replaceFirst("\\.jar$", "");
    for (String classifier : List.of("sources", "javadoc")) {
      Path attached = jar.resolveSibling(name + "-" + classifier + ".jar");
      assertTrue(Files.size(attached) > 0, attached + " must be built");
    }
  }
}
