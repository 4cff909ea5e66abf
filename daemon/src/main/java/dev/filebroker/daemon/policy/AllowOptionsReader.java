package dev.filebroker.daemon.policy;

import dev.filebroker.daemon.toml.Position;
import dev.filebroker.daemon.toml.TomlTable;
import java.util.List;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.Set;

/**
 * Reads the keys that shape what an {@code [[allow]]} rule hands out: {@code create_mode}, {@code
 * create_exclusive}, {@code create_owner}, {@code same_mount}, {@code max_links}, {@code owner} and
 * {@code append_only_inode}, each checked against the rule's access.
 */
final class AllowOptionsReader {
  static final int DEFAULT_CREATE_MODE = 0600;

  private final RuleValues values;
  private final Accounts accounts;

  AllowOptionsReader(RuleValues values, Accounts accounts) {
    this.values = values;
    this.accounts = accounts;
  }

  RuleOptions read(
      TomlTable table, Set<Permission> permissions, List<String> executables, List<String> units) {
    boolean creates = permissions.contains(Permission.CREATE);
    boolean exclusive = values.flag(table, "create_exclusive");
    if (exclusive && !creates) {
      values.error(
          table.positionOf("create_exclusive"),
          "create_exclusive has no effect without \"create\" in access; add \"create\" or"
              + " remove create_exclusive");
    }
    Rule.CreateOwner createOwner = Rule.CreateOwner.REQUESTER;
    Object createOwnerValue = table.get("create_owner");
    if (createOwnerValue != null) {
      Position at = table.positionOf("create_owner");
      if ("requester".equals(createOwnerValue)) {
        createOwner = Rule.CreateOwner.REQUESTER;
      } else if ("root".equals(createOwnerValue)) {
        createOwner = Rule.CreateOwner.ROOT;
      } else {
        values.error(
            at,
            "create_owner must be \"requester\" or \"root\"; found "
                + (createOwnerValue instanceof String text
                    ? "\"" + text + "\""
                    : RuleValues.kind(createOwnerValue)));
      }
      if (!creates) {
        values.error(
            at,
            "create_owner has no effect without \"create\" in access; add \"create\" or"
                + " remove create_owner");
      }
    }
    boolean sameMount = values.flag(table, "same_mount");
    OptionalInt maxLinks = OptionalInt.empty();
    Object maxLinksValue = table.get("max_links");
    if (maxLinksValue != null) {
      Position at = table.positionOf("max_links");
      if (maxLinksValue instanceof Long number && number >= 1 && number <= Integer.MAX_VALUE) {
        maxLinks = OptionalInt.of((int) number.longValue());
      } else {
        values.error(
            at,
            "max_links must be a whole number of at least 1, such as max_links = 1; found "
                + (maxLinksValue instanceof Long number
                    ? number.toString()
                    : RuleValues.kind(maxLinksValue)));
      }
    }
    Optional<RequiredOwner> owner = owner(table);
    if (owner.isPresent() && creates) {
      boolean consistent =
          switch (owner.get()) {
            case RequiredOwner.Requester requester -> true;
            case RequiredOwner.User user -> user.uid() == 0;
          };
      boolean wantsRoot = owner.get() instanceof RequiredOwner.User;
      if (!consistent || wantsRoot != (createOwner == Rule.CreateOwner.ROOT)) {
        values.error(
            table.positionOf("owner"),
            "owner = \""
                + owner.get()
                + "\" would refuse the files this rule creates (owned by "
                + (createOwner == Rule.CreateOwner.ROOT ? "root" : "the requester")
                + "); make owner and create_owner agree (\"requester\" with \"requester\","
                + " \"root\" with \"root\")");
      }
    }
    boolean appendOnly = values.flag(table, "append_only_inode");
    if (appendOnly
        && (!permissions.contains(Permission.APPEND) || permissions.contains(Permission.WRITE))) {
      values.error(
          table.positionOf("append_only_inode"),
          "append_only_inode needs \"append\" and no \"write\" in access: the kernel refuses"
              + " to open an append-only file for writing without O_APPEND");
    }
    if (appendOnly && permissions.contains(Permission.TRUNCATE)) {
      values.error(
          table.positionOf("append_only_inode"),
          "append_only_inode cannot be combined with \"truncate\" in access: an append-only file"
              + " cannot be truncated; remove \"truncate\" or append_only_inode");
    }
    return new RuleOptions(
        Set.copyOf(executables),
        Set.copyOf(units),
        exclusive,
        createOwner,
        sameMount,
        maxLinks,
        owner,
        appendOnly);
  }

