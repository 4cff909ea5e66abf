package dev.filebroker.daemon.endpoint;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.filebroker.daemon.policy.Caller;
import dev.filebroker.daemon.policy.FileType;
import dev.filebroker.daemon.policy.Subject;
import dev.filebroker.daemon.toml.TomlTable;
import dev.filebroker.daemon.toml.TomlText;
import dev.filebroker.protocol.OpenFlags;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import org.junit.jupiter.api.Test;

class EndpointReaderTest {
  private static final Path FILE = Path.of("/etc/filebroker/filebroker.toml");

  private final List<String> errors = new ArrayList<>();

  private List<Endpoint> read(String text) {
    TomlTable toml = ((TomlText.Parsed.Valid) TomlText.parse(text)).toml();
    return EndpointReader.read(
        FILE, toml.get(EndpointReader.KEY), toml.positionOf(EndpointReader.KEY), errors);
  }

  @Test
  void readsEveryKey() {
    List<Endpoint> endpoints =
        read(
            """
            # comment

            [[endpoint]]
            name = "backup-reads-shadow"
            socket = "run/shadow.sock"
            socket_mode = "0660"
            path = "/etc/shadow"
            access = "append"
            users = [0, "root"]
            groups = [4]
            types = ["regular", "fifo"]
            """);
    assertEquals(List.of(), errors);
    Endpoint e = endpoints.getFirst();
    assertEquals("backup-reads-shadow", e.name());
    assertEquals(Path.of("/etc/filebroker/run/shadow.sock"), e.socket(), "relative to the file");
    assertEquals(0660, e.socketMode());
    assertEquals("/etc/shadow", e.path());
    assertEquals(EndpointAccess.APPEND, e.access());
    assertEquals(OpenFlags.O_WRONLY | OpenFlags.O_APPEND, e.access().wireFlags());
    assertEquals(
        List.of(
            new Subject.User(0, Optional.empty()),
            new Subject.User(0, Optional.of("root")),
            new Subject.Group(4, Optional.empty())),
        e.subjects());
    assertEquals(Set.of(FileType.REGULAR, FileType.FIFO), e.types());
    assertEquals("/etc/filebroker/filebroker.toml:3", e.source().fileAndLine());
  }

  @Test
  void defaultsToMode0666AndRegularFilesOnly() {
    Endpoint e =
        read("""
        [[endpoint]]
        name = "e"
        socket = "/tmp/e.sock"
        path = "/etc/hostname"
        access = "read"
        any = true
        """)
            .getFirst();
    assertEquals(0666, e.socketMode());
    assertEquals(Set.of(FileType.REGULAR), e.types());
    assertTrue(e.admits(new Caller(1, 4242, 4242, List.of(), Optional.empty(), Optional.empty())));
  }

  @Test
  void admitsOnlyItsSubjects() {
    Endpoint e =
        read("""
        [[endpoint]]
        name = "e"
        socket = "/tmp/e.sock"
        path = "/etc/hostname"
        access = "read"
        users = [1000]
        groups = [44]
        """)
            .getFirst();
    assertTrue(e.admits(new Caller(1, 1000, 1000, List.of(), Optional.empty(), Optional.empty())));
    assertTrue(e.admits(new Caller(1, 7, 7, List.of(44), Optional.empty(), Optional.empty())));
    assertTrue(!e.admits(new Caller(1, 7, 7, List.of(45), Optional.empty(), Optional.empty())));
  }

  @Test
  void reportsEveryProblemWithItsPosition() {
    read(
        """
        [[endpoint]]
        name = "-bad"
        socket_mode = "666"
        path = "/etc/../shadow"
        access = "execute"
        colour = "blue"
        users = ["no-such-user-here"]
        """);
    assertEquals(
        List.of(
            FILE
                + ":6:1: unknown key 'colour' in [[endpoint]]; expected one of: access, any,"
                + " groups, name, path, socket, socket_mode, types, users",
            FILE
                + ":2:1: name '-bad' is not valid; use 1 to 64 letters, digits, '.', '_' or '-',"
                + " starting with a letter or digit",
            FILE + ":1:1: endpoint has no 'socket'; add socket = \"/run/x.sock\"",
            FILE + ":3:1: 'socket_mode' must be an octal string of at most 0777, such as \"0660\"",
            FILE + ":4:1: 'path' is not valid: path must not contain a '..' component",
            FILE
                + ":5:1: access 'execute' is not one of \"read\", \"write\", \"append\","
                + " \"read-write\"",
            FILE
                + ":7:10: unknown user 'no-such-user-here': not in /etc/passwd; check the"
                + " spelling, or write the numeric uid for accounts from other name services"),
        errors);
  }

  @Test
  void subjectsAreReadAsPolicyRulesReadThemEachAtItsOwnPosition() {
    read(
        """
        [[endpoint]]
        name = "e"
        socket = "/tmp/e.sock"
        path = "/etc/hostname"
        access = "read"
        users = [0, "1000", 4294967295]
        groups = []
        """);
    assertEquals(
        List.of(
            FILE + ":6:13: user '1000' is a number in quotes; write the uid without quotes: 1000",
            FILE + ":6:21: uid 4294967295 is out of range; use 0 to 4294967294",
            FILE
                + ":7:1: 'groups' is empty; list at least one, as in groups = [\"video\", 44],"
                + " or remove it"),
        errors);
  }

  @Test
  void endpointWithoutSubjectIsAnError() {
    read(
        """
        [[endpoint]]
        name = "e"
        socket = "/tmp/e.sock"
        path = "/etc/hostname"
        access = "read"
        """);
    assertEquals(
        List.of(
            FILE
                + ":1:1: endpoint has no subject; add users = [...], groups = [...], or any ="
                + " true to hand the file to everyone who can connect"),
        errors);
  }

  @Test
  void duplicateNamesAndSocketsAreErrors() {
    String one =
        """
        [[endpoint]]
        name = "%s"
        socket = "/tmp/%s.sock"
        path = "/etc/hostname"
        access = "read"
        any = true
        """;
    read(one.formatted("a", "x") + one.formatted("a", "y") + one.formatted("b", "x"));
    assertEquals(
        List.of(
            FILE + ":7:1: endpoint name 'a' is used twice; names are unique",
            FILE + ":13:1: socket /tmp/x.sock is used by two endpoints"),
        errors);
  }

  @Test
  void plainTableIsAnError() {
    read("[endpoint]\nname = \"e\"\n");
    assertEquals(
        List.of(FILE + ":1:1: 'endpoint' must be an array of tables: write each as [[endpoint]]"),
        errors);
  }
}
