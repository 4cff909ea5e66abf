# Sends COUNT OPEN requests one after another on one connection, PAUSE_MS apart, and prints the
# latency of each (send to reply, microseconds) as one line of numbers. Exits 1 unless every
# request was granted with exactly one descriptor.
# Usage: victim.py SOCKET PATH COUNT PAUSE_MS
import os, socket, struct, sys, time

sock_path, path, count, pause = sys.argv[1], sys.argv[2].encode(), int(sys.argv[3]), float(sys.argv[4]) / 1000
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.connect(sock_path)
ANC = socket.CMSG_SPACE(4 * 4)
latencies = []
for i in range(1, count + 1):
    frame = struct.pack('<IBBHIIHH', 16 + len(path), 1, 1, 0, i, 0, 0, len(path)) + path
    t0 = time.perf_counter_ns()
    s.sendall(frame)
    buf = b''
    fds = []
    while len(buf) < 4 or len(buf) < 4 + struct.unpack_from('<I', buf)[0]:
        data, anc, flags, _ = s.recvmsg(4096, ANC)
        if not data:
            sys.exit('connection closed after %d requests' % (i - 1))
        buf += data
        for level, typ, raw in anc:
            fds += [struct.unpack_from('i', raw, k)[0] for k in range(0, len(raw) - len(raw) % 4, 4)]
    latencies.append((time.perf_counter_ns() - t0) // 1000)
    for fd in fds:
        os.close(fd)
    if buf[5] != 0x81 or len(fds) != 1 or struct.unpack_from('<I', buf, 8)[0] != i:
        sys.exit('request %d: reply type %#x, %d descriptors: %s' % (i, buf[5], len(fds), buf.hex()))
    time.sleep(pause)
print(' '.join(map(str, latencies)), flush=True)
