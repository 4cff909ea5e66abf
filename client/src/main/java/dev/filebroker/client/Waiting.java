package dev.filebroker.client;

import dev.filebroker.client.PendingRequests.PendingMany;
import dev.filebroker.client.PendingRequests.PendingOpen;
import java.io.IOException;
import java.io.InterruptedIOException;
import java.util.List;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutionException;
import java.util.function.Consumer;

/**
 * A caller waiting for its reply: the result, or the failure thrown on the caller's own thread. A
 * caller interrupted while waiting gives up; what arrives for it later is closed.
 */
final class Waiting {
  private Waiting() {}

  static BrokeredFile await(PendingOpen open) throws IOException {
    return await(open.result(), "open " + open.path(), Waiting::closeQuietly);
  }

  static List<OpenResult> await(PendingMany many) throws IOException {
    return await(
        many.result(), "open " + many.paths().size() + " files", PendingRequests::closeOpened);
  }

  private static <T> T await(CompletableFuture<T> result, String what, Consumer<T> discard)
      throws IOException {
    try {
      return result.get();
    } catch (InterruptedException e) {
      if (!result.cancel(false)) {
        // The reply won the race: close what it brought, nobody will use it.
        try {
          discard.accept(result.join());
        } catch (CompletionException | CancellationException ignored) {
          // It failed instead: nothing to close.
        }
      }
      Thread.currentThread().interrupt();
      InterruptedIOException interrupted =
          new InterruptedIOException("Interrupted while waiting for the daemon to " + what);
      interrupted.initCause(e);
      throw interrupted;
    } catch (ExecutionException e) {
      if (e.getCause() instanceof IOException io) {
        throw CallerStack.rethrown(io);
      }
      throw new IllegalStateException("Unexpected failure to " + what, e.getCause());
    }
  }

  private static void closeQuietly(BrokeredFile file) {
    try {
      file.close();
    } catch (IOException e) {
      // Nothing else can be done with a descriptor that failed to close.
    }
  }
}
