/*
 * conns.c - holds many connections to a filebroker socket open, for the memory figures of
 * bench/run.
 *
 * Usage: conns SOCKET N [FILE]
 *   Connects N times (one after the other). With FILE, sends one OPEN of FILE on each connection
 *   and waits for its reply (closing the descriptor), so every connection has been served once
 *   and then goes idle, as a client that keeps its connection does. Prints "ready N" and then
 *   holds every connection open until its standard input reaches end of file; exits 0.
 *   Exit status 1 if a connection or a request fails.
 */
#define _GNU_SOURCE
#include <endian.h>
#include <err.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#define T_OPENED 0x81

static void put16(uint8_t *p, uint16_t v) { v = htole16(v); memcpy(p, &v, 2); }
static void put32(uint8_t *p, uint32_t v) { v = htole32(v); memcpy(p, &v, 4); }
static uint32_t get32(const uint8_t *p) { uint32_t v; memcpy(&v, p, 4); return le32toh(v); }

static int connect_to(const char *path)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	snprintf(sa.sun_path, sizeof sa.sun_path, "%s", path);
	int s = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (s < 0)
		err(1, "socket");
	if (connect(s, (struct sockaddr *)&sa, sizeof sa) != 0)
		err(1, "connect %s", path);
	return s;
}

/* One OPEN (O_RDONLY) of FILE and its reply; the received descriptor is closed. */
static void open_once(int s, const char *file)
{
	uint8_t req[4200], rep[4200];
	size_t len = strlen(file);
	put32(req, (uint32_t)(8 + 8 + len));
	req[4] = 1; req[5] = 0x01; put16(req + 6, 0); put32(req + 8, 1);
	put32(req + 12, 0); put16(req + 16, 0); put16(req + 18, (uint16_t)len);
	memcpy(req + 20, file, len);
	if (send(s, req, 20 + len, MSG_NOSIGNAL) != (ssize_t)(20 + len))
		err(1, "send");
	size_t have = 0;
	for (;;) {
		union { char b[CMSG_SPACE(16 * sizeof(int))]; struct cmsghdr align; } ctl;
		struct iovec iov = { rep + have, sizeof rep - have };
		struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1,
		                     .msg_control = ctl.b, .msg_controllen = sizeof ctl.b };
		ssize_t r = recvmsg(s, &mh, MSG_CMSG_CLOEXEC);
		if (r <= 0)
			errx(1, "no reply from the daemon");
		for (struct cmsghdr *cm = CMSG_FIRSTHDR(&mh); cm; cm = CMSG_NXTHDR(&mh, cm))
			if (cm->cmsg_level == SOL_SOCKET && cm->cmsg_type == SCM_RIGHTS)
				for (size_t i = 0; i < (cm->cmsg_len - CMSG_LEN(0)) / sizeof(int); i++) {
					int fd;
					memcpy(&fd, CMSG_DATA(cm) + i * sizeof(int), sizeof fd);
					close(fd);
				}
		have += (size_t)r;
		if (have >= 12 && have >= get32(rep) + 4)
			break;
	}
	if (rep[5] != T_OPENED)
		errx(1, "request refused (reply type 0x%02x)", rep[5]);
}

int main(int argc, char **argv)
{
	if (argc < 3 || argc > 4)
		errx(2, "usage: conns SOCKET N [FILE]");
	long n = atol(argv[2]);
	if (n < 1)
		errx(2, "N must be positive");
	struct rlimit rl = { (rlim_t)n + 64, (rlim_t)n + 64 };
	if (setrlimit(RLIMIT_NOFILE, &rl) != 0)
		err(1, "setrlimit(RLIMIT_NOFILE, %ld)", n + 64);
	int *fds = calloc((size_t)n, sizeof *fds);
	if (!fds)
		err(1, "calloc");
	for (long i = 0; i < n; i++) {
		fds[i] = connect_to(argv[1]);
		if (argc == 4)
			open_once(fds[i], argv[3]);
	}
	printf("ready %ld\n", n);
	fflush(stdout);
	char b[64];
	while (read(0, b, sizeof b) > 0)
		;
	for (long i = 0; i < n; i++)
		close(fds[i]);
	return 0;
}
