package dev.filebroker.daemon.server;

import dev.filebroker.daemon.audit.AuditEvent;
import dev.filebroker.daemon.audit.AuditLog;
import dev.filebroker.daemon.fs.CreateOwner;
import dev.filebroker.daemon.fs.Errno;
import dev.filebroker.daemon.fs.FileOpener;
import dev.filebroker.daemon.fs.FileStat;
import dev.filebroker.daemon.fs.OpenGuard;
import dev.filebroker.daemon.fs.OpenOutcome;
import dev.filebroker.daemon.fs.OpenSpec;
import dev.filebroker.daemon.fs.OpenedFile;
import dev.filebroker.daemon.fs.Refusal;
import dev.filebroker.daemon.policy.AccessRequest;
import dev.filebroker.daemon.policy.Caller;
import dev.filebroker.daemon.policy.Decision;
import dev.filebroker.daemon.policy.FileType;
import dev.filebroker.daemon.policy.Permission;
import dev.filebroker.daemon.policy.Policy;
import dev.filebroker.daemon.policy.RequiredOwner;
import dev.filebroker.daemon.policy.Rule;
import dev.filebroker.protocol.ErrorCode;
import dev.filebroker.protocol.ErrorReply;
import dev.filebroker.protocol.OpenManyRequest;
import dev.filebroker.protocol.OpenRequest;
import dev.filebroker.protocol.OpenedManyReply;
import dev.filebroker.protocol.OpenedReply;
import dev.filebroker.protocol.Request;
import dev.filebroker.protocol.RequestValidator;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.concurrent.atomic.AtomicReferenceArray;
import java.util.function.BooleanSupplier;
import java.util.function.Supplier;

/**
 * Answers one decoded request: validate, decide against the policy in force, open, audit. It holds
 * no per-connection state and is shared by every serving thread.
 */
final class RequestHandler {
  private final Supplier<PolicyHolder.Loaded> policies;
  private final FileOpener opener;
  private final AuditLog audit;

  /** Why a granted file was not handed out after all. */
  static final String UNRECORDED =
      "the audit log cannot record the grant now, so the file was not handed out; retry later";

  /** What a refused client is told under {@code [audit] reasons_to_clients = false}. */
  static final String GENERIC_DENIED = "denied by the policy";

  private final Statistics statistics;

  RequestHandler(PolicyHolder policies, FileOpener opener, AuditLog audit, Statistics statistics) {
    this(Objects.requireNonNull(policies, "policies == null")::current, opener, audit, statistics);
  }

  /**
   * Reads the policy in force from {@code policies}: once per request, which is then decided
   * against that one snapshot throughout (a test can hand out a different one on every call).
   */
  RequestHandler(
      Supplier<PolicyHolder.Loaded> policies,
      FileOpener opener,
      AuditLog audit,
      Statistics statistics) {
    this.policies = Objects.requireNonNull(policies, "policies == null");
    this.opener = Objects.requireNonNull(opener, "opener == null");
    this.audit = Objects.requireNonNull(audit, "audit == null");
    this.statistics = Objects.requireNonNull(statistics, "statistics == null");
  }

  /** Answers {@code request} from {@code caller} (empty when its credentials are unknown). */
  Response handle(Optional<Caller> caller, Request request) {
    return handle(caller, request, () -> true);
  }

  /**
   * Answers {@code request}; {@code permit} is asked once per path (one for OPEN, one per entry of
   * OPEN_MANY) and a path it refuses is answered LIMIT_EXCEEDED without being decided.
   */
  Response handle(Optional<Caller> caller, Request request, BooleanSupplier permit) {
    Optional<ErrorReply> invalid = RequestValidator.validate(request);
    if (invalid.isPresent()) {
      statistics.rejected();
      return Response.of(invalid.get());
    }
    // One snapshot for the whole request (each entry of OPEN_MANY too), even across a reload.
    Policy policy = policies.get().policy();
    return switch (request) {
      case OpenRequest open ->
          permit.getAsBoolean() ? handleOpen(policy, caller, open) : limited(open);
      case OpenManyRequest many -> handleMany(policy, caller, many, permit);
    };
  }

