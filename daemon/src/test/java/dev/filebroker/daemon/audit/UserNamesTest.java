package dev.filebroker.daemon.audit;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** User names for audit lines: from a passwd file only, cached, re-read when it changes. */
class UserNamesTest {
  @TempDir Path temp;

  @Test
  void namesComeFromThePasswdFileAndUnlistedUidsHaveNone() throws Exception {
    Path passwd = temp.resolve("passwd");
    Files.writeString(
        passwd,
        "root:x:0:0:root:/root:/bin/sh\n"
            + "alice:x:1000:1000::/home/alice:/bin/sh\n"
            + "alias:x:1000:1000::/home/alice:/bin/sh\n"
            + "bad\u0007name:x:1001:1001::/:/bin/sh\n"
            + "# comment\n"
            + "broken:x:notanumber:1::/:/bin/sh\n"
            + "negative:x:-1:1::/:/bin/sh\n");
    UserNames names = new UserNames(passwd, () -> 0);
    assertEquals(Optional.of("root"), names.name(0));
    assertEquals(Optional.of("alice"), names.name(1000), "the first name of a uid wins");
    assertEquals(Optional.empty(), names.name(1001), "a name with control characters is left out");
    assertEquals(Optional.empty(), names.name(4242));
    assertEquals(Optional.empty(), names.name(4294967295L));
  }

  @Test
  void aChangedFileIsReadAgainAfterTheRecheckInterval() throws Exception {
    Path passwd = temp.resolve("passwd");
    Files.writeString(passwd, "alice:x:1000:1000::/:/bin/sh\n");
    AtomicLong nanos = new AtomicLong();
    UserNames names = new UserNames(passwd, nanos::get);
    assertEquals(Optional.of("alice"), names.name(1000));
    Files.writeString(passwd, "bob:x:1000:1000::/:/bin/sh\n");
    Files.setLastModifiedTime(passwd, FileTime.fromMillis(1_000_000));
    assertEquals(Optional.of("alice"), names.name(1000), "not looked at again within the interval");
    nanos.addAndGet(UserNames.RECHECK_NANOS);
    assertEquals(Optional.of("bob"), names.name(1000));
  }

  @Test
  void aMissingFileNamesNoOne() {
    UserNames names = new UserNames(temp.resolve("missing"), () -> 0);
    assertEquals(Optional.empty(), names.name(0));
  }
}
