package dev.filebroker.daemon.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.newsclub.net.unix.AFUNIXServerSocket;
import org.newsclub.net.unix.AFUNIXSocketAddress;

class ListeningSocketTest {
  @TempDir Path dir;

  @Test
  void bindsWithTheConfiguredModeAndRemovesTheFileOnClose() throws IOException {
    Path path = dir.resolve("run/broker.sock");
    ListeningSocket s = ListeningSocket.bind(path, 0660);
    assertEquals("rw-rw----", PosixFilePermissions.toString(Files.getPosixFilePermissions(path)));
    s.close();
    assertFalse(Files.exists(path));
  }

  @Test
  void replacesAStaleSocketFile() throws IOException {
    Path path = dir.resolve("stale.sock");
    AFUNIXServerSocket dead = AFUNIXServerSocket.newInstance();
    dead.bind(AFUNIXSocketAddress.of(path));
    dead.setDeleteOnClose(false);
    dead.close();
    assertTrue(Files.exists(path), "a socket file left behind by a dead daemon");
    ListeningSocket s = ListeningSocket.bind(path, 0666);
    s.close();
  }

  @Test
  void refusesASocketAnotherProcessListensOn() throws IOException {
    Path path = dir.resolve("live.sock");
    try (AFUNIXServerSocket live = AFUNIXServerSocket.newInstance()) {
      live.bind(AFUNIXSocketAddress.of(path));
      IOException e = assertThrows(IOException.class, () -> ListeningSocket.bind(path, 0666));
      assertTrue(e.getMessage().contains("another process is listening"), e.getMessage());
    }
  }

  @Test
  void refusesToReplaceARegularFile() throws IOException {
    Path path = Files.writeString(dir.resolve("not-a-socket"), "data");
    IOException e = assertThrows(IOException.class, () -> ListeningSocket.bind(path, 0666));
    assertTrue(e.getMessage().contains("is not a socket"), e.getMessage());
    assertEquals("data", Files.readString(path));
  }

  @Test
  void convertsModeBitsToPermissions() {
    assertEquals("rw-rw-rw-", PosixFilePermissions.toString(ListeningSocket.permissions(0666)));
    assertEquals("rwx------", PosixFilePermissions.toString(ListeningSocket.permissions(0700)));
  }
}
