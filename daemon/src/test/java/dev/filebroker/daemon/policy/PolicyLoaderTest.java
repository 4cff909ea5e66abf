package dev.filebroker.daemon.policy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;

import java.io.IOException;
import java.net.URISyntaxException;
import java.net.URL;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.EnumSet;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Loads the fixtures under src/test/resources/policy and checks every message exactly. */
class PolicyLoaderTest {
  private static final String KEYS =
      "name, users, groups, uids, gids, any, executables, units, paths, access, types,"
          + " create_mode, create_exclusive, create_owner, same_mount, max_links, owner,"
          + " append_only_inode";

  static Path fixture(String name) {
    URL url = PolicyLoaderTest.class.getResource("/policy/" + name);
    Objects.requireNonNull(url, "missing fixture " + name);
    try {
      return Path.of(url.toURI());
    } catch (URISyntaxException e) {
      throw new IllegalStateException(e);
    }
  }

  /** The errors of an invalid fixture, each as "file:line:column: message". */
  private static List<String> errorsOf(Path path) {
    PolicyLoad load = PolicyLoader.load(path);
    PolicyLoad.Invalid invalid =
        assertInstanceOf(PolicyLoad.Invalid.class, load, () -> path + " should not load");
    return invalid.errors().stream().map(PolicyError::toString).toList();
  }

  private static Policy loaded(Path path) {
    PolicyLoad load = PolicyLoader.load(path);
    if (load instanceof PolicyLoad.Invalid invalid) {
      throw new AssertionError(path + " should load, but: " + invalid.errors());
    }
    return ((PolicyLoad.Valid) load).policy();
  }

  private static void assertErrors(String fixture, String... expected) {
    Path file = fixture("invalid/" + fixture);
    List<String> want = java.util.Arrays.stream(expected).map(e -> file + ":" + e).toList();
    assertEquals(want, errorsOf(file));
  }

  @Test
  void reportsTomlSyntaxErrorAtTomljPosition() {
    assertErrors(
        "syntax-error.toml",
        "4:1: invalid TOML: Unexpected 'a', expected ], a comma, or a newline");
  }

  @Test
  void reportsUnknownKeyWithExpectedKeysAndSuggestion() {
    assertErrors(
        "unknown-key.toml",
        "4:1: unknown key 'acess' in [[allow]]; expected one of: "
            + KEYS
            + " (did you mean 'access'?)");
  }

  @Test
  void reportsUnknownUserAtArrayElement() {
    assertErrors(
        "unknown-user.toml",
        "2:18: unknown user 'no-such-user-fb': not in /etc/passwd; check the spelling, or write"
            + " the numeric uid for accounts from other name services");
  }

  @Test
  void reportsUnknownGroupAtElementAfterNewlinesAndComments() {
    assertErrors(
        "unknown-group.toml",
        "5:3: unknown group 'no-such-group-fb': not in /etc/group; check the spelling, or write"
            + " the numeric gid for accounts from other name services");
  }

  @Test
  void rejectsRuleWithoutSubject() {
    assertErrors(
        "no-subject.toml",
        "1:1: rule has no subject; add users = [...], groups = [...], uids = [...], gids = [...],"
            + " or any = true to apply it to everyone (executables and units only narrow a"
            + " subject)");
  }

  @Test
  void rejectsAnyTogetherWithUsers() {
    assertErrors(
        "any-with-users.toml",
        "3:1: any = true cannot be combined with users, groups, uids or gids; remove 'any' to"
            + " limit the rule to them, or remove them to apply it to everyone");
  }

  @Test
  void rejectsRelativePath() {
    assertErrors(
        "relative-path.toml", "3:10: path 'etc/hostname' is not absolute; start it with '/'");
  }

  @Test
  void rejectsDotDotInPath() {
    assertErrors(
        "dotdot-path.toml",
        "3:10: path '/srv/data/../secret' contains a '..' component; write the canonical path"
            + " without '.' or '..'");
  }

