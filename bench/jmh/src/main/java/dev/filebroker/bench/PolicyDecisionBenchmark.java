package dev.filebroker.bench;

import dev.filebroker.daemon.policy.AccessRequest;
import dev.filebroker.daemon.policy.Caller;
import dev.filebroker.daemon.policy.Decision;
import dev.filebroker.daemon.policy.Permission;
import dev.filebroker.daemon.policy.Policy;
import dev.filebroker.daemon.policy.PolicyLoad;
import dev.filebroker.daemon.policy.PolicyLoader;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Collection;
import java.util.Comparator;
import java.util.EnumSet;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;
import org.openjdk.jmh.results.RunResult;
import org.openjdk.jmh.runner.Runner;
import org.openjdk.jmh.runner.RunnerException;
import org.openjdk.jmh.runner.options.OptionsBuilder;

/**
 * How long {@link Policy#decide} takes as a policy grows from 10 to 100,000 rules, and how long a
 * 100,000-rule policy takes to load. {@link #main} runs everything and prints the ratio of the
 * 100,000-rule decision to the 10-rule one.
 *
 * <p>The generated policy is what a large site might write: one rule per user (a uid and its own
 * tree), plus in every size the same handful of rules with uid ranges, groups, executables, units
 * and path variables, so that those paths are measured too.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(1)
public class PolicyDecisionBenchmark {
  private static final int FIRST_UID = 100_000;
  private static final int RULES_PER_FILE = 1_000;

  @Param({"10", "1000", "100000"})
  public int rules;

  private Policy policy;
  private Caller caller;
  private AccessRequest request;
  private AccessRequest variableRequest;

  /** Writes and loads the policy; the request hits the last per-user rule. */
  @Setup
  public void setUp() throws IOException {
    Path directory = Files.createTempDirectory("filebroker-bench");
    try {
      policy = load(generate(directory, rules));
    } finally {
      delete(directory);
    }
    int uid = FIRST_UID + rules - 1;
    caller =
        new Caller(
            1, uid, 100, List.of(100, 44), Optional.of("/usr/bin/app"), Optional.of("app.service"));
    request =
        new AccessRequest(
            "/srv/users/u" + (rules - 1) + "/data/report.csv", EnumSet.of(Permission.READ), false);
    variableRequest =
        new AccessRequest("/srv/shared/" + uid + "/x", EnumSet.of(Permission.READ), false);
    if (!(policy.decide(caller, request) instanceof Decision.Allow)
        || !(policy.decide(caller, variableRequest) instanceof Decision.Allow)) {
      throw new IllegalStateException("the benchmark request must be allowed");
    }
  }

  /** A request decided by a per-user rule. */
  @Benchmark
  public Decision decide() {
    return policy.decide(caller, request);
  }

  /** A request decided by a rule with a {@code ${uid}} variable. */
  @Benchmark
  public Decision decideWithVariable() {
    return policy.decide(caller, variableRequest);
  }

  /** Writes {@code count} rules (at least the fixed ones) in files of {@value #RULES_PER_FILE}. */
  static Path generate(Path directory, int count) throws IOException {
    String fixed =
        """
        [[allow]]
        name = "staff-docs"
        uids = ["1000-59999"]
        paths = ["/srv/docs/**"]
        access = ["read"]

        [[allow]]
        name = "video"
        gids = ["44-44"]
        executables = ["/usr/bin/app"]
        units = ["app.service"]
        paths = ["/dev/video*"]
        access = ["read", "write"]
        types = ["char-device"]

        [[allow]]
        name = "shared-own"
        any = true
        paths = ["/srv/shared/${uid}/**"]
        access = ["read"]

        [[deny]]
        name = "no-ssh"
        any = true
        paths = ["/home/${user}/.ssh/**", "/srv/users/*/secret/**"]

        """;
    Files.writeString(directory.resolve("000-fixed.toml"), fixed);
    int perUser = Math.max(0, count - 4);
    StringBuilder text = new StringBuilder();
    int file = 1;
    for (int n = 0; n <= count - 1; n++) {
      if (n < count - perUser && n != count - 1) {
        continue; // the fixed rules stand in for these
      }
      text.append("[[allow]]\nname = \"u")
          .append(n)
          .append("\"\nusers = [")
          .append(FIRST_UID + n)
          .append("]\npaths = [\"/srv/users/u")
          .append(n)
          .append("/**\"]\naccess = [\"read\", \"write\"]\n\n");
      if ((n + 1) % RULES_PER_FILE == 0 || n == count - 1) {
        Files.writeString(directory.resolve(String.format("%03d.toml", file++)), text);
        text.setLength(0);
      }
    }
    return directory;
  }

  static Policy load(Path directory) {
    PolicyLoad load = PolicyLoader.load(directory);
    if (load instanceof PolicyLoad.Invalid invalid) {
      throw new IllegalStateException("generated policy is invalid: " + invalid.errors());
    }
    return ((PolicyLoad.Valid) load).policy();
  }

  private static void delete(Path directory) throws IOException {
    try (Stream<Path> walk = Files.walk(directory)) {
      for (Path path : walk.sorted(Comparator.reverseOrder()).toList()) {
        Files.delete(path);
      }
    }
  }

  /**
   * Times loading a 100,000-rule policy (cold, then warm), runs the benchmarks, and prints the
   * 100,000-rule to 10-rule ratio of each.
   */
  public static void main(String[] args) throws IOException, RunnerException {
    Path directory = generate(Files.createTempDirectory("filebroker-bench"), 100_000);
    try {
      for (String label : List.of("cold", "warm", "warm")) {
        long start = System.nanoTime();
        Policy loaded = load(directory);
        long millis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);
        System.out.printf("load+check %,d rules (%s): %,d ms%n", loaded.ruleCount(), label, millis);
      }
    } finally {
      delete(directory);
    }
    Collection<RunResult> results =
        new Runner(
                new OptionsBuilder()
                    .include(PolicyDecisionBenchmark.class.getName() + "\\.")
                    .jvmArgsAppend("-Xmx2g")
                    .build())
            .run();
    for (String benchmark : List.of("decide", "decideWithVariable")) {
      double small = score(results, benchmark, "10");
      double large = score(results, benchmark, "100000");
      System.out.printf(
          "%s: 10 rules %.1f ns, 100,000 rules %.1f ns, ratio 100k/10 = %.2f%n",
          benchmark, small, large, large / small);
    }
  }

  private static double score(Collection<RunResult> results, String benchmark, String rules) {
    return results.stream()
        .filter(r -> r.getParams().getBenchmark().endsWith("." + benchmark))
        .filter(r -> r.getParams().getParam("rules").equals(rules))
        .mapToDouble(r -> r.getPrimaryResult().getScore())
        .findFirst()
        .orElseThrow();
  }
}
