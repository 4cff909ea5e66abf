package dev.filebroker.daemon.it;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/** Runs a real program, optionally as another user through setpriv, and captures its output. */
record Command(int exitCode, String stdout, String stderr) {
  /** Runs {@code command} as uid/gid with no supplementary groups. */
  static Command asUser(int uid, int gid, String... command)
      throws IOException, InterruptedException {
    return asUserWithInput(uid, gid, "", command);
  }

  /** Runs {@code command} as uid/gid with no supplementary groups, feeding it {@code input}. */
  static Command asUserWithInput(int uid, int gid, String input, String... command)
      throws IOException, InterruptedException {
    List<String> full = new ArrayList<>();
    full.add("setpriv");
    full.add("--reuid=" + uid);
    full.add("--regid=" + gid);
    full.add("--clear-groups");
    full.add("--");
    full.addAll(List.of(command));
    return run(full, input);
  }

  /** Runs {@code command} as the test's own user. */
  static Command run(List<String> command, String input) throws IOException, InterruptedException {
    Process p = new ProcessBuilder(command).start();
    try (var stdin = p.getOutputStream()) {
      stdin.write(input.getBytes(StandardCharsets.UTF_8));
    }
    var out = p.getInputStream();
    var err = p.getErrorStream();
    var outText = new java.util.concurrent.CompletableFuture<String>();
    var errText = new java.util.concurrent.CompletableFuture<String>();
    Thread.ofVirtual().start(() -> outText.complete(readAll(out)));
    Thread.ofVirtual().start(() -> errText.complete(readAll(err)));
    if (!p.waitFor(60, TimeUnit.SECONDS)) {
      p.destroyForcibly();
      throw new IllegalStateException("command did not finish in 60 s: " + command);
    }
    return new Command(p.exitValue(), outText.join(), errText.join());
  }

  private static String readAll(java.io.InputStream in) {
    try {
      return new String(in.readAllBytes(), StandardCharsets.UTF_8);
    } catch (IOException e) {
      return "<" + e + ">";
    }
  }
}