  /**
   * Each entry is validated, decided, opened and audited exactly as a single OPEN would be; the
   * outcomes are gathered into one OPENED_MANY reply carrying the opened descriptors in order.
   */
  private Response handleMany(
      Policy policy, Optional<Caller> caller, OpenManyRequest many, BooleanSupplier permit) {
    List<OpenedManyReply.Result> results = new ArrayList<>(many.entries().size());
    List<OpenedFile> files = new ArrayList<>(many.entries().size());
    for (int i = 0; i < many.entries().size(); i++) {
      Optional<ErrorReply> invalid = RequestValidator.validateEntry(many, i);
      Response one;
      if (invalid.isPresent()) {
        statistics.rejected();
        one = Response.of(invalid.get());
      } else {
        OpenRequest open = many.entries().get(i).asOpenRequest(many.requestId());
        one = permit.getAsBoolean() ? handleOpen(policy, caller, open) : limited(open);
      }
      switch (one.reply()) {
        case OpenedReply opened -> {
          results.add(OpenedManyReply.Result.opened(opened.fileMode()));
          files.addAll(one.files());
        }
        case ErrorReply error ->
            results.add(new OpenedManyReply.Result(error.code(), error.errno(), 0));
        case OpenedManyReply nested ->
            throw new IllegalStateException("a single open answered with OPENED_MANY");
      }
    }
    return new Response(new OpenedManyReply(many.requestId(), results), files);
  }

  private Response limited(OpenRequest open) {
    statistics.limited();
    return error(
        open, ErrorCode.LIMIT_EXCEEDED, 0, "over the request rate of this uid; retry later");
  }

  private Response handleOpen(Policy policy, Optional<Caller> maybeCaller, OpenRequest open) {
    AccessRequest access = AccessRequest.fromOpenFlags(open.path(), open.flags());
    if (maybeCaller.isEmpty()) {
      String reason = "the caller's credentials could not be read from the kernel";
      audit(maybeCaller, access, "deny", Optional.empty(), ErrorCode.DENIED.name(), reason);
      statistics.denied(Optional.empty());
      return error(open, ErrorCode.DENIED, Errno.EACCES, reason);
    }
    Caller caller = maybeCaller.get();
    Decision decision = policy.decide(caller, access);
    return switch (decision) {
      case Decision.Deny deny -> {
        audit(maybeCaller, access, "deny", deny.rule(), ErrorCode.DENIED.name(), deny.reason());
        statistics.denied(deny.rule());
        yield error(open, ErrorCode.DENIED, Errno.EACCES, deny.reason());
      }
      case Decision.Allow allow ->
          openAllowed(policy, maybeCaller, caller, open, access, allow.rule());
    };
  }

  private Response openAllowed(
      Policy policy,
      Optional<Caller> who,
      Caller caller,
      OpenRequest open,
      AccessRequest access,
      Rule rule) {
    OpenSpec spec =
        new OpenSpec(
            open.flags(),
            open.mode() & rule.createModeMask(),
            rule.fileTypes(),
            rule.noCrossMounts(),
            hasGuards(rule) ? stat -> guard(policy, caller, access, rule, stat) : OpenGuard.NONE,
            // "root" is chowned too: the daemon need not run as uid 0 (the unit runs it as
            // _filebroker), and a file must not be left to the daemon's own user.
            Optional.of(
                rule.createOwner() == Rule.CreateOwner.REQUESTER
                    ? new CreateOwner(caller.uid(), caller.gid())
                    : CreateOwner.ROOT));
    OpenOutcome outcome = opener.open(open.path(), spec);
    return switch (outcome) {
      case OpenOutcome.Opened opened -> {
        OpenedFile file = opened.file();
        if (!audit(who, access, "allow", rule, "ok", "")) {
          // Never hand out a file the record does not show: the audit queue is full.
          file.close();
          statistics.failed();
          yield error(open, ErrorCode.LIMIT_EXCEEDED, 0, UNRECORDED);
        }
        statistics.granted(rule);
        yield Response.of(new OpenedReply(open.requestId(), file.stat().mode()), file);
      }
      case OpenOutcome.Refused refused -> {
        Refusal r = refused.refusal();
        audit(who, access, "allow", rule, r.code().name(), r.reason());
        statistics.failed();
        yield error(open, r.code(), r.errno(), r.reason());
      }
      case OpenOutcome.WrongType wrong -> {
        String reason =
            "'"
                + open.path()
                + "' is a "
                + wrong.actual().policyName()
                + "; rule "
                + rule.id()
                + " allows "
                + rule.fileTypes().stream().map(t -> t.policyName()).sorted().toList();
        audit(who, access, "allow", rule, ErrorCode.WRONG_FILE_TYPE.name(), reason);
        statistics.failed();
        yield error(open, ErrorCode.WRONG_FILE_TYPE, 0, reason);
      }
      case OpenOutcome.Failed failed -> {
        ErrorCode code = codeFor(failed.errno());
        String reason = failed.operation() + " failed: " + Errno.name(failed.errno());
        audit(who, access, "allow", rule, code.name(), reason);
        statistics.failed();
        yield error(open, code, failed.errno(), reason);
      }
    };
  }

