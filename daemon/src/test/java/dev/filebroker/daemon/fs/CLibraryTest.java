package dev.filebroker.daemon.fs;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.sun.jna.NativeLibrary;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

@Timeout(60)
class CLibraryTest {
  /**
   * Child-process entry point: binds the package's native classes and calls into each, then prints
   * the search path property. With the argument {@code jna-default}, first loads the C library the
   * way JNA does by default.
   */
  static final class Probe {
    private Probe() {}

    public static void main(String[] args) throws IOException {
      if (args.length > 0 && args[0].equals("jna-default")) {
        NativeLibrary.getInstance("c");
      }
      if (LibC.close(-1) != -Errno.EBADF) {
        throw new IllegalStateException("close(-1) did not fail with EBADF");
      }
      if (LibC.fileSystemType(-1) != -Errno.EBADF) {
        throw new IllegalStateException("fstatfs(-1) did not fail with EBADF");
      }
      try (Poller poller = Poller.open(1)) {
        poller.wakeup();
      }
      System.out.println("socket messages: " + new SocketMessages(64));
      System.out.println(
          "bound; "
              + CLibrary.SEARCH_PATH_PROPERTY
              + "=["
              + System.getProperty(CLibrary.SEARCH_PATH_PROPERTY)
              + "]");
    }
  }

  private static List<String> runProbe(List<String> jvmOptions, String... args)
      throws IOException, InterruptedException {
    List<String> command = new ArrayList<>();
    command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
    command.add("--enable-native-access=ALL-UNNAMED");
    command.add("-Xshare:off"); // every class load is logged when it happens
    command.add("-Xlog:class+load=info");
    command.addAll(jvmOptions);
    command.addAll(List.of("-cp", System.getProperty("java.class.path"), Probe.class.getName()));
    command.addAll(List.of(args));
    Process process = new ProcessBuilder(command).redirectErrorStream(true).start();
    byte[] out = process.getInputStream().readAllBytes();
    assertTrue(process.waitFor(30, TimeUnit.SECONDS), "probe must exit");
    List<String> lines = new String(out, StandardCharsets.UTF_8).lines().toList();
    assertEquals(0, process.exitValue(), () -> String.join("\n", lines));
    return lines;
  }

  /** Whether the child started a process: every start, and only a start, loads this class. */
  private static boolean startedAProcess(List<String> lines) {
    return lines.stream().anyMatch(l -> l.contains(" java.lang.ProcessHandleImpl "));
  }

  @Test
  void bindingTheCLibraryStartsNoProcess() throws Exception {
    List<String> lines = runProbe(List.of());
    assertTrue(
        lines.contains("bound; jna.platform.library.path=[]"), () -> String.join("\n", lines));
    assertTrue(!startedAProcess(lines), "JNA ran a child process (ldconfig) while binding");
  }

  @Test
  void aSearchPathGivenOnTheCommandLineIsKept() throws Exception {
    List<String> lines = runProbe(List.of("-Djna.platform.library.path=/usr/lib"));
    assertTrue(
        lines.contains("bound; jna.platform.library.path=[/usr/lib]"),
        () -> String.join("\n", lines));
  }

  @Test
  void jnaByDefaultStartsAProcessWhichTheProbeSees() throws Exception {
    // JNA's own first lookup runs /sbin/ldconfig -p: shows that the check above can fail.
    List<String> lines = runProbe(List.of(), "jna-default");
    assertTrue(startedAProcess(lines), () -> String.join("\n", lines));
  }
}
