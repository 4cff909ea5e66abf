package dev.filebroker.protocol;

import java.util.List;
import java.util.Objects;

/**
 * OPENED_MANY: the answer to an {@link OpenManyRequest}, one result per requested path, in the
 * request's order. In band: per path a status code (0 when opened, else an {@link ErrorCode}), the
 * errno behind a failure and the {@code st_mode} of an opened file. One descriptor per opened path
 * travels as SCM_RIGHTS with this frame's first byte, in the order of the opened entries.
 *
 * @param requestId the id of the OPEN_MANY request this answers
 * @param results one result per requested path, in request order
 */
public record OpenedManyReply(int requestId, List<Result> results) implements Reply {
  /** Checks the count the wire format can carry. */
  public OpenedManyReply {
    Objects.requireNonNull(results, "results == null");
    results = List.copyOf(results);
    if (results.isEmpty() || results.size() > Protocol.MAX_PATHS_PER_REQUEST) {
      throw new IllegalArgumentException(
          "results must number 1 to " + Protocol.MAX_PATHS_PER_REQUEST + ": " + results.size());
    }
  }

  /** The status code of a result whose file was opened. */
  public static final int OPENED = 0;

  /**
   * The outcome for one path.
   *
   * @param code {@link #OPENED} when the file was opened, else the wire number of an {@link
   *     ErrorCode} below 100
   * @param errno the Linux errno behind a failure, 0 when none applies or the file was opened
   * @param fileMode the {@code st_mode} the daemon saw in {@code fstat} of the opened file; 0 for a
   *     failure
   */
  public record Result(int code, int errno, int fileMode) {
    /** Checks the code fits the wire. */
    public Result {
      if (code < 0 || code > 0xFFFF) {
        throw new IllegalArgumentException("code must fit in 16 bits: " + code);
      }
    }

    /** A result for an opened file; its descriptor travels with the reply. */
    public static Result opened(int fileMode) {
      return new Result(OPENED, 0, fileMode);
    }

    /** A result for a path that was refused or could not be opened. */
    public static Result failed(ErrorCode code, int errno) {
      return new Result(code.code(), errno, 0);
    }

    /** Whether the file was opened and a descriptor travels for it. */
    public boolean isOpened() {
      return code == OPENED;
    }
  }

  @Override
  public int descriptorCount() {
    int n = 0;
    for (Result r : results) {
      if (r.isOpened()) {
        n++;
      }
    }
    return n;
  }
}
