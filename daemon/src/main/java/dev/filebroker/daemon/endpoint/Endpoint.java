package dev.filebroker.daemon.endpoint;

import dev.filebroker.daemon.policy.Caller;
import dev.filebroker.daemon.policy.FileType;
import dev.filebroker.daemon.policy.SourceLocation;
import dev.filebroker.daemon.policy.Subject;
import java.nio.file.Path;
import java.util.List;
import java.util.Objects;
import java.util.Set;

/**
 * One fixed endpoint from the daemon configuration ({@code [[endpoint]]}): an extra socket bound to
 * exactly one file and one access mode. A client that connects and is one of the subjects receives
 * the descriptor at once, attached to a single byte, without sending a request.
 *
 * @param name the endpoint's name; audit lines show it as the rule
 * @param socket where the endpoint's socket is bound
 * @param socketMode permission bits of that socket
 * @param path the absolute canonical path of the file handed out
 * @param access how the file is opened
 * @param subjects who receives it (a caller matching any one of them)
 * @param types the file types that may be handed out
 * @param source where the endpoint is declared, for audit lines
 */
public record Endpoint(
    String name,
    Path socket,
    int socketMode,
    String path,
    EndpointAccess access,
    List<Subject> subjects,
    Set<FileType> types,
    SourceLocation source) {
  public Endpoint {
    Objects.requireNonNull(name, "name == null");
    Objects.requireNonNull(socket, "socket == null");
    Objects.requireNonNull(path, "path == null");
    Objects.requireNonNull(access, "access == null");
    subjects = List.copyOf(Objects.requireNonNull(subjects, "subjects == null"));
    types = Set.copyOf(Objects.requireNonNull(types, "types == null"));
    Objects.requireNonNull(source, "source == null");
    if (subjects.isEmpty()) {
      throw new IllegalArgumentException("subjects is empty: an endpoint needs at least one");
    }
    if (!path.startsWith("/")) {
      throw new IllegalArgumentException("path must be absolute: " + path);
    }
  }

  /** Whether {@code caller} is one of this endpoint's subjects. */
  public boolean admits(Caller caller) {
    return subjects.stream().anyMatch(s -> s.matches(caller));
  }
}
