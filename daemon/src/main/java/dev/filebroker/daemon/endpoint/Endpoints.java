package dev.filebroker.daemon.endpoint;

import dev.filebroker.daemon.audit.AuditLog;
import dev.filebroker.daemon.fs.FileOpener;
import dev.filebroker.daemon.server.Closer;
import dev.filebroker.daemon.server.EssentialThreads;
import dev.filebroker.daemon.server.ListeningSocket;
import dev.filebroker.daemon.server.PolicyHolder;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The fixed endpoints of a running daemon: binds every endpoint socket at start (refusing to start
 * if one cannot be bound), accepts on each with a thread of its own, serves their connections on
 * {@link EndpointWorkers#THREADS} shared threads under the per-uid limits of {@code [limits]}, and
 * removes the sockets on close.
 */
public final class Endpoints implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(Endpoints.class);

  private final List<EndpointServer> servers;
  private final EndpointWorkers workers;
  private final Closer closer;

  private Endpoints(List<EndpointServer> servers, EndpointWorkers workers, Closer closer) {
    this.servers = List.copyOf(servers);
    this.workers = workers;
    this.closer = closer;
  }

  /**
   * Binds and starts serving {@code endpoints}. A stale socket file is replaced; a socket another
   * process listens on, or a path that is not a socket, is an error, and then no endpoint stays
   * bound.
   *
   * @param opener opens each endpoint's file per connection; must outlive the returned object
   * @param audit receives one event per connection
   * @param policies the policy in force, whose deny rules refuse endpoint connections too
   * @param limits the per-uid connection and rate limits for endpoint connections, shared by all
   * @throws EndpointBindException when a socket cannot be bound
   */
  public static Endpoints start(
      List<Endpoint> endpoints,
      FileOpener opener,
      AuditLog audit,
      PolicyHolder policies,
      EndpointLimits limits,
      EssentialThreads essential)
      throws EndpointBindException {
    List<ListeningSocket> bound = new ArrayList<>();
    try {
      for (Endpoint e : endpoints) {
        try {
          bound.add(ListeningSocket.bind(e.socket(), e.socketMode()));
        } catch (IOException x) {
          throw new EndpointBindException(
              "Could not bind endpoint " + e.name() + " (" + e.source() + "): " + x.getMessage(),
              x);
        }
      }
    } catch (EndpointBindException e) {
      for (ListeningSocket s : bound) {
        try {
          s.close();
        } catch (IOException ignored) {
          // already failing; the first error is the one to report
        }
      }
      throw e;
    }
    EndpointWorkers workers = EndpointWorkers.start();
    Closer closer = new Closer();
    List<EndpointServer> servers = new ArrayList<>();
    for (int i = 0; i < endpoints.size(); i++) {
      EndpointServer server =
          new EndpointServer(
              endpoints.get(i), bound.get(i), opener, audit, policies, limits, workers, closer);
      try {
        server.start(essential);
      } catch (IOException x) {
        new Endpoints(servers, workers, closer).close();
        for (ListeningSocket s : bound.subList(i, bound.size())) {
          try {
            s.close();
          } catch (IOException ignored) {
            // already failing; the first error is the one to report
          }
        }
        throw new EndpointBindException(
            "Could not accept on endpoint "
                + endpoints.get(i).name()
                + " ("
                + endpoints.get(i).source()
                + "): "
                + x.getMessage(),
            x);
      }
      servers.add(server);
      log.info(
          "Endpoint {} on {} hands out {} ({})",
          endpoints.get(i).name(),
          endpoints.get(i).socket(),
          endpoints.get(i).path(),
          endpoints.get(i).access().configName());
    }
    return new Endpoints(servers, workers, closer);
  }

  /** How many endpoints are served. */
  public int size() {
    return servers.size();
  }

  /**
   * Stops every endpoint after handing over the connections waiting in its backlog, serves what was
   * accepted, and removes the socket files.
   */
  @Override
  public void close() {
    for (EndpointServer s : servers) {
      try {
        s.stop();
      } catch (IOException e) {
        log.warn("Could not remove an endpoint socket: {}", e.toString());
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }
    try {
      workers.stop(2000);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    } finally {
      closer.stop();
    }
  }
}
