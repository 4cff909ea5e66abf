package dev.filebroker.daemon.audit;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;
import java.nio.file.attribute.FileTime;
import java.util.HashMap;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.LongSupplier;

/**
 * User names for audit lines, from {@code /etc/passwd} only, as policy files name accounts: no name
 * service (LDAP, sssd, systemd-userdb) is asked, so a lookup never waits on anything but a local
 * file, and an account the file does not list has no name (its line keeps the uid alone).
 *
 * <p>The file is read into a map at the first lookup and read again when its modification time or
 * size changed, looked at no more than once per {@link #RECHECK_NANOS}. A lookup never waits for
 * another thread's reading: it uses the names read before. Names that are not plain (control
 * characters, or longer than 256 characters) are left out. Thread-safe.
 */
final class UserNames {
  /** How often the file's attributes are looked at, at most. */
  static final long RECHECK_NANOS = 1_000_000_000L;

  /** Larger files are not read: their accounts have no names here. */
  static final long MAX_FILE_BYTES = 16L << 20;

  /** The system's {@code /etc/passwd}. */
  static final UserNames SYSTEM = new UserNames(Path.of("/etc/passwd"), System::nanoTime);

  private record Snapshot(Map<Long, String> names, FileTime modified, long size, long checked) {}

  private final Path file;
  private final LongSupplier nanoClock;
  private final ReentrantLock reading = new ReentrantLock();
  private volatile Snapshot snapshot;

  /** No names at all. */
  static final UserNames NONE = fixed(Map.of());

  UserNames(Path file, LongSupplier nanoClock) {
    this.file = file;
    this.nanoClock = nanoClock;
  }

  /** These names, never read from a file (for tests). */
  static UserNames fixed(Map<Long, String> names) {
    UserNames n = new UserNames(null, () -> 0);
    n.snapshot = new Snapshot(Map.copyOf(names), FileTime.fromMillis(0), 0, 0);
    return n;
  }

  /** The name of {@code uid}, if the file lists it. */
  Optional<String> name(long uid) {
    Snapshot s = snapshot;
    long now = nanoClock.getAsLong();
    if (file != null && (s == null || now - s.checked() >= RECHECK_NANOS) && reading.tryLock()) {
      try {
        s = refresh(snapshot, now);
        snapshot = s;
      } finally {
        reading.unlock();
      }
    }
    return s == null ? Optional.empty() : Optional.ofNullable(s.names().get(uid));
  }

  private Snapshot refresh(Snapshot old, long now) {
    BasicFileAttributes attributes;
    try {
      attributes = Files.readAttributes(file, BasicFileAttributes.class);
    } catch (IOException e) {
      return new Snapshot(Map.of(), FileTime.fromMillis(0), -1, now);
    }
    if (old != null
        && old.size() == attributes.size()
        && old.modified().equals(attributes.lastModifiedTime())) {
      return new Snapshot(old.names(), old.modified(), old.size(), now);
    }
    Map<Long, String> names = new HashMap<>();
    if (attributes.isRegularFile() && attributes.size() <= MAX_FILE_BYTES) {
      try (InputStream in = Files.newInputStream(file)) {
        String text = new String(in.readNBytes((int) MAX_FILE_BYTES), StandardCharsets.UTF_8);
        parse(text, names);
      } catch (IOException e) {
        names.clear();
      }
    }
    return new Snapshot(Map.copyOf(names), attributes.lastModifiedTime(), attributes.size(), now);
  }

  /** {@code name:password:uid:...} lines; the first name listed for a uid wins. */
  static void parse(String passwd, Map<Long, String> names) {
    for (String line : passwd.split("\n")) {
      String[] fields = line.split(":", -1);
      if (fields.length < 3 || fields[0].isEmpty() || !plain(fields[0])) {
        continue;
      }
      try {
        long uid = Long.parseLong(fields[2]);
        if (uid >= 0 && uid <= 0xFFFF_FFFEL) {
          names.putIfAbsent(uid, fields[0]);
        }
      } catch (NumberFormatException e) {
        // not an account line
      }
    }
  }

  private static boolean plain(String name) {
    if (name.length() > 256) {
      return false;
    }
    for (int i = 0; i < name.length(); i++) {
      char c = name.charAt(i);
      if (c < 0x20 || c == 0x7f) {
        return false;
      }
    }
    return true;
  }
}
