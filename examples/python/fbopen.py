#!/usr/bin/env python3
"""Open a file through filebroker and copy it to stdout (or stdin into it).

A complete filebroker client using only the Python standard library; the wire format is
docs/protocol.md. Exit status: 0 on success, 2 when the daemon refused or failed the request
(its error code name, errno and message go to stderr), 1 on any other failure.

    fbopen.py [--socket PATH] [--access read|write|append|read-write] [--create] [--truncate] PATH
"""
import argparse
import os
import socket
import struct
import sys

VERSION = 1
TYPE_OPEN, TYPE_OPENED, TYPE_ERROR = 0x01, 0x81, 0xFF
O_WRONLY, O_RDWR, O_CREAT, O_TRUNC, O_APPEND = 0o1, 0o2, 0o100, 0o1000, 0o2000
ACCESS = {"read": 0, "write": O_WRONLY, "append": O_WRONLY | O_APPEND, "read-write": O_RDWR}
ERROR_NAMES = {
    1: "DENIED", 2: "NOT_FOUND", 3: "SYMLINK_IN_PATH", 4: "INVALID_PATH", 5: "WRONG_FILE_TYPE",
    6: "INVALID_FLAGS", 7: "ALREADY_EXISTS", 8: "NOT_A_DIRECTORY", 9: "CROSSES_MOUNT",
    10: "LIMIT_EXCEEDED", 11: "IO_ERROR", 12: "INTERNAL_ERROR", 13: "CONSTRAINT_FAILED",
    14: "CASE_INSENSITIVE",
    100: "MALFORMED_FRAME",
    101: "UNSUPPORTED_VERSION", 102: "UNKNOWN_TYPE", 103: "FRAME_TOO_LARGE",
    104: "UNEXPECTED_DESCRIPTOR", 105: "TIMEOUT",
}


def request(sock, request_id, path, flags, mode):
    """Send one OPEN; return (fd, None) on success or (None, (name, errno, message))."""
    raw = path.encode("utf-8", "surrogateescape")
    payload = struct.pack("<IHH", flags, mode, len(raw)) + raw
    body = struct.pack("<BBHI", VERSION, TYPE_OPEN, 0, request_id) + payload
    sock.sendall(struct.pack("<I", len(body)) + body)
    data, fds = b"", []
    while True:  # read one reply frame; its descriptor arrives with its first byte
        need = 4 if len(data) < 4 else 4 + struct.unpack_from("<I", data)[0]
        if len(data) >= need:
            break
        chunk, got, flags_in, _ = socket.recv_fds(sock, need - len(data), 4,
                                                  socket.MSG_CMSG_CLOEXEC)
        if flags_in & socket.MSG_CTRUNC:
            raise OSError("descriptor truncated (MSG_CTRUNC)")
        fds += got
        if not chunk:
            raise OSError("daemon closed the connection")
        data += chunk
    _, version, kind, _, reply_id = struct.unpack_from("<IBBHI", data)
    if version != VERSION or reply_id != request_id:
        raise OSError("unexpected reply version %d id %d" % (version, reply_id))
    if kind == TYPE_OPENED and len(fds) == 1:
        return fds[0], None
    for fd in fds:
        os.close(fd)
    if kind == TYPE_ERROR:
        code, length, errno = struct.unpack_from("<HHi", data, 12)
        message = data[20:20 + length].decode("utf-8", "replace")
        return None, (ERROR_NAMES.get(code, "UNKNOWN(%d)" % code), errno, message)
    raise OSError("unexpected reply type 0x%02x with %d descriptors" % (kind, len(fds)))


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--socket", default=os.environ.get("FILEBROKER_SOCKET",
                                                      "/run/filebroker/filebroker.sock"))
    p.add_argument("--access", choices=sorted(ACCESS), default="read")
    p.add_argument("--create", action="store_true")
    p.add_argument("--truncate", action="store_true")
    p.add_argument("--flags", type=lambda s: int(s, 0), help="raw wire flags (overrides --access)")
    p.add_argument("path")
    a = p.parse_args()
    flags = ACCESS[a.access] | (O_CREAT if a.create else 0) | (O_TRUNC if a.truncate else 0)
    if a.flags is not None:
        flags = a.flags
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
            sock.connect(a.socket)
            fd, error = request(sock, 1, a.path, flags, 0o600 if flags & O_CREAT else 0)
    except OSError as e:
        print("fbopen: %s: %s" % (a.socket, e.strerror or e), file=sys.stderr)
        return 1
    if error:
        print("%s %d %s" % error, file=sys.stderr)
        return 2
    with os.fdopen(fd, "rb" if (flags & 3) == 0 else "wb") as f:
        if (flags & 3) == 0:
            sys.stdout.buffer.write(f.read())
        else:
            f.write(sys.stdin.buffer.read())
    return 0


if __name__ == "__main__":
    sys.exit(main())
