# Holds a listening socket across daemon restarts, as systemd's socket units do: binds and listens
# once, then runs one daemon generation after another on it, passed as descriptor 3 with
# LISTEN_FDS=1, LISTEN_PID=<the daemon's pid> and LISTEN_FDNAMES=filebroker.
# Reads commands on stdin: "restart" (SIGTERM the daemon, wait for it, start the next); "stop" or
# the end of input stops the daemon and the holder.
# Prints "generation N pid P exit S" lines; each generation's output goes to LOGDIR/daemon-N.log.
# Usage: socket_holder.py SOCKET LOGDIR COMMAND...
import os, signal, socket, sys

sock_path, log_dir, command = sys.argv[1], sys.argv[2], sys.argv[3:]
if os.path.exists(sock_path):
    os.unlink(sock_path)
listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
listener.bind(sock_path)
os.chmod(sock_path, 0o666)
listener.listen(4096)


def spawn(generation):
    pid = os.fork()
    if pid == 0:
        try:
            log = os.open(os.path.join(log_dir, 'daemon-%d.log' % generation),
                          os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
            null = os.open('/dev/null', os.O_RDONLY)
            os.dup2(null, 0)
            os.dup2(log, 1)
            os.dup2(log, 2)
            if listener.fileno() != 3:
                os.dup2(listener.fileno(), 3)
            os.set_inheritable(3, True)  # the daemon inherits it across execv
            os.environ['LISTEN_PID'] = str(os.getpid())
            os.environ['LISTEN_FDS'] = '1'
            os.environ['LISTEN_FDNAMES'] = 'filebroker'
            args = command + ['--control-socket', os.path.join(log_dir, 'control-%d.sock' % generation)]
            os.execv(args[0], args)
        finally:
            os._exit(127)
    return pid


generation = 1
child = spawn(generation)
print('generation %d pid %d exit -' % (generation, child), flush=True)
while True:
    line = sys.stdin.readline().strip()  # '' at the end of input: stop as for "stop"
    os.kill(child, signal.SIGTERM)
    _, status = os.waitpid(child, 0)
    code = os.waitstatus_to_exitcode(status)
    if line != 'restart':
        print('stopped generation %d exit %d' % (generation, code), flush=True)
        break
    generation += 1
    child = spawn(generation)
    print('generation %d pid %d exit %d' % (generation, child, code), flush=True)
