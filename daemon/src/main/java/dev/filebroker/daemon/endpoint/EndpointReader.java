package dev.filebroker.daemon.endpoint;

import dev.filebroker.daemon.policy.FileType;
import dev.filebroker.daemon.policy.SourceLocation;
import dev.filebroker.daemon.policy.Subject;
import dev.filebroker.daemon.policy.SubjectReader;
import dev.filebroker.daemon.toml.Position;
import dev.filebroker.daemon.toml.TomlArray;
import dev.filebroker.daemon.toml.TomlTable;
import dev.filebroker.protocol.RequestValidator;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.EnumSet;
import java.util.HashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;

/**
 * Reads the {@code [[endpoint]]} tables of the daemon configuration. Every problem is reported as
 * "file:line:column: message", like the rest of the configuration; unknown keys are errors.
 */
public final class EndpointReader {
  /** The configuration key whose array of tables declares endpoints. */
  public static final String KEY = "endpoint";

  private static final Set<String> KEYS =
      Set.of("name", "socket", "socket_mode", "path", "access", "users", "groups", "any", "types");
  private static final String NAME_PATTERN = "[A-Za-z0-9][A-Za-z0-9._-]{0,63}";
  private static final int DEFAULT_SOCKET_MODE = 0666;

  private final Path file;
  private final Path base;
  private final List<String> errors;
  private final SubjectReader subjectReader;

  private EndpointReader(Path file, List<String> errors) {
    this.file = file;
    Path parent = file.toAbsolutePath().getParent();
    this.base = parent != null ? parent : Path.of("/");
    this.errors = errors;
    this.subjectReader = SubjectReader.forConfiguration(file, errors::add);
  }

  /**
   * Reads the value of the {@code endpoint} key of {@code file}; problems are appended to {@code
   * errors}.
   *
   * @param value what the configuration holds under {@link #KEY}
   * @param at where that key is
   * @return the valid endpoints (complete only when no error was added)
   */
  public static List<Endpoint> read(Path file, Object value, Position at, List<String> errors) {
    return new EndpointReader(file, errors).readAll(value, at);
  }

  private List<Endpoint> readAll(Object value, Position at) {
    if (!(value instanceof TomlArray array)
        || array.values().stream().anyMatch(e -> !(e instanceof TomlTable))) {
      error(at, "'endpoint' must be an array of tables: write each as [[endpoint]]");
      return List.of();
    }
    List<Endpoint> endpoints = new ArrayList<>();
    Set<String> names = new HashSet<>();
    Set<Path> sockets = new HashSet<>();
    for (int i = 0; i < array.size(); i++) {
      TomlTable table = (TomlTable) array.get(i);
      Position position = array.positionOf(i);
      readOne(table, position)
          .ifPresent(
              e -> {
                if (!names.add(e.name())) {
                  error(
                      position, "endpoint name '" + e.name() + "' is used twice; names are unique");
                } else if (!sockets.add(e.socket())) {
                  error(position, "socket " + e.socket() + " is used by two endpoints");
                } else {
                  endpoints.add(e);
                }
              });
    }
    return List.copyOf(endpoints);
  }

  private Optional<Endpoint> readOne(TomlTable table, Position position) {
    int before = errors.size();
    for (String key : table.keySet()) {
      if (!KEYS.contains(key)) {
        error(
            table.positionOf(key),
            "unknown key '"
                + key
                + "' in [[endpoint]]; expected one of: "
                + String.join(", ", new TreeSet<>(KEYS)));
      }
    }
    String name = requiredString(table, "name", position, "name = \"backup-reads-shadow\"");
    if (name != null && !name.matches(NAME_PATTERN)) {
      error(
          table.positionOf("name"),
          "name '"
              + name
              + "' is not valid; use 1 to 64 letters, digits, '.', '_' or '-', starting with a"
              + " letter or digit");
    }
    String socketText = requiredString(table, "socket", position, "socket = \"/run/x.sock\"");
    Path socket = socketText == null ? null : base.resolve(socketText).normalize();
    int mode = socketMode(table);
    String path = requiredString(table, "path", position, "path = \"/etc/shadow\"");
    if (path != null) {
      RequestValidator.pathProblem(path)
          .ifPresent(p -> error(table.positionOf("path"), "'path' is not valid: " + p));
    }
    String accessName = requiredString(table, "access", position, "access = \"read\"");
    Optional<EndpointAccess> access = Optional.empty();
    if (accessName != null) {
      access = EndpointAccess.ofConfigName(accessName);
      if (access.isEmpty()) {
        error(
            table.positionOf("access"),
            "access '" + accessName + "' is not one of " + EndpointAccess.names());
      }
    }
    List<Subject> subjects = subjects(table, position);
    Set<FileType> types = types(table);
    if (errors.size() != before) {
      return Optional.empty();
    }
    return Optional.of(
        new Endpoint(
            name,
            socket,
            mode,
            path,
            access.orElseThrow(),
            subjects,
            types,
            new SourceLocation(file, position.line(), position.column())));
  }

