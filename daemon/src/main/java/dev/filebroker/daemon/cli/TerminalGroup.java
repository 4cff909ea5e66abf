package dev.filebroker.daemon.cli;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.OptionalLong;

/**
 * Whether a terminal already delivers its keyboard signals to a command this process started. A
 * terminal sends SIGINT (^C) and SIGQUIT (^\) to its whole foreground process group: when this
 * process is in that group and so is the command, the command has its signal already, and passing
 * on the copy this process received would deliver it twice.
 *
 * <p>Read from {@code /proc/PID/stat} (fields pgrp and tpgid) at the moment the signal arrives, so
 * a job moved to the background or a command that left the group (setsid) is judged as it is then.
 */
final class TerminalGroup {
  private TerminalGroup() {}

  /** Whether a signal from the controlling terminal reaches process {@code command} directly. */
  static boolean reachesDirectly(long command) {
    OptionalLong ownGroup = field(Path.of("/proc/self/stat"), PGRP);
    OptionalLong foreground = field(Path.of("/proc/self/stat"), TPGID);
    OptionalLong commandGroup = field(Path.of("/proc", Long.toString(command), "stat"), PGRP);
    return ownGroup.isPresent()
        && foreground.isPresent()
        && commandGroup.isPresent()
        && foreground.getAsLong() > 0
        && foreground.getAsLong() == ownGroup.getAsLong()
        && commandGroup.getAsLong() == ownGroup.getAsLong();
  }

  // Field numbers of proc_pid_stat(5), counted from 1: (5) pgrp, (8) tpgid.
  private static final int PGRP = 5;
  private static final int TPGID = 8;

  /** Field {@code number} of a stat file; empty when it cannot be read (the process is gone). */
  static OptionalLong field(Path stat, int number) {
    String text;
    try {
      text = Files.readString(stat, StandardCharsets.US_ASCII);
    } catch (IOException e) {
      return OptionalLong.empty();
    }
    // Field 2, the command name in parentheses, may itself hold spaces and parentheses.
    int end = text.lastIndexOf(')');
    if (end < 0) {
      return OptionalLong.empty();
    }
    String[] rest = text.substring(end + 1).trim().split(" ");
    int index = number - 3;
    if (index < 0 || index >= rest.length) {
      return OptionalLong.empty();
    }
    try {
      return OptionalLong.of(Long.parseLong(rest[index]));
    } catch (NumberFormatException e) {
      return OptionalLong.empty();
    }
  }
}
