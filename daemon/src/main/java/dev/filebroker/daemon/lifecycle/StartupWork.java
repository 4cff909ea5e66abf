package dev.filebroker.daemon.lifecycle;

import dev.filebroker.daemon.fs.FileOpener;
import java.io.IOException;
import java.util.Optional;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.FutureTask;
import org.newsclub.net.unix.AFSocket;
import org.slf4j.LoggerFactory;

/**
 * The part of start-up that does not depend on the policy, done on other threads while the main
 * thread reads and checks the policy: setting up logging, loading junixsocket's native library and
 * creating the {@link FileOpener} (JNA and its native library), each on a thread of its own.
 *
 * <p>Exists because each of these takes about as long as reading a small policy, and a host has
 * more than one CPU: done side by side, the daemon is ready sooner (on two CPUs, three threads
 * finished in about three quarters of the time one thread took for the three in a row). The
 * junixsocket and JNA work does not log. Nothing on the main thread may use logging until {@link
 * #opener()} has returned (a logger asked for while another thread sets up logging would only be a
 * stand-in that replays its messages later).
 */
final class StartupWork {
  private final FutureTask<Void> logging;
  private final FutureTask<Void> sockets;
  private final FutureTask<FileOpener> opener;

  private StartupWork(
      FutureTask<Void> logging, FutureTask<Void> sockets, FutureTask<FileOpener> opener) {
    this.logging = logging;
    this.sockets = sockets;
    this.opener = opener;
  }

  /** Starts the work on new daemon threads. */
  static StartupWork begin() {
    return new StartupWork(
        start("filebroker-start-logging", new FutureTask<>(LoggerFactory::getILoggerFactory, null)),
        start("filebroker-start-sockets", new FutureTask<>(AFSocket::isSupported, null)),
        start("filebroker-start-files", new FutureTask<>(FileOpener::create)));
  }

  private static <T> FutureTask<T> start(String name, FutureTask<T> task) {
    Thread.ofPlatform().name(name).daemon(true).start(task);
    return task;
  }

  /**
   * Waits for all the work and returns the file opener, which the caller then owns. When any part
   * failed, the opener (if it was made) is closed and the first failure is thrown.
   *
   * @throws IOException when the file opener could not be created
   */
  FileOpener opener() throws IOException, InterruptedException {
    FileOpener made;
    try {
      made = opener.get();
    } catch (ExecutionException e) {
      awaitQuietly(logging);
      awaitQuietly(sockets);
      throw rethrow(e);
    }
    try {
      logging.get();
      sockets.get();
    } catch (ExecutionException | InterruptedException e) {
      made.close();
      if (e instanceof ExecutionException failed) {
        throw rethrow(failed);
      }
      throw (InterruptedException) e;
    }
    return made;
  }

  private static RuntimeException rethrow(ExecutionException e) throws IOException {
    Throwable cause = e.getCause();
    if (cause instanceof IOException io) {
      throw io;
    }
    if (cause instanceof RuntimeException r) {
      throw r;
    }
    if (cause instanceof Error err) {
      throw err;
    }
    throw new IllegalStateException("start-up work failed", cause);
  }

  /** Waits for the work and closes what it created; for a start-up that goes no further. */
  void abandon() {
    awaitQuietly(logging);
    awaitQuietly(sockets);
    awaitQuietly(opener).ifPresent(FileOpener::close);
  }

  /** The task's result once it has finished, empty when it failed; keeps an interrupt pending. */
  private static <T> Optional<T> awaitQuietly(FutureTask<T> task) {
    boolean interrupted = false;
    try {
      while (true) {
        try {
          return Optional.ofNullable(task.get());
        } catch (InterruptedException e) {
          interrupted = true;
        } catch (ExecutionException e) {
          return Optional.empty();
        }
      }
    } finally {
      if (interrupted) {
        Thread.currentThread().interrupt();
      }
    }
  }
}
