package dev.filebroker.daemon.lifecycle;

import dev.filebroker.daemon.config.DaemonConfig;
import dev.filebroker.daemon.server.EssentialThreads;
import dev.filebroker.daemon.server.ListeningSocket;
import dev.filebroker.daemon.server.Server;
import dev.filebroker.daemon.server.ServerSettings;
import dev.filebroker.daemon.systemd.ActivatedSocket;
import dev.filebroker.daemon.varlink.VarlinkServer;
import java.io.IOException;
import java.util.Optional;
import org.slf4j.LoggerFactory;

/**
 * Starts the Varlink interface when it is wanted: on the socket systemd passes as {@code varlink},
 * else at {@code varlink_socket}; not at all when neither is there.
 */
final class VarlinkStart {
  private VarlinkStart() {}

  static Optional<VarlinkServer> start(
      Optional<ActivatedSocket> passed,
      DaemonConfig config,
      Server server,
      ServerSettings settings,
      EssentialThreads essential)
      throws IOException {
    ListeningSocket listener;
    String where;
    if (passed.isPresent()) {
      listener = ListeningSocket.inherited(passed.get().channel());
      where = "socket-activated varlink";
    } else if (config.varlinkSocket().isPresent()) {
      listener = ListeningSocket.bind(config.varlinkSocket().get(), config.socketMode());
      where = config.varlinkSocket().get().toString();
    } else {
      return Optional.empty();
    }
    String version =
        Optional.ofNullable(Daemon.class.getPackage().getImplementationVersion()).orElse("unknown");
    VarlinkServer varlink =
        new VarlinkServer(
            listener,
            server.gateway(),
            settings.idleTimeout(),
            settings.partialFrameTimeout(),
            settings.servingThreads(),
            version);
    varlink.start(essential);
    LoggerFactory.getLogger(VarlinkStart.class).info("Varlink interface on {}", where);
    return Optional.of(varlink);
  }
}
