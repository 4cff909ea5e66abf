package dev.filebroker.client;

import static java.nio.file.StandardOpenOption.APPEND;
import static java.nio.file.StandardOpenOption.CREATE;
import static java.nio.file.StandardOpenOption.CREATE_NEW;
import static java.nio.file.StandardOpenOption.DELETE_ON_CLOSE;
import static java.nio.file.StandardOpenOption.DSYNC;
import static java.nio.file.StandardOpenOption.READ;
import static java.nio.file.StandardOpenOption.SPARSE;
import static java.nio.file.StandardOpenOption.SYNC;
import static java.nio.file.StandardOpenOption.TRUNCATE_EXISTING;
import static java.nio.file.StandardOpenOption.WRITE;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.filebroker.protocol.OpenFlags;
import java.nio.file.LinkOption;
import java.nio.file.OpenOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.FileAttribute;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** Open options and attributes read as FileChannel.open reads them, with Java-speaking refusals. */
class OpenOptionsTest {
  private static FileAttribute<?> mode(String permissions) {
    return PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString(permissions));
  }

  @Test
  void optionsMapToTheirOpenFlags() {
    assertEquals(new OpenOptions(OpenFlags.O_RDONLY, 0), OpenOptions.of(Set.of()));
    assertEquals(new OpenOptions(OpenFlags.O_RDONLY, 0), OpenOptions.of(Set.of(READ)));
    assertEquals(new OpenOptions(OpenFlags.O_WRONLY, 0), OpenOptions.of(Set.of(WRITE)));
    assertEquals(new OpenOptions(OpenFlags.O_RDWR, 0), OpenOptions.of(Set.of(READ, WRITE)));
    assertEquals(
        new OpenOptions(OpenFlags.O_WRONLY | OpenFlags.O_APPEND, 0),
        OpenOptions.of(Set.of(APPEND)));
    assertEquals(
        new OpenOptions(OpenFlags.O_WRONLY | OpenFlags.O_CREAT | OpenFlags.O_TRUNC, 0600),
        OpenOptions.of(Set.of(WRITE, CREATE, TRUNCATE_EXISTING)));
    assertEquals(
        new OpenOptions(OpenFlags.O_WRONLY | OpenFlags.O_CREAT | OpenFlags.O_EXCL, 0640),
        OpenOptions.of(Set.of(WRITE, CREATE, CREATE_NEW), mode("rw-r-----")),
        "CREATE_NEW wins over CREATE, as in FileChannel.open");
    assertEquals(
        new OpenOptions(OpenFlags.O_RDONLY | OpenFlags.O_DIRECTORY, 0),
        OpenOptions.of(Set.of(BrokerOpenOption.DIRECTORY, LinkOption.NOFOLLOW_LINKS)));
    assertEquals(
        new OpenOptions(OpenFlags.O_WRONLY | OpenFlags.O_CREAT, 0751),
        OpenOptions.of(Set.of(WRITE, CREATE), mode("rw-rw-rw-"), mode("rwxr-x--x")),
        "the last posix:permissions attribute counts, as in FileChannel.open");
  }

  @Test
  void unsupportedOptionsAreRefusedByName() {
    for (StandardOpenOption option : List.of(DELETE_ON_CLOSE, SPARSE, SYNC, DSYNC)) {
      UnsupportedOperationException e =
          assertThrows(
              UnsupportedOperationException.class, () -> OpenOptions.of(Set.of(READ, option)));
      assertTrue(
          e.getMessage().startsWith("StandardOpenOption." + option + " is not supported"),
          e.getMessage());
    }
    OpenOption foreign = new OpenOption() {};
    assertTrue(
        assertThrows(UnsupportedOperationException.class, () -> OpenOptions.of(Set.of(foreign)))
            .getMessage()
            .contains("is not supported by filebroker; supported: READ, WRITE"));
    UnsupportedOperationException attribute =
        assertThrows(
            UnsupportedOperationException.class,
            () ->
                OpenOptions.of(
                    Set.of(WRITE, CREATE),
                    new FileAttribute<String>() {
                      @Override
                      public String name() {
                        return "acl:acl";
                      }

                      @Override
                      public String value() {
                        return "";
                      }
                    }));
    assertEquals(
        "file attribute 'acl:acl' is not supported: give the create mode as posix:permissions,"
            + " as PosixFilePermissions.asFileAttribute makes it",
        attribute.getMessage());
  }

  private static String refusal(Set<? extends OpenOption> options, FileAttribute<?>... attributes) {
    return assertThrows(IllegalArgumentException.class, () -> OpenOptions.of(options, attributes))
        .getMessage();
  }

  @Test
  void badCombinationsAreRefusedInTheOptionsOwnWords() {
    assertEquals(
        "CREATE needs WRITE or APPEND: filebroker never creates or truncates a file opened only"
            + " for reading (FileChannel.open would ignore it)",
        refusal(Set.of(READ, CREATE)));
    assertTrue(refusal(Set.of(CREATE_NEW)).startsWith("CREATE_NEW needs WRITE or APPEND"));
    assertTrue(refusal(Set.of(TRUNCATE_EXISTING)).startsWith("TRUNCATE_EXISTING needs WRITE"));
    assertEquals(
        "READ and APPEND cannot be combined (as in FileChannel.open): open with APPEND alone",
        refusal(Set.of(READ, APPEND)));
    assertEquals(
        "APPEND and TRUNCATE_EXISTING cannot be combined (as in FileChannel.open)",
        refusal(Set.of(APPEND, TRUNCATE_EXISTING)));
    assertEquals(
        "BrokerOpenOption.DIRECTORY opens a directory for reading: it cannot be combined with"
            + " WRITE",
        refusal(Set.of(BrokerOpenOption.DIRECTORY, WRITE)));
    assertEquals(
        "a posix:permissions attribute sets the mode of a file being created: give CREATE or"
            + " CREATE_NEW too",
        refusal(Set.of(WRITE), mode("rw-------")));
    for (String message :
        List.of(
            refusal(Set.of(READ, CREATE)),
            refusal(Set.of(APPEND, TRUNCATE_EXISTING)),
            refusal(Set.of(WRITE), mode("rw-------")))) {
      assertTrue(!message.contains("O_") && !message.contains("flags 0"), message);
    }
  }
}
