#include "curl_shim.h"
#include <dlfcn.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>

// libcurl's ABI is stable within soname 4 (the Debian package libcurl4).
static const char *const library_names[] = {"libcurl.so.4", "libcurl.so"};

static struct {
    CURLcode (*global_init)(long flags);
    CURL *(*easy_init)(void);
    void (*easy_cleanup)(CURL *handle);
    void (*easy_reset)(CURL *handle);
    CURLcode (*easy_perform)(CURL *handle);
    const char *(*easy_strerror)(CURLcode code);
    CURLcode (*easy_setopt)(CURL *handle, CURLoption option, ...);
    CURLcode (*easy_getinfo)(CURL *handle, CURLINFO info, ...);
    struct curl_slist *(*slist_append)(struct curl_slist *list, const char *text);
    void (*slist_free_all)(struct curl_slist *list);
    time_t (*getdate)(const char *text, const time_t *unused);
    char *(*version)(void);
} api;

static pthread_once_t load_once = PTHREAD_ONCE_INIT;
static char load_error[512];
static int load_result = -1;

static void *find(void *library, const char *name) {
    void *symbol = dlsym(library, name);
    if (symbol == NULL && load_error[0] == 0) {
        snprintf(load_error, sizeof load_error, "libcurl has no %s", name);
    }
    return symbol;
}

static void load(void) {
    void *library = NULL;
    for (size_t i = 0; i < sizeof library_names / sizeof library_names[0] && library == NULL; i++) {
        library = dlopen(library_names[i], RTLD_NOW | RTLD_LOCAL);
        if (library == NULL && load_error[0] == 0) {
            const char *text = dlerror();
            snprintf(load_error, sizeof load_error, "%s", text != NULL ? text : library_names[i]);
        }
    }
    if (library == NULL) return;
    load_error[0] = 0;
    *(void **)&api.global_init = find(library, "curl_global_init");
    *(void **)&api.easy_init = find(library, "curl_easy_init");
    *(void **)&api.easy_cleanup = find(library, "curl_easy_cleanup");
    *(void **)&api.easy_reset = find(library, "curl_easy_reset");
    *(void **)&api.easy_perform = find(library, "curl_easy_perform");
    *(void **)&api.easy_strerror = find(library, "curl_easy_strerror");
    *(void **)&api.easy_setopt = find(library, "curl_easy_setopt");
    *(void **)&api.easy_getinfo = find(library, "curl_easy_getinfo");
    *(void **)&api.slist_append = find(library, "curl_slist_append");
    *(void **)&api.slist_free_all = find(library, "curl_slist_free_all");
    *(void **)&api.getdate = find(library, "curl_getdate");
    *(void **)&api.version = find(library, "curl_version");
    if (load_error[0] != 0) return;
    CURLcode code = api.global_init(CURL_GLOBAL_DEFAULT);
    if (code != CURLE_OK) {
        snprintf(load_error, sizeof load_error, "curl_global_init failed: %s", api.easy_strerror(code));
        return;
    }
    load_result = 0;
}

int snap_curl_load(char *error, size_t error_size) {
    pthread_once(&load_once, load);
    if (load_result != 0 && error != NULL && error_size > 0) snprintf(error, error_size, "%s", load_error);
    return load_result;
}

CURL *snap_curl_easy_init(void) { return api.easy_init(); }
time_t snap_curl_getdate(const char *text) { return api.getdate(text, NULL); }
const char *snap_curl_version(void) { return api.version(); }
void snap_curl_easy_cleanup(CURL *handle) { api.easy_cleanup(handle); }
void snap_curl_easy_reset(CURL *handle) { api.easy_reset(handle); }
CURLcode snap_curl_easy_perform(CURL *handle) { return api.easy_perform(handle); }
const char *snap_curl_easy_strerror(CURLcode code) { return api.easy_strerror(code); }

struct curl_slist *snap_curl_slist_append(struct curl_slist *list, const char *text) {
    return api.slist_append(list, text);
}

void snap_curl_slist_free_all(struct curl_slist *list) { api.slist_free_all(list); }

CURLcode snap_curl_setopt_long(CURL *handle, CURLoption option, long value) {
    return api.easy_setopt(handle, option, value);
}

CURLcode snap_curl_setopt_offset(CURL *handle, CURLoption option, curl_off_t value) {
    return api.easy_setopt(handle, option, value);
}

CURLcode snap_curl_setopt_string(CURL *handle, CURLoption option, const char *value) {
    return api.easy_setopt(handle, option, value);
}

CURLcode snap_curl_setopt_pointer(CURL *handle, CURLoption option, void *value) {
    return api.easy_setopt(handle, option, value);
}

CURLcode snap_curl_setopt_slist(CURL *handle, CURLoption option, struct curl_slist *value) {
    return api.easy_setopt(handle, option, value);
}

CURLcode snap_curl_setopt_callback(CURL *handle, CURLoption option, snap_curl_data_callback value) {
    return api.easy_setopt(handle, option, value);
}

CURLcode snap_curl_setopt_seek_callback(CURL *handle, CURLoption option, snap_curl_seek_callback value) {
    return api.easy_setopt(handle, option, value);
}

CURLcode snap_curl_getinfo_long(CURL *handle, CURLINFO info, long *value) {
    return api.easy_getinfo(handle, info, value);
}

CURLcode snap_curl_getinfo_offset(CURL *handle, CURLINFO info, curl_off_t *value) {
    return api.easy_getinfo(handle, info, value);
}
