package dev.filebroker.daemon.config;

import dev.filebroker.daemon.audit.AuditConfig;
import dev.filebroker.daemon.endpoint.Endpoint;
import dev.filebroker.daemon.server.ServerSettings;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Objects;
import java.util.Optional;

/**
 * The daemon's own settings (not the policy): where to listen, where the policy lives, limits. Read
 * once at start from /etc/filebroker/filebroker.toml; command-line options override.
 *
 * @param socket the socket path to bind when not socket-activated
 * @param socketMode permission bits of a socket the daemon binds itself
 * @param policy the policy file or directory
 * @param limits connection and request limits
 * @param controlSocket the root-only control socket to bind when systemd passes none
 * @param endpoints fixed endpoints ({@code [[endpoint]]}): extra sockets that each hand out one
 *     file
 * @param audit where audit lines go ({@code [audit] destination})
 * @param varlinkSocket where to serve the Varlink interface ({@code varlink_socket}); empty: only
 *     when systemd passes a socket named {@code varlink}
 */
public record DaemonConfig(
    Path socket,
    int socketMode,
    Path policy,
    ServerSettings limits,
    Path controlSocket,
    List<Endpoint> endpoints,
    AuditConfig audit,
    Optional<Path> varlinkSocket) {
  /** Where the packaged daemon reads its configuration. */
  public static final Path DEFAULT_FILE = Path.of("/etc/filebroker/filebroker.toml");

  /** Where the control socket is when the configuration does not say. */
  public static final Path DEFAULT_CONTROL_SOCKET = Path.of("/run/filebroker/control.sock");

  public DaemonConfig {
    Objects.requireNonNull(socket, "socket == null");
    Objects.requireNonNull(policy, "policy == null");
    Objects.requireNonNull(limits, "limits == null");
    Objects.requireNonNull(controlSocket, "controlSocket == null");
    endpoints = List.copyOf(Objects.requireNonNull(endpoints, "endpoints == null"));
    Objects.requireNonNull(audit, "audit == null");
    Objects.requireNonNull(varlinkSocket, "varlinkSocket == null");
  }

  /** Settings without a Varlink socket of their own. */
  public DaemonConfig(
      Path socket,
      int socketMode,
      Path policy,
      ServerSettings limits,
      Path controlSocket,
      List<Endpoint> endpoints,
      AuditConfig audit) {
    this(socket, socketMode, policy, limits, controlSocket, endpoints, audit, Optional.empty());
  }

  /** Settings with the default control socket and no fixed endpoints. */
  public DaemonConfig(Path socket, int socketMode, Path policy, ServerSettings limits) {
    this(
        socket,
        socketMode,
        policy,
        limits,
        DEFAULT_CONTROL_SOCKET,
        List.of(),
        AuditConfig.of(AuditConfig.STDOUT));
  }

  /** The settings used when no configuration file exists. */
  public static DaemonConfig defaults() {
    return new DaemonConfig(
        Path.of("/run/filebroker/filebroker.sock"),
        0666,
        Path.of("/etc/filebroker/policy.d"),
        defaultLimits());
  }

  /** A copy listening on {@code socket}. */
  public DaemonConfig withSocket(Path socket) {
    return new DaemonConfig(
        socket, socketMode, policy, limits, controlSocket, endpoints, audit, varlinkSocket);
  }

  /** A copy reading its policy from {@code policy}. */
  public DaemonConfig withPolicy(Path policy) {
    return new DaemonConfig(
        socket, socketMode, policy, limits, controlSocket, endpoints, audit, varlinkSocket);
  }

  /** A copy serving the Varlink interface on {@code varlinkSocket}. */
  public DaemonConfig withVarlinkSocket(Optional<Path> varlinkSocket) {
    return new DaemonConfig(
        socket, socketMode, policy, limits, controlSocket, endpoints, audit, varlinkSocket);
  }

  /** A copy whose control socket is {@code controlSocket}. */
  public DaemonConfig withControlSocket(Path controlSocket) {
    return new DaemonConfig(
        socket, socketMode, policy, limits, controlSocket, endpoints, audit, varlinkSocket);
  }

  /**
   * The default {@code [limits]}: sized for a busy desktop or server, well below what exhausts the
   * daemon; one event loop per CPU.
   */
  public static ServerSettings defaultLimits() {
    return new ServerSettings(
        eventLoopsPerCpu(),
        65536,
        1024,
        20000,
        2000,
        64,
        Duration.ofSeconds(10),
        Duration.ofSeconds(600));
  }

  /** What {@code event_loops = 0} (the default) stands for: one per CPU. */
  static int eventLoopsPerCpu() {
    return Math.max(1, Math.min(256, Runtime.getRuntime().availableProcessors()));
  }
}