  @Test
  void rejectsGlobstarInsideComponentAndQuestionMark() {
    assertErrors(
        "bad-glob.toml",
        "3:10: path '/srv/**.csv' has '**' inside the component '**.csv'; '**' must be a whole"
            + " component (as in \"/srv/**/*.csv\"); use '*' within a component",
        "3:25: path '/srv/file?.txt' uses '?', which is not supported; only '*' (within one"
            + " component) and '**' (whole components) are; list the paths separately");
  }

  @Test
  void rejectsUnknownAccessWord() {
    assertErrors(
        "bad-access.toml",
        "4:19: unknown access 'execute'; expected one of: read, write, append, create, truncate,"
            + " directory");
  }

  @Test
  void rejectsUnknownTypeWord() {
    assertErrors(
        "bad-type.toml",
        "5:21: unknown type 'symlink'; expected one of: regular, directory, char-device,"
            + " block-device, fifo, socket");
  }

  @Test
  void rejectsSetuidDecimalAndUselessCreateMode() {
    assertErrors(
        "bad-create-mode.toml",
        "5:1: create_mode 04755 has bits beyond 0777; setuid, setgid and sticky bits are never"
            + " granted: use at most 0777",
        "11:1: create_mode 640 is a decimal number; write it as a string of octal digits such as"
            + " create_mode = \"0640\" or 0o640",
        "17:1: create_mode has no effect without \"create\" in access; add \"create\" or remove"
            + " create_mode");
  }

  @Test
  void rejectsWrongValueTypes() {
    assertErrors(
        "wrong-value-type.toml",
        "2:1: 'users' must be an array such as users = [\"alice\", 1000]; found a string",
        "7:1: 'any' must be true or false; found a string",
        "8:1: 'paths' must be an array such as paths = [\"/srv/data/**\"]; found a string");
  }

  @Test
  void rejectsUnknownAndSingleBracketTables() {
    assertErrors(
        "unknown-table.toml",
        "1:1: write [[allow]] (double brackets: one per rule), not [allow]",
        "4:1: unknown table [[permit]] at top level; a policy file holds only [[allow]] and"
            + " [[deny]] rules");
  }

  @Test
  void rejectsAllowOnlyKeysInDeny() {
    assertErrors(
        "deny-with-types.toml",
        "4:1: 'types' is not allowed in [[deny]]; a deny rule applies to every file type and"
            + " creates nothing: remove it");
  }

  @Test
  void rejectsDuplicateRuleNames() {
    Path file = fixture("invalid/duplicate-name.toml");
    assertEquals(
        List.of(
            file
                + ":7:1: rule name 'hostname' is already used by the rule at "
                + file
                + ":1; give each rule its own name"),
        errorsOf(file));
  }

  @Test
  void rejectsDirectoryWithoutTomlFiles() {
    Path directory = fixture("empty-dir");
    assertEquals(
        List.of(
            directory
                + ": directory holds no *.toml policy file; add one (an empty policy file denies"
                + " everything)"),
        errorsOf(directory));
  }

  @Test
  void rejectsMissingPath(@TempDir Path temp) {
    Path missing = temp.resolve("nope.toml");
    assertEquals(List.of(missing + ": no such file or directory"), errorsOf(missing));
  }

  @Test
  void rejectsInvalidUtf8(@TempDir Path temp) throws Exception {
    Path file = temp.resolve("latin1.toml");
    Files.write(file, new byte[] {'#', ' ', (byte) 0xE9, '\n'});
    assertEquals(List.of(file + ": not valid UTF-8; save it as UTF-8"), errorsOf(file));
  }

  @Test
  void collectsErrorsFromEveryFileOfADirectory(@TempDir Path temp) throws Exception {
    Files.writeString(temp.resolve("a.toml"), "[[allow]]\nany = true\n");
    Files.writeString(temp.resolve("b.toml"), "[[deny]]\npaths = [\"x\"]\n");
    assertEquals(
        List.of(
            temp.resolve("a.toml")
                + ":1:1: rule has no 'paths'; add paths = [\"/absolute/path\","
                + " ...]",
            temp.resolve("a.toml")
                + ":1:1: [[allow]] rule has no 'access'; add access = [...] with some of: read,"
                + " write, append, create, truncate, directory",
            temp.resolve("b.toml")
                + ":1:1: rule has no subject; add users = [...], groups = [...], uids = [...],"
                + " gids = [...], or any = true to apply it to everyone (executables and units"
                + " only narrow a subject)",
            temp.resolve("b.toml") + ":2:10: path 'x' is not absolute; start it with '/'"),
        errorsOf(temp));
  }

