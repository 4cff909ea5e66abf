package dev.filebroker.daemon.fs;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.io.FileInputStream;
import java.io.IOException;
import org.junit.jupiter.api.Test;

/** A closed poller leaves the descriptor numbers it gave back alone. */
class PollerTest {
  @Test
  void aClosedPollerWritesNothingIntoTheDescriptorThatTakesItsNumber() throws IOException {
    Poller poller = Poller.open(1);
    int wake = poller.wakeDescriptor();
    poller.close();
    // The kernel hands out the lowest free numbers: a new pipe takes the poller's two, its write
    // end the eventfd's (epoll's number first, then the eventfd's, as they were made).
    Pipe pipe = Pipe.open();
    try (FileInputStream in = new FileInputStream(Descriptors.wrap(pipe.readEnd()))) {
      assertEquals(wake, pipe.writeEnd(), "the pipe's write end has the eventfd's number");
      poller.wakeup();
      poller.remove(pipe.readEnd());
      assertThrows(IOException.class, () -> poller.add(pipe.readEnd(), 1, Poller.READ));
      assertThrows(IOException.class, () -> poller.poll(new long[1], new int[1], 0));
      poller.close();
      assertEquals(0, in.available(), "nothing was written into the pipe");
    } finally {
      Descriptors.close(pipe.writeEnd());
    }
  }
}
