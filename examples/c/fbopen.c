/* fbopen: open a file through filebroker and copy it to stdout (or stdin into it).
 * A complete client in C with libc only; the wire format is docs/protocol.md.
 *   cc -Wall -Wextra -O2 -o fbopen fbopen.c
 *   fbopen [-s SOCKET] [-f FLAGS] PATH    (FLAGS: wire open flags, e.g. 1 = O_WRONLY; default 0)
 * Exit status: 0 done, 2 the daemon refused or failed the request ("CODE errno message" on
 * stderr), 1 anything else. The socket defaults to $FILEBROKER_SOCKET, then the packaged path. */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

static const char *const NAMES[] = {"?", "DENIED", "NOT_FOUND", "SYMLINK_IN_PATH", "INVALID_PATH",
    "WRONG_FILE_TYPE", "INVALID_FLAGS", "ALREADY_EXISTS", "NOT_A_DIRECTORY", "CROSSES_MOUNT",
    "LIMIT_EXCEEDED", "IO_ERROR", "INTERNAL_ERROR", "CONSTRAINT_FAILED", "CASE_INSENSITIVE"};
static const char *const PROTOCOL_NAMES[] = {"MALFORMED_FRAME", "UNSUPPORTED_VERSION",
    "UNKNOWN_TYPE", "FRAME_TOO_LARGE", "UNEXPECTED_DESCRIPTOR", "TIMEOUT"};

static void put32(uint8_t *p, uint32_t v) { for (int i = 0; i < 4; i++) p[i] = (uint8_t)(v >> 8 * i); }
static uint32_t get32(const uint8_t *p) { return p[0] | p[1] << 8 | p[2] << 16 | (uint32_t)p[3] << 24; }
static uint16_t get16(const uint8_t *p) { return (uint16_t)(p[0] | p[1] << 8); }
static int fail(const char *what) { perror(what); return 1; }

static int copy(int from, int to) {
    char buf[65536];
    for (ssize_t n; (n = read(from, buf, sizeof buf)) != 0;) {
        if (n < 0) { if (errno == EINTR) continue; return fail("read"); }
        for (ssize_t off = 0, w; off < n; off += w)
            if ((w = write(to, buf + off, (size_t)(n - off))) < 0) return fail("write");
    }
    return 0;
}

int main(int argc, char **argv) {
    const char *sock = getenv("FILEBROKER_SOCKET");
    uint32_t flags = 0;
    for (int c; (c = getopt(argc, argv, "s:f:")) != -1;) {
        if (c == 's') sock = optarg;
        else if (c == 'f') flags = (uint32_t)strtoul(optarg, NULL, 0);
        else return 1;
    }
    if (optind != argc - 1) { fprintf(stderr, "usage: %s [-s SOCKET] [-f FLAGS] PATH\n", argv[0]); return 1; }
    const char *path = argv[optind];
    size_t n = strlen(path);
    if (n > 4095) { fprintf(stderr, "path too long\n"); return 1; }
    struct sockaddr_un addr = {.sun_family = AF_UNIX};
    strncpy(addr.sun_path, sock ? sock : "/run/filebroker/filebroker.sock", sizeof addr.sun_path - 1);
    int s = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (s < 0 || connect(s, (struct sockaddr *)&addr, sizeof addr) < 0) return fail("connect");

    static uint8_t frame[16384];                  /* OPEN: header, flags, mode, path length, path */
    put32(frame, (uint32_t)(16 + n));             /* body length = 8 + 8 + n */
    frame[4] = 1; frame[5] = 0x01;                /* version 1, type OPEN; reserved stays 0 */
    put32(frame + 8, 1);                          /* request id 1 */
    put32(frame + 12, flags);                     /* create mode 0 */
    frame[18] = (uint8_t)n; frame[19] = (uint8_t)(n >> 8);
    memcpy(frame + 20, path, n);
    for (size_t off = 0; off < 20 + n;) {
        ssize_t w = send(s, frame + off, 20 + n - off, MSG_NOSIGNAL);
        if (w < 0) { if (errno == EINTR) continue; return fail("send"); }
        off += (size_t)w;
    }

    size_t have = 0; int fd = -1, fds = 0;        /* read one reply; its descriptor comes first */
    while (have < 4 || have < 4 + (size_t)get32(frame)) {
        union { struct cmsghdr h; char b[CMSG_SPACE(8 * sizeof(int))]; } ctl;
        struct iovec iov = {frame + have, have < 4 ? 4 - have : 4 + get32(frame) - have};
        struct msghdr msg = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = ctl.b, .msg_controllen = sizeof ctl.b};
        if (have >= 4 && get32(frame) > 16380) { fprintf(stderr, "frame too large\n"); return 1; }
        ssize_t r = recvmsg(s, &msg, MSG_CMSG_CLOEXEC);
        if (r < 0 && errno == EINTR) continue;
        for (struct cmsghdr *c = CMSG_FIRSTHDR(&msg); c; c = CMSG_NXTHDR(&msg, c))
            if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS)
                for (size_t i = 0; i < (c->cmsg_len - CMSG_LEN(0)) / sizeof(int); i++, fds++) {
                    int got; memcpy(&got, CMSG_DATA(c) + i * sizeof(int), sizeof got);
                    if (fd < 0) fd = got; else close(got);  /* close what we did not expect */
                }
        if (msg.msg_flags & MSG_CTRUNC) { fprintf(stderr, "descriptor lost (MSG_CTRUNC)\n"); return 1; }
        if (r < 0) return fail("recvmsg");
        if (r == 0) { fprintf(stderr, "daemon closed the connection\n"); return 1; }
        have += (size_t)r;
    }
    if (frame[4] != 1 || get32(frame + 8) != 1) { fprintf(stderr, "unexpected reply\n"); return 1; }
    if (frame[5] == 0xFF && fds == 0 && get32(frame) >= 16) {   /* ERROR: code, length, errno, text */
        uint16_t code = get16(frame + 12), len = get16(frame + 14);
        const char *name = code > 0 && code < sizeof NAMES / sizeof *NAMES ? NAMES[code]
            : code >= 100 && code - 100u < sizeof PROTOCOL_NAMES / sizeof *PROTOCOL_NAMES ? PROTOCOL_NAMES[code - 100]
            : "UNKNOWN";
        fprintf(stderr, "%s %d %.*s\n", name, (int32_t)get32(frame + 16), (int)(len <= get32(frame) - 16 ? len : 0), (char *)frame + 20);
        return 2;
    }
    if (frame[5] != 0x81 || fds != 1 || get32(frame) != 12) { fprintf(stderr, "unexpected reply type 0x%02x\n", frame[5]); return 1; }
    close(s);
    return (flags & 3) == 0 ? copy(fd, 1) : copy(0, fd);
}
