package dev.filebroker.daemon.policy;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;

/** Finds the source tree, so tests can read config/ and docs/ as shipped. */
final class RepositoryRoot {
  private RepositoryRoot() {}

  /**
   * The directory named by system property {@code filebroker.home}, else the nearest directory
   * above the working directory whose pom.xml lists the daemon module.
   */
  static Path find() {
    String home = System.getProperty("filebroker.home");
    if (home != null && !home.isBlank()) {
      return Path.of(home).toAbsolutePath().normalize();
    }
    for (Path dir = Path.of("").toAbsolutePath(); dir != null; dir = dir.getParent()) {
      Path pom = dir.resolve("pom.xml");
      try {
        if (Files.isRegularFile(pom) && Files.readString(pom).contains("<module>daemon</module>")) {
          return dir;
        }
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
    }
    throw new IllegalStateException(
        "no pom.xml with <module>daemon</module> above "
            + Path.of("").toAbsolutePath()
            + "; set -Dfilebroker.home");
  }
}
