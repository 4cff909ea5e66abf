package dev.filebroker.daemon.endpoint;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The threads that serve endpoint connections, shared by every endpoint: acceptors only accept and
 * hand each connection over, so that one connection whose service blocks in the kernel (an open of
 * a file on a hung file system, a close that runs the release of a descriptor the client attached)
 * holds one of these threads, never an acceptor and never the others.
 *
 * <p>When every thread is busy and the queue is full, {@link #submit} waits: connections then wait
 * in the kernel's listen backlog rather than in memory of ours, and nothing is closed on the
 * accepting thread.
 */
final class EndpointWorkers {
  private static final Logger log = LoggerFactory.getLogger(EndpointWorkers.class);

  /** Threads serving endpoint connections. */
  static final int THREADS = 4;

  /** Accepted connections waiting for a thread. */
  static final int QUEUE = 256;

  private final BlockingQueue<Runnable> queue = new ArrayBlockingQueue<>(QUEUE);
  private final List<Thread> threads = new ArrayList<>();

  /** Queued once per thread by {@link #stop}: the thread that takes it ends. */
  private static final Runnable STOP = () -> {};

  private EndpointWorkers() {}

  /** Starts {@link #THREADS} threads. */
  static EndpointWorkers start() {
    EndpointWorkers workers = new EndpointWorkers();
    for (int i = 0; i < THREADS; i++) {
      workers.threads.add(
          Thread.ofPlatform()
              .name("filebroker-endpoint-worker-" + i)
              .daemon(true)
              .start(workers::work));
    }
    return workers;
  }

  /** Queues {@code task}, waiting for room when the queue is full. */
  void submit(Runnable task) throws InterruptedException {
    queue.put(task);
  }

  private void work() {
    while (true) {
      Runnable task;
      try {
        task = queue.take();
      } catch (InterruptedException e) {
        continue; // only stop() ends a worker, through STOP, after what was queued before it
      }
      if (task == STOP) {
        return;
      }
      run(task);
    }
  }

  private static void run(Runnable task) {
    try {
      task.run();
    } catch (RuntimeException e) {
      log.error("Could not serve an endpoint connection", e);
    }
  }

  /**
   * Lets the threads finish what is queued, then stops them; waits at most {@code millis} for each.
   * Call it once no acceptor submits any more.
   */
  void stop(long millis) throws InterruptedException {
    for (int i = 0; i < threads.size(); i++) {
      if (!queue.offer(STOP, millis, TimeUnit.MILLISECONDS)) {
        log.warn("Could not stop the endpoint threads: every one is busy");
        return;
      }
    }
    for (Thread t : threads) {
      t.join(millis);
    }
  }
}
