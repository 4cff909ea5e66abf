package dev.filebroker.daemon.policy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Optional;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class PathPatternTest {
  @ParameterizedTest(name = "{0} matches {1}: {2}")
  @CsvSource({
    "/etc/hostname, /etc/hostname, true",
    "/etc/hostname, /etc/hostname2, false",
    "/etc/hostname, /etc, false",
    "/, /, true",
    "/, /etc, false",
    "/srv/data/*.csv, /srv/data/a.csv, true",
    "/srv/data/*.csv, /srv/data/.csv, true",
    "/srv/data/*.csv, /srv/data/.hidden.csv, true",
    "/srv/data/*.csv, /srv/data/sub/a.csv, false",
    "/srv/data/*.csv, /srv/data/a.csv.bak, false",
    "/srv/data/*, /srv/data, false",
    "/srv/data/*, /srv/data/x, true",
    "/srv/data/*, /srv/data/x/y, false",
    "/srv/da*/x, /srv/data/x, true",
    "/srv/da*/x, /srv/da/x, true",
    "/srv/*a*b*, /srv/xaybz, true",
    "/srv/*a*b*, /srv/xbya, false",
    "/srv/shared/**, /srv/shared, false",
    "/srv/shared/**, /srv/shared/a, true",
    "/srv/shared/**, /srv/shared/a/b/.c, true",
    "/srv/shared/**, /srv/sharedx/a, false",
    "/srv/**/x.csv, /srv/x.csv, true",
    "/srv/**/x.csv, /srv/a/b/x.csv, true",
    "/srv/**/x.csv, /srv/a/b/y.csv, false",
    "/srv/**/b/**, /srv/b, false",
    "/srv/**/b/**, /srv/b/c, true",
    "/srv/**/b/**, /srv/a/b/c/d, true",
    "/**, /, false",
    "/**, /etc, true",
    "/home/*/.ssh/**, /home/alice/.ssh/id_ed25519, true",
    "/home/*/.ssh/**, /home/alice/x/.ssh/id, false",
  })
  void matchesAsDocumented(String pattern, String path, boolean expected) {
    assertEquals(expected, PathPattern.of(pattern).matches(path));
  }

  @Test
  void neverMatchesRelativePath() {
    assertFalse(PathPattern.of("/**").matches("etc/hostname"));
    assertFalse(PathPattern.of("/**").matches(""));
  }

  @ParameterizedTest
  @CsvSource(
      delimiter = '|',
      value = {
        "''| path is empty; write an absolute path such as \"/srv/data/**\"",
        "etc| path 'etc' is not absolute; start it with '/'",
        "/etc/| path '/etc/' ends with '/'; remove it, or write '/etc/**' for everything below",
        "/etc//x| path '/etc//x' contains '//'; write a single '/'",
        "/etc/./x| path '/etc/./x' contains a '.' component; write the canonical path without '.'"
            + " or '..'",
        "/a/**b| path '/a/**b' has '**' inside the component '**b'; '**' must be a whole"
            + " component (as in \"/srv/**/*.csv\"); use '*' within a component",
        "/a/***| path '/a/***' has '**' inside the component '***'; '**' must be a whole"
            + " component (as in \"/srv/**/*.csv\"); use '*' within a component",
        "/a/[ab]| path '/a/[ab]' uses '[', which is not supported; only '*' (within one"
            + " component) and '**' (whole components) are; list the paths separately",
        "/a/{b,c}| path '/a/{b,c}' uses '{', which is not supported; only '*' (within one"
            + " component) and '**' (whole components) are; list the paths separately",
      })
  void explainsInvalidPatterns(String pattern, String message) {
    assertEquals(Optional.of(message), PathPattern.problem(pattern));
    IllegalArgumentException thrown =
        assertThrows(IllegalArgumentException.class, () -> PathPattern.of(pattern));
    assertEquals(message, thrown.getMessage());
  }

  @Test
  void exposesLiteralPrefixForIndexing() {
    assertEquals(List.of("srv", "data"), PathPattern.of("/srv/data/**").literalPrefix());
    assertEquals(List.of("srv"), PathPattern.of("/srv/*/x").literalPrefix());
    assertEquals(List.of("etc", "hostname"), PathPattern.of("/etc/hostname").literalPrefix());
    assertTrue(PathPattern.of("/etc/hostname").isLiteral());
    assertFalse(PathPattern.of("/etc/*").isLiteral());
    assertEquals(List.of(), PathPattern.of("/").literalPrefix());
  }

  @Test
  void recognisesCanonicalPaths() {
    assertTrue(PathPattern.isCanonical("/"));
    assertTrue(PathPattern.isCanonical("/a/.b/c.."));
    assertFalse(PathPattern.isCanonical(""));
    assertFalse(PathPattern.isCanonical("a"));
    assertFalse(PathPattern.isCanonical("/a/"));
    assertFalse(PathPattern.isCanonical("//a"));
    assertFalse(PathPattern.isCanonical("/a/./b"));
    assertFalse(PathPattern.isCanonical("/a/.."));
  }

  @Property
  void literalPatternMatchesExactlyItself(
      @ForAll("paths") String pattern, @ForAll("paths") String path) {
    assertEquals(pattern.equals(path), PathPattern.of(pattern).matches(path));
  }

  @Property
  void starNeverCrossesSlash(@ForAll("paths") String path) {
    // "/*" has one component, so it matches exactly the one-component paths.
    long components = path.chars().filter(c -> c == '/').count();
    assertEquals(components == 1, PathPattern.of("/*").matches(path));
  }

  @Property
  void globstarMatchesEverythingStrictlyBelow(
      @ForAll("paths") String base, @ForAll("paths") String rest) {
    PathPattern below = PathPattern.of(base + "/**");
    assertTrue(below.matches(base + rest));
    assertFalse(below.matches(base));
  }

  @Property
  void globstarInTheMiddleMatchesZeroOrMoreComponents(
      @ForAll("paths") String base, @ForAll("paths") String middle) {
    PathPattern pattern = PathPattern.of(base + "/**/leaf");
    assertTrue(pattern.matches(base + "/leaf"));
    assertTrue(pattern.matches(base + middle + "/leaf"));
    assertFalse(pattern.matches(base + middle + "/leaf2"));
  }

  @Provide
  Arbitrary<String> paths() {
    Arbitrary<String> component =
        Arbitraries.strings()
            .withChars("ab.-_x")
            .ofMinLength(1)
            .ofMaxLength(4)
            .filter(c -> !c.equals(".") && !c.equals(".."));
    return component.list().ofMinSize(1).ofMaxSize(5).map(c -> "/" + String.join("/", c));
  }

  @Property
  void componentsOfACanonicalPathAreItsSplit(@ForAll("paths") String path) {
    assertEquals(PathPattern.split(path), List.of(PathPattern.components(path)));
    assertEquals(0, PathPattern.components("/").length, "the root has no components");
  }
}