  @Test
  void readsDirectoryInNameOrderIgnoringOtherFiles() {
    Path directory = fixture("multi");
    Policy policy = loaded(directory);
    assertEquals(
        List.of(directory.resolve("10-first.toml"), directory.resolve("20-later.toml")),
        policy.sources());
    assertEquals(
        List.of("first-deny", "first-allow", "later"),
        policy.rules().stream().map(Rule::id).toList());
  }

  @Test
  void loadsEveryKeyOfACompleteFile() {
    Path file = fixture("valid/complete.toml");
    Policy policy = loaded(file);
    assertEquals(4, policy.ruleCount());
    assertEquals(List.of(file), policy.sources());

    Rule app = policy.rules().get(0);
    assertEquals("app-config", app.id());
    assertEquals(Rule.Effect.ALLOW, app.effect());
    assertEquals(new SourceLocation(file, 2, 1), app.source());
    assertEquals(
        List.of(
            new Subject.User(0, Optional.of("root")),
            new Subject.User(65534, Optional.empty()),
            new Subject.Group(100, Optional.of("users")),
            new Subject.Group(44, Optional.empty())),
        app.subjects());
    assertEquals(
        List.of("/etc/myapp/app.conf", "/srv/data/*.csv", "/srv/shared/**"),
        app.paths().stream().map(PathPattern::text).toList());
    assertEquals(
        EnumSet.of(Permission.READ, Permission.WRITE, Permission.CREATE, Permission.DIRECTORY),
        app.permissions());
    assertEquals(EnumSet.of(FileType.REGULAR, FileType.DIRECTORY), app.fileTypes());
    assertEquals(0640, app.createModeMask());

    Rule deny = policy.rules().get(1);
    assertEquals("complete.toml:11", deny.id());
    assertEquals(Rule.Effect.DENY, deny.effect());
    assertEquals(List.of(new Subject.Group(65534, Optional.of("nogroup"))), deny.subjects());
    assertEquals(EnumSet.of(Permission.WRITE), deny.permissions());
    assertEquals(EnumSet.allOf(FileType.class), deny.fileTypes());

    Rule hostname = policy.rules().get(2);
    assertEquals(List.of(new Subject.Anyone()), hostname.subjects());
    assertEquals(EnumSet.of(FileType.REGULAR), hostname.fileTypes());
    assertEquals(0600, hostname.createModeMask());

    assertEquals(0600, policy.rules().get(3).createModeMask());
  }

  @Test
  void reportsEveryProblemOfTheNewKeysWithPositions() {
    assertErrors(
        "new-keys.toml",
        "2:9: range 59999-1000 is empty; write the lower id first",
        "2:23: 'x' is not a range; write ranges as \"FIRST-LAST\", as in uids = [\"1000-59999\"]",
        "3:16: executable '/usr/bin/*' has '*'; executables are matched exactly: list each"
            + " program's absolute path",
        "3:30: executable 'bin/app' is not absolute; start it with '/'",
        "4:10: unit 'app' is not a systemd unit name; write the full name with its type, as in"
            + " \"myapp.service\" or \"session-2.scope\"",
        "5:10: path '/srv/${who}/x' uses the unknown variable '${who}'; variables are ${user},"
            + " ${uid}, ${gid} and ${home}",
        "5:27: path '/srv/a${home}' uses ${home} inside the pattern; ${home} can only begin a"
            + " pattern, as in \"${home}/.config/**\"",
        "5:44: path '${home}x': ${home} must be followed by '/' or end the pattern, as in"
            + " \"${home}/.config/app/**\"",
        "6:1: access \"directory\" hands out read-only directory descriptors, which need"
            + " \"read\"; add \"read\"",
        "7:1: access \"directory\" needs \"directory\" in types; add it, or remove types to"
            + " allow regular files and directories",
        "8:1: create_exclusive has no effect without \"create\" in access; add \"create\" or"
            + " remove create_exclusive",
        "9:1: create_owner must be \"requester\" or \"root\"; found \"nobody\"",
        "9:1: create_owner has no effect without \"create\" in access; add \"create\" or remove"
            + " create_owner",
        "10:1: max_links must be a whole number of at least 1, such as max_links = 1; found 0",
        "12:1: 'append_only_inode' must be true or false; found a string",
        "17:1: 'max_links' is not allowed in [[deny]]; a deny rule applies to every file type and"
            + " creates nothing, and 'max_links' only limits what an allow rule hands out: remove"
            + " it");
  }

