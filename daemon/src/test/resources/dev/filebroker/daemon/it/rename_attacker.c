/*
 * Swaps path components between real directories/files and symlinks to a protected tree, as fast
 * as it can, until killed or until its time runs out. Run as an unprivileged user that owns DIR.
 *
 *   rename_attacker DIR SECONDS
 *
 * DIR must hold: d/ and d.evil -> protected dir   (renameat2 RENAME_EXCHANGE of a directory)
 *                e/g and e/g.evil -> protected file (RENAME_EXCHANGE of the last component)
 *                r/ and r.evil -> protected dir   (plain rename(2) shuffle through r.tmp)
 * Prints the number of swaps to stdout when it ends.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#ifndef RENAME_EXCHANGE
#define RENAME_EXCHANGE (1 << 1)
#endif

static volatile sig_atomic_t stop;

static void on_signal(int sig) { (void)sig; stop = 1; }

static int exchange(int dirfd, const char *a, const char *b) {
	return (int)syscall(SYS_renameat2, dirfd, a, dirfd, b, RENAME_EXCHANGE);
}

int main(int argc, char **argv) {
	if (argc != 3) {
		fprintf(stderr, "usage: %s DIR SECONDS\n", argv[0]);
		return 2;
	}
	int dir = open(argv[1], O_PATH | O_DIRECTORY);
	if (dir < 0) {
		perror("Could not open DIR");
		return 1;
	}
	signal(SIGTERM, on_signal);
	signal(SIGINT, on_signal);
	time_t end = time(NULL) + atoi(argv[2]);
	unsigned long swaps = 0, failures = 0;
	while (!stop) {
		for (int i = 0; i < 256; i++) {
			failures += exchange(dir, "d", "d.evil") != 0;
			failures += exchange(dir, "e/g", "e/g.evil") != 0;
			/* rename(2): move the real directory away, the symlink in, and back. */
			failures += renameat(dir, "r", dir, "r.tmp") != 0;
			failures += renameat(dir, "r.evil", dir, "r") != 0;
			failures += renameat(dir, "r", dir, "r.evil") != 0;
			failures += renameat(dir, "r.tmp", dir, "r") != 0;
			swaps += 6;
		}
		if (time(NULL) >= end)
			break;
	}
	printf("%lu swaps, %lu failed\n", swaps, failures);
	return failures > swaps / 2 ? 1 : 0;
}
