package dev.filebroker.daemon.policy;

import static org.junit.jupiter.api.Assertions.assertFalse;

import com.code_intelligence.jazzer.junit.FuzzTest;
import dev.filebroker.protocol.OpenFlags;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;

/**
 * Coverage-guided fuzzing of the policy loader with Jazzer: arbitrary bytes as a policy file. Every
 * {@code mvn verify} replays the committed seed corpus
 * (src/test/resources/dev/filebroker/daemon/policy/PolicyLoaderFuzzTestInputs); {@code
 * JAZZER_FUZZ=1} fuzzes for {@code maxDuration} (see .ci/run).
 *
 * <p>Whatever the text, loading answers with a policy or a non-empty list of located errors, never
 * an exception, and a policy that loads decides any request without throwing.
 */
class PolicyLoaderFuzzTest {
  private static final Path FILE = scratchFile();

  private static final List<String> PATHS =
      List.of("/", "/etc/hostname", "/srv/data/a.csv", "/srv/shared/x/y", "/srv/drop/.f");
  private static final List<Integer> FLAGS =
      List.of(
          OpenFlags.O_RDONLY,
          OpenFlags.O_RDWR | OpenFlags.O_CREAT | OpenFlags.O_TRUNC,
          OpenFlags.O_WRONLY | OpenFlags.O_APPEND,
          OpenFlags.O_DIRECTORY);

  private static Path scratchFile() {
    try {
      Path dir = Files.createTempDirectory("filebroker-policy-fuzz-");
      dir.toFile().deleteOnExit();
      Path file = dir.resolve("10-fuzz.toml");
      file.toFile().deleteOnExit();
      return file;
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  @FuzzTest(maxDuration = "10s")
  void load(byte[] toml) throws IOException {
    Files.write(FILE, toml);
    switch (PolicyLoader.load(FILE)) {
      case PolicyLoad.Invalid invalid -> {
        for (PolicyError e : invalid.errors()) {
          assertFalse(e.message().isBlank(), "every error says what is wrong: " + e);
        }
      }
      case PolicyLoad.Valid loaded -> {
        for (int uid : new int[] {0, 65534, 1000}) {
          Caller caller = new Caller(1, uid, uid, List.of(100), Optional.empty(), Optional.empty());
          for (String path : PATHS) {
            for (int flags : FLAGS) {
              loaded.policy().decide(caller, AccessRequest.fromOpenFlags(path, flags));
            }
          }
        }
      }
    }
  }
}
