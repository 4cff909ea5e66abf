package dev.filebroker.daemon.policy;

import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Optional;

/**
 * A path pattern of a rule: an absolute, canonical path whose components may hold {@code *} (any
 * characters within one component, including a leading dot) or be exactly {@code **} (any number of
 * whole components; at the end of a pattern, one or more), and the per-caller variables {@code
 * ${user}}, {@code ${uid}}, {@code ${gid}} (within components) and {@code ${home}} (only as the
 * whole leading prefix).
 *
 * <p>Exists so that patterns are checked once when the policy loads and matched without allocation
 * afterwards (patterns with variables allocate their expansion). Instances are immutable and
 * thread-safe.
 */
public final class PathPattern {
  /** The outcome of matching a path against a pattern for one caller. */
  enum Match {
    /** The path matches. */
    MATCH,
    /** The path does not match. */
    NO_MATCH,
    /**
     * A variable of the pattern has no safe value for this caller (unknown uid, or a value holding
     * '/', '*', NUL, or being '.' or '..'): allow rules do not match, deny rules do.
     */
    UNRESOLVED
  }

  private static final String GLOBSTAR = "**";
  private static final String STAR = "*";
  static final String HOME = "${home}";
  private static final List<String> COMPONENT_VARIABLES = List.of("${user}", "${uid}", "${gid}");

  private final String text;

  /** Components to match; a trailing {@code **} is stored as {@code *}, {@code **}. */
  private final String[] components;

  private final int literalPrefixLength;
  private final boolean home;
  private final boolean variables;

  private PathPattern(String text) {
    this.text = text;
    this.home = text.startsWith(HOME);
    String rest = home ? text.substring(HOME.length()) : text;
    List<String> parts = rest.isEmpty() ? new ArrayList<>() : split(rest); // a new list
    // Large policies repeat the same directory names in thousands of patterns: keep one copy.
    parts.replaceAll(String::intern);
    if (!parts.isEmpty() && parts.get(parts.size() - 1).equals(GLOBSTAR)) {
      // "/a/**" means everything below /a but not /a itself: one component, then any number.
      parts.add(parts.size() - 1, STAR);
    }
    this.components = parts.toArray(String[]::new);
    int prefix = 0;
    while (!home
        && prefix < components.length
        && !isGlob(components[prefix])
        && !isTemplate(components[prefix])) {
      prefix++;
    }
    this.literalPrefixLength = prefix;
    boolean templates = home;
    for (String component : components) {
      templates |= isTemplate(component);
    }
    this.variables = templates;
  }

  /**
   * Parses a pattern.
   *
   * @throws IllegalArgumentException when {@link #problem(String)} finds one; its message says what
   *     is wrong
   */
  public static PathPattern of(String text) {
    Objects.requireNonNull(text, "text == null");
    Optional<String> problem = problem(text);
    if (problem.isPresent()) {
      throw new IllegalArgumentException(problem.get());
    }
    return new PathPattern(text);
  }

  /** Parses a pattern that {@link #problem(String)} has found nothing wrong with. */
  static PathPattern ofChecked(String text) {
    return new PathPattern(Objects.requireNonNull(text, "text == null"));
  }

  /**
   * What is wrong with {@code text} as a pattern, in words an admin can act on, or empty when it is
   * a valid pattern.
   */
  public static Optional<String> problem(String text) {
    Objects.requireNonNull(text, "text == null");
    if (text.isEmpty()) {
      return Optional.of("path is empty; write an absolute path such as \"/srv/data/**\"");
    }
    if (text.startsWith(HOME)) {
      String rest = text.substring(HOME.length());
      if (rest.isEmpty()) {
        return Optional.empty();
      }
      if (rest.charAt(0) != '/') {
        return Optional.of(
            "path '"
                + text
                + "': ${home} must be followed by '/' or end the pattern, as in"
                + " \"${home}/.config/app/**\"");
      }
      return problem(rest).map(p -> p.replace("'" + rest + "'", "'" + text + "'"));
    }
    if (text.charAt(0) != '/') {
      return Optional.of("path '" + text + "' is not absolute; start it with '/'");
    }
    if (text.indexOf('\0') >= 0) {
      return Optional.of("path contains a NUL character");
    }
    if (text.length() > 1 && text.endsWith("/")) {
      return Optional.of(
          "path '"
              + text
              + "' ends with '/'; remove it, or write '"
              + text
              + "**' for everything"
              + " below");
    }
    if (text.contains("//")) {
      return Optional.of("path '" + text + "' contains '//'; write a single '/'");
    }
    for (String component : split(text)) {
      if (component.equals(".") || component.equals("..")) {
        return Optional.of(
            "path '"
                + text
                + "' contains a '"
                + component
                + "' component; write the canonical"
                + " path without '.' or '..'");
      }
      Optional<String> variable = variableProblem(text, component);
      if (variable.isPresent()) {
        return variable;
      }
      String withoutVariables = component;
      for (String name : COMPONENT_VARIABLES) {
        withoutVariables = withoutVariables.replace(name, "");
      }
      for (char c : new char[] {'?', '[', ']', '{', '}'}) {
        if (withoutVariables.indexOf(c) >= 0) {
          return Optional.of(
              "path '"
                  + text
                  + "' uses '"
                  + c
                  + "', which is not supported; only '*' (within one"
                  + " component) and '**' (whole components) are; list the paths separately");
        }
      }
      if (component.contains(GLOBSTAR) && !component.equals(GLOBSTAR)) {
        return Optional.of(
            "path '"
                + text
                + "' has '**' inside the component '"
                + component
                + "'; '**' must"
                + " be a whole component (as in \"/srv/**/*.csv\"); use '*' within a component");
      }
    }
    return Optional.empty();
  }

