// libfuse3's high-level API, loaded when `snap mount` starts (dlopen), behind a small set
// of path-based callbacks that Swift fills with global functions: FUSE calls them on its
// own threads, and Swift closures that capture context cannot be C callbacks.
//
// snap links no libfuse3, so the binary starts on machines without it; only `snap mount`
// needs the library (Debian: fuse3, which also brings fusermount3).
#ifndef SNAP_FUSE_SHIM_H
#define SNAP_FUSE_SHIM_H
#include <stddef.h>
#include <stdint.h>
#include <sys/stat.h>
#include <sys/types.h>

/// Adds one folder entry with its attributes; returns nonzero when the listing is full.
typedef int (*snap_fuse_add_entry)(void *context, const char *name, const struct stat *attributes);

/// The file system, as path-based callbacks. Each returns 0 or a count on success and a
/// negative errno on failure, as FUSE expects.
typedef struct snap_fuse_operations {
    int (*getattr)(const char *path, struct stat *attributes);
    /// Writes the link target (not NUL-terminated) into `buffer`; returns its full length.
    int (*readlink)(const char *path, char *buffer, size_t size);
    /// Calls `add` for every entry but `.` and `..` (once per opening of the folder).
    int (*readdir)(const char *path, void *context, snap_fuse_add_entry add);
    int (*open)(const char *path, uint64_t *handle);
    int (*read)(uint64_t handle, char *buffer, size_t size, int64_t offset);
    int (*release)(uint64_t handle);
    /// The value's length; writes it when `size` is large enough (`size` 0 asks the length).
    int (*getxattr)(const char *path, const char *name, char *value, size_t size);
    /// The NUL-separated names' total length; written when `size` is large enough.
    int (*listxattr)(const char *path, char *list, size_t size);
    /// The bytes the repository stores (shown by `df` as the mount's used blocks).
    uint64_t (*stored_bytes)(void);
} snap_fuse_operations;

/// Loads libfuse3, once. Returns 0 on success; otherwise writes a one-line reason into
/// `error` and returns -1 (and again on every later call).
int snap_fuse_load(char *error, size_t error_size);

/// Mounts and serves until the file system is unmounted (fuse_main_real with `argv`:
/// program name, mountpoint, options). Entries and attributes are cached by the kernel for
/// `cache_seconds`; file content stays in the page cache between opens. Returns
/// fuse_main's status: 0 after a clean unmount.
int snap_fuse_run(int argc, char **argv, const snap_fuse_operations *operations, double cache_seconds);

/// Asks the serving loop to end (fuse_exit); the caller then unmounts, which wakes it.
void snap_fuse_exit(void);
#endif
