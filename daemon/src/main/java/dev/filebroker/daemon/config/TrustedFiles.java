package dev.filebroker.daemon.config;

import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * Whether the files that tell the daemon what to grant (its configuration, its policy and the
 * policy's test cases) can only have been written by root, as sshd's StrictModes checks a user's
 * keys: each file, and every directory and symbolic link met on the way to it from {@code /}, must
 * be owned by root and, but for links, not writable by group or others. A directory anyone may
 * write lets anyone replace what is in it, sticky bit or not ({@code /tmp}: a file planted there
 * under a name the daemon reads is a policy), so {@code /tmp} fails too, as it does for sshd.
 *
 * <p>Checking before reading is sound here because of what is checked: when nothing on the way is
 * writable by anyone but root, nobody but root can change what the path names between the check and
 * the read.
 */
public final class TrustedFiles {
  /** Symbolic links followed on one path before giving up, as the kernel's limit. */
  private static final int MAX_LINKS = 40;

  private static final int GROUP_OR_OTHER_WRITE = 0022;
  private static final int TYPE_MASK = 0170000;
  private static final int SYMLINK = 0120000;
  private static final int DIRECTORY = 0040000;

  /**
   * A file or directory the daemon will not trust.
   *
   * @param path the entry at fault, as met on the way (a directory above the file, or the file)
   * @param problem what is wrong with it and how to fix it
   */
  public record Untrusted(Path path, String problem) {
    public Untrusted {
      Objects.requireNonNull(path, "path == null");
      Objects.requireNonNull(problem, "problem == null");
    }

    @Override
    public String toString() {
      return path + ": " + problem;
    }
  }

  private final Map<Path, Untrusted> found = new LinkedHashMap<>();

  private TrustedFiles() {}

  /**
   * What is wrong with {@code file} and the way to it; empty when only root can have written it. A
   * path that does not exist is not reported here (the reader reports it).
   */
  public static List<Untrusted> check(Path file) {
    TrustedFiles trust = new TrustedFiles();
    trust.walk(file.toAbsolutePath(), 0);
    return List.copyOf(trust.found.values());
  }

  /**
   * Like {@link #check(Path)} for a policy file or directory: for a directory also every {@code
   * *.toml} file in it and in its {@code tests} subdirectory (the files the daemon reads).
   */
  public static List<Untrusted> checkPolicy(Path fileOrDirectory) {
    TrustedFiles trust = new TrustedFiles();
    Path absolute = fileOrDirectory.toAbsolutePath();
    trust.walk(absolute, 0);
    if (trust.found.isEmpty() && Files.isDirectory(absolute)) {
      trust.walkEntries(absolute);
      trust.walkEntries(absolute.resolve("tests"));
    }
    return List.copyOf(trust.found.values());
  }

  private void walkEntries(Path directory) {
    if (!Files.isDirectory(directory)) {
      return;
    }
    walk(directory, 0);
    try (DirectoryStream<Path> entries = Files.newDirectoryStream(directory, "*.toml")) {
      for (Path entry : entries) {
        if (!entry.getFileName().toString().startsWith(".") && Files.isRegularFile(entry)) {
          walk(entry, 0);
        }
      }
    } catch (IOException e) {
      found.putIfAbsent(directory, new Untrusted(directory, "could not list: " + e));
    }
  }

  /**
   * Checks {@code /}, then each component of the absolute {@code path} in turn, following symbolic
   * links component by component so that every directory the kernel would pass through is checked.
   *
   * @return the real path reached, or null when it does not exist or could not be followed
   */
  private Path walk(Path path, int links) {
    Path current = path.getRoot();
    if (!checkEntry(current)) {
      return null;
    }
    for (Path component : path) {
      String name = component.toString();
      if (name.equals(".")) {
        continue;
      }
      if (name.equals("..")) {
        current = current.getParent() == null ? current : current.getParent();
        continue;
      }
      Path next = current.resolve(name);
      int mode;
      try {
        mode = (Integer) Files.getAttribute(next, "unix:mode", LinkOption.NOFOLLOW_LINKS);
      } catch (NoSuchFileException e) {
        return null;
      } catch (IOException e) {
        found.putIfAbsent(next, new Untrusted(next, "could not read its owner and mode: " + e));
        return null;
      }
      if ((mode & TYPE_MASK) != SYMLINK) {
        if (!checkEntry(next)) {
          return null;
        }
        current = next;
        continue;
      }
      if (!checkOwner(next) || links >= MAX_LINKS) {
        return null;
      }
      Path target;
      try {
        target = Files.readSymbolicLink(next);
      } catch (IOException e) {
        found.putIfAbsent(next, new Untrusted(next, "could not read the link: " + e));
        return null;
      }
      current = walk(current.resolve(target), links + 1);
      if (current == null) {
        return null;
      }
    }
    return current;
  }

  /** Checks owner and mode of a file or directory (not a link); false when it is at fault. */
  private boolean checkEntry(Path entry) {
    if (!checkOwner(entry)) {
      return false;
    }
    int mode;
    try {
      mode = (Integer) Files.getAttribute(entry, "unix:mode", LinkOption.NOFOLLOW_LINKS);
    } catch (IOException e) {
      found.putIfAbsent(entry, new Untrusted(entry, "could not read its mode: " + e));
      return false;
    }
    if ((mode & GROUP_OR_OTHER_WRITE) == 0) {
      return true;
    }
    String what = (mode & TYPE_MASK) == DIRECTORY ? "directory" : "file";
    String who = (mode & 0002) != 0 ? "others" : "its group";
    found.putIfAbsent(
        entry,
        new Untrusted(
            entry,
            what
                + " is writable by "
                + who
                + " (mode "
                + String.format("%04o", mode & 07777)
                + "), so they could change what the daemon grants; run chmod go-w "
                + entry
                + (what.equals("directory")
                    ? ", or keep the daemon's files in a directory only root can write"
                    : "")));
    return false;
  }

  private boolean checkOwner(Path entry) {
    int uid;
    try {
      uid = (Integer) Files.getAttribute(entry, "unix:uid", LinkOption.NOFOLLOW_LINKS);
    } catch (IOException e) {
      found.putIfAbsent(entry, new Untrusted(entry, "could not read its owner: " + e));
      return false;
    }
    if (uid == 0) {
      return true;
    }
    found.putIfAbsent(
        entry,
        new Untrusted(
            entry,
            "owned by uid "
                + Integer.toUnsignedString(uid)
                + ", not root, so that user could change what the daemon grants; run chown root "
                + entry));
    return false;
  }
}
