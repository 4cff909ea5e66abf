package dev.filebroker.daemon.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.filebroker.daemon.audit.AuditLog;
import dev.filebroker.daemon.fs.Errno;
import dev.filebroker.daemon.fs.FileOpener;
import dev.filebroker.daemon.policy.Caller;
import dev.filebroker.daemon.policy.PolicyLoad;
import dev.filebroker.daemon.policy.PolicyLoader;
import dev.filebroker.protocol.ErrorCode;
import dev.filebroker.protocol.ErrorReply;
import dev.filebroker.protocol.OpenFlags;
import dev.filebroker.protocol.OpenRequest;
import dev.filebroker.protocol.OpenedReply;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Supplier;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Decisions and opens for single requests, with a real policy and real files. Needs root. */
class RequestHandlerTest {
  private static final Caller ALICE =
      new Caller(42, 1000, 1000, List.of(100), Optional.empty(), Optional.empty());

  @TempDir Path dir;
  private FileOpener opener;
  private RequestHandler handler;
  private Statistics statistics;
  private Path granted;

  @BeforeEach
  void setUp() throws IOException {
    granted = Files.writeString(dir.resolve("granted.txt"), "granted");
    Files.writeString(dir.resolve("other.txt"), "other");
    Path policy = dir.resolve("policy.toml");
    Path real = dir.toRealPath();
    Files.createDirectories(dir.resolve("out"));
    Files.createDirectories(dir.resolve("sub"));
    Files.writeString(
        policy,
        """
        [[allow]]
        name = "alice-reads"
        users = [1000]
        paths = ["%1$s/granted.txt"]
        access = ["read"]

        [[allow]]
        name = "alice-creates"
        users = [1000]
        paths = ["%1$s/out/*"]
        access = ["write", "create"]
        create_mode = "0640"

        [[allow]]
        name = "root-creates"
        users = [1000]
        paths = ["%1$s/rootout/*"]
        access = ["write", "create"]
        create_owner = "root"

        [[allow]]
        name = "single-link"
        users = [1000]
        paths = ["%1$s/linked/*"]
        access = ["read"]
        max_links = 1

        [[allow]]
        name = "own-files"
        users = [1000]
        paths = ["%1$s/owned/*"]
        access = ["read"]
        owner = "requester"

        [[allow]]
        name = "append-log"
        users = [1000]
        paths = ["%1$s/log"]
        access = ["append"]
        append_only_inode = true

        [[allow]]
        name = "anything-below"
        users = [1000]
        paths = ["%1$s/tree/**"]
        access = ["read", "directory"]
        types = ["regular", "directory"]

        [[deny]]
        name = "no-directory-listing"
        users = [1000]
        paths = ["%1$s/tree/**"]
        access = ["directory"]
        """
            .formatted(real));
    var loaded = assertInstanceOf(PolicyLoad.Valid.class, PolicyLoader.load(policy));
    opener = FileOpener.create();
    statistics = new Statistics();
    handler =
        new RequestHandler(
            new PolicyHolder(new PolicyHolder.Loaded(loaded.policy(), policy, Instant.now())),
            opener,
            new AuditLog(),
            statistics);
  }

  @AfterEach
  void tearDown() {
    opener.close();
  }

  private Response open(Optional<Caller> caller, int flags, String path) {
    return handler.handle(caller, new OpenRequest(9, flags, 0, path));
  }

  @Test
  void grantsWhatTheRuleAllowsWithTheDescriptor() throws IOException {
    try (Response r =
        open(Optional.of(ALICE), OpenFlags.O_RDONLY, granted.toRealPath().toString())) {
      OpenedReply reply = assertInstanceOf(OpenedReply.class, r.reply());
      assertEquals(9, reply.requestId());
      assertEquals(0100000, reply.fileMode() & 0170000, "a regular file");
      assertTrue(r.file().isPresent());
      assertEquals(Files.size(granted), r.file().get().stat().size());
    }
    assertEquals(1, statistics.grants());
  }

  @Test
  void deniesEveryRequestWhenCredentialsAreUnknown() throws IOException {
    try (Response r = open(Optional.empty(), OpenFlags.O_RDONLY, granted.toRealPath().toString())) {
      ErrorReply error = assertInstanceOf(ErrorReply.class, r.reply());
      assertEquals(ErrorCode.DENIED.code(), error.code());
      assertEquals(Errno.EACCES, error.errno());
      assertTrue(error.message().contains("credentials"), error.message());
      assertTrue(r.file().isEmpty());
    }
  }

