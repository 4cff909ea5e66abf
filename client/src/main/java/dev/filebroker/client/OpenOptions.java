package dev.filebroker.client;

import dev.filebroker.protocol.OpenFlags;
import dev.filebroker.protocol.RequestValidator;
import java.nio.file.LinkOption;
import java.nio.file.OpenOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.FileAttribute;
import java.nio.file.attribute.PosixFilePermission;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;

/**
 * The open options and file attributes of {@link FileBroker#open(java.nio.file.Path, Set,
 * FileAttribute...)}, read the way {@code FileChannel.open} reads them, turned into the wire's open
 * flags and create mode. Options filebroker cannot honour are refused by name; combinations the
 * daemon would refuse are refused with the options' own names.
 *
 * @param flags the {@link OpenFlags} of the request
 * @param createMode the permission bits of a created file; 0 unless the request creates
 */
record OpenOptions(int flags, int createMode) {
  /** The options this library accepts, for messages. */
  static final String SUPPORTED =
      "READ, WRITE, APPEND, CREATE, CREATE_NEW, TRUNCATE_EXISTING (StandardOpenOption),"
          + " LinkOption.NOFOLLOW_LINKS and BrokerOpenOption.DIRECTORY";

  /**
   * The file attribute of a create mode, as {@code PosixFilePermissions.asFileAttribute} names it.
   */
  static final String PERMISSIONS_ATTRIBUTE = "posix:permissions";

  /**
   * Reads options and attributes.
   *
   * @throws UnsupportedOperationException for an option or attribute filebroker does not support,
   *     naming it
   * @throws IllegalArgumentException for a combination that cannot be opened, naming the options
   */
  static OpenOptions of(Set<? extends OpenOption> options, FileAttribute<?>... attributes) {
    Objects.requireNonNull(options, "options == null");
    Objects.requireNonNull(attributes, "attributes == null");
    boolean read = false;
    boolean write = false;
    boolean append = false;
    boolean create = false;
    boolean createNew = false;
    boolean truncate = false;
    boolean directory = false;
    for (OpenOption option : options) {
      Objects.requireNonNull(option, "options contains null");
      if (option instanceof StandardOpenOption standard) {
        switch (standard) {
          case READ -> read = true;
          case WRITE -> write = true;
          case APPEND -> append = true;
          case CREATE -> create = true;
          case CREATE_NEW -> createNew = true;
          case TRUNCATE_EXISTING -> truncate = true;
          default -> throw unsupported("StandardOpenOption." + standard);
        }
      } else if (option == BrokerOpenOption.DIRECTORY) {
        directory = true;
      } else if (option != LinkOption.NOFOLLOW_LINKS) {
        // NOFOLLOW_LINKS asks for what the daemon always does: it never follows a symbolic link.
        throw unsupported(option.getClass().getName() + "." + option);
      }
    }
    boolean writes = write || append;
    if (read && append) {
      throw new IllegalArgumentException(
          "READ and APPEND cannot be combined (as in FileChannel.open): open with APPEND alone");
    }
    if (append && truncate) {
      throw new IllegalArgumentException(
          "APPEND and TRUNCATE_EXISTING cannot be combined (as in FileChannel.open)");
    }
    String creates = createNew ? "CREATE_NEW" : create ? "CREATE" : null;
    if (!writes) {
      for (String needsWrite : new String[] {creates, truncate ? "TRUNCATE_EXISTING" : null}) {
        if (needsWrite != null) {
          throw new IllegalArgumentException(
              needsWrite
                  + " needs WRITE or APPEND: filebroker never creates or truncates a file opened"
                  + " only for reading (FileChannel.open would ignore it)");
        }
      }
    }
    if (directory && writes) {
      throw new IllegalArgumentException(
          "BrokerOpenOption.DIRECTORY opens a directory for reading: it cannot be combined with "
              + (write ? "WRITE" : "APPEND"));
    }
    Optional<Integer> permissions = permissions(attributes);
    if (permissions.isPresent() && creates == null) {
      throw new IllegalArgumentException(
          "a "
              + PERMISSIONS_ATTRIBUTE
              + " attribute sets the mode of a file being created: give CREATE or CREATE_NEW too");
    }
    int flags;
    if (read && writes) {
      flags = OpenFlags.O_RDWR;
    } else if (writes) {
      flags = OpenFlags.O_WRONLY;
    } else {
      flags = OpenFlags.O_RDONLY;
    }
    flags |= append ? OpenFlags.O_APPEND : 0;
    flags |= createNew ? OpenFlags.O_CREAT | OpenFlags.O_EXCL : create ? OpenFlags.O_CREAT : 0;
    flags |= truncate ? OpenFlags.O_TRUNC : 0;
    flags |= directory ? OpenFlags.O_DIRECTORY : 0;
    int mode = creates == null ? 0 : permissions.orElse(FileBroker.DEFAULT_CREATE_MODE);
    Optional<String> problem = RequestValidator.flagProblem(flags, mode);
    if (problem.isPresent()) {
      throw new IllegalStateException(
          "open options " + options + " made a request the daemon refuses: " + problem.get());
    }
    return new OpenOptions(flags, mode);
  }

  /**
   * The create mode of the last posix:permissions attribute, as FileChannel.open takes the last.
   */
  private static Optional<Integer> permissions(FileAttribute<?>... attributes) {
    Optional<Integer> mode = Optional.empty();
    for (FileAttribute<?> attribute : attributes) {
      Objects.requireNonNull(attribute, "attributes contains null");
      if (!PERMISSIONS_ATTRIBUTE.equals(attribute.name())) {
        throw new UnsupportedOperationException(
            "file attribute '"
                + attribute.name()
                + "' is not supported: give the create mode as "
                + PERMISSIONS_ATTRIBUTE
                + ", as PosixFilePermissions.asFileAttribute makes it");
      }
      if (!(attribute.value() instanceof Set<?> set)) {
        throw new IllegalArgumentException(
            PERMISSIONS_ATTRIBUTE + " must be a Set<PosixFilePermission>: " + attribute.value());
      }
      int bits = 0;
      for (Object permission : set) {
        if (!(permission instanceof PosixFilePermission p)) {
          throw new IllegalArgumentException(
              PERMISSIONS_ATTRIBUTE + " must be a Set<PosixFilePermission>: " + set);
        }
        bits |= bit(p);
      }
      mode = Optional.of(bits);
    }
    return mode;
  }

  private static int bit(PosixFilePermission permission) {
    return switch (permission) {
      case OWNER_READ -> 0400;
      case OWNER_WRITE -> 0200;
      case OWNER_EXECUTE -> 0100;
      case GROUP_READ -> 040;
      case GROUP_WRITE -> 020;
      case GROUP_EXECUTE -> 010;
      case OTHERS_READ -> 04;
      case OTHERS_WRITE -> 02;
      case OTHERS_EXECUTE -> 01;
    };
  }

  private static UnsupportedOperationException unsupported(String option) {
    return new UnsupportedOperationException(
        option + " is not supported by filebroker; supported: " + SUPPORTED);
  }
}
