#define FUSE_USE_VERSION 31
#include <fuse3/fuse.h>
#include "fuse_shim.h"
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/statvfs.h>
#include <string.h>
#include <unistd.h>

// libfuse3's ABI is stable within soname 3 (Debian's libfuse3-3).
static const char *const library_names[] = {"libfuse3.so.3", "libfuse3.so"};

static struct {
    int (*main_real)(int argc, char *argv[], const struct fuse_operations *op, size_t op_size, void *private_data);
    struct fuse_context *(*get_context)(void);
    void (*exit)(struct fuse *f);
    void (*set_log_func)(fuse_log_func_t func);
} api;

static pthread_once_t load_once = PTHREAD_ONCE_INIT;
static char load_error[512];
static int load_result = -1;

static const snap_fuse_operations *callbacks;
static double cache_timeout = 1;
static struct fuse *running;
// fuse_main_real changes to / before serving (fuse_daemonize, even in the foreground):
// the working folder is restored in init, so relative paths (a local repository given as
// `-r repo`, a cache folder) keep meaning what they meant.
static int working_folder = -1;
static pthread_mutex_t running_lock = PTHREAD_MUTEX_INITIALIZER;

static void *find(void *library, const char *name) {
    void *symbol = dlsym(library, name);
    if (symbol == NULL && load_error[0] == 0) {
        snprintf(load_error, sizeof load_error, "libfuse3 has no %s", name);
    }
    return symbol;
}

static void load(void) {
    void *library = NULL;
    for (size_t i = 0; i < sizeof library_names / sizeof library_names[0] && library == NULL; i++) {
        library = dlopen(library_names[i], RTLD_NOW | RTLD_LOCAL);
    }
    if (library == NULL) {
        const char *reason = dlerror();
        snprintf(load_error, sizeof load_error, "%s", reason ? reason : "libfuse3.so.3 not found");
        return;
    }
    api.main_real = find(library, "fuse_main_real");
    api.get_context = find(library, "fuse_get_context");
    api.exit = find(library, "fuse_exit");
    api.set_log_func = dlsym(library, "fuse_set_log_func");  // optional (libfuse 3.7+)
    if (api.main_real && api.get_context && api.exit) load_result = 0;
}

int snap_fuse_load(char *error, size_t error_size) {
    pthread_once(&load_once, load);
    if (load_result != 0 && error != NULL && error_size > 0) snprintf(error, error_size, "%s", load_error);
    return load_result;
}

static void *op_init(struct fuse_conn_info *conn, struct fuse_config *cfg) {
    cfg->use_ino = 1;          // inode numbers from the file system: hard links share one
    cfg->readdir_ino = 1;
    cfg->entry_timeout = cache_timeout;
    cfg->attr_timeout = cache_timeout;
    cfg->negative_timeout = 0; // new snapshots and at/ times must be found at once
    cfg->kernel_cache = 1;     // snapshot content never changes: keep it between opens
    // Folders come with their entries' attributes (readdirplus) on every listing, not only
    // when the kernel guesses that `ls -l` is running: they cost nothing extra here, and
    // `du`, `find` and `ls -l` then stat without a LOOKUP per name.
    if (conn->capable & FUSE_CAP_READDIRPLUS) conn->want |= FUSE_CAP_READDIRPLUS;
    conn->want &= ~FUSE_CAP_READDIRPLUS_AUTO;
    if (working_folder >= 0 && fchdir(working_folder) != 0) perror("snap: cannot return to the working folder");
    pthread_mutex_lock(&running_lock);
    running = api.get_context()->fuse;
    pthread_mutex_unlock(&running_lock);
    return NULL;
}

static int op_getattr(const char *path, struct stat *st, struct fuse_file_info *fi) {
    (void)fi;
    return callbacks->getattr(path, st);
}

static int op_readlink(const char *path, char *buffer, size_t size) {
    if (size == 0) return -EINVAL;
    int length = callbacks->readlink(path, buffer, size - 1);
    if (length < 0) return length;
    buffer[(size_t)length < size - 1 ? (size_t)length : size - 1] = 0;
    return 0;
}

// Folders are listed at opendir, once, into a table kept with the open folder; readdir
// hands it out page by page with offsets. Offsets matter: libfuse 3.14's high-level API
// passes a folder's attributes on to the kernel with readdirplus only in its offset mode
// (fill_dir_plus calls do_lookup only when `off` is nonzero); without offsets every name
// costs the kernel a LOOKUP round trip (a cold `du -s` of 78k files took 2–5 times as long).
struct listed_entry {
    char *name;
    struct stat attributes;
};

struct listing {
    struct listed_entry *entries;
    size_t count;
    size_t capacity;
    int out_of_memory;
};

static void free_listing(struct listing *l) {
    if (l == NULL) return;
    for (size_t i = 0; i < l->count; i++) free(l->entries[i].name);
    free(l->entries);
    free(l);
}

static int add_entry(void *context, const char *name, const struct stat *attributes) {
    struct listing *l = context;
    if (l->count == l->capacity) {
        size_t capacity = l->capacity ? l->capacity * 2 : 64;
        struct listed_entry *grown = realloc(l->entries, capacity * sizeof *grown);
        if (grown == NULL) { l->out_of_memory = 1; return 1; }
        l->entries = grown;
        l->capacity = capacity;
    }
    char *copy = strdup(name);
    if (copy == NULL) { l->out_of_memory = 1; return 1; }
    l->entries[l->count].name = copy;
    l->entries[l->count].attributes = *attributes;
    l->count++;
    return 0;
}

