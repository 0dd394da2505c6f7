#define FUSE_USE_VERSION 31
#include <fuse3/fuse.h>
#include "fuse_shim.h"
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdarg.h>
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
    (void)conn;
    cfg->use_ino = 1;          // inode numbers from the file system: hard links share one
    cfg->readdir_ino = 1;
    cfg->entry_timeout = cache_timeout;
    cfg->attr_timeout = cache_timeout;
    cfg->negative_timeout = 0; // new snapshots and at/ times must be found at once
    cfg->kernel_cache = 1;     // snapshot content never changes: keep it between opens
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

struct listing {
    void *buffer;
    fuse_fill_dir_t filler;
};

static int add_entry(void *context, const char *name, const struct stat *attributes) {
    struct listing *l = context;
    return l->filler(l->buffer, name, attributes, 0, FUSE_FILL_DIR_PLUS);
}

static int op_readdir(const char *path, void *buffer, fuse_fill_dir_t filler, off_t offset,
                      struct fuse_file_info *fi, enum fuse_readdir_flags flags) {
    (void)offset; (void)fi; (void)flags;
    struct listing l = {buffer, filler};
    filler(buffer, ".", NULL, 0, 0);
    filler(buffer, "..", NULL, 0, 0);
    return callbacks->readdir(path, &l, add_entry);
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
    ops.readdir = op_readdir;
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
