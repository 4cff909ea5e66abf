# Floods the filebroker daemon from one process: CONNECTIONS connections, each pipelining OPEN
# requests as fast as the socket takes them, for SECONDS seconds; closed connections are replaced.
# Then stops sending, reads what is still owed, and prints one JSON line of counts:
# every request must end with a reply, or on a connection that received an error frame.
# Usage: flood.py SOCKET PATH CONNECTIONS SECONDS
import errno, json, os, selectors, socket, struct, sys, time

sock_path, path, connections, seconds = sys.argv[1], sys.argv[2].encode(), int(sys.argv[3]), float(sys.argv[4])
FRAME = struct.pack('<IBBHIIHH', 16 + len(path), 1, 1, 0, 1, 0, 0, len(path)) + path
BATCH = FRAME * 64
ANC = socket.CMSG_SPACE(32 * 4)
LIMIT_EXCEEDED = 10

totals = dict(connections=0, connect_failures=0, sent=0, replies=0, opened=0, limited=0,
              other_errors=0, error_frames=0, refused_with_frame=0, closed_clean=0,
              silent_drops=0, unanswered=0, descriptors=0)
codes = {}


class Conn:
    def __init__(self):
        self.s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.s.settimeout(2)
        self.s.connect(sock_path)
        self.s.setblocking(False)
        self.out = b''
        self.written = 0       # bytes written in all
        self.inbuf = b''
        self.replies = 0
        self.error_frame = False
        self.can_write = True
        self.closed = False

    def sent(self):
        return self.written // len(FRAME)


def parse(c, data):
    c.inbuf += data
    buf = c.inbuf
    pos = 0
    while len(buf) - pos >= 12:
        length, _, typ, _, rid = struct.unpack_from('<IBBHI', buf, pos)
        end = pos + 4 + length
        if end > len(buf):
            break
        if typ == 0x81:
            c.replies += 1
            totals['opened'] += 1
        elif typ == 0xFF:
            code = struct.unpack_from('<H', buf, pos + 12)[0]
            codes[code] = codes.get(code, 0) + 1
            if rid == 0:
                c.error_frame = True   # refusal or protocol error: the connection ends
                totals['error_frames'] += 1
            else:
                c.replies += 1
                if code == LIMIT_EXCEEDED:
                    totals['limited'] += 1
                else:
                    totals['other_errors'] += 1
        else:
            totals['other_errors'] += 1
            c.replies += 1
        pos = end
    c.inbuf = buf[pos:]


def finish(c, sel):
    if c.closed:
        return
    c.closed = True
    try:
        sel.unregister(c.s)
    except (KeyError, ValueError):
        pass
    c.s.close()
    sent = c.sent()
    totals['sent'] += sent
    totals['replies'] += c.replies
    missing = sent - c.replies
    if c.error_frame:
        totals['refused_with_frame'] += 1
        totals['unanswered'] += max(0, missing)
    elif missing > 0:
        totals['silent_drops'] += 1
        totals['unanswered'] += missing
    else:
        totals['closed_clean'] += 1


def read(c, sel):
    while True:
        try:
            data, anc, flags, _ = c.s.recvmsg(262144, ANC)
        except BlockingIOError:
            return
        except ConnectionResetError:
            finish(c, sel)
            return
        for level, typ, fds in anc:
            if level == socket.SOL_SOCKET and typ == socket.SCM_RIGHTS:
                for i in range(0, len(fds) - len(fds) % 4, 4):
                    os.close(struct.unpack_from('i', fds, i)[0])
                    totals['descriptors'] += 1
        if not data:
            finish(c, sel)
            return
        parse(c, data)


def write(c, sel, flooding):
    if not c.can_write:
        return
    if not c.out:
        if not flooding:
            return
        c.out = BATCH
    try:
        n = c.s.send(c.out)
    except BlockingIOError:
        return
    except (BrokenPipeError, ConnectionResetError):
        c.can_write = False   # the daemon hung up; its error frame may still be readable
        c.out = b''
        sel.modify(c.s, selectors.EVENT_READ, c)
        return
    c.written += n
    c.out = c.out[n:]


sel = selectors.DefaultSelector()
live = []


def connect():
    try:
        c = Conn()
    except OSError:
        totals['connect_failures'] += 1
        return
    totals['connections'] += 1
    live.append(c)
    sel.register(c.s, selectors.EVENT_READ | selectors.EVENT_WRITE, c)


deadline = time.monotonic() + seconds
while time.monotonic() < deadline:
    live = [c for c in live if not c.closed]
    while len(live) < connections and time.monotonic() < deadline:
        connect()
    for key, events in sel.select(0.05):
        c = key.data
        if events & selectors.EVENT_READ:
            read(c, sel)
        if not c.closed and events & selectors.EVENT_WRITE:
            write(c, sel, True)

# Stop sending (finishing the frame in progress), then collect what is owed.
drain_deadline = time.monotonic() + 10
while time.monotonic() < drain_deadline:
    pending = [c for c in live if not c.closed and (c.out or c.replies < c.sent())]
    for c in live:
        if not c.closed and not c.out and c.replies >= c.sent():
            finish(c, sel)
    if not pending:
        break
    for key, events in sel.select(0.05):
        c = key.data
        if events & selectors.EVENT_READ:
            read(c, sel)
        if not c.closed and events & selectors.EVENT_WRITE:
            if c.out:
                write(c, sel, False)
            else:
                sel.modify(c.s, selectors.EVENT_READ, c)
for c in live:
    finish(c, sel)
totals['codes'] = {str(k): v for k, v in codes.items()}
print(json.dumps(totals), flush=True)
