#!/usr/bin/python3
"""Watches paths with inotify and reports every open/access/modify event on them.

Usage: inotify_watch.py PATH...   Prints READY once the watches are in place, then waits for its
standard input to close and prints one line "PATH MASK" (hex) per event, then DONE. An O_PATH
open produces no inotify event; any open for reading or writing produces IN_OPEN.
"""
import ctypes
import os
import struct
import sys

IN_ALL_EVENTS = 0xFFF
libc = ctypes.CDLL(None, use_errno=True)
fd = libc.inotify_init1(os.O_NONBLOCK | os.O_CLOEXEC)
if fd < 0:
    sys.exit("inotify_init1: " + os.strerror(ctypes.get_errno()))
paths = {}
for p in sys.argv[1:]:
    wd = libc.inotify_add_watch(fd, p.encode(), IN_ALL_EVENTS)
    if wd < 0:
        sys.exit("inotify_add_watch %s: %s" % (p, os.strerror(ctypes.get_errno())))
    paths[wd] = p
print("READY", flush=True)
sys.stdin.read()
try:
    data = os.read(fd, 65536)
except BlockingIOError:
    data = b""
off = 0
while off < len(data):
    wd, mask, cookie, length = struct.unpack_from("iIII", data, off)
    print("%s %x" % (paths.get(wd, "?"), mask))
    off += 16 + length
print("DONE", flush=True)
