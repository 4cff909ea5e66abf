package dev.filebroker.daemon.policy;

import java.util.Collections;
import java.util.EnumSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * One {@code [[allow]]} or {@code [[deny]]} rule of a policy, checked and immutable.
 *
 * <p>Exists so that the decision code, audit lines and tooling share one view of a rule: who it
 * applies to, which paths, which permissions, and where it was written.
 */
public final class Rule {
  /** Whether a rule grants or refuses. */
  public enum Effect {
    /** An {@code [[allow]]} rule: grants its permissions. */
    ALLOW,
    /** A {@code [[deny]]} rule: refuses its permissions, whatever allow rules say. */
    DENY
  }

  /** Who owns a file created under an allow rule ({@code create_owner}). */
  public enum CreateOwner {
    /** The caller's uid and primary gid, as if it had created the file itself (the default). */
    REQUESTER,
    /** root:root, so that the caller cannot chmod the file beyond {@code create_mode}. */
    ROOT
  }

  /** The permissions a deny rule without {@code access} refuses, and the set of all of them. */
  static final Set<Permission> ALL_PERMISSIONS =
      Collections.unmodifiableSet(EnumSet.allOf(Permission.class));

  private static final String DELETED_SUFFIX = " (deleted)";

  // A large policy repeats a handful of permission and type sets: rules share one read-only
  // instance of each (at most 2^6 + 2^8 of them), not three sets per rule.
  private static final Map<Set<Permission>, Set<Permission>> PERMISSION_SETS =
      new ConcurrentHashMap<>();
  private static final Map<Set<FileType>, Set<FileType>> TYPE_SETS = new ConcurrentHashMap<>();

  private final String id;
  private final Optional<String> name;
  private final Effect effect;
  private final SourceLocation source;
  private final List<Subject> subjects;
  private final List<PathPattern> paths;
  private final Set<Permission> permissions;
  private final Set<Permission> effective;
  private final Set<FileType> fileTypes;
  private final int createModeMask;
  private final RuleOptions options;
  private final int order;

  /**
   * A rule as the loader checked it, with process constraints, create options and guards.
   *
   * @param order the rule's position in the policy (file name order, then line), from 0
   */
  Rule(
      Optional<String> name,
      Effect effect,
      SourceLocation source,
      List<Subject> subjects,
      List<PathPattern> paths,
      Set<Permission> permissions,
      Set<FileType> fileTypes,
      int createModeMask,
      RuleOptions options,
      int order) {
    this.options = Objects.requireNonNull(options, "options == null");
    this.name = Objects.requireNonNull(name, "name == null");
    this.effect = Objects.requireNonNull(effect, "effect == null");
    this.source = Objects.requireNonNull(source, "source == null");
    this.subjects = List.copyOf(subjects);
    this.paths = List.copyOf(paths);
    if (this.subjects.isEmpty()) {
      throw new IllegalArgumentException("subjects must not be empty");
    }
    if (this.paths.isEmpty()) {
      throw new IllegalArgumentException("paths must not be empty");
    }
    if (permissions.isEmpty()) {
      throw new IllegalArgumentException("permissions must not be empty");
    }
    if (fileTypes.isEmpty()) {
      throw new IllegalArgumentException("fileTypes must not be empty");
    }
    if ((createModeMask & ~0777) != 0) {
      throw new IllegalArgumentException("createModeMask must be within 0777");
    }
    if (order < 0) {
      throw new IllegalArgumentException("order must not be negative");
    }
    this.permissions = shared(PERMISSION_SETS, permissions);
    EnumSet<Permission> expanded = EnumSet.copyOf(permissions);
    // An allow of write also grants append: a write descriptor can write at the end anyway.
    // A deny of either refuses both: an O_APPEND descriptor can drop O_APPEND with fcntl unless
    // the inode is append-only, and a write descriptor can append.
    if (expanded.contains(Permission.WRITE)
        || (effect == Effect.DENY && expanded.contains(Permission.APPEND))) {
      expanded.add(Permission.APPEND);
      if (effect == Effect.DENY) {
        expanded.add(Permission.WRITE);
      }
    }
    this.effective = shared(PERMISSION_SETS, expanded);
    this.fileTypes = shared(TYPE_SETS, fileTypes);
    this.createModeMask = createModeMask;
    this.order = order;
    this.id = name.orElseGet(() -> source.file().getFileName() + ":" + source.line());
  }

