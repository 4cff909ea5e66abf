package dev.filebroker.daemon.fs;

import com.sun.jna.LastErrorException;
import com.sun.jna.Memory;
import java.io.IOException;

/**
 * A new pipe: two close-on-exec descriptor numbers, owned by the caller from then on. What {@code
 * filebroker run} gives a command in place of a brokered file when the command reopens its
 * descriptors by name ({@code /dev/fd/N}, {@code /proc/self/fd/N}): the kernel reopens a pipe for
 * its owner, where a reopened file would be checked against the caller's own permissions.
 *
 * @param readEnd the end to read from
 * @param writeEnd the end to write to
 */
public record Pipe(int readEnd, int writeEnd) {
  /**
   * Makes a pipe with pipe2(2).
   *
   * @throws IOException naming the errno (EMFILE, ENFILE) when no pipe can be made
   */
  public static Pipe open() throws IOException {
    try (Memory fds = new Memory(8)) {
      PosixSpawn.pipe2(fds, PosixSpawn.O_CLOEXEC);
      return new Pipe(fds.getInt(0), fds.getInt(4));
    } catch (LastErrorException e) {
      throw new IOException("Could not make a pipe: " + Errno.name(e.getErrorCode()), e);
    }
  }
}
