// libcurl, loaded when the first remote transfer needs it, behind typed, non-variadic
// front ends (Swift cannot call variadic C functions).
//
// snap links no libcurl: a command on a local repository never maps libcurl and the
// two dozen libraries it pulls in (TLS, SSH, Kerberos, LDAP), about 4 MiB resident.
// Everything here but snap_curl_load must be called only after it succeeded.
#ifndef SNAP_CURL_SHIM_H
#define SNAP_CURL_SHIM_H
#include <curl/curl.h>
#include <stddef.h>

typedef size_t (*snap_curl_data_callback)(char *data, size_t size, size_t count, void *context);
typedef int (*snap_curl_seek_callback)(void *context, curl_off_t offset, int origin);

/// Loads libcurl and runs curl_global_init, once. Returns 0 on success; otherwise
/// writes a one-line reason into `error` and returns -1 (and again on every later call).
int snap_curl_load(char *error, size_t error_size);

CURL *snap_curl_easy_init(void);
/// curl_getdate: seconds since 1970 of an HTTP date, or -1.
time_t snap_curl_getdate(const char *text);
/// curl_version: libcurl's version and its libraries'.
const char *snap_curl_version(void);
void snap_curl_easy_cleanup(CURL *handle);
void snap_curl_easy_reset(CURL *handle);
CURLcode snap_curl_easy_perform(CURL *handle);
const char *snap_curl_easy_strerror(CURLcode code);
struct curl_slist *snap_curl_slist_append(struct curl_slist *list, const char *text);
void snap_curl_slist_free_all(struct curl_slist *list);

CURLcode snap_curl_setopt_long(CURL *handle, CURLoption option, long value);
CURLcode snap_curl_setopt_offset(CURL *handle, CURLoption option, curl_off_t value);
CURLcode snap_curl_setopt_string(CURL *handle, CURLoption option, const char *value);
CURLcode snap_curl_setopt_pointer(CURL *handle, CURLoption option, void *value);
CURLcode snap_curl_setopt_slist(CURL *handle, CURLoption option, struct curl_slist *value);
CURLcode snap_curl_setopt_callback(CURL *handle, CURLoption option, snap_curl_data_callback value);
CURLcode snap_curl_setopt_seek_callback(CURL *handle, CURLoption option, snap_curl_seek_callback value);
CURLcode snap_curl_getinfo_long(CURL *handle, CURLINFO info, long *value);
CURLcode snap_curl_getinfo_offset(CURL *handle, CURLINFO info, curl_off_t *value);
#endif
