package dev.filebroker.daemon.audit;

/**
 * How long the audit writer sleeps between looks at its queue: the shortest after a look that found
 * lines, twice as long as the last sleep after one that found none, up to the longest.
 *
 * <p>Exists because the sleep sets costs against each other. A busy daemon's writer should look
 * often, so that each batch is small: a batch of ten milliseconds of lines took the writer about
 * half a millisecond to encode and write, and the requests that met it on their CPU waited that
 * long. In alternating runs at two connections (about 65,000 requests a second), the p999 was
 * 575-603 µs with a fixed 10 ms sleep, 240-313 µs with 3 ms and 188-205 µs with 1 ms; but the p99
 * went from 68-94 µs (10 ms) and 78-83 µs (3 ms) to 105-121 µs (1 ms), as more requests met a
 * wake-up. An idle daemon's writer should hardly wake at all. Not thread-safe: the writer thread
 * owns it.
 */
final class WriterPacing {
  private final long shortest;
  private final long longest;
  private long next;

  /** Pacing between {@code shortestNanos} and {@code longestNanos}, starting at the shortest. */
  WriterPacing(long shortestNanos, long longestNanos) {
    if (shortestNanos < 1 || longestNanos < shortestNanos) {
      throw new IllegalArgumentException(
          "need 0 < shortest <= longest: " + shortestNanos + ", " + longestNanos);
    }
    this.shortest = shortestNanos;
    this.longest = longestNanos;
    this.next = shortestNanos;
  }

  /** The sleep after a look that found lines: the shortest, from which idle sleeps grow again. */
  long afterLines() {
    next = shortest;
    return shortest;
  }

  /** The sleep after a look that found nothing: the last one doubled, at most the longest. */
  long afterNothing() {
    long sleep = next;
    next = sleep > longest / 2 ? longest : sleep * 2;
    return sleep;
  }
}
