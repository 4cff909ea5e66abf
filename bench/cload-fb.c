/*
 * cload-fb.c - closed-loop load generator speaking the filebroker protocol
 * (docs/protocol.md), built like the reference cload.c so that the figures
 * of both can be set side by side.
 *
 * Usage: cload-fb SOCKET FILE CONNS SECONDS [DEPTH [MANY]]
 *   DEPTH: requests in flight per connection (default 1, at most 64).
 *   MANY:  0 (default) sends OPEN requests; K in 1..64 sends OPEN_MANY
 *          requests naming FILE K times, and one op is one whole round trip
 *          (all K descriptors received and closed).
 *
 * One thread per connection, connected before timing starts. A latency is
 * from just before the send() until the received descriptors are close()d.
 * Samples are kept per thread and sorted at the end. Prints one key=value
 * line with ops_s p50_us p99_us p999_us errors (plus files_s); exit status 3
 * if any op failed.
 *
 * Replies are read as the protocol says a client must: a byte buffer and a
 * FIFO of received descriptors; each reply takes as many descriptors from the
 * head of the FIFO as it carries. Replies may come in any order, so each
 * request id names a slot that remembers when it was sent.
 */
#define _GNU_SOURCE
#include <endian.h>
#include <err.h>
#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#define MAX_DEPTH     64
#define MAX_MANY      64
#define MAX_FRAME     16384
#define HEADER        12
#define T_OPEN        0x01
#define T_OPEN_MANY   0x02
#define T_OPENED      0x81
#define T_OPENED_MANY 0x82
#define T_ERROR       0xFF
#define FIFO_CAP      1024

struct worker {
	pthread_t tid;
	int sock;
	uint32_t *lat;              /* latency samples in ns (saturating) */
	size_t n, cap;
	uint64_t errors, files;
	int last_code, last_errno;
	uint8_t buf[4 * MAX_FRAME]; /* received, not yet decoded */
	size_t have;
	int fifo[FIFO_CAP];         /* received descriptors, in order */
	size_t fifo_head, fifo_len;
};

static const char *g_file;
static uint32_t g_file_len;
static unsigned g_depth = 1, g_many;
static uint64_t g_deadline;
static pthread_barrier_t g_start;
static uint8_t g_req[MAX_FRAME];
static size_t g_req_len;

static uint64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static void put16(uint8_t *p, uint16_t v) { v = htole16(v); memcpy(p, &v, 2); }
static void put32(uint8_t *p, uint32_t v) { v = htole32(v); memcpy(p, &v, 4); }
static uint16_t get16(const uint8_t *p) { uint16_t v; memcpy(&v, p, 2); return le16toh(v); }
static uint32_t get32(const uint8_t *p) { uint32_t v; memcpy(&v, p, 4); return le32toh(v); }

/* The request template; the id at offset 8 is patched per send. */
static void build_request(void)
{
	uint8_t *p = g_req;
	if (g_many == 0) {
		put32(p, 8 + 8 + g_file_len);
		p[4] = 1; p[5] = T_OPEN; put16(p + 6, 0); put32(p + 8, 0);
		put32(p + 12, 0);                /* O_RDONLY */
		put16(p + 16, 0);                /* create mode */
		put16(p + 18, (uint16_t)g_file_len);
		memcpy(p + 20, g_file, g_file_len);
		g_req_len = 20 + g_file_len;
		return;
	}
	size_t len = HEADER + 4 + g_many * (8 + g_file_len);
	if (len > MAX_FRAME)
		errx(2, "%u paths of %u bytes do not fit one frame", g_many, g_file_len);
	put32(p, (uint32_t)len - 4);
	p[4] = 1; p[5] = T_OPEN_MANY; put16(p + 6, 0); put32(p + 8, 0);
	put16(p + 12, (uint16_t)g_many);
	put16(p + 14, 0);
	uint8_t *e = p + 16;
	for (unsigned i = 0; i < g_many; i++, e += 8 + g_file_len) {
		put32(e, 0);
		put16(e + 4, 0);
		put16(e + 6, (uint16_t)g_file_len);
		memcpy(e + 8, g_file, g_file_len);
	}
	g_req_len = len;
}

static void record(struct worker *w, uint64_t ns)
{
	if (w->n == w->cap) {
		w->cap = w->cap ? 2 * w->cap : 1u << 16;
		if (!(w->lat = realloc(w->lat, w->cap * sizeof *w->lat)))
			err(1, "realloc");
	}
	w->lat[w->n++] = ns > UINT32_MAX ? UINT32_MAX : (uint32_t)ns;
}