  private Optional<RequiredOwner> owner(TomlTable table) {
    Object value = table.get("owner");
    if (value == null) {
      return Optional.empty();
    }
    Position at = table.positionOf("owner");
    if (value instanceof Long number) {
      if (number < 0 || number > Subject.MAX_ID) {
        values.error(at, "owner uid " + number + " is out of range; use 0 to " + Subject.MAX_ID);
        return Optional.empty();
      }
      return Optional.of(new RequiredOwner.User((int) number.longValue(), Optional.empty()));
    }
    if (!(value instanceof String name)) {
      values.error(
          at,
          "owner must be \"requester\", \"root\", a user name or a uid; found "
              + RuleValues.kind(value));
      return Optional.empty();
    }
    if (name.equals("requester")) {
      return Optional.of(new RequiredOwner.Requester());
    }
    if (name.equals("root")) {
      return Optional.of(new RequiredOwner.User(0, Optional.of("root")));
    }
    if (!name.isEmpty() && RuleValues.digits(name, '9')) {
      values.error(
          at, "owner '" + name + "' is a number in quotes; write the uid without quotes: " + name);
      return Optional.empty();
    }
    OptionalInt uid = accounts.uid(name);
    if (uid.isEmpty()) {
      values.error(
          at,
          "unknown user '"
              + name
              + "' in owner: not in "
              + accounts.passwdFile()
              + "; check the spelling, or write the numeric uid");
      return Optional.empty();
    }
    return Optional.of(new RequiredOwner.User(uid.getAsInt(), Optional.of(name)));
  }

  int createMode(TomlTable table, Set<Permission> permissions) {
    Object value = table.get("create_mode");
    if (value == null) {
      return DEFAULT_CREATE_MODE;
    }
    Position at = table.positionOf("create_mode");
    String hint = "write it as a string of octal digits such as create_mode = \"0640\"";
    long mode;
    if (value instanceof String text) {
      if (!(text.length() == 3 || text.length() == 4) || !RuleValues.digits(text, '7')) {
        values.error(at, "create_mode \"" + text + "\" is not an octal mode; " + hint);
        return DEFAULT_CREATE_MODE;
      }
      mode = Long.parseLong(text, 8);
    } else if (value instanceof Long number) {
      // TOML does not keep how an integer was written: the reader does, so that 640 is not
      // taken as 01200.
      if (table.radixOf("create_mode") != 8) {
        values.error(at, "create_mode " + number + " is a decimal number; " + hint + " or 0o640");
        return DEFAULT_CREATE_MODE;
      }
      mode = number;
    } else {
      values.error(
          at, "'create_mode' must be an octal mode; " + hint + "; found " + RuleValues.kind(value));
      return DEFAULT_CREATE_MODE;
    }
    if (mode > 0777) {
      values.error(
          at,
          "create_mode "
              + String.format("0%o", mode)
              + " has bits beyond 0777; setuid, setgid and sticky bits are never granted: use at"
              + " most 0777");
      return DEFAULT_CREATE_MODE;
    }
    if (!permissions.contains(Permission.CREATE)) {
      values.error(
          at,
          "create_mode has no effect without \"create\" in access; add \"create\" or remove"
              + " create_mode");
    }
    return (int) mode;
  }

  /** Whether {@code options} equal {@link RuleOptions#DEFAULT}, field by field (faster). */
  static boolean isDefault(RuleOptions options) {
    return options.executables().isEmpty()
        && options.units().isEmpty()
        && !options.exclusiveCreate()
        && options.createOwner() == Rule.CreateOwner.REQUESTER
        && !options.noCrossMounts()
        && options.maxLinks().isEmpty()
        && options.owner().isEmpty()
        && !options.appendOnlyInode();
  }
}
