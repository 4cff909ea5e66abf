package dev.filebroker.daemon.cli;

import dev.filebroker.client.BrokeredFile;
import dev.filebroker.daemon.fs.Descriptors;
import dev.filebroker.daemon.fs.Pipe;
import java.io.FileDescriptor;
import java.io.FileInputStream;
import java.io.FileOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;

/**
 * {@code filebroker run}'s pipe mode for one descriptor: the command gets one end of a pipe, and a
 * thread of this JVM copies between the other end and the brokered file (file to pipe for read,
 * pipe to file for write and append).
 *
 * <p>It exists because the kernel reopens {@code /dev/fd/N} and {@code /proc/self/fd/N} as a new
 * open of the file with the caller's own permissions, which a brokered file is exactly the one the
 * caller lacks; a pipe is reopened for its owner. The price: a pipe cannot seek, be mapped, or be
 * read again from the start.
 *
 * <p>Ownership: the brokered file and this JVM's end belong to the relay, and from {@link #start}
 * on to its thread, which closes both when the copy ends; the command's end is closed by {@link
 * #closeChildEnd} once the command holds its own copy. {@link #close} releases whatever the relay
 * still owns when it never started.
 */
final class PipeRelay implements AutoCloseable {
  private static final int BUFFER_SIZE = 64 * 1024;

  private final int number;
  private final BrokeredFile file;
  private final boolean intoPipe;
  private int childEnd; // -1 once closed
  private final int ownEnd;
  private boolean started;
  private final CompletableFuture<Optional<String>> outcome = new CompletableFuture<>();

  private PipeRelay(int number, BrokeredFile file, boolean intoPipe, Pipe pipe) {
    this.number = number;
    this.file = file;
    this.intoPipe = intoPipe;
    this.childEnd = intoPipe ? pipe.readEnd() : pipe.writeEnd();
    this.ownEnd = intoPipe ? pipe.writeEnd() : pipe.readEnd();
  }

  /**
   * A relay for {@code file} at descriptor {@code number}; it owns {@code file} once this returns.
   *
   * @param intoPipe true to feed the file's content to the command (read), false to write what the
   *     command sends into the file (write, append)
   * @throws IOException when no pipe can be made; {@code file} then stays the caller's
   */
  static PipeRelay create(int number, BrokeredFile file, boolean intoPipe) throws IOException {
    return new PipeRelay(number, file, intoPipe, Pipe.open());
  }

  /** The descriptor number the command sees. */
  int number() {
    return number;
  }

  /** Whether this relay writes into the file (the command's status waits for it). */
  boolean intoFile() {
    return !intoPipe;
  }

  /** The command's end, to place at {@link #number()}; still owned by this relay. */
  FileDescriptor childEnd() {
    return Descriptors.wrap(childEnd);
  }

  /** Closes the command's end: call once the command has its copy (or will never have one). */
  synchronized void closeChildEnd() {
    Descriptors.close(childEnd);
    childEnd = -1;
  }

  /** Starts copying on a thread of its own; the thread then owns the file and this JVM's end. */
  synchronized void start() {
    started = true;
    Thread.ofPlatform()
        .daemon()
        .name("filebroker relay " + number)
        .start(() -> outcome.complete(intoPipe ? feed() : drain()));
  }

  /** Waits until the copy has ended: empty when it went well, else what went wrong. */
  Optional<String> awaitDone() {
    return outcome.join();
  }

  /**
   * What went wrong if the copy has already ended badly; empty while it runs or when it went well.
   */
  Optional<String> problemSoFar() {
    return outcome.getNow(Optional.empty());
  }

  /** File to pipe. The command closing its end early (EPIPE) is its choice, not a failure. */
  private Optional<String> feed() {
    byte[] buffer = new byte[BUFFER_SIZE];
    try (BrokeredFile source = file;
        OutputStream out = new FileOutputStream(Descriptors.wrap(ownEnd));
        InputStream in = source.inputStream()) {
      while (true) {
        int n;
        try {
          n = in.read(buffer);
        } catch (IOException e) {
          return Optional.of("could not read " + file.path() + ": " + e.getMessage());
        }
        if (n < 0) {
          return Optional.empty();
        }
        try {
          out.write(buffer, 0, n);
        } catch (IOException e) {
          return Optional.empty(); // the command stopped reading
        }
      }
    } catch (IOException e) {
      return Optional.of("could not relay " + file.path() + ": " + e.getMessage());
    }
  }

  /** Pipe to file, until every holder of the pipe's write end has closed it. */
  private Optional<String> drain() {
    byte[] buffer = new byte[BUFFER_SIZE];
    try (BrokeredFile target = file;
        InputStream in = new FileInputStream(Descriptors.wrap(ownEnd));
        OutputStream out = target.outputStream()) {
      int n;
      while ((n = in.read(buffer)) >= 0) {
        try {
          out.write(buffer, 0, n);
        } catch (IOException e) {
          return Optional.of("could not write " + file.path() + ": " + e.getMessage());
        }
      }
      return Optional.empty();
    } catch (IOException e) {
      return Optional.of("could not relay into " + file.path() + ": " + e.getMessage());
    }
  }

  /** Releases the command's end, and the file and this JVM's end unless the copy started. */
  @Override
  public synchronized void close() {
    closeChildEnd();
    if (!started) {
      started = true; // nothing is released twice
      Descriptors.close(ownEnd);
      try {
        file.close();
      } catch (IOException ignored) {
        // the descriptor is released on Linux even when close reports an error
      }
    }
  }
}
