package dev.filebroker.daemon.systemd;

import java.io.IOException;
import java.net.SocketException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import org.newsclub.net.unix.AFUNIXServerSocket;
import org.newsclub.net.unix.AFUNIXServerSocketChannel;
import org.newsclub.net.unix.AFUNIXSocketAddress;
import org.newsclub.net.unix.FileDescriptorCast;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Takes over the listening sockets the service manager passed to this process, as {@code
 * sd_listen_fds_with_names(3)} does.
 *
 * <p>Exists so {@code filebroker.socket} can own {@code /run/filebroker/filebroker.sock}: the
 * socket exists (with its mode) before the daemon starts, and survives daemon restarts without a
 * window in which clients get {@code ECONNREFUSED}.
 *
 * <p>Protocol: {@code LISTEN_PID} is this process's pid, {@code LISTEN_FDS} the number of
 * descriptors starting at 3, {@code LISTEN_FDNAMES} their colon-separated names.
 *
 * <p>Linux caveats: a Java process cannot remove variables from its own environment, so {@code
 * LISTEN_PID}, {@code LISTEN_FDS} and {@code LISTEN_FDNAMES} stay set; children see a {@code
 * LISTEN_PID} that is not theirs and ignore them. The inherited descriptors are not marked
 * close-on-exec, but {@link ProcessBuilder} closes every descriptor above 2 in the children it
 * starts.
 */
public final class SocketActivation {
  /** The first descriptor passed by the service manager ({@code SD_LISTEN_FDS_START}). */
  static final int FIRST_FD = 3;

  /** Name {@code sd_listen_fds_with_names} reports for a descriptor without a name. */
  static final String UNNAMED = "unknown";

  /** More descriptors than this is a broken environment, not a configuration. */
  private static final int MAX_FDS = 4096;

  private static final Logger log = LoggerFactory.getLogger(SocketActivation.class);

  private SocketActivation() {}

  /**
   * Returns the listening sockets passed to this process.
   *
   * @return the sockets in descriptor order; empty if {@code LISTEN_PID} is unset (the daemon was
   *     not socket-activated) or names another process (the variables were inherited from a
   *     socket-activated parent), which is logged
   * @throws IllegalArgumentException if {@code LISTEN_PID}, {@code LISTEN_FDS} or {@code
   *     LISTEN_FDNAMES} is malformed; the message names the variable
   * @throws SocketException if a passed descriptor is not a listening AF_UNIX stream socket
   * @throws IOException if a descriptor cannot be wrapped
   */
  public static List<ActivatedSocket> inherit() throws IOException {
    List<InheritedFd> fds = parse(System.getenv(), ProcessHandle.current().pid());
    List<ActivatedSocket> sockets = new ArrayList<>(fds.size());
    for (InheritedFd inherited : fds) {
      sockets.add(new ActivatedSocket(inherited.name(), inherited.fd(), wrap(inherited)));
    }
    return List.copyOf(sockets);
  }

  /** A descriptor number and its name, read from the environment and not yet checked. */
  record InheritedFd(int fd, String name) {}

  /**
   * Reads the descriptors passed to process {@code pid} from {@code env}. Exists because a JVM
   * cannot set its own environment.
   */
  static List<InheritedFd> parse(Map<String, String> env, long pid) {
    Objects.requireNonNull(env, "env == null");
    String listenPid = env.getOrDefault("LISTEN_PID", "");
    if (listenPid.isEmpty()) {
      log.debug("Not socket-activated: LISTEN_PID is unset");
      return List.of();
    }
    long forPid = parseDecimal("LISTEN_PID", listenPid, 1, Long.MAX_VALUE);
    if (forPid != pid) {
      log.info(
          "Ignoring inherited sockets: LISTEN_PID {} is not this process ({}); they were meant"
              + " for another process",
          forPid,
          pid);
      return List.of();
    }
    int count = (int) parseDecimal("LISTEN_FDS", env.getOrDefault("LISTEN_FDS", ""), 0, MAX_FDS);
    String names = env.get("LISTEN_FDNAMES");
    String[] split = names == null ? null : names.split(":", -1);
    if (split != null && split.length != count) {
      throw new IllegalArgumentException(
          "LISTEN_FDNAMES must name each of the "
              + count
              + " descriptors in LISTEN_FDS, got '"
              + names
              + "'");
    }
    List<InheritedFd> fds = new ArrayList<>(count);
    for (int i = 0; i < count; i++) {
      String name = split == null || split[i].isEmpty() ? UNNAMED : split[i];
      fds.add(new InheritedFd(FIRST_FD + i, name));
    }
    return List.copyOf(fds);
  }

  private static long parseDecimal(String variable, String value, long min, long max) {
    String rule = variable + " must be a decimal integer in [" + min + ", " + max + "]";
    if (value.isEmpty() || !value.chars().allMatch(c -> c >= '0' && c <= '9')) {
      throw new IllegalArgumentException(rule + ", got '" + value + "'");
    }
    long parsed;
    try {
      parsed = Long.parseLong(value);
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException(rule + ", got '" + value + "'", e);
    }
    if (parsed < min || parsed > max) {
      throw new IllegalArgumentException(rule + ", got '" + value + "'");
    }
    return parsed;
  }

  private static AFUNIXServerSocketChannel wrap(InheritedFd inherited) throws IOException {
    // The first cast in a JVM finds no AF_UNIX providers unless the address family is loaded.
    Objects.requireNonNull(AFUNIXSocketAddress.addressFamily(), "AF_UNIX support");
    String what = "descriptor " + inherited.fd() + " (" + inherited.name() + ")";
    String fix = "; the socket unit must use ListenStream= with a filesystem path, and Accept=no";
    try {
      // junixsocket refuses the cast unless the descriptor is an AF_UNIX SOCK_STREAM socket
      // (ClassCastException) that is listening (SocketException "Not a ServerSocket").
      AFUNIXServerSocket server =
          FileDescriptorCast.unsafeUsing(inherited.fd()).as(AFUNIXServerSocket.class);
      AFUNIXServerSocketChannel channel = server.getChannel();
      log.info("Inherited listening socket {} at {}", what, server.getLocalSocketAddress());
      return channel;
    } catch (ClassCastException e) {
      throw new SocketException(what + " is not an AF_UNIX stream socket" + fix);
    } catch (SocketException e) {
      SocketException refused =
          new SocketException(what + " is not a listening AF_UNIX stream socket" + fix);
      refused.initCause(e);
      throw refused;
    }
  }
}
