// LD_PRELOAD shim for FaultTests: fsync of a folder whose path ends with, or contains
// "/NAME/" for, $SNAP_TEST_FAIL_FSYNC fails with EIO, as on a failing disk. Everything
// else goes to the real fsync.
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static int matches(int fd) {
    const char *wanted = getenv("SNAP_TEST_FAIL_FSYNC");
    struct stat st;
    if (wanted == NULL || fstat(fd, &st) != 0 || !S_ISDIR(st.st_mode)) return 0;
    char link[64], path[4096];
    snprintf(link, sizeof link, "/proc/self/fd/%d", fd);
    ssize_t n = readlink(link, path, sizeof path - 1);
    if (n <= 0) return 0;
    path[n] = 0;
    size_t length = strlen(path), suffix = strlen(wanted);
    return length >= suffix && strcmp(path + length - suffix, wanted) == 0;
}

int fsync(int fd) {
    static int (*real)(int);
    if (real == NULL) real = (int (*)(int))dlsym(RTLD_NEXT, "fsync");
    if (matches(fd)) {
        errno = EIO;
        return -1;
    }
    return real(fd);
}