  @Test
  void deniesWriteOnAReadRule() throws IOException {
    try (Response r =
        open(Optional.of(ALICE), OpenFlags.O_WRONLY, granted.toRealPath().toString())) {
      assertEquals(ErrorCode.DENIED.code(), assertInstanceOf(ErrorReply.class, r.reply()).code());
    }
    assertEquals("granted", Files.readString(granted));
  }

  @Test
  void refusesInvalidPathBeforeThePolicy() {
    try (Response r = open(Optional.of(ALICE), OpenFlags.O_RDONLY, "relative/path")) {
      ErrorReply error = assertInstanceOf(ErrorReply.class, r.reply());
      assertEquals(ErrorCode.INVALID_PATH.code(), error.code());
      assertEquals("path must be absolute (start with /)", error.message());
    }
    assertEquals(1, statistics.rejections());
  }

  @Test
  void refusesUnknownFlagBits() throws IOException {
    try (Response r = open(Optional.of(ALICE), 0x40000000, granted.toRealPath().toString())) {
      assertEquals(
          ErrorCode.INVALID_FLAGS.code(), assertInstanceOf(ErrorReply.class, r.reply()).code());
    }
  }

  private ErrorReply refused(Response r, ErrorCode expected) {
    ErrorReply error = assertInstanceOf(ErrorReply.class, r.reply());
    assertEquals(expected.code(), error.code(), error.message());
    assertTrue(r.file().isEmpty());
    return error;
  }

  @Test
  void createsFilesOwnedByTheRequesterWithTheRuleMode() throws IOException {
    String path = dir.toRealPath().resolve("out/new.txt").toString();
    try (Response r =
        handler.handle(
            Optional.of(ALICE),
            new OpenRequest(1, OpenFlags.O_WRONLY | OpenFlags.O_CREAT, 0666, path))) {
      assertInstanceOf(OpenedReply.class, r.reply());
    }
    Path created = Path.of(path);
    assertEquals(1000, Files.getAttribute(created, "unix:uid"));
    assertEquals(1000, Files.getAttribute(created, "unix:gid"));
    assertEquals(0640, (int) Files.getAttribute(created, "unix:mode") & 07777);
  }

  @Test
  void createOwnerRootLeavesTheFileToRoot() throws IOException {
    Files.createDirectories(dir.resolve("rootout"));
    String path = dir.toRealPath().resolve("rootout/new.txt").toString();
    try (Response r =
        handler.handle(
            Optional.of(ALICE),
            new OpenRequest(1, OpenFlags.O_WRONLY | OpenFlags.O_CREAT, 0600, path))) {
      assertInstanceOf(OpenedReply.class, r.reply());
    }
    assertEquals(0, Files.getAttribute(Path.of(path), "unix:uid"));
  }

  @Test
  void refusesAHardLinkedFileUnderMaxLinks() throws IOException {
    Path linked = Files.createDirectories(dir.resolve("linked"));
    Path one = Files.writeString(linked.resolve("one"), "1");
    Files.createLink(linked.resolve("alias"), one);
    try (Response r = open(Optional.of(ALICE), OpenFlags.O_RDONLY, one.toRealPath().toString())) {
      ErrorReply e = refused(r, ErrorCode.CONSTRAINT_FAILED);
      assertTrue(e.message().contains("2 hard links"), e.message());
    }
    Path single = Files.writeString(linked.resolve("single"), "s");
    try (Response r =
        open(Optional.of(ALICE), OpenFlags.O_RDONLY, single.toRealPath().toString())) {
      assertInstanceOf(OpenedReply.class, r.reply());
    }
  }

  @Test
  void refusesAFileNotOwnedByTheRequester() throws IOException {
    Path owned = Files.createDirectories(dir.resolve("owned"));
    Path rootFile = Files.writeString(owned.resolve("root"), "r");
    Path aliceFile = Files.writeString(owned.resolve("alice"), "a");
    Files.setAttribute(aliceFile, "unix:uid", 1000);
    try (Response r =
        open(Optional.of(ALICE), OpenFlags.O_RDONLY, rootFile.toRealPath().toString())) {
      refused(r, ErrorCode.CONSTRAINT_FAILED);
    }
    try (Response r =
        open(Optional.of(ALICE), OpenFlags.O_RDONLY, aliceFile.toRealPath().toString())) {
      assertInstanceOf(OpenedReply.class, r.reply());
    }
  }