  @Test
  void loadsProcessConstraintsCreateOptionsAndGuards() {
    Policy policy = loaded(fixture("valid/options.toml"));
    Rule guarded = policy.rules().get(0);
    assertEquals(
        List.of(new Subject.UidRange(1000, 59999), new Subject.GidRange(44, 44)),
        guarded.subjects());
    assertEquals(java.util.Set.of("/usr/bin/app"), guarded.executables());
    assertEquals(java.util.Set.of("app.service"), guarded.units());
    assertEquals(EnumSet.of(FileType.REGULAR, FileType.DIRECTORY), guarded.fileTypes());
    assertEquals(true, guarded.requiresExclusiveCreate());
    assertEquals(Rule.CreateOwner.ROOT, guarded.createOwner());
    assertEquals(true, guarded.noCrossMounts());
    assertEquals(java.util.OptionalInt.of(1), guarded.maxLinks());
    assertEquals(
        Optional.of(new RequiredOwner.User(0, Optional.of("root"))), guarded.requiredOwner());
    assertEquals(false, guarded.requiresAppendOnlyInode());

    Rule log = policy.rules().get(1);
    assertEquals(true, log.requiresAppendOnlyInode());
    assertEquals(Rule.CreateOwner.REQUESTER, log.createOwner());
    assertEquals(false, log.noCrossMounts());
    assertEquals(java.util.OptionalInt.empty(), log.maxLinks());
    assertEquals(Optional.of(new RequiredOwner.User(0, Optional.empty())), log.requiredOwner());
    assertEquals(java.util.Set.of(), log.executables());
  }

  @Test
  void rejectsOwnerThatWouldRefuseCreatedFiles(@TempDir Path temp) throws Exception {
    Path file = temp.resolve("p.toml");
    Files.writeString(
        file,
        """
        [[allow]]
        any = true
        paths = ["/srv/x"]
        access = ["write", "create"]
        owner = "root"

        [[allow]]
        any = true
        paths = ["/srv/y"]
        access = ["append", "write"]
        append_only_inode = true
        """);
    assertEquals(
        List.of(
            file
                + ":5:1: owner = \"root (0)\" would refuse the files this rule creates (owned by"
                + " the requester); make owner and create_owner agree (\"requester\" with"
                + " \"requester\", \"root\" with \"root\")",
            file
                + ":11:1: append_only_inode needs \"append\" and no \"write\" in access: the"
                + " kernel refuses to open an append-only file for writing without O_APPEND"),
        errorsOf(file));
  }

  @Test
  void rejectsNegativeAndOversizedIdsInRangesWithPositions(@TempDir Path temp) throws Exception {
    Path file = temp.resolve("p.toml");
    Files.writeString(
        file,
        """
        [[allow]]
        uids = [-1, -5, 4294967295, 1000]
        gids = [-1, "10-20", -9223372036854775808]
        paths = ["/srv/x"]
        access = ["read"]
        """);
    assertEquals(
        List.of(
            file + ":2:9: uid -1 is out of range; use 0 to 4294967294",
            file + ":2:13: uid -5 is out of range; use 0 to 4294967294",
            file + ":2:17: uid 4294967295 is out of range; use 0 to 4294967294",
            file + ":3:9: gid -1 is out of range; use 0 to 4294967294",
            file + ":3:22: gid -9223372036854775808 is out of range; use 0 to 4294967294"),
        errorsOf(file));
  }

