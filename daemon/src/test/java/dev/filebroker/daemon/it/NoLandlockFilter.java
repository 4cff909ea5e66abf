package dev.filebroker.daemon.it;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/**
 * A classic-BPF seccomp program for x86-64 that fails landlock_create_ruleset(2) with an errno of
 * the caller's choice (ENOSYS as on a kernel built without Landlock, EOPNOTSUPP as on one that did
 * not enable it at boot), and allows every other system call; for bubblewrap's {@code --seccomp
 * FD}.
 */
final class NoLandlockFilter {
  private static final int BPF_LD_W_ABS = 0x20;
  private static final int BPF_JMP_JEQ_K = 0x15;
  private static final int BPF_RET_K = 0x06;
  private static final int AUDIT_ARCH_X86_64 = 0xc000003e;
  private static final int SYS_LANDLOCK_CREATE_RULESET = 444;
  private static final int SECCOMP_RET_ERRNO = 0x00050000;
  private static final int SECCOMP_RET_ALLOW = 0x7fff0000;
  static final int ENOSYS = 38;
  static final int EOPNOTSUPP = 95;

  private NoLandlockFilter() {}

  static byte[] program(int errno) {
    ByteBuffer b = ByteBuffer.allocate(6 * 8).order(ByteOrder.LITTLE_ENDIAN);
    instruction(b, BPF_LD_W_ABS, 0, 0, 4); // seccomp_data.arch
    instruction(b, BPF_JMP_JEQ_K, 0, 3, AUDIT_ARCH_X86_64); // another arch: allow
    instruction(b, BPF_LD_W_ABS, 0, 0, 0); // seccomp_data.nr
    instruction(b, BPF_JMP_JEQ_K, 0, 1, SYS_LANDLOCK_CREATE_RULESET);
    instruction(b, BPF_RET_K, 0, 0, SECCOMP_RET_ERRNO | errno);
    instruction(b, BPF_RET_K, 0, 0, SECCOMP_RET_ALLOW);
    return b.array();
  }

  private static void instruction(ByteBuffer b, int code, int jt, int jf, int k) {
    b.putShort((short) code).put((byte) jt).put((byte) jf).putInt(k);
  }
}