  /** The pattern as written in the policy. */
  public String text() {
    return text;
  }

  /** Whether the pattern has no wildcard and no variable, and so matches exactly one path. */
  public boolean isLiteral() {
    return !variables && literalPrefixLength == components.length;
  }

  /**
   * The leading components that hold no wildcard or variable (all components when {@link
   * #isLiteral()}; none for a pattern starting with {@code ${home}}).
   */
  public List<String> literalPrefix() {
    return List.of(components).subList(0, literalPrefixLength);
  }

  /**
   * Whether {@code path} matches. {@code path} should be absolute and canonical; anything else
   * never matches. A pattern with variables never matches here: it needs a caller.
   */
  public boolean matches(String path) {
    Objects.requireNonNull(path, "path == null");
    if (path.isEmpty() || path.charAt(0) != '/') {
      return false;
    }
    return matchesComponents(split(path).toArray(String[]::new));
  }

  /** Whether the components of a canonical absolute path match; used by the policy index. */
  boolean matchesComponents(String[] path) {
    if (variables) {
      return false; // needs a caller: see match()
    }
    return matches(components, path);
  }

  private static boolean matches(String[] components, String[] path) {
    // Greedy matching with backtracking to the last '**', as for '*' in a string: each other
    // pattern component matches exactly one path component.
    int p = 0;
    int s = 0;
    int starP = -1;
    int starS = 0;
    while (s < path.length) {
      if (p < components.length && components[p].equals(GLOBSTAR)) {
        starP = p++;
        starS = s;
      } else if (p < components.length && componentMatches(components[p], path[s])) {
        p++;
        s++;
      } else if (starP >= 0) {
        p = starP + 1;
        s = ++starS;
      } else {
        return false;
      }
    }
    while (p < components.length && components[p].equals(GLOBSTAR)) {
      p++;
    }
    return p == components.length;
  }

  /** Whether the pattern uses per-caller variables ({@code ${user}}, {@code ${home}}...). */
  public boolean hasVariables() {
    return variables;
  }

  /**
   * Matches the components of a canonical absolute path for one caller, expanding variables with
   * {@code values}; see {@link Match#UNRESOLVED}.
   */
  Match match(String[] path, CallerVariables values) {
    if (!variables) {
      return matchesComponents(path) ? Match.MATCH : Match.NO_MATCH;
    }
    List<String> expanded = new ArrayList<>(components.length + 8);
    if (home) {
      Optional<List<String>> homeComponents = values.home();
      if (homeComponents.isEmpty()) {
        return Match.UNRESOLVED;
      }
      expanded.addAll(homeComponents.get());
    }
    for (String component : components) {
      if (!isTemplate(component)) {
        expanded.add(component);
        continue;
      }
      Optional<String> user = values.user();
      if (component.contains("${user}") && user.isEmpty()) {
        return Match.UNRESOLVED;
      }
      String value =
          component
              .replace("${user}", user.orElse(""))
              .replace("${uid}", values.uid())
              .replace("${gid}", values.gid());
      if (value.equals(".") || value.equals("..")) {
        return Match.UNRESOLVED;
      }
      expanded.add(value);
    }
    return matches(expanded.toArray(String[]::new), path) ? Match.MATCH : Match.NO_MATCH;
  }

  /**
   * The pattern as written, with its variables replaced by their values for one caller ({@code
   * /home/${user}/**} for alice: {@code /home/alice/**}); empty when a variable it uses has no safe
   * value. For people reading an explanation; matching never goes through text.
   */
  Optional<String> expandedText(CallerVariables values) {
    if (!variables) {
      return Optional.of(text);
    }
    String rest = home ? text.substring(HOME.length()) : text;
    String prefix = "";
    if (home) {
      if (values.home().isEmpty()) {
        return Optional.empty();
      }
      prefix = "/" + String.join("/", values.home().get());
    }
    if (rest.contains("${user}") && values.user().isEmpty()) {
      return Optional.empty();
    }
    return Optional.of(
        prefix
            + rest.replace("${user}", values.user().orElse(""))
                .replace("${uid}", values.uid())
                .replace("${gid}", values.gid()));
  }

