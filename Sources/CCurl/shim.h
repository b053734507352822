#ifndef TOLLGATE_CCURL_SHIM_H
#define TOLLGATE_CCURL_SHIM_H

// libcurl's option setters are variadic C functions, which Swift cannot call. Each use is wrapped
// in a typed inline function here, the way GRDB's GRDBSQLite/shim.h wraps sqlite3_config.
#define CURL_DISABLE_TYPECHECK 1
#include <curl/curl.h>
#include <pthread.h>

static inline CURLcode tg_easy_setopt_long(CURL *h, CURLoption o, long v) { return curl_easy_setopt(h, o, v); }
static inline CURLcode tg_easy_setopt_int64(CURL *h, CURLoption o, curl_off_t v) { return curl_easy_setopt(h, o, v); }
static inline CURLcode tg_easy_setopt_string(CURL *h, CURLoption o, const char *v) { return curl_easy_setopt(h, o, v); }
static inline CURLcode tg_easy_setopt_pointer(CURL *h, CURLoption o, void *v) { return curl_easy_setopt(h, o, v); }
static inline CURLcode tg_easy_setopt_slist(CURL *h, CURLoption o, struct curl_slist *v) { return curl_easy_setopt(h, o, v); }

typedef size_t (*tg_data_callback)(char *data, size_t size, size_t count, void *userdata);
static inline CURLcode tg_easy_setopt_datacb(CURL *h, CURLoption o, tg_data_callback v) { return curl_easy_setopt(h, o, v); }

static inline CURLcode tg_easy_getinfo_long(CURL *h, CURLINFO i, long *v) { return curl_easy_getinfo(h, i, v); }
static inline CURLcode tg_easy_getinfo_pointer(CURL *h, CURLINFO i, void **v) { return curl_easy_getinfo(h, i, v); }

static inline CURLMcode tg_multi_setopt_long(CURLM *m, CURLMoption o, long v) { return curl_multi_setopt(m, o, v); }

// The return value libcurl's write callback uses to pause a transfer; a macro, so not imported.
static inline size_t tg_writefunc_pause(void) { return CURL_WRITEFUNC_PAUSE; }

// glibc hides pthread_setname_np from Swift's view of its headers.
extern int pthread_setname_np(pthread_t thread, const char *name);

#endif
