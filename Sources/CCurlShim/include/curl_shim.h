// Typed, non-variadic front ends for libcurl's variadic calls, which Swift cannot make.
#ifndef SNAP_CURL_SHIM_H
#define SNAP_CURL_SHIM_H
#include <curl/curl.h>

typedef size_t (*snap_curl_data_callback)(char *data, size_t size, size_t count, void *context);
typedef int (*snap_curl_seek_callback)(void *context, curl_off_t offset, int origin);

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
