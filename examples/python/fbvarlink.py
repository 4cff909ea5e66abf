#!/usr/bin/env python3
"""Call a Varlink method and print the reply; optionally copy a received file to stdout.

A Varlink client written from the specification alone (https://varlink.org/Method-Call-Interface):
each message is a JSON object followed by a NUL byte; descriptors a reply carries arrive as
SCM_RIGHTS on the reply's bytes. Only the Python standard library is used.

    fbvarlink.py [--socket PATH] [--read] [--count N] METHOD [PARAMETERS-JSON]

The reply's JSON goes to stdout on one line. With --read, the descriptor a reply's
"fileDescriptor" names is read to its end and copied to stdout after that line. --count N makes
the same call N times on one connection (closing every descriptor received). Exit status: 0 for
a reply, 2 for an error reply (its name goes to stderr), 1 on any other failure.

    fbvarlink.py --socket /run/filebroker/io.filebroker.Broker --read \\
        io.filebroker.Broker.Open '{"path": "/srv/data/report.txt", "access": ["read"]}'
"""
import argparse
import array
import json
import os
import socket
import sys

MAX_FDS = 64


class Connection:
    """One connection: send calls, receive replies and the descriptors attached to them."""

    def __init__(self, path):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.connect(path)
        self.buffer = b""

    def call(self, method, parameters):
        message = {"method": method, "parameters": parameters}
        try:
            self.sock.sendall(json.dumps(message).encode("utf-8") + b"\0")
        except BrokenPipeError:
            # The service may answer and close before the call is written (a connection over a
            # limit gets LimitExceeded at once): what it sent is still there to be read.
            pass
        fds = []
        while b"\0" not in self.buffer:
            data, ancillary, _flags, _address = self.sock.recvmsg(
                65536, socket.CMSG_SPACE(MAX_FDS * 4))
            for level, kind, cdata in ancillary:
                if level == socket.SOL_SOCKET and kind == socket.SCM_RIGHTS:
                    received = array.array("i")
                    received.frombytes(cdata[: len(cdata) - len(cdata) % received.itemsize])
                    fds.extend(received)
            if not data:
                for fd in fds:
                    os.close(fd)
                raise EOFError("the service closed the connection")
            self.buffer += data
        reply, _, self.buffer = self.buffer.partition(b"\0")
        return json.loads(reply.decode("utf-8")), fds

    def close(self):
        self.sock.close()


def copy(fd):
    with os.fdopen(fd, "rb", closefd=True) as f:
        while True:
            chunk = f.read(65536)
            if not chunk:
                return
            sys.stdout.buffer.write(chunk)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--socket", default="/run/filebroker/io.filebroker.Broker")
    parser.add_argument("--read", action="store_true")
    parser.add_argument("--count", type=int, default=1)
    parser.add_argument("method")
    parser.add_argument("parameters", nargs="?", default="{}")
    args = parser.parse_args()
    try:
        parameters = json.loads(args.parameters)
    except ValueError as e:
        print(f"fbvarlink: parameters are not JSON: {e}", file=sys.stderr)
        return 1
    try:
        connection = Connection(args.socket)
    except OSError as e:
        print(f"fbvarlink: cannot connect to {args.socket}: {e.strerror}", file=sys.stderr)
        return 1
    try:
        for i in range(args.count):
            reply, fds = connection.call(args.method, parameters)
            last = i == args.count - 1
            if last:
                print(json.dumps(reply, sort_keys=True), flush=True)
            index = reply.get("parameters", {}).get("fileDescriptor")
            for n, fd in enumerate(fds):
                if last and args.read and n == index:
                    copy(fd)
                else:
                    os.close(fd)
            if last and "error" in reply:
                print(reply["error"], file=sys.stderr)
                return 2
    except (OSError, EOFError, ValueError) as e:
        print(f"fbvarlink: {e}", file=sys.stderr)
        return 1
    finally:
        connection.close()
    sys.stdout.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main())