  private Rule(Rule rule, int order) {
    if (order < 0) {
      throw new IllegalArgumentException("order must not be negative");
    }
    this.id = rule.id;
    this.name = rule.name;
    this.effect = rule.effect;
    this.source = rule.source;
    this.subjects = rule.subjects;
    this.paths = rule.paths;
    this.permissions = rule.permissions;
    this.effective = rule.effective;
    this.fileTypes = rule.fileTypes;
    this.createModeMask = rule.createModeMask;
    this.options = rule.options;
    this.order = order;
  }

  /**
   * This rule at position {@code order} of a whole policy. A file's reader checks and builds each
   * rule before it knows where the file falls among the others (files are read in parallel); the
   * loader then places every rule, sharing all that was checked.
   */
  Rule placed(int order) {
    return order == this.order ? this : new Rule(this, order);
  }

  /** The rule's name from the policy, or {@code file:line} when it has none. */
  public String id() {
    return id;
  }

  /** The {@code name} the policy gave the rule, if any. */
  public Optional<String> name() {
    return name;
  }

  /** Whether the rule allows or denies. */
  public Effect effect() {
    return effect;
  }

  /** Where the rule starts in its policy file (its {@code [[allow]]} or {@code [[deny]]} line). */
  public SourceLocation source() {
    return source;
  }

  /** Whom the rule applies to; never empty. {@link Subject.Anyone} stands alone. */
  public List<Subject> subjects() {
    return subjects;
  }

  /** The path patterns the rule applies to; never empty. */
  public List<PathPattern> paths() {
    return paths;
  }

  /**
   * The permissions as written in {@code access} (for a deny rule without {@code access}, all of
   * them). See {@link #grants(Set)} and {@link #refusesAny(Set)} for what they imply.
   */
  public Set<Permission> permissions() {
    return permissions;
  }

  /**
   * The file types an allow rule lets the daemon hand out. A deny rule applies to every type and
   * returns all of them.
   */
  public Set<FileType> fileTypes() {
    return fileTypes;
  }

  /**
   * Permission bits a file created under this rule may carry at most (e.g. 0600). Zero for deny
   * rules.
   */
  public int createModeMask() {
    return createModeMask;
  }

  /**
   * The executables ({@code executables = [...]}) one of which the caller must run, compared
   * exactly with the path the daemon read through the caller's pidfd; empty when the rule has no
   * such constraint.
   */
  public Set<String> executables() {
    return options.executables();
  }

  /**
   * The systemd units ({@code units = [...]}) one of which the caller must run in; empty when the
   * rule has no such constraint.
   */
  public Set<String> units() {
    return options.units();
  }

  /**
   * Whether a create under this allow rule must be exclusive ({@code create_exclusive = true}): a
   * request with O_CREAT but without O_EXCL is not granted by this rule.
   */
  public boolean requiresExclusiveCreate() {
    return options.exclusiveCreate();
  }

  /** Who owns a file created under this rule ({@code create_owner}); requester by default. */
  public CreateOwner createOwner() {
    return options.createOwner();
  }

  /**
   * Whether the path must be resolved without crossing a mount point ({@code same_mount = true}):
   * the daemon opens with RESOLVE_NO_XDEV, so a bind mount cannot alias another tree.
   */
  public boolean noCrossMounts() {
    return options.noCrossMounts();
  }

  /**
   * The most hard links the opened file may have ({@code max_links}); the daemon compares it with
   * {@code st_nlink} of the O_PATH handle, before opening. Empty when the rule sets no limit.
   */
  public OptionalInt maxLinks() {
    return options.maxLinks();
  }

  /**
   * Who must own the file ({@code owner}); the daemon compares it with {@code st_uid} of the O_PATH
   * handle, before opening. Empty when the rule does not care.
   */
  public Optional<RequiredOwner> requiredOwner() {
    return options.owner();
  }

  /**
   * Whether the opened file must carry the append-only inode attribute ({@code append_only_inode =
   * true}, {@code chattr +a}); the daemon checks STATX_ATTR_APPEND before opening.
   */
  public boolean requiresAppendOnlyInode() {
    return options.appendOnlyInode();
  }

  /**
   * Whether {@code caller} is one of the rule's subjects and meets its process constraints (see
   * {@link #matchesIdentity(Caller)} and {@link #matchesProcess(Caller)}).
   */
  public boolean matchesCaller(Caller caller) {
    return matchesIdentity(caller) && matchesProcess(caller);
  }

  /** Whether {@code caller} is one of the rule's identity subjects (users, groups, ranges, any). */
  public boolean matchesIdentity(Caller caller) {
    Objects.requireNonNull(caller, "caller == null");
    for (Subject subject : subjects) {
      if (subject.matches(caller)) {
        return true;
      }
    }
    return false;
  }