  /**
   * Whether {@link #guard} can refuse anything under {@code rule}: with none, the opener may take a
   * path that never shows it a statx (one openat2 with OPENAT2_REGULAR).
   */
  private static boolean hasGuards(Rule rule) {
    return rule.fileTypes().contains(FileType.DIRECTORY)
        || rule.maxLinks().isPresent()
        || rule.requiredOwner().isPresent()
        || rule.requiresAppendOnlyInode();
  }

  /**
   * The checks on the file itself, which the opener runs on the statx of the O_PATH handle before
   * anything with a side effect (and again before truncating; on a file it creates, before the file
   * gets its name): a directory reached without O_DIRECTORY is decided again as a directory request
   * against the same snapshot (so a deny of directories cannot be dodged), and the rule's alias
   * guards (links, owner, append-only attribute) hold.
   */
  private static Optional<Refusal> guard(
      Policy policy, Caller caller, AccessRequest access, Rule rule, FileStat stat) {
    if (stat.type() == FileType.DIRECTORY && !access.directory()) {
      Decision again = policy.decide(caller, access.asDirectory());
      if (again instanceof Decision.Deny deny) {
        return Optional.of(new Refusal(ErrorCode.DENIED, Errno.EACCES, deny.reason()));
      }
    }
    OptionalInt maxLinks = rule.maxLinks();
    if (maxLinks.isPresent()
        && stat.type() != FileType.DIRECTORY
        && stat.linkCount() > maxLinks.getAsInt()) {
      return Optional.of(
          constraint(
              "'%s' has %d hard links; rule %s allows at most %d"
                  .formatted(access.path(), stat.linkCount(), rule.id(), maxLinks.getAsInt())));
    }
    Optional<RequiredOwner> required = rule.requiredOwner();
    if (required.isPresent() && !required.get().accepts(stat.uid(), caller)) {
      return Optional.of(
          constraint(
              "'%s' is owned by uid %s; rule %s requires owner %s"
                  .formatted(
                      access.path(),
                      Integer.toUnsignedString(stat.uid()),
                      rule.id(),
                      required.get())));
    }
    if (rule.requiresAppendOnlyInode()
        && access.permissions().contains(Permission.APPEND)
        && !stat.appendOnly()) {
      return Optional.of(
          constraint(
              "'%s' lacks the append-only attribute (chattr +a) that rule %s requires for append"
                  .formatted(access.path(), rule.id())));
    }
    return Optional.empty();
  }

  private static Refusal constraint(String reason) {
    return new Refusal(ErrorCode.CONSTRAINT_FAILED, 0, reason);
  }

