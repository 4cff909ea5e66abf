/*
 * A FUSE file system whose lookup of /hang blocks until a file appears at RELEASE_PATH: the test
 * double for an NFS server that stopped answering. So does the lookup of hang in each directory
 * /d0, /d1, ...: lookups in one directory wait for each other in the kernel, so opens that are to
 * hang side by side each need a directory of their own. Every other name answers at once.
 *
 *   cc -o hangfs hangfs.c $(pkg-config --cflags --libs fuse3)
 *   hangfs RELEASE_PATH MOUNTPOINT     (runs in the foreground; prints "lookup waiting" to stdout
 *                                       each time a lookup of /hang starts to wait)
 */
#define FUSE_USE_VERSION 31
#include <errno.h>
#include <fuse.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static const char *release_path;
static const char content[] = "released\n";

/* Whether PATH is "/d" followed by digits only (a directory holding a hang of its own). */
static int is_dir(const char *path, size_t length) {
  if (length < 3 || strncmp(path, "/d", 2) != 0) {
    return 0;
  }
  for (size_t i = 2; i < length; i++) {
    if (path[i] < '0' || path[i] > '9') {
      return 0;
    }
  }
  return 1;
}

/* Whether PATH is /hang or /dN/hang. */
static int is_hang(const char *path) {
  const char *last = strrchr(path, '/');
  return strcmp(last, "/hang") == 0 && (last == path || is_dir(path, (size_t)(last - path)));
}

static int hang_getattr(const char *path, struct stat *st, struct fuse_file_info *fi) {
  (void)fi;
  memset(st, 0, sizeof *st);
  if (strcmp(path, "/") == 0 || is_dir(path, strlen(path))) {
    st->st_mode = S_IFDIR | 0755;
    st->st_nlink = 2;
    return 0;
  }
  if (is_hang(path)) {
    if (access(release_path, F_OK) != 0) {
      printf("lookup waiting\n");
      fflush(stdout);
      while (access(release_path, F_OK) != 0) {
        usleep(10000);
      }
    }
    st->st_mode = S_IFREG | 0644;
    st->st_nlink = 1;
    st->st_size = sizeof content - 1;
    return 0;
  }
  return -ENOENT;
}

static int hang_open(const char *path, struct fuse_file_info *fi) {
  (void)fi;
  return is_hang(path) ? 0 : -ENOENT;
}

static int hang_read(const char *path, char *buf, size_t size, off_t off,
                     struct fuse_file_info *fi) {
  (void)path;
  (void)fi;
  size_t length = sizeof content - 1;
  if ((size_t)off >= length) {
    return 0;
  }
  if (size > length - (size_t)off) {
    size = length - (size_t)off;
  }
  memcpy(buf, content + off, size);
  return (int)size;
}

static const struct fuse_operations operations = {
    .getattr = hang_getattr,
    .open = hang_open,
    .read = hang_read,
};

int main(int argc, char *argv[]) {
  if (argc != 3) {
    fprintf(stderr, "usage: %s RELEASE_PATH MOUNTPOINT\n", argv[0]);
    return 2;
  }
  release_path = argv[1];
  char *args[] = {argv[0], "-f", argv[2], NULL};
  return fuse_main(3, args, &operations, NULL);
}
