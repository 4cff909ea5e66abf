# Attaches a loopback TCP socket with SO_LINGER and unsent data to a request, then drops its own
# copy: the daemon then holds the last reference, and closing it runs the whole linger.
# Driven over stdin/stdout by AttachedDescriptorIT and ControlIT:
#   prints "ready"; waits for a line; sends, closes its copy, prints "sent OK" or "sent ERRNAME";
#   prints what the daemon answered ("reply HEX", or "closed"); waits for a line; reads the peer's
#   data until the lingering close completes; prints "drained".
import array, errno, os, socket, struct, sys

daemon_socket, request_hex = sys.argv[1], sys.argv[2]

listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
listener.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
listener.bind(("127.0.0.1", 0))
listener.listen(1)
tcp = socket.create_connection(listener.getsockname())
peer, _ = listener.accept()
tcp.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 600))
tcp.setblocking(False)
try:
    while True:
        tcp.send(b"x" * 65536)
except BlockingIOError:
    pass  # the peer's window is full: what is left stays unsent

unix = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
unix.connect(daemon_socket)
print("ready", flush=True)
sys.stdin.readline()
try:
    unix.sendmsg([bytes.fromhex(request_hex)],
                 [(socket.SOL_SOCKET, socket.SCM_RIGHTS, array.array("i", [tcp.fileno()]))])
    result = "OK"
except OSError as e:
    result = errno.errorcode.get(e.errno, str(e.errno))
if result != "OK":
    # Still ours: close it without lingering.
    tcp.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 0, 0))
os.close(tcp.detach())
print("sent " + result, flush=True)

if result == "OK":
    reply = b""
    while True:
        try:
            chunk = unix.recv(4096)
        except ConnectionResetError:
            break  # closed with what we sent still unread (a refusal): what came before counts
        if not chunk:
            break
        reply += chunk
        if len(reply) >= 4 and len(reply) >= 4 + int.from_bytes(reply[:4], "little"):
            break
    print(("reply " + reply.hex()) if reply else "closed", flush=True)

sys.stdin.readline()
peer.setblocking(True)
while peer.recv(65536):
    pass  # the daemon's close sends the rest, then FIN: the linger ends
print("drained", flush=True)
