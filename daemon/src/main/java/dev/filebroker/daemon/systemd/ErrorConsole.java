package dev.filebroker.daemon.systemd;

import java.io.FilterOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.Map;

/**
 * The stream on which {@code filebroker serve} states why it refuses to start: stderr, with each
 * line prefixed {@code <3>} (err) when stderr is the journal.
 *
 * <p>Exists because journald stores an unprefixed line of a service at priority 6 (info), so {@code
 * journalctl -p err -u filebroker} would show only systemd's "Failed to start" and not the reason.
 * systemd sets {@code JOURNAL_STREAM} when a service's output is connected to the journal; on a
 * terminal or in a file the lines stay as they are.
 */
public final class ErrorConsole {
  /** The syslog priority prefix of sd-daemon(3) for LOG_ERR. */
  static final String ERROR_PREFIX = "<3>";

  private ErrorConsole() {}

  /** {@code stderr} itself, or a stream over it that prefixes each line when it is the journal. */
  public static PrintStream of(PrintStream stderr, Map<String, String> env) {
    String journal = env.get("JOURNAL_STREAM");
    if (journal == null || journal.isEmpty()) {
      return stderr;
    }
    return new PrintStream(new LinePrefixer(stderr, ERROR_PREFIX), true, StandardCharsets.UTF_8);
  }

  /** Writes {@code prefix} before the first byte of every line. */
  private static final class LinePrefixer extends FilterOutputStream {
    private final byte[] prefix;
    private boolean atLineStart = true;

    LinePrefixer(OutputStream out, String prefix) {
      super(out);
      this.prefix = prefix.getBytes(StandardCharsets.US_ASCII);
    }

    @Override
    public void write(int b) throws IOException {
      if (atLineStart) {
        out.write(prefix);
      }
      out.write(b);
      atLineStart = b == '\n';
    }

    @Override
    public void write(byte[] b, int off, int len) throws IOException {
      for (int i = off; i < off + len; i++) {
        write(b[i]);
      }
    }
  }
}