  /**
   * Whether {@code caller} meets the rule's process constraints: it runs one of {@link
   * #executables()} (when listed) and in one of {@link #units()} (when listed).
   *
   * <p>Fails closed when the caller's executable or unit is unknown: an allow rule with that
   * constraint does not match, and a deny rule with it does, so that hiding one's executable never
   * dodges a deny.
   */
  public boolean matchesProcess(Caller caller) {
    Objects.requireNonNull(caller, "caller == null");
    // The kernel shows a replaced or deleted executable as "<path> (deleted)": such a path no
    // longer identifies a program, so it counts as unknown.
    Optional<String> executable =
        caller.executable().filter(path -> !path.endsWith(DELETED_SUFFIX));
    return constraintHolds(options.executables(), executable) && unitsHold(caller.unit());
  }

  /**
   * Whether a caller in {@code unit} ({@code "backup.service"}, or {@code
   * "user@1000.service/app.service"} inside a user's manager) meets {@link #units()}. A plain entry
   * names a unit of the system manager, and so covers everything that manager put in it, user units
   * included; an entry {@code "user@1000.service/app.service"} names one user unit. A caller inside
   * a user's manager whose user unit is unknown fails closed for an entry naming a user unit.
   */
  private boolean unitsHold(Optional<String> unit) {
    Set<String> allowed = options.units();
    if (allowed.isEmpty()) {
      return true;
    }
    if (unit.isEmpty()) {
      return effect == Effect.DENY;
    }
    String actual = unit.get();
    int slash = actual.indexOf('/');
    String system = slash < 0 ? actual : actual.substring(0, slash);
    for (String entry : allowed) {
      if (entry.equals(actual) || entry.equals(system)) {
        return true;
      }
      if (slash < 0 && effect == Effect.DENY && entry.startsWith(system + "/")) {
        return true;
      }
    }
    return false;
  }

  private boolean constraintHolds(Set<String> allowed, Optional<String> actual) {
    if (allowed.isEmpty()) {
      return true;
    }
    if (actual.isEmpty()) {
      return effect == Effect.DENY;
    }
    return allowed.contains(actual.get());
  }

  /**
   * Whether {@code path} matches one of the rule's patterns. Patterns with variables ({@code
   * ${user}}...) never match here, since they need a caller; decisions expand them.
   */
  public boolean matchesPath(String path) {
    Objects.requireNonNull(path, "path == null");
    for (PathPattern pattern : paths) {
      if (pattern.matches(path)) {
        return true;
      }
    }
    return false;
  }

  /**
   * Whether this allow rule grants all of {@code requested} by itself ({@code write} implies {@code
   * append}). Always false for a deny rule.
   */
  public boolean grants(Set<Permission> requested) {
    return effect == Effect.ALLOW && effective.containsAll(requested);
  }

  /**
   * Whether this allow rule grants the whole of {@code request} by itself: its permissions (see
   * {@link #grants(Set)}), and, for a create, O_EXCL when the rule requires an exclusive create.
   */
  public boolean grants(AccessRequest request) {
    return grants(request.permissions())
        && (!options.exclusiveCreate()
            || !request.permissions().contains(Permission.CREATE)
            || request.exclusive());
  }

  /**
   * Whether this deny rule refuses any of {@code requested} ({@code write} and {@code append}
   * refuse each other). Always false for an allow rule.
   */
  public boolean refusesAny(Set<Permission> requested) {
    if (effect != Effect.DENY) {
      return false;
    }
    for (Permission permission : requested) {
      if (effective.contains(permission)) {
        return true;
      }
    }
    return false;
  }

  /** The rule's position in the policy: file name order, then line; from 0. */
  int order() {
    return order;
  }

  /** {@code allow app-config (/etc/policy.d/10-app.toml:3)}. */
  @Override
  public String toString() {
    return effect.name().toLowerCase(java.util.Locale.ROOT)
        + " "
        + id
        + " ("
        + source.fileAndLine()
        + ")";
  }

  /** The shared read-only set equal to {@code set}; a copy is made only for a new one. */
  private static <E extends Enum<E>> Set<E> shared(Map<Set<E>, Set<E>> sets, Set<E> set) {
    Set<E> existing = sets.get(set);
    if (existing != null) {
      return existing;
    }
    Set<E> readOnly = Collections.unmodifiableSet(EnumSet.copyOf(set));
    existing = sets.putIfAbsent(readOnly, readOnly);
    return existing != null ? existing : readOnly;
  }
}