  @Test
  void rejectsExecutablesOnAnAllowForAnyone(@TempDir Path temp) throws Exception {
    Path file = temp.resolve("p.toml");
    Files.writeString(
        file,
        """
        [[allow]]
        any = true
        executables = ["/usr/bin/app"]
        paths = ["/srv/x"]
        access = ["read"]

        [[allow]]
        users = ["root"]
        executables = ["/usr/bin/app"]
        paths = ["/srv/x"]
        access = ["read"]

        [[deny]]
        any = true
        executables = ["/usr/bin/browser"]
        paths = ["/srv/secret/**"]
        """);
    assertEquals(
        List.of(
            file
                + ":3:1: executables cannot narrow an [[allow]] with any = true: every user can"
                + " run the program, and a process can hand its connection to another, so the"
                + " rule would grant to everyone; name the users or groups it is for instead of"
                + " any = true"),
        errorsOf(file));
  }

  @Test
  void rejectsTruncateOnAnAppendOnlyInode(@TempDir Path temp) throws Exception {
    Path file = temp.resolve("p.toml");
    Files.writeString(
        file,
        """
        [[allow]]
        any = true
        paths = ["/var/log/app.log"]
        access = ["append", "truncate"]
        append_only_inode = true
        """);
    assertEquals(
        List.of(
            file
                + ":5:1: append_only_inode cannot be combined with \"truncate\" in access: an"
                + " append-only file cannot be truncated; remove \"truncate\" or"
                + " append_only_inode"),
        errorsOf(file));
  }

  @Test
  void denyWithoutAccessRefusesEverything() {
    Policy policy = loaded(fixture("multi"));
    assertEquals(EnumSet.allOf(Permission.class), policy.rules().get(0).permissions());
  }

  @Test
  void acceptsEmptyFileAsDenyAll(@TempDir Path temp) throws Exception {
    Path file = temp.resolve("empty.toml");
    Files.writeString(file, "# nothing allowed yet\n");
    assertEquals(0, loaded(file).ruleCount());
  }

  /**
   * A misspelt key is the cause, and a missing key it was meant to be only its consequence: the
   * cause is reported, not a "rule has no" at the header above it.
   */
  @Test
  void aMisspeltRequiredKeyIsReportedAsItsCauseOnly(@TempDir Path dir) throws IOException {
    Path file =
        Files.writeString(
            dir.resolve("typo.toml"),
            "[[allow]]\nuser = [\"root\"]\npahts = [\"/srv/x\"]\naccess = [\"read\"]\n");
    assertEquals(
        List.of(
            file
                + ":2:1: unknown key 'user' in [[allow]]; expected one of: "
                + KEYS
                + " (did you mean 'users'?)",
            file
                + ":3:1: unknown key 'pahts' in [[allow]]; expected one of: "
                + KEYS
                + " (did you mean 'paths'?)"),
        errorsOf(file));
  }

  /** A key far from every known one leaves the missing key reported too. */
  @Test
  void anUnrelatedUnknownKeyStillLeavesTheMissingKeyReported(@TempDir Path dir) throws IOException {
    Path file =
        Files.writeString(dir.resolve("other.toml"), "[[deny]]\nany = true\ncolour = \"red\"\n");
    assertEquals(
        List.of(
            file + ":1:1: rule has no 'paths'; add paths = [\"/absolute/path\", ...]",
            file
                + ":3:1: unknown key 'colour' in [[deny]]; expected one of: "
                + String.join(", ", RuleReader.DENY_KEYS)),
        errorsOf(file));
  }

  @Test
  void suggestsTheRuleTableAMisspeltOneWasMeantToBe(@TempDir Path dir) throws IOException {
    Path file = Files.writeString(dir.resolve("alow.toml"), "[[alow]]\nany = true\n");
    assertEquals(
        List.of(
            file
                + ":1:1: unknown table [[alow]] at top level; a policy file holds only [[allow]]"
                + " and [[deny]] rules (did you mean [[allow]]?)"),
        errorsOf(file));
  }
}
