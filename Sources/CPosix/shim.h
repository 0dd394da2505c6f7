// POSIX and Linux headers that Glibc's Swift module does not export.
#include <sys/xattr.h>
#include <malloc.h>
#include <stddef.h>
#include <sys/statfs.h>

// mremap is a GNU extension and variadic, which Swift cannot call: declared here (so that
// no _GNU_SOURCE is needed) behind a fixed-argument front end.
extern void *mremap(void *old_address, size_t old_size, size_t new_size, int flags, ...);
static inline void *cposix_mremap_may_move(void *address, size_t old_size, size_t new_size) {
    return mremap(address, old_size, new_size, 1 /* MREMAP_MAYMOVE */);
}

// sched_getaffinity is declared only under _GNU_SOURCE; the mask is passed as bytes
// (a cpu_set_t of any size), so no GNU macro is needed to call it.
extern int sched_getaffinity(int pid, size_t cpusetsize, void *mask);

// pthread_setname_np is declared only under _GNU_SOURCE: names a thread (at most 15 bytes
// and a NUL) for `top -H`, gdb and /proc/PID/task/*/comm.
#include <pthread.h>
extern int pthread_setname_np(pthread_t thread, const char *name);

// pipe2 is declared only under _GNU_SOURCE: a pipe whose ends are close-on-exec from the
// start, so a child another thread spawns meanwhile does not inherit them.
extern int pipe2(int pipefd[2], int flags);

// openat2 (Linux 5.6) has no glibc wrapper here, and syscall() is variadic, which Swift
// cannot call: opens `path` below `dirfd` following no symlink on the way and never leaving
// `dirfd`'s tree (RESOLVE_NO_SYMLINKS | RESOLVE_BENEATH). -1 with errno: ELOOP for a
// symlink on the way, ENOSYS where the kernel (or gVisor) lacks the call.
#include <linux/openat2.h>
#include <sys/syscall.h>
#include <unistd.h>
static inline int cposix_open_beneath_without_symlinks(int dirfd, const char *path, int flags) {
    struct open_how how = { .flags = (unsigned long long)(unsigned int)flags, .mode = 0,
                            .resolve = RESOLVE_NO_SYMLINKS | RESOLVE_BENEATH };
    return (int)syscall(SYS_openat2, dirfd, path, &how, sizeof how);
}

// listxattrat and getxattrat (Linux 6.13) have no glibc wrapper, nor numbers in these
// kernel headers (6.1): the extended attributes of the entry `name` of the open folder
// `dirfd`, not following a symlink, so that a folder swapped on the way after it was opened
// cannot send the read elsewhere, as a path can. The numbers are those of every
// architecture's table since 6.13 (checked on 6.18: 464 get, 465 list); <fcntl.h> is not
// included for AT_SYMLINK_NOFOLLOW (0x100), as its mode macros would clash with Glibc's in
// Swift. -1 with errno ENOSYS where the kernel (or gVisor) lacks them.
#include <stdint.h>
#ifndef SYS_getxattrat
#define SYS_getxattrat 464
#endif
#ifndef SYS_listxattrat
#define SYS_listxattrat 465
#endif
static inline long cposix_listxattrat(int dirfd, const char *name, char *list, size_t size) {
    return syscall(SYS_listxattrat, dirfd, name, 0x100 /* AT_SYMLINK_NOFOLLOW */, list, size);
}
static inline long cposix_getxattrat(int dirfd, const char *name, const char *attribute, void *value, size_t size) {
    // struct xattr_args of <linux/xattr.h> since 6.13: the value's buffer and size, and flags (0).
    struct { uint64_t value; uint32_t size; uint32_t flags; } args = { (uint64_t)(uintptr_t)value, (uint32_t)size, 0 };
    return syscall(SYS_getxattrat, dirfd, name, 0x100 /* AT_SYMLINK_NOFOLLOW */, attribute, &args, sizeof args);
}

#include <signal.h>
#include <string.h>
#include <unistd.h>

// The line `cposix_sigbus_handler` writes: set once by `cposix_say_on_sigbus`, before the
// handler is installed, and only read after that. Statics inside a function, since Swift's
// importer emits a header's functions but not its variables.
struct cposix_sigbus_line { char text[2048]; size_t length; };
static inline struct cposix_sigbus_line *cposix_sigbus_storage(void) {
    static struct cposix_sigbus_line line;
    return &line;
}

// Written in C because a signal handler may only make async-signal-safe calls (write,
// _exit): no allocation, no locks, nothing of Swift's runtime.
static inline void cposix_sigbus_handler(int signal) {
    struct cposix_sigbus_line *line = cposix_sigbus_storage();
    ssize_t written = write(STDERR_FILENO, line->text, line->length);
    (void)written;
    _exit(128 + signal);
}

// Makes SIGBUS (a file mapped into memory cut short under the process) write `text` to
// standard error and exit with 128 + SIGBUS, instead of ending the process without a word.
// A longer text is cut at the buffer's size. Returns sigaction's result.
static inline int cposix_say_on_sigbus(const char *text) {
    struct cposix_sigbus_line *line = cposix_sigbus_storage();
    size_t length = strlen(text);
    if (length > sizeof line->text) length = sizeof line->text;
    memcpy(line->text, text, length);
    line->length = length;
    struct sigaction action;
    memset(&action, 0, sizeof action);
    action.sa_handler = cposix_sigbus_handler;
    sigemptyset(&action.sa_mask);
    return sigaction(SIGBUS, &action, NULL);
}
