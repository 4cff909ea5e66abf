package dev.filebroker.daemon.server;

import dev.filebroker.daemon.fs.Descriptors;
import dev.filebroker.daemon.fs.Errno;
import dev.filebroker.daemon.fs.SocketMessages;
import java.io.IOException;
import java.net.SocketException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.EnumSet;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.atomic.AtomicBoolean;
import org.newsclub.net.unix.AFUNIXServerSocket;
import org.newsclub.net.unix.AFUNIXServerSocketChannel;
import org.newsclub.net.unix.AFUNIXSocket;
import org.newsclub.net.unix.AFUNIXSocketAddress;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A listening socket the server accepts on: one it bound itself (and removes on close), or one it
 * inherited from systemd (left in place).
 *
 * <p>Every listening socket is told to refuse descriptors (SO_PASSRIGHTS = 0, Linux 6.16+), and the
 * connections it accepts inherit that: a client's sendmsg with SCM_RIGHTS fails with EPERM, so no
 * descriptor a client attaches ever reaches the daemon, whose close of it could block. Where the
 * kernel lacks the option, the sessions close what arrives on a thread of their own.
 *
 * @param channel the listening channel
 * @param path the socket's path, when the daemon bound it and must remove it at shutdown
 * @param refusesDescriptors whether the kernel refuses descriptors sent to its connections
 */
public record ListeningSocket(
    AFUNIXServerSocketChannel channel, Optional<Path> path, boolean refusesDescriptors) {
  private static final Logger log = LoggerFactory.getLogger(ListeningSocket.class);

  /**
   * Set to 1, the daemon leaves SO_PASSRIGHTS alone, as on a kernel before 6.16 (for testing the
   * fallback).
   */
  static final String KEEP_PASSRIGHTS = "FILEBROKER_KEEP_SO_PASSRIGHTS";

  private static final AtomicBoolean missingLogged = new AtomicBoolean();

  public ListeningSocket {
    Objects.requireNonNull(channel, "channel == null");
    Objects.requireNonNull(path, "path == null");
  }

  /** Wraps a socket inherited through socket activation. */
  public static ListeningSocket inherited(AFUNIXServerSocketChannel channel) {
    // The socket file belongs to the service manager, which keeps listening across restarts.
    channel.setDeleteOnClose(false);
    return new ListeningSocket(channel, Optional.empty(), refuseDescriptors(channel));
  }

  /**
   * Binds {@code path} with permission bits {@code mode}. A stale socket file left by a daemon that
   * died is replaced; a socket another process still listens on is not.
   */
  public static ListeningSocket bind(Path path, int mode) throws IOException {
    return bind(path, mode, "--socket");
  }

  /**
   * Like {@link #bind(Path, int)}; {@code option} names the command-line option that chooses
   * another path, for the messages that refuse to replace a file.
   */
  public static ListeningSocket bind(Path path, int mode, String option) throws IOException {
    Path parent = path.toAbsolutePath().getParent();
    if (parent != null && !Files.isDirectory(parent)) {
      Files.createDirectories(
          parent,
          PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwxr-xr-x")));
    }
    if (Files.exists(path, LinkOption.NOFOLLOW_LINKS)) {
      removeStale(path, option);
    }
    AFUNIXServerSocket server = AFUNIXServerSocket.newInstance();
    server.bind(AFUNIXSocketAddress.of(path), 4096);
    Files.setPosixFilePermissions(path, permissions(mode));
    AFUNIXServerSocketChannel channel = server.getChannel();
    return new ListeningSocket(channel, Optional.of(path), refuseDescriptors(channel));
  }

  /** Sets SO_PASSRIGHTS to 0 on {@code channel}; returns whether the kernel now refuses them. */
  private static boolean refuseDescriptors(AFUNIXServerSocketChannel channel) {
    if ("1".equals(System.getenv(KEEP_PASSRIGHTS))) {
      return false;
    }
    int fd;
    try {
      fd = Descriptors.fdOf(channel.getFileDescriptor());
    } catch (IOException e) {
      log.warn("Could not set SO_PASSRIGHTS: {}", e.toString());
      return false;
    }
    int errno = SocketMessages.refuseDescriptors(fd);
    if (errno == 0) {
      return true;
    }
    if (SocketMessages.optionMissing(errno)) {
      if (missingLogged.compareAndSet(false, true)) {
        log.info(
            "This kernel has no SO_PASSRIGHTS (Linux 6.16+): descriptors clients attach reach the"
                + " daemon, which refuses them and closes them on a thread of their own");
      }
    } else {
      log.warn("Could not set SO_PASSRIGHTS on fd {}: {}", fd, Errno.name(errno));
    }
    return false;
  }

  private static void removeStale(Path path, String option) throws IOException {
    if (!Files.readAttributes(path, BasicFileAttributes.class, LinkOption.NOFOLLOW_LINKS)
        .isOther()) {
      throw new IOException(
          path + " exists and is not a socket; remove it or choose another " + option);
    }
    boolean live;
    try (AFUNIXSocket probe = AFUNIXSocket.connectTo(AFUNIXSocketAddress.of(path))) {
      live = probe.isConnected();
    } catch (SocketException e) {
      live = false;
    }
    if (live) {
      throw new IOException(
          "another process is listening on " + path + "; stop it or choose another " + option);
    }
    Files.delete(path);
  }

  /**
   * Stops listening; removes the socket file when this daemon created it. An inherited socket is
   * left open until the process exits: junixsocket's close calls {@code shutdown(SHUT_RDWR)} before
   * {@code close}, and shutting down a listening socket shared with the service manager makes every
   * later {@code connect(2)} fail with {@code ECONNREFUSED}, for the next daemon too. Connections
   * that arrive after the acceptor stopped wait in the backlog for the next daemon.
   */
  public void close() throws IOException {
    if (path.isEmpty()) {
      return;
    }
    channel.close();
    if (path.isPresent()) {
      Files.deleteIfExists(path.get());
    }
  }

  static Set<PosixFilePermission> permissions(int mode) {
    Set<PosixFilePermission> set = EnumSet.noneOf(PosixFilePermission.class);
    PosixFilePermission[] order = {
      PosixFilePermission.OTHERS_EXECUTE,
      PosixFilePermission.OTHERS_WRITE,
      PosixFilePermission.OTHERS_READ,
      PosixFilePermission.GROUP_EXECUTE,
      PosixFilePermission.GROUP_WRITE,
      PosixFilePermission.GROUP_READ,
      PosixFilePermission.OWNER_EXECUTE,
      PosixFilePermission.OWNER_WRITE,
      PosixFilePermission.OWNER_READ
    };
    for (int bit = 0; bit < order.length; bit++) {
      if ((mode & (1 << bit)) != 0) {
        set.add(order[bit]);
      }
    }
    return set;
  }
}
