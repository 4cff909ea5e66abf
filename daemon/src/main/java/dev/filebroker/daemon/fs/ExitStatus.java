package dev.filebroker.daemon.fs;

/**
 * How a child process ended, decoded from waitpid(2)'s status word, and the number a shell would
 * report for it: what {@code filebroker run} exits with.
 */
public sealed interface ExitStatus {
  /**
   * The status a shell gives this ending: the exit code, or 128 plus the signal number.
   *
   * @return 0 to 255
   */
  int shellStatus();

  /**
   * The child called exit with {@code code}.
   *
   * @param code 0 to 255
   */
  record Exited(int code) implements ExitStatus {
    /** Checks the range. */
    public Exited {
      if (code < 0 || code > 255) {
        throw new IllegalArgumentException("exit code must be 0 to 255: " + code);
      }
    }

    @Override
    public int shellStatus() {
      return code;
    }
  }

  /**
   * The child was killed by {@code signal}.
   *
   * @param signal 1 to 127
   */
  record Killed(int signal) implements ExitStatus {
    /** Checks the range. */
    public Killed {
      if (signal < 1 || signal > 127) {
        throw new IllegalArgumentException("signal must be 1 to 127: " + signal);
      }
    }

    @Override
    public int shellStatus() {
      return 128 + signal;
    }
  }

  /** Decodes a waitpid status word of a child that has ended (WIFEXITED or WIFSIGNALED). */
  static ExitStatus of(int waitStatus) {
    int signal = waitStatus & 0x7f;
    if (signal == 0) {
      return new Exited((waitStatus >> 8) & 0xff);
    }
    if (signal
        != 0x7f) { // 0x7f: stopped or continued, which waitpid without WUNTRACED never reports
      return new Killed(signal);
    }
    throw new IllegalArgumentException("not an ended child: wait status " + waitStatus);
  }
}
