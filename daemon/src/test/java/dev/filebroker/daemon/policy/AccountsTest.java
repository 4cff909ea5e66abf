package dev.filebroker.daemon.policy;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.OptionalInt;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class AccountsTest {
  @Test
  void resolvesDebianSystemAccounts() throws Exception {
    Accounts accounts = Accounts.read(Accounts.PASSWD, Accounts.GROUP);
    assertEquals(OptionalInt.of(0), accounts.uid("root"));
    assertEquals(OptionalInt.of(65534), accounts.uid("nobody"));
    assertEquals(OptionalInt.of(100), accounts.gid("users"));
    assertEquals(OptionalInt.of(65534), accounts.gid("nogroup"));
    assertEquals(OptionalInt.empty(), accounts.uid("no-such-user-fb"));
  }

  @Test
  void skipsCommentsMalformedLinesAndKeepsFirstEntry(@TempDir Path temp) throws Exception {
    Path passwd = temp.resolve("passwd");
    Files.writeString(
        passwd,
        "# comment\nalice:x:1000:1000::/home/alice:/bin/sh\nbroken\nbob:x:notanumber:1\n"
            + "alice:x:2000:2000::/:/bin/sh\n+nis\nhuge:x:4294967295:1\nbig:x:4294967294:1\n");
    Path group = temp.resolve("group");
    Files.writeString(group, "video:x:44:alice\n");
    Accounts accounts = Accounts.read(passwd, group);
    assertEquals(OptionalInt.of(1000), accounts.uid("alice"));
    assertEquals(OptionalInt.empty(), accounts.uid("bob"));
    assertEquals(OptionalInt.empty(), accounts.uid("huge"));
    assertEquals(OptionalInt.of((int) 4294967294L), accounts.uid("big"));
    assertEquals(OptionalInt.of(44), accounts.gid("video"));
    assertEquals(OptionalInt.empty(), accounts.uid("+nis"));
  }
}