  private String requiredString(TomlTable table, String key, Position position, String example) {
    if (!table.contains(key)) {
      error(position, "endpoint has no '" + key + "'; add " + example);
      return null;
    }
    if (!table.isString(key) || table.getString(key).isEmpty()) {
      error(table.positionOf(key), "'" + key + "' must be a non-empty string, as in " + example);
      return null;
    }
    return table.getString(key);
  }

  private int socketMode(TomlTable table) {
    if (!table.contains("socket_mode")) {
      return DEFAULT_SOCKET_MODE;
    }
    String text = table.isString("socket_mode") ? table.getString("socket_mode") : "";
    if (!text.matches("0[0-7]{1,3}")) {
      error(
          table.positionOf("socket_mode"),
          "'socket_mode' must be an octal string of at most 0777, such as \"0660\"");
      return DEFAULT_SOCKET_MODE;
    }
    return Integer.parseInt(text, 8);
  }

  private Set<FileType> types(TomlTable table) {
    if (!table.contains("types")) {
      return Set.of(FileType.REGULAR);
    }
    Position at = table.positionOf("types");
    String names =
        String.join(
            ", ",
            Arrays.stream(FileType.values())
                .filter(t -> t != FileType.SYMLINK && t != FileType.UNKNOWN)
                .map(t -> "\"" + t.policyName() + "\"")
                .toList());
    if (!table.isArray("types") || table.getArray("types").isEmpty()) {
      error(at, "'types' must be a non-empty array of " + names);
      return Set.of();
    }
    TomlArray array = table.getArray("types");
    Set<FileType> types = EnumSet.noneOf(FileType.class);
    for (int i = 0; i < array.size(); i++) {
      Object value = array.get(i);
      Optional<FileType> type =
          Arrays.stream(FileType.values())
              .filter(t -> t != FileType.SYMLINK && t != FileType.UNKNOWN)
              .filter(t -> t.policyName().equals(value))
              .findFirst();
      if (type.isEmpty()) {
        error(at, "file type " + value + " is not one of " + names);
      } else {
        types.add(type.get());
      }
    }
    return types;
  }

  private List<Subject> subjects(TomlTable table, Position position) {
    List<Subject> subjects = new ArrayList<>();
    boolean listed = false;
    for (String key : List.of("users", "groups")) {
      Optional<List<Subject>> named = subjectReader.named(table, key);
      listed |= named.isPresent();
      named.ifPresent(subjects::addAll);
    }
    if (table.contains("any")) {
      Position at = table.positionOf("any");
      if (!table.isBoolean("any")) {
        error(at, "'any' must be true or false");
      } else if (table.getBoolean("any") && listed) {
        error(at, "any = true cannot be combined with users or groups; keep one of them");
      } else if (table.getBoolean("any")) {
        subjects.add(new Subject.Anyone());
        listed = true;
      }
    }
    if (!listed) {
      error(
          position,
          "endpoint has no subject; add users = [...], groups = [...], or any = true to hand the"
              + " file to everyone who can connect");
    }
    return subjects;
  }

  private void error(Position position, String message) {
    errors.add(
        (position == null
                ? file.toString()
                : file + ":" + position.line() + ":" + position.column())
            + ": "
            + message);
  }
}