static int op_opendir(const char *path, struct fuse_file_info *fi) {
    struct listing *l = calloc(1, sizeof *l);
    if (l == NULL) return -ENOMEM;
    int result = callbacks->readdir(path, l, add_entry);
    if (result == 0 && l->out_of_memory) result = -ENOMEM;
    if (result < 0) {
        free_listing(l);
        return result;
    }
    fi->fh = (uint64_t)(uintptr_t)l;
    return 0;
}

static int op_readdir(const char *path, void *buffer, fuse_fill_dir_t filler, off_t offset,
                      struct fuse_file_info *fi, enum fuse_readdir_flags flags) {
    (void)path; (void)flags;
    const struct listing *l = (const struct listing *)(uintptr_t)fi->fh;
    if (l == NULL) return -EBADF;
    // Offsets: 1 after ".", 2 after "..", i + 3 after entry i.
    for (off_t next = offset; next < (off_t)l->count + 2; next++) {
        int full;
        if (next == 0) full = filler(buffer, ".", NULL, 1, 0);
        else if (next == 1) full = filler(buffer, "..", NULL, 2, 0);
        else {
            const struct listed_entry *e = &l->entries[next - 2];
            full = filler(buffer, e->name, &e->attributes, next + 1, FUSE_FILL_DIR_PLUS);
        }
        if (full) break;
    }
    return 0;
}

static int op_releasedir(const char *path, struct fuse_file_info *fi) {
    (void)path;
    free_listing((struct listing *)(uintptr_t)fi->fh);
    fi->fh = 0;
    return 0;
}

// Read-only: no free blocks or inodes. The blocks are the repository's stored packs (what
// the index lists), so `df` shows how much the snapshots take where they are kept.
static int op_statfs(const char *path, struct statvfs *st) {
    (void)path;
    memset(st, 0, sizeof *st);
    uint64_t stored = 0;
    if (callbacks->stored_bytes != NULL) stored = callbacks->stored_bytes();
    st->f_bsize = 4096;
    st->f_frsize = 4096;
    st->f_blocks = (fsblkcnt_t)((stored + 4095) / 4096);
    st->f_namemax = 255;
    return 0;
}

static int op_open(const char *path, struct fuse_file_info *fi) {
    if ((fi->flags & O_ACCMODE) != O_RDONLY) return -EROFS;
    uint64_t handle = 0;
    int result = callbacks->open(path, &handle);
    if (result < 0) return result;
    fi->fh = handle;
    fi->keep_cache = 1;
    return 0;
}

static int op_read(const char *path, char *buffer, size_t size, off_t offset, struct fuse_file_info *fi) {
    (void)path;
    return callbacks->read(fi->fh, buffer, size, (int64_t)offset);
}

static int op_release(const char *path, struct fuse_file_info *fi) {
    (void)path;
    return callbacks->release(fi->fh);
}

static int op_getxattr(const char *path, const char *name, char *value, size_t size) {
    return callbacks->getxattr(path, name, value, size);
}

static int op_listxattr(const char *path, char *list, size_t size) {
    return callbacks->listxattr(path, list, size);
}

// libfuse 3.14's fuse_main_real reports its own default thread limit as invalid on every
// mount ("Ignoring invalid max threads value 4294967295 …"); that line alone is dropped.
static void log_message(enum fuse_log_level level, const char *format, va_list arguments) {
    (void)level;
    if (strncmp(format, "Ignoring invalid max threads", 28) == 0) return;
    vfprintf(stderr, format, arguments);
}

int snap_fuse_run(int argc, char **argv, const snap_fuse_operations *operations, double cache_seconds) {
    if (snap_fuse_load(NULL, 0) != 0) return -1;
    callbacks = operations;
    if (api.set_log_func != NULL) api.set_log_func(log_message);
    cache_timeout = cache_seconds;
    struct fuse_operations ops;
    memset(&ops, 0, sizeof ops);
    ops.init = op_init;
    ops.getattr = op_getattr;
    ops.readlink = op_readlink;
    ops.opendir = op_opendir;
    ops.readdir = op_readdir;
    ops.releasedir = op_releasedir;
    ops.statfs = op_statfs;
    ops.open = op_open;
    ops.read = op_read;
    ops.release = op_release;
    ops.getxattr = op_getxattr;
    ops.listxattr = op_listxattr;
    working_folder = open(".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    int result = api.main_real(argc, argv, &ops, sizeof ops, NULL);
    if (working_folder >= 0) {
        if (fchdir(working_folder) != 0) perror("snap: cannot return to the working folder");
        close(working_folder);
        working_folder = -1;
    }
    pthread_mutex_lock(&running_lock);
    running = NULL;
    pthread_mutex_unlock(&running_lock);
    return result;
}

void snap_fuse_exit(void) {
    pthread_mutex_lock(&running_lock);
    if (running != NULL) api.exit(running);
    pthread_mutex_unlock(&running_lock);
}
