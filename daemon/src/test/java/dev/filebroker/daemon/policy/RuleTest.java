package dev.filebroker.daemon.policy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.EnumSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import org.junit.jupiter.api.Test;

class RuleTest {
  private static final Path FILE = Path.of("/etc/filebroker/policy.d/10-site.toml");

  private static Rule rule(Rule.Effect effect, List<Subject> subjects, Set<Permission> access) {
    return new Rule(
        Optional.empty(),
        effect,
        new SourceLocation(FILE, 7, 1),
        subjects,
        List.of(PathPattern.of("/srv/a/**"), PathPattern.of("/etc/hostname")),
        access,
        effect == Rule.Effect.ALLOW ? EnumSet.of(FileType.REGULAR) : EnumSet.allOf(FileType.class),
        effect == Rule.Effect.ALLOW ? 0640 : 0,
        RuleOptions.DEFAULT,
        0);
  }

  private static Caller caller(int uid, int gid, Integer... groups) {
    return new Caller(1, uid, gid, List.of(groups), Optional.empty(), Optional.empty());
  }

  @Test
  void defaultIdIsFileNameAndLine() {
    Rule rule = rule(Rule.Effect.ALLOW, List.of(new Subject.Anyone()), Set.of(Permission.READ));
    assertEquals("10-site.toml:7", rule.id());
    assertEquals("allow 10-site.toml:7 (" + FILE + ":7)", rule.toString());
  }

  @Test
  void matchesCallerByAnyListedUserOrGroup() {
    Rule rule =
        rule(
            Rule.Effect.ALLOW,
            List.of(
                new Subject.User(0, Optional.of("root")), new Subject.Group(100, Optional.empty())),
            Set.of(Permission.READ));
    assertTrue(rule.matchesCaller(caller(0, 0)));
    assertTrue(rule.matchesCaller(caller(1000, 100)));
    assertTrue(rule.matchesCaller(caller(1000, 1000, 24, 100)));
    assertFalse(rule.matchesCaller(caller(1000, 1000, 24)));
  }

  @Test
  void matchesPathByAnyPattern() {
    Rule rule = rule(Rule.Effect.ALLOW, List.of(new Subject.Anyone()), Set.of(Permission.READ));
    assertTrue(rule.matchesPath("/etc/hostname"));
    assertTrue(rule.matchesPath("/srv/a/b"));
    assertFalse(rule.matchesPath("/srv/a"));
  }

  @Test
  void allowOfWriteGrantsAppendButNotTheReverse() {
    Rule write = rule(Rule.Effect.ALLOW, List.of(new Subject.Anyone()), Set.of(Permission.WRITE));
    Rule append = rule(Rule.Effect.ALLOW, List.of(new Subject.Anyone()), Set.of(Permission.APPEND));
    assertTrue(write.grants(Set.of(Permission.APPEND)));
    assertTrue(write.grants(Set.of(Permission.WRITE, Permission.APPEND)));
    assertFalse(append.grants(Set.of(Permission.WRITE)));
    assertFalse(write.grants(Set.of(Permission.WRITE, Permission.READ)));
    assertEquals(EnumSet.of(Permission.WRITE), write.permissions());
  }

  @Test
  void denyRefusesAnyOverlapAndTreatsWriteAndAppendAlike() {
    Rule deny = rule(Rule.Effect.DENY, List.of(new Subject.Anyone()), Set.of(Permission.APPEND));
    assertTrue(deny.refusesAny(Set.of(Permission.READ, Permission.APPEND)));
    assertTrue(deny.refusesAny(Set.of(Permission.WRITE)));
    assertFalse(deny.refusesAny(Set.of(Permission.READ, Permission.CREATE)));
    assertFalse(deny.grants(Set.of(Permission.READ)));
    Rule allow = rule(Rule.Effect.ALLOW, List.of(new Subject.Anyone()), Set.of(Permission.READ));
    assertFalse(allow.refusesAny(Set.of(Permission.READ)));
  }

  @Test
  void exposesTypesAndCreateMode() {
    Rule rule = rule(Rule.Effect.ALLOW, List.of(new Subject.Anyone()), Set.of(Permission.CREATE));
    assertEquals(Set.of(FileType.REGULAR), rule.fileTypes());
    assertEquals(0640, rule.createModeMask());
  }

  @Test
  void rejectsModeBeyond0777() {
    IllegalArgumentException thrown =
        assertThrows(
            IllegalArgumentException.class,
            () ->
                new Rule(
                    Optional.empty(),
                    Rule.Effect.ALLOW,
                    new SourceLocation(FILE, 1, 1),
                    List.of(new Subject.Anyone()),
                    List.of(PathPattern.of("/x")),
                    Set.of(Permission.CREATE),
                    Set.of(FileType.REGULAR),
                    04755,
                    RuleOptions.DEFAULT,
                    0));
    assertEquals("createModeMask must be within 0777", thrown.getMessage());
  }

  @Test
  void rejectsEmptySubjects() {
    IllegalArgumentException thrown =
        assertThrows(
            IllegalArgumentException.class,
            () -> rule(Rule.Effect.ALLOW, List.of(), Set.of(Permission.READ)));
    assertEquals("subjects must not be empty", thrown.getMessage());
  }
}
