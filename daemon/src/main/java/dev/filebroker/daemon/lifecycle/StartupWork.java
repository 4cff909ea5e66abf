package dev.filebroker.daemon.lifecycle;

import dev.filebroker.daemon.fs.FileOpener;
import java.io.IOException;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.FutureTask;
import org.newsclub.net.unix.AFSocket;
import org.slf4j.LoggerFactory;

/**
 * The part of start-up that does not depend on the policy, done on a second thread while the main
 * thread reads and checks the policy: setting up logging, loading junixsocket's native library and
 * creating the {@link FileOpener} (JNA and its native library).
 *
 * <p>Exists because these take about as long as reading a small policy, and a host has more than
 * one CPU: done side by side, the daemon is ready sooner. Nothing on the main thread may use
 * logging until {@link #opener()} has returned (a logger asked for while another thread sets up
 * logging would only be a stand-in that replays its messages later).
 */
final class StartupWork {
  private final FutureTask<FileOpener> task;

  private StartupWork(FutureTask<FileOpener> task) {
    this.task = task;
  }

  /** Starts the work on a new daemon thread. */
  static StartupWork begin() {
    FutureTask<FileOpener> task = new FutureTask<>(StartupWork::prepare);
    Thread.ofPlatform().name("filebroker-start").daemon(true).start(task);
    return new StartupWork(task);
  }

  private static FileOpener prepare() throws IOException {
    LoggerFactory.getILoggerFactory();
    AFSocket.isSupported();
    return FileOpener.create();
  }

  /**
   * Waits for the work and returns the file opener, which the caller then owns.
   *
   * @throws IOException when the file opener could not be created
   */
  FileOpener opener() throws IOException, InterruptedException {
    try {
      return task.get();
    } catch (ExecutionException e) {
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
  }

  /** Waits for the work and closes what it created; for a start-up that goes no further. */
  void abandon() {
    boolean interrupted = false;
    while (true) {
      try {
        task.get().close();
        break;
      } catch (InterruptedException e) {
        interrupted = true;
      } catch (ExecutionException e) {
        break;
      }
    }
    if (interrupted) {
      Thread.currentThread().interrupt();
    }
  }
}
