package dev.filebroker.daemon.fs;

import java.util.Optional;

/**
 * The system calls a request makes on its way through the daemon (receive, open, check, reply,
 * close), behind one binding chosen once at start: the foreign function and memory API where the
 * runtime has it (Java 22 and later; {@link ForeignCalls}), JNA's direct mapping otherwise. Every
 * other native call of the package stays with JNA in {@link LibC}: they are rare, and JNA serves
 * every supported runtime.
 *
 * <p>Each call returns what the C function returns, or {@code -errno} when it fails. Pointers are
 * native addresses the caller keeps valid until the call returns.
 */
interface RequestCalls {
  /** syscall(SYS_openat2, dirfd, path, how, size): a new descriptor, or {@code -errno}. */
  long openat2(int dirfd, long path, long how, long size);

  /** statx(2): 0, or {@code -errno}. */
  int statx(int dirfd, long path, int flags, int mask, long buffer);

  /** fcntl(2) with an int argument: what the command returns, or {@code -errno}. */
  int fcntl(int fd, int command, int arg);

  /** close(2): 0, or {@code -errno}. */
  int close(int fd);

  /** recvmsg(2): the bytes received, or {@code -errno}. */
  long recvmsg(int fd, long message, int flags);

  /** sendmsg(2): the bytes sent, or {@code -errno}. */
  long sendmsg(int fd, long message, int flags);

  /** The binding a runtime gets: {@link #foreign()} where it has one, else {@link #jna()}. */
  static RequestCalls bind() {
    return foreign().orElseGet(RequestCalls::jna);
  }

  /** The JNA binding, which every supported runtime (Java 21 and later) has. */
  static RequestCalls jna() {
    return LibC.jnaCalls();
  }

  /**
   * The foreign function binding, on Java 22 and later; empty on Java 21 (where the API is a
   * preview), or when the runtime refuses to bind it (without native access, say).
   */
  static Optional<RequestCalls> foreign() {
    if (Runtime.version().feature() < 22) {
      return Optional.empty();
    }
    try {
      return Optional.of(new ForeignCalls());
    } catch (LinkageError | RuntimeException e) {
      // ExceptionInInitializerError among them: ForeignCalls binds as it is initialised.
      return Optional.empty();
    }
  }
}