  /** The error code a client sees for an errno from opening an allowed path. */
  static ErrorCode codeFor(int errno) {
    return switch (errno) {
      case Errno.ENOENT -> ErrorCode.NOT_FOUND;
      case Errno.ELOOP -> ErrorCode.SYMLINK_IN_PATH;
      case Errno.ENOTDIR -> ErrorCode.NOT_A_DIRECTORY;
      case Errno.EEXIST -> ErrorCode.ALREADY_EXISTS;
      case Errno.EXDEV -> ErrorCode.CROSSES_MOUNT;
      case Errno.EISDIR -> ErrorCode.WRONG_FILE_TYPE;
      case Errno.EMFILE, Errno.ENFILE, Errno.ENOMEM -> ErrorCode.LIMIT_EXCEEDED;
      default -> ErrorCode.IO_ERROR;
    };
  }

  private Response error(OpenRequest open, ErrorCode code, int errno, String message) {
    return Response.of(ErrorReply.of(open.requestId(), code, errno, clientReason(code, message)));
  }

  /**
   * What a client is told: the reason the audit line records, or, when {@code [audit]
   * reasons_to_clients = false}, a generic one for the codes whose reasons name rules, policy files
   * and guards.
   */
  private String clientReason(ErrorCode code, String reason) {
    if (audit.reasonsToClients()) {
      return reason;
    }
    return switch (code) {
      case DENIED -> GENERIC_DENIED;
      case CONSTRAINT_FAILED -> "the file fails a check of the rule that allows it";
      case WRONG_FILE_TYPE -> "the file's type is not allowed";
      default -> reason;
    };
  }

  /** The strings an audit line carries for a rule, made once per rule rather than per line. */
  private record RuleStrings(Rule rule, Optional<String> id, Optional<String> source) {}

  /**
   * A small cache of {@link RuleStrings} by rule identity (a slot per identity hash; a collision
   * just makes them again). After a reload it may keep up to {@value #RULE_SLOTS} old rules alive.
   */
  private static final int RULE_SLOTS = 256;

  private final AtomicReferenceArray<RuleStrings> ruleStrings =
      new AtomicReferenceArray<>(RULE_SLOTS);

  private RuleStrings stringsOf(Rule rule) {
    int slot = System.identityHashCode(rule) & (RULE_SLOTS - 1);
    RuleStrings strings = ruleStrings.get(slot);
    if (strings == null || strings.rule() != rule) {
      strings =
          new RuleStrings(rule, Optional.of(rule.id()), Optional.of(rule.source().fileAndLine()));
      ruleStrings.set(slot, strings);
    }
    return strings;
  }

  /** Records one decision; false when its line could not be taken (see AuditLog#record). */
  private boolean audit(
      Optional<Caller> caller,
      AccessRequest access,
      String decision,
      Rule rule,
      String result,
      String reason) {
    RuleStrings strings = stringsOf(rule);
    return audit(caller, access, decision, strings.id(), strings.source(), result, reason);
  }

  private void audit(
      Optional<Caller> caller,
      AccessRequest access,
      String decision,
      Optional<Rule> rule,
      String result,
      String reason) {
    if (rule.isPresent()) {
      audit(caller, access, decision, rule.get(), result, reason);
    } else {
      audit(caller, access, decision, Optional.empty(), Optional.empty(), result, reason);
    }
  }

  private boolean audit(
      Optional<Caller> maybeCaller,
      AccessRequest access,
      String decision,
      Optional<String> ruleId,
      Optional<String> ruleSource,
      String result,
      String reason) {
    Instant now = Instant.now();
    String accessString = access.accessString();
    AuditEvent event;
    if (maybeCaller.isPresent()) {
      Caller c = maybeCaller.get();
      event =
          new AuditEvent(
              now,
              c.pid(),
              Integer.toUnsignedLong(c.uid()),
              Integer.toUnsignedLong(c.gid()),
              c.groups(),
              c.executable(),
              c.unit(),
              access.path(),
              accessString,
              decision,
              ruleId,
              ruleSource,
              result,
              reason);
    } else {
      event =
          new AuditEvent(
              now,
              -1,
              -1L,
              -1L,
              List.of(),
              Optional.empty(),
              Optional.empty(),
              access.path(),
              accessString,
              decision,
              ruleId,
              ruleSource,
              result,
              reason);
    }
    return audit.record(event);
  }
}