static void fail(struct worker *w, int code, int e)
{
	w->errors++;
	w->last_code = code;
	w->last_errno = e;
}

static int connect_broker(const char *path)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	snprintf(sa.sun_path, sizeof sa.sun_path, "%s", path);
	for (int tries = 0;; tries++) {
		int s = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
		if (s < 0)
			err(1, "socket");
		if (connect(s, (struct sockaddr *)&sa, sizeof sa) == 0)
			return s;
		if ((errno != ENOENT && errno != ECONNREFUSED) || tries == 3000)
			err(1, "connect %s", path);
		close(s);
		usleep(10000);
	}
}

static int fifo_pop(struct worker *w)
{
	if (w->fifo_len == 0)
		errx(1, "protocol violation: a reply needs a descriptor, none arrived");
	int fd = w->fifo[w->fifo_head];
	w->fifo_head = (w->fifo_head + 1) % FIFO_CAP;
	w->fifo_len--;
	return fd;
}

/* One recvmsg: bytes to the buffer, descriptors to the FIFO. */
static void receive(struct worker *w)
{
	union { char b[CMSG_SPACE(256 * sizeof(int))]; struct cmsghdr align; } ctl;
	struct iovec iov = { w->buf + w->have, sizeof w->buf - w->have };
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1,
	                     .msg_control = ctl.b, .msg_controllen = sizeof ctl.b };
	ssize_t r;
	do
		r = recvmsg(w->sock, &mh, MSG_CMSG_CLOEXEC);
	while (r < 0 && errno == EINTR);
	for (struct cmsghdr *cm = CMSG_FIRSTHDR(&mh); cm; cm = CMSG_NXTHDR(&mh, cm)) {
		if (cm->cmsg_level != SOL_SOCKET || cm->cmsg_type != SCM_RIGHTS)
			continue;
		size_t k = (cm->cmsg_len - CMSG_LEN(0)) / sizeof(int);
		for (size_t i = 0; i < k; i++) {
			if (w->fifo_len == FIFO_CAP)
				errx(1, "protocol violation: too many descriptors queued");
			memcpy(&w->fifo[(w->fifo_head + w->fifo_len++) % FIFO_CAP],
			       CMSG_DATA(cm) + i * sizeof(int), sizeof(int));
		}
	}
	if (mh.msg_flags & MSG_CTRUNC)
		errx(1, "protocol violation: descriptors lost (MSG_CTRUNC)");
	if (r < 0)
		err(1, "recvmsg");
	if (r == 0)
		errx(1, "the daemon closed the connection");
	w->have += (size_t)r;
}

/*
 * Decodes one complete reply frame at the head of the buffer, closes its
 * descriptors and returns its request id; 0 if no complete frame is buffered.
 */
static uint32_t take_reply(struct worker *w)
{
	if (w->have < HEADER)
		return 0;
	uint32_t body = get32(w->buf);
	if (body < 8 || body > MAX_FRAME - 4 || w->buf[4] != 1)
		errx(1, "protocol violation: bad frame header");
	if (w->have < body + 4)
		return 0;
	uint8_t *f = w->buf;
	uint32_t id = get32(f + 8);
	switch (f[5]) {
	case T_OPENED:
		close(fifo_pop(w));
		w->files++;
		break;
	case T_OPENED_MANY: {
		unsigned count = get16(f + 12), fds = get16(f + 14);
		if (body != 8 + 4 + 12 * count)
			errx(1, "protocol violation: OPENED_MANY size");
		for (unsigned i = 0; i < fds; i++)
			close(fifo_pop(w));
		w->files += fds;
		for (unsigned i = 0; i < count; i++) {
			const uint8_t *e = f + 16 + 12 * i;
			if (get16(e) != 0) {
				fail(w, get16(e), (int32_t)get32(e + 4));
				break;
			}
		}
		break;
	}
	case T_ERROR:
		if (get16(f + 12) >= 100)
			errx(1, "protocol error %u from the daemon: %.*s", get16(f + 12),
			     (int)get16(f + 14), (const char *)f + 20);
		fail(w, get16(f + 12), (int32_t)get32(f + 16));
		break;
	default:
		errx(1, "protocol violation: reply type 0x%02x", f[5]);
	}
	memmove(w->buf, w->buf + body + 4, w->have - body - 4);
	w->have -= body + 4;
	return id;
}