  @Test
  void appendNeedsTheAppendOnlyAttributeWhenTheRuleSaysSo() throws Exception {
    Path log = Files.writeString(dir.resolve("log"), "line\n");
    String path = log.toRealPath().toString();
    try (Response r = open(Optional.of(ALICE), OpenFlags.O_WRONLY | OpenFlags.O_APPEND, path)) {
      ErrorReply e = refused(r, ErrorCode.CONSTRAINT_FAILED);
      assertTrue(e.message().contains("append-only"), e.message());
    }
    assertEquals(0, new ProcessBuilder("chattr", "+a", path).start().waitFor());
    try {
      try (Response r = open(Optional.of(ALICE), OpenFlags.O_WRONLY | OpenFlags.O_APPEND, path)) {
        assertInstanceOf(OpenedReply.class, r.reply());
      }
    } finally {
      new ProcessBuilder("chattr", "-a", path).start().waitFor();
    }
  }

  @Test
  void aDirectoryReachedWithoutODirectoryIsDecidedAsADirectoryRequest() throws IOException {
    Path sub = Files.createDirectories(dir.resolve("tree/sub"));
    Path file = Files.writeString(dir.resolve("tree/file"), "f");
    try (Response r = open(Optional.of(ALICE), OpenFlags.O_RDONLY, sub.toRealPath().toString())) {
      refused(r, ErrorCode.DENIED);
    }
    try (Response r = open(Optional.of(ALICE), OpenFlags.O_RDONLY, file.toRealPath().toString())) {
      assertInstanceOf(OpenedReply.class, r.reply());
    }
  }

  private PolicyHolder.Loaded loaded(String name, String policy) throws IOException {
    Path file = Files.writeString(dir.resolve(name), policy);
    var load = assertInstanceOf(PolicyLoad.Valid.class, PolicyLoader.load(file));
    return new PolicyHolder.Loaded(load.policy(), file, Instant.now());
  }

  @Test
  void decidesOneRequestAgainstOneSnapshotWhenAReloadComesBetween() throws IOException {
    Path tree = Files.createDirectories(dir.resolve("snap")).toRealPath();
    String allowBelow =
        """
        [[allow]]
        name = "reads-below"
        users = [1000]
        paths = ["%s/**"]
        access = ["read", "directory"]
        types = ["regular", "directory"]
        """
            .formatted(tree.getParent());
    PolicyHolder.Loaded before = loaded("before.toml", allowBelow);
    PolicyHolder.Loaded after =
        loaded(
            "after.toml",
            allowBelow
                + """

                [[deny]]
                name = "no-directories"
                users = [1000]
                paths = ["%s/**"]
                access = ["directory"]
                """
                    .formatted(tree.getParent()));
    // A reload after the first read: every later read of the policy in force sees the new one.
    AtomicInteger reads = new AtomicInteger();
    Supplier<PolicyHolder.Loaded> reloading = () -> reads.getAndIncrement() == 0 ? before : after;
    RequestHandler handler = new RequestHandler(reloading, opener, new AuditLog(), statistics);
    // A directory without O_DIRECTORY is decided twice (as read, then as directory): both times
    // against the snapshot the request started with.
    try (Response r =
        handler.handle(
            Optional.of(ALICE), new OpenRequest(9, OpenFlags.O_RDONLY, 0, tree.toString()))) {
      assertInstanceOf(OpenedReply.class, r.reply(), () -> "granted under one snapshot: " + r);
    }
    assertEquals(1, reads.get(), "one read of the policy in force per request");
    try (Response r =
        handler.handle(
            Optional.of(ALICE), new OpenRequest(10, OpenFlags.O_RDONLY, 0, tree.toString()))) {
      ErrorReply error = assertInstanceOf(ErrorReply.class, r.reply());
      assertEquals(ErrorCode.DENIED.code(), error.code(), "the next request sees the reload");
    }
  }

  @Test
  void mapsErrnosToStableCodes() {
    assertEquals(ErrorCode.NOT_FOUND, RequestHandler.codeFor(Errno.ENOENT));
    assertEquals(ErrorCode.SYMLINK_IN_PATH, RequestHandler.codeFor(Errno.ELOOP));
    assertEquals(ErrorCode.NOT_A_DIRECTORY, RequestHandler.codeFor(Errno.ENOTDIR));
    assertEquals(ErrorCode.ALREADY_EXISTS, RequestHandler.codeFor(Errno.EEXIST));
    assertEquals(ErrorCode.CROSSES_MOUNT, RequestHandler.codeFor(Errno.EXDEV));
    assertEquals(ErrorCode.WRONG_FILE_TYPE, RequestHandler.codeFor(Errno.EISDIR));
    assertEquals(ErrorCode.LIMIT_EXCEEDED, RequestHandler.codeFor(Errno.EMFILE));
    assertEquals(ErrorCode.LIMIT_EXCEEDED, RequestHandler.codeFor(Errno.ENFILE));
    assertEquals(ErrorCode.IO_ERROR, RequestHandler.codeFor(Errno.EACCES));
  }
}
