package dev.filebroker.daemon.fs;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.Test;

class ErrnoTest {
  @Test
  void namesCommonErrnos() {
    assertEquals("ENOENT", Errno.name(2));
    assertEquals("EACCES", Errno.name(13));
    assertEquals("ELOOP", Errno.name(40));
    assertEquals("EXDEV", Errno.name(18));
    assertEquals("EMFILE", Errno.name(Errno.EMFILE));
    assertEquals("ENAMETOOLONG", Errno.name(36));
  }

  @Test
  void namesAliasByFirstName() {
    assertEquals("EAGAIN", Errno.name(Errno.EWOULDBLOCK));
    assertEquals("EOPNOTSUPP", Errno.name(Errno.ENOTSUP));
  }

  @Test
  void numbersUnknownErrno() {
    assertEquals("errno 4095", Errno.name(4095));
    assertEquals("errno 0", Errno.name(0));
    assertEquals("errno -1", Errno.name(-1));
  }
}
