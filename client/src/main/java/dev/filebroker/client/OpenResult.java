package dev.filebroker.client;

import java.io.IOException;
import java.nio.file.Path;
import java.util.Objects;

/**
 * The outcome for one path of {@link FileBroker#openAll}: the opened file, or the exception {@link
 * FileBroker#open} would have thrown for that path alone. One path failing does not fail the
 * others.
 */
public sealed interface OpenResult {
  /** The path this result is for, as the caller gave it. */
  Path path();

  /**
   * The opened file, which the caller must close; for a failure, its exception.
   *
   * @throws IOException the exception {@link FileBroker#open} would have thrown for this path, with
   *     the caller's stack trace
   */
  BrokeredFile fileOrThrow() throws IOException;

  /**
   * The file was opened.
   *
   * @param path the path as the caller gave it
   * @param file the opened file; the caller owns and closes it
   */
  record Opened(Path path, BrokeredFile file) implements OpenResult {
    /** Checks both are present. */
    public Opened {
      Objects.requireNonNull(path, "path == null");
      Objects.requireNonNull(file, "file == null");
    }

    @Override
    public BrokeredFile fileOrThrow() {
      return file;
    }
  }

  /**
   * The path was refused or could not be opened.
   *
   * @param path the path as the caller gave it
   * @param exception what {@link FileBroker#open} would have thrown: {@link
   *     java.nio.file.AccessDeniedException} for a denial, {@link
   *     java.nio.file.NoSuchFileException} for a missing file, {@link BrokerRequestException} for
   *     other refusals
   */
  record Failed(Path path, IOException exception) implements OpenResult {
    /** Checks both are present. */
    public Failed {
      Objects.requireNonNull(path, "path == null");
      Objects.requireNonNull(exception, "exception == null");
    }

    /**
     * Throws a copy of {@link #exception()} made on the calling thread, with the exception itself
     * (made where the reply was read) as its cause.
     */
    @Override
    public BrokeredFile fileOrThrow() throws IOException {
      throw CallerStack.rethrown(exception);
    }
  }
}