static void *client(void *arg)
{
	struct worker *w = arg;
	uint8_t req[MAX_FRAME];
	uint64_t sent_at[MAX_DEPTH];
	unsigned free_slots[MAX_DEPTH], nfree = 0, inflight = 0;
	uint64_t t;

	memcpy(req, g_req, g_req_len);
	for (unsigned i = 0; i < g_depth; i++)
		free_slots[nfree++] = g_depth - 1 - i;
	pthread_barrier_wait(&g_start);
	for (;;) {
		while (nfree > 0 && (t = now_ns()) < g_deadline) {
			unsigned slot = free_slots[--nfree];
			sent_at[slot] = t;
			inflight++;
			put32(req + 8, slot + 1);          /* ids are never 0 */
			if (send(w->sock, req, g_req_len, MSG_NOSIGNAL) != (ssize_t)g_req_len)
				err(1, "send");
		}
		if (!inflight)
			return NULL;
		uint32_t id;
		while ((id = take_reply(w)) == 0)
			receive(w);
		if (id < 1 || id > g_depth)
			errx(1, "protocol violation: reply for unknown id %u", id);
		record(w, now_ns() - sent_at[id - 1]);
		free_slots[nfree++] = id - 1;
		inflight--;
	}
}

static int cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
	return (x > y) - (x < y);
}

static double pct_us(const uint32_t *v, size_t n, double p)
{
	size_t i = (size_t)(p * (double)n);
	return n ? v[i < n ? i : n - 1] / 1000.0 : 0.0;
}

int main(int argc, char **argv)
{
	int nthr = argc > 3 ? atoi(argv[3]) : 0;
	double secs = argc > 4 ? atof(argv[4]) : 0;
	if (argc > 5)
		g_depth = (unsigned)atoi(argv[5]);
	if (argc > 6)
		g_many = (unsigned)atoi(argv[6]);
	g_file = argc > 2 ? argv[2] : "";
	g_file_len = (uint32_t)strlen(g_file);
	if (argc < 5 || argc > 7 || nthr < 1 || secs <= 0 || g_depth < 1 || g_depth > MAX_DEPTH ||
	    g_many > MAX_MANY || g_file_len == 0 || g_file_len >= 4096)
		errx(2, "usage: cload-fb SOCKET FILE CONNS SECONDS [DEPTH<=%d [MANY<=%d]]",
		     MAX_DEPTH, MAX_MANY);
	build_request();

	struct worker *w = calloc((size_t)nthr, sizeof *w);
	if (!w)
		err(1, "calloc");
	pthread_barrier_init(&g_start, NULL, (unsigned)nthr + 1);
	for (int i = 0; i < nthr; i++) {
		w[i].sock = connect_broker(argv[1]);
		if (pthread_create(&w[i].tid, NULL, client, &w[i]))
			errx(1, "pthread_create failed");
	}
	uint64_t t0 = now_ns();
	g_deadline = t0 + (uint64_t)(secs * 1e9);
	pthread_barrier_wait(&g_start);

	size_t total = 0;
	uint64_t errors = 0, files = 0;
	for (int i = 0; i < nthr; i++) {
		pthread_join(w[i].tid, NULL);
		total += w[i].n;
		errors += w[i].errors;
		files += w[i].files;
		if (w[i].errors)
			fprintf(stderr, "cload-fb: thread %d: %llu failed, last code=%d errno=%d (%s)\n",
			        i, (unsigned long long)w[i].errors, w[i].last_code,
			        w[i].last_errno, strerror(w[i].last_errno));
	}
	double elapsed = (double)(now_ns() - t0) / 1e9;
	uint32_t *all = malloc((total + 1) * sizeof *all);
	if (!all)
		err(1, "malloc");
	for (size_t i = 0, off = 0; i < (size_t)nthr; off += w[i++].n)
		memcpy(all + off, w[i].lat, w[i].n * sizeof *all);
	qsort(all, total, sizeof *all, cmp_u32);
	printf("mode=%s C=%d depth=%u many=%u secs=%.2f ops=%zu ops_s=%.0f "
	       "p50_us=%.1f p99_us=%.1f p999_us=%.1f errors=%llu files_s=%.0f\n",
	       g_many ? "filebroker-many" : "filebroker", nthr, g_depth, g_many, elapsed, total,
	       (double)total / elapsed, pct_us(all, total, 0.50), pct_us(all, total, 0.99),
	       pct_us(all, total, 0.999), (unsigned long long)errors, (double)files / elapsed);
	return errors ? 3 : 0;
}
