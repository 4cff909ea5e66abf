package dev.filebroker.daemon.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import org.junit.jupiter.api.Test;

/** A thread the server cannot do without that ends is reported, unless the server is stopping. */
class EssentialThreadsTest {
  @Test
  void aThreadEndedByAnErrorOrAnExceptionIsReportedByName() {
    assertTimeoutPreemptively(
        Duration.ofSeconds(30),
        () -> {
          List<String> lost = new CopyOnWriteArrayList<>();
          EssentialThreads threads = new EssentialThreads(lost::add);
          threads
              .start(
                  "test-error",
                  () -> {
                    throw new OutOfMemoryError("thrown by the test; the thread ends");
                  })
              .join();
          threads
              .start(
                  "test-exception",
                  () -> {
                    throw new IllegalStateException("thrown by the test; the thread ends");
                  })
              .join();
          threads.start("test-return", () -> {}).join();
          assertEquals(List.of("test-error", "test-exception", "test-return"), lost);
        });
  }

  @Test
  void threadsEndingOnceStoppingAreNotReported() {
    assertTimeoutPreemptively(
        Duration.ofSeconds(30),
        () -> {
          List<String> lost = new CopyOnWriteArrayList<>();
          EssentialThreads threads = new EssentialThreads(lost::add);
          CountDownLatch stop = new CountDownLatch(1);
          Thread t = threads.start("test-until-stopped", () -> awaitQuietly(stop));
          threads.stopping();
          stop.countDown();
          t.join();
          assertEquals(List.of(), lost);
        });
  }

  private static void awaitQuietly(CountDownLatch latch) {
    try {
      latch.await();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
