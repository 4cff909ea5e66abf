package dev.filebroker.daemon.fs;

import com.sun.jna.LastErrorException;
import com.sun.jna.Native;
import com.sun.jna.Pointer;

/**
 * Direct-mapped JNA bindings for posix_spawn(3) and waitpid(2), kept apart from {@link LibC}
 * because direct mapping (static natives) cannot share an interface binding. Every function here
 * returns what the C function returns; the posix_spawn family returns an error number rather than
 * setting errno.
 *
 * <p>The opaque glibc types are allocated by size: {@link #FILE_ACTIONS_SIZEOF} and {@link
 * #ATTR_SIZEOF} are larger than glibc's 80 and 336 bytes on 64-bit targets, so a layout change
 * cannot overrun them.
 */
final class PosixSpawn {
  static {
    Native.register(PosixSpawn.class, CLibrary.INSTANCE);
  }

  /** Room for a posix_spawn_file_actions_t. */
  static final int FILE_ACTIONS_SIZEOF = 256;

  /** Room for a posix_spawnattr_t. */
  static final int ATTR_SIZEOF = 1024;

  /** glibc's sigset_t: 1024 bits. */
  static final int SIGSET_SIZEOF = 128;

  /** Room for glibc's struct sigaction (152 bytes on x86-64 and arm64). */
  static final int SIGACTION_SIZEOF = 256;

  static final short POSIX_SPAWN_SETSIGDEF = 0x04;
  static final short POSIX_SPAWN_SETSIGMASK = 0x08;

  /** pipe2's O_CLOEXEC (the same value on x86-64, arm64 and riscv64). */
  static final int O_CLOEXEC = 0x80000;

  /** The sa_handler value of an ignored signal. */
  static final long SIG_IGN = 1;

  private PosixSpawn() {}

  static native int posix_spawn_file_actions_init(Pointer actions);

  static native int posix_spawn_file_actions_destroy(Pointer actions);

  static native int posix_spawn_file_actions_adddup2(Pointer actions, int fd, int newFd);

  static native int posix_spawn_file_actions_addclose(Pointer actions, int fd);

  /** glibc 2.34 and later. */
  static native int posix_spawn_file_actions_addclosefrom_np(Pointer actions, int lowest);

  static native int posix_spawnattr_init(Pointer attr);

  static native int posix_spawnattr_destroy(Pointer attr);

  static native int posix_spawnattr_setflags(Pointer attr, short flags);

  static native int posix_spawnattr_setsigmask(Pointer attr, Pointer mask);

  static native int posix_spawnattr_setsigdefault(Pointer attr, Pointer signals);

  /** {@code pid} is an int out-parameter; {@code argv} and {@code envp} are NULL-terminated. */
  static native int posix_spawn(
      Pointer pid, String file, Pointer actions, Pointer attr, Pointer argv, Pointer envp);

  static native int sigemptyset(Pointer set);

  /**
   * With a NULL {@code action}, only reads the disposition into {@code oldAction}.
   *
   * @throws LastErrorException with errno on failure
   */
  static native int sigaction(int signal, Pointer action, Pointer oldAction)
      throws LastErrorException;

  /**
   * pipe2(2): fills {@code fds} with the read and the write end (two ints).
   *
   * @throws LastErrorException with errno on failure
   */
  static native int pipe2(Pointer fds, int flags) throws LastErrorException;

  /**
   * waitpid(2).
   *
   * @throws LastErrorException with errno on failure (EINTR included)
   */
  static native int waitpid(int pid, Pointer status, int options) throws LastErrorException;
}