  /** Whether one pattern component (possibly holding '*') matches one path component. */
  static boolean componentMatches(String pattern, String name) {
    if (pattern.indexOf('*') < 0) {
      return pattern.equals(name);
    }
    int p = 0;
    int s = 0;
    int starP = -1;
    int starS = 0;
    while (s < name.length()) {
      if (p < pattern.length() && pattern.charAt(p) == '*') {
        starP = p++;
        starS = s;
      } else if (p < pattern.length() && pattern.charAt(p) == name.charAt(s)) {
        p++;
        s++;
      } else if (starP >= 0) {
        p = starP + 1;
        s = ++starS;
      } else {
        return false;
      }
    }
    while (p < pattern.length() && pattern.charAt(p) == '*') {
      p++;
    }
    return p == pattern.length();
  }

  /** The components of an absolute path; none for "/". */
  static List<String> split(String absolutePath) {
    List<String> parts = new ArrayList<>();
    int start = 1;
    while (start < absolutePath.length()) {
      int slash = absolutePath.indexOf('/', start);
      int end = slash < 0 ? absolutePath.length() : slash;
      parts.add(absolutePath.substring(start, end));
      start = end + 1;
    }
    return parts;
  }

  /**
   * The components of an absolute canonical path as an array; none for "/". What every decision
   * walks the index with, so it makes no list on the way. Equal to {@link #split} for canonical
   * paths only.
   */
  static String[] components(String absolutePath) {
    int count = 0;
    for (int i = 1; i < absolutePath.length(); i++) {
      if (absolutePath.charAt(i) == '/') {
        count++;
      }
    }
    String[] parts = new String[absolutePath.length() > 1 ? count + 1 : 0];
    int start = 1;
    for (int n = 0; n < parts.length; n++) {
      int slash = absolutePath.indexOf('/', start);
      int end = slash < 0 ? absolutePath.length() : slash;
      parts[n] = absolutePath.substring(start, end);
      start = end + 1;
    }
    return parts;
  }

  /**
   * Whether {@code path} is absolute and canonical: starts with '/', no empty, "." or ".."
   * component, no trailing '/' except for "/" itself, no NUL.
   */
  static boolean isCanonical(String path) {
    if (path.isEmpty() || path.charAt(0) != '/') {
      return false;
    }
    if (path.length() == 1) {
      return true;
    }
    if (path.endsWith("/") || path.indexOf('\0') >= 0) {
      return false;
    }
    int start = 1;
    while (start <= path.length()) {
      int slash = path.indexOf('/', start);
      int end = slash < 0 ? path.length() : slash;
      int length = end - start;
      if (length == 0
          || (length == 1 && path.charAt(start) == '.')
          || (length == 2 && path.charAt(start) == '.' && path.charAt(start + 1) == '.')) {
        return false;
      }
      start = end + 1;
    }
    return true;
  }

  private static boolean isGlob(String component) {
    return component.indexOf('*') >= 0;
  }

  private static boolean isTemplate(String component) {
    return component.contains("${");
  }

  /** What is wrong with the variables of one component of {@code text}, if anything. */
  private static Optional<String> variableProblem(String text, String component) {
    int start = component.indexOf("${");
    while (start >= 0) {
      int end = component.indexOf('}', start);
      if (end < 0) {
        return Optional.of(
            "path '"
                + text
                + "' has '${' without a closing '}'; variables are ${user}, ${uid},"
                + " ${gid} and ${home}");
      }
      String variable = component.substring(start, end + 1);
      if (variable.equals(HOME)) {
        return Optional.of(
            "path '"
                + text
                + "' uses ${home} inside the pattern; ${home} can only begin a"
                + " pattern, as in \"${home}/.config/**\"");
      }
      if (!COMPONENT_VARIABLES.contains(variable)) {
        return Optional.of(
            "path '"
                + text
                + "' uses the unknown variable '"
                + variable
                + "'; variables are"
                + " ${user}, ${uid}, ${gid} and ${home}");
      }
      start = component.indexOf("${", end + 1);
    }
    return Optional.empty();
  }

  @Override
  public boolean equals(Object other) {
    return other instanceof PathPattern that && text.equals(that.text);
  }

  @Override
  public int hashCode() {
    return text.hashCode();
  }

  /** The pattern as written. */
  @Override
  public String toString() {
    return text;
  }
}
