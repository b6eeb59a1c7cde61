/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <arpa/inet.h>
#include <curl/curl.h>
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "build-config.h"
#include "fileio.h"
#include "image-download.h"
#include "image-index.h"
#include "log.h"

#define RESOLVE_MAX_ADDRESSES 8U

const char *image_user_agent(void) {
        return "warren/" PACKAGE_VERSION " compat:" STRINGIFY(IMAGE_COMPAT_LEVEL);
}

static void curl_freep(char **p) {
        curl_free(*p);
}
#define _cleanup_curl_free_ _cleanup_(curl_freep)
DEFINE_TRIVIAL_CLEANUP_FUNC(CURLU *, curl_url_cleanup);
DEFINE_TRIVIAL_CLEANUP_FUNC(CURL *, curl_easy_cleanup);
DEFINE_TRIVIAL_CLEANUP_FUNC(struct curl_slist *, curl_slist_free_all);

typedef struct ParsedUrl {
        char *scheme, *host;
        long port;
} ParsedUrl;

static void parsed_url_done(ParsedUrl *p) {
        curl_free(p->scheme);
        curl_free(p->host);
}

static int url_parse(const char *url, ParsedUrl *ret, WarrenError *reterr) {
        _cleanup_(curl_url_cleanupp) CURLU *u = curl_url();
        _cleanup_curl_free_ char *port = NULL;
        ParsedUrl p = {};

        if (!u)
                return -ENOMEM;
        if (curl_url_set(u, CURLUPART_URL, url, 0) != CURLUE_OK)
                return warren_error_set(reterr, EINVAL, "Invalid image server URL '%s'", url);
        if (curl_url_get(u, CURLUPART_SCHEME, &p.scheme, 0) != CURLUE_OK ||
            curl_url_get(u, CURLUPART_HOST, &p.host, 0) != CURLUE_OK ||
            curl_url_get(u, CURLUPART_PORT, &port, CURLU_DEFAULT_PORT) != CURLUE_OK) {
                parsed_url_done(&p);
                return warren_error_set(reterr, EINVAL, "Invalid image server URL '%s': no host", url);
        }
        p.port = strtol(port, NULL, 10);
        *ret = p;
        return 0;
}

int image_url_check(const char *url, WarrenError *reterr) {
        _cleanup_(parsed_url_done) ParsedUrl p = {};
        int r;

        if (isempty(url) || strlen(url) > 4096)
                return warren_error_set(reterr, EINVAL, "Invalid image server URL '%.64s'", strempty(url));
        r = url_parse(url, &p, reterr);
        if (r < 0)
                return r;
        if (strcasecmp(p.scheme, "https") == 0)
                return 0;
        if (strcasecmp(p.scheme, "http") != 0)
                return warren_error_set(reterr, EINVAL,
                                        "Invalid image server URL '%s': scheme must be https", url);
        if (!image_host_is_loopback(p.host))
                return warren_error_set(reterr, EPERM,
                                        "Refusing plain http:// image server URL '%s': only https is "
                                        "allowed, except to a loopback host (127.0.0.0/8, ::1, localhost)",
                                        url);
        return 0;
}

char *image_url_join(const char *base, const char *path) {
        char *u = NULL;
        size_t n = strlen(base);
        while (n > 0 && base[n - 1] == '/')
                n--;
        path += strspn(path, "/");
        if (asprintf(&u, "%.*s/%s", (int) n, base, path) < 0)
                return NULL;
        return u;
}

/* Resolves url's host ourselves (see the header: no resolver thread) into a
 * CURLOPT_RESOLVE list. For http, every address must be loopback. */
static int pre_resolve(const char *url, struct curl_slist **ret, WarrenError *reterr) {
        _cleanup_(parsed_url_done) ParsedUrl p = {};
        _cleanup_free_ char *entry = NULL;
        struct addrinfo hints = { .ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM }, *res = NULL;
        struct in6_addr a6;
        struct in_addr a4;
        char host[256];
        bool http;
        int r;

        r = url_parse(url, &p, reterr);
        if (r < 0)
                return r;
        http = strcasecmp(p.scheme, "http") == 0;

        /* Literal addresses need no resolving. */
        snprintf(host, sizeof host, "%s", p.host);
        if (host[0] == '[' || inet_pton(AF_INET, host, &a4) == 1 || inet_pton(AF_INET6, host, &a6) == 1) {
                *ret = NULL;
                return 0;
        }

        r = getaddrinfo(p.host, NULL, &hints, &res);
        if (r != 0)
                return warren_error_set(reterr, ECOMM,
                                        "Download of '%s' failed: cannot resolve host '%s': %s", url, p.host,
                                        r == EAI_SYSTEM ? strerror(errno) : gai_strerror(r));

        size_t len = 0, n = 0;
        FILE *f = open_memstream(&entry, &len);
        if (!f) {
                freeaddrinfo(res);
                return -ENOMEM;
        }
        fprintf(f, "%s:%ld:", p.host, p.port);
        for (struct addrinfo *ai = res; ai && n < RESOLVE_MAX_ADDRESSES; ai = ai->ai_next) {
                char a[INET6_ADDRSTRLEN];
                const void *addr =
                        ai->ai_family == AF_INET
                                ? (const void *) &((struct sockaddr_in *) ai->ai_addr)->sin_addr
                                : (const void *) &((struct sockaddr_in6 *) ai->ai_addr)->sin6_addr;
                if ((ai->ai_family != AF_INET && ai->ai_family != AF_INET6) ||
                    !inet_ntop(ai->ai_family, addr, a, sizeof a))
                        continue;
                if (http && !image_host_is_loopback(a)) {
                        fclose(f);
                        freeaddrinfo(res);
                        return warren_error_set(reterr, EPERM,
                                                "Refusing plain http:// download of '%s': host '%s' "
                                                "resolves to non-loopback address %s",
                                                url, p.host, a);
                }
                fprintf(f, ai->ai_family == AF_INET6 ? "%s[%s]" : "%s%s", n > 0 ? "," : "", a);
                n++;
        }
        freeaddrinfo(res);
        if (fclose(f) != 0)
                return -ENOMEM;
        if (n == 0)
                return warren_error_set(reterr, ECOMM, "Download of '%s' failed: host '%s' has no address",
                                        url, p.host);
        *ret = curl_slist_append(NULL, entry);
        return *ret ? 0 : -ENOMEM;
}

typedef struct Transfer {
        CURL *curl;
        const ImageDownloadOptions *opts;
        int fd; /* sink: fd, or the buffer below if < 0 */
        char *data;
        size_t alloc;
        uint64_t size;
        Sha256 sha;
        bool too_large, canceled;
        int write_error;
} Transfer;

static size_t write_cb(char *ptr, size_t size, size_t nmemb, void *userdata) {
        Transfer *t = userdata;
        size_t n = size * nmemb;
        long code = 0;

        /* Bodies of redirects are not the file. */
        (void) curl_easy_getinfo(t->curl, CURLINFO_RESPONSE_CODE, &code);
        if (code < 200 || code >= 300)
                return n;
        if (n > t->opts->max_size || t->size > t->opts->max_size - n) {
                t->too_large = true;
                return 0;
        }
        if (t->fd >= 0) {
                int r = write_all(t->fd, ptr, n);
                if (r < 0) {
                        t->write_error = r;
                        return 0;
                }
        } else {
                if (t->size + n + 1 > t->alloc) {
                        size_t na = MAX(t->alloc * 2, (size_t) t->size + n + 1);
                        char *d = realloc(t->data, na);
                        if (!d) {
                                t->write_error = -ENOMEM;
                                return 0;
                        }
                        t->data = d;
                        t->alloc = na;
                }
                memcpy(t->data + t->size, ptr, n);
                t->data[t->size + n] = 0;
        }
        sha256_update(&t->sha, ptr, n);
        t->size += n;
        return n;
}

static int xferinfo_cb(void *userdata, curl_off_t dltotal, curl_off_t dlnow, curl_off_t ultotal,
                       curl_off_t ulnow) {
        Transfer *t = userdata;
        if (!t->opts->progress)
                return 0;
        if (t->opts->progress((uint64_t) MAX(dlnow, 0), (uint64_t) MAX(dltotal, 0), t->opts->userdata) < 0) {
                t->canceled = true;
                return 1;
        }
        return 0;
}

static int transfer_reset(Transfer *t) {
        t->size = 0;
        t->too_large = t->canceled = false;
        t->write_error = 0;
        if (sha256_init(&t->sha) < 0)
                return -ENOMEM;
        if (t->fd >= 0) {
                if (ftruncate(t->fd, 0) < 0 || lseek(t->fd, 0, SEEK_SET) < 0)
                        return -errno;
        } else if (t->data)
                t->data[0] = 0;
        return 0;
}

typedef enum Outcome {
        OUTCOME_DONE,
        OUTCOME_REDIRECT,
        OUTCOME_RETRY, /* failed, worth another attempt */
        OUTCOME_FAIL,
} Outcome;

/* One request to url. On OUTCOME_REDIRECT, *ret_location is the target. */
static Outcome transfer_once(Transfer *t, const char *url, long *ret_status, char **ret_location,
                             int *ret_error, WarrenError *reterr) {
        const ImageDownloadOptions *o = t->opts;
        _cleanup_(curl_slist_free_allp) struct curl_slist *resolve = NULL;
        _cleanup_(curl_easy_cleanupp) CURL *c = NULL;
        char errbuf[CURL_ERROR_SIZE] = "";
        bool http = strncasecmp(url, "http:", 5) == 0;
        long status = 0;
        CURLcode cr;
        int r;

        *ret_status = 0;
        r = pre_resolve(url, &resolve, reterr);
        if (r < 0) {
                *ret_error = r;
                return r == -ECOMM ? OUTCOME_RETRY : OUTCOME_FAIL;
        }
        c = curl_easy_init();
        if (!c) {
                *ret_error = -ENOMEM;
                return OUTCOME_FAIL;
        }
        t->curl = c;
        r = transfer_reset(t);
        if (r < 0) {
                *ret_error = warren_error_set(reterr, r, "Failed to reset download file for '%s': %s", url,
                                              strerror(-r));
                return OUTCOME_FAIL;
        }

        if (curl_easy_setopt(c, CURLOPT_URL, url) != CURLE_OK ||
            curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, http ? "http" : "https") != CURLE_OK ||
            curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L) != CURLE_OK ||
            curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L) != CURLE_OK ||
            curl_easy_setopt(c, CURLOPT_FAILONERROR, 1L) != CURLE_OK ||
            curl_easy_setopt(c, CURLOPT_PROXY, "") != CURLE_OK ||
            curl_easy_setopt(c, CURLOPT_USERAGENT, image_user_agent()) != CURLE_OK ||
            curl_easy_setopt(c, CURLOPT_ERRORBUFFER, errbuf) != CURLE_OK ||
            curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, (long) (o->connect_timeout_s ?: 30)) != CURLE_OK ||
            curl_easy_setopt(c, CURLOPT_LOW_SPEED_LIMIT, (long) (o->low_speed_limit ?: 1)) != CURLE_OK ||
            curl_easy_setopt(c, CURLOPT_LOW_SPEED_TIME, (long) (o->low_speed_time_s ?: 30)) != CURLE_OK ||
            curl_easy_setopt(c, CURLOPT_MAXFILESIZE_LARGE,
                             (curl_off_t) MIN(o->max_size, (uint64_t) INT64_MAX)) != CURLE_OK ||
            curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, write_cb) != CURLE_OK ||
            curl_easy_setopt(c, CURLOPT_WRITEDATA, t) != CURLE_OK ||
            curl_easy_setopt(c, CURLOPT_XFERINFOFUNCTION, xferinfo_cb) != CURLE_OK ||
            curl_easy_setopt(c, CURLOPT_XFERINFODATA, t) != CURLE_OK ||
            curl_easy_setopt(c, CURLOPT_NOPROGRESS, 0L) != CURLE_OK ||
            (resolve && curl_easy_setopt(c, CURLOPT_RESOLVE, resolve) != CURLE_OK)) {
                *ret_error = warren_error_set(
                        reterr, ENOTSUP, "Failed to set up download of '%s': libcurl option refused", url);
                return OUTCOME_FAIL;
        }

        cr = curl_easy_perform(c);
        (void) curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
        *ret_status = status;

        if (t->canceled) {
                *ret_error = warren_error_set(reterr, ECANCELED, "Download of '%s' canceled", url);
                return OUTCOME_FAIL;
        }
        if (t->write_error < 0) {
                *ret_error = warren_error_set(reterr, t->write_error, "Failed to store download of '%s': %s",
                                              url, strerror(-t->write_error));
                return OUTCOME_FAIL;
        }
        if (t->too_large || cr == CURLE_FILESIZE_EXCEEDED) {
                *ret_error = warren_error_set(reterr, ECOMM,
                                              "Download of '%s' failed: too large (limit %llu bytes)", url,
                                              (unsigned long long) o->max_size);
                return OUTCOME_FAIL;
        }
        if (cr == CURLE_HTTP_RETURNED_ERROR) {
                *ret_error = warren_error_set(reterr, ECOMM, "Download of '%s' failed: HTTP status %ld", url,
                                              status);
                return status >= 500 ? OUTCOME_RETRY : OUTCOME_FAIL;
        }
        if (cr == CURLE_OPERATION_TIMEDOUT) {
                *ret_error = warren_error_set(reterr, ECOMM, "Download of '%s' failed: timeout (%s)", url,
                                              errbuf[0] ? errbuf : curl_easy_strerror(cr));
                return OUTCOME_RETRY;
        }
        if (cr != CURLE_OK) {
                *ret_error = warren_error_set(reterr, ECOMM, "Download of '%s' failed: %s", url,
                                              errbuf[0] ? errbuf : curl_easy_strerror(cr));
                return OUTCOME_RETRY;
        }
        if (status >= 300 && status < 400) {
                char *loc = NULL;
                if (curl_easy_getinfo(c, CURLINFO_REDIRECT_URL, &loc) != CURLE_OK || isempty(loc)) {
                        *ret_error = warren_error_set(
                                reterr, ECOMM, "Download of '%s' failed: HTTP status %ld without a location",
                                url, status);
                        return OUTCOME_FAIL;
                }
                *ret_location = strdup(loc);
                if (!*ret_location) {
                        *ret_error = -ENOMEM;
                        return OUTCOME_FAIL;
                }
                return OUTCOME_REDIRECT;
        }
        if (status < 200 || status >= 300) {
                *ret_error = warren_error_set(
                        reterr, ECOMM, "Download of '%s' failed: unexpected HTTP status %ld", url, status);
                return OUTCOME_FAIL;
        }
        return OUTCOME_DONE;
}

static int check_redirect(const char *from, const char *to, WarrenError *reterr) {
        int r = image_url_check(to, reterr);
        if (r < 0)
                return r;
        if (strncasecmp(from, "https:", 6) == 0 && strncasecmp(to, "https:", 6) != 0)
                return warren_error_set(reterr, EPERM,
                                        "Refusing redirect from '%s' to '%s': https must stay https", from,
                                        to);
        return 0;
}

static void sleep_ms(unsigned ms) {
        struct timespec ts = { .tv_sec = ms / 1000, .tv_nsec = (long) (ms % 1000) * 1000000L };
        while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
                ;
}

static int download(const char *url, Transfer *t, ImageDownloadResult *ret, WarrenError *reterr) {
        static bool curl_initialized = false;
        const ImageDownloadOptions *o = t->opts;
        unsigned attempts = o->attempts ?: 3, attempt = 0;
        int r;

        if (o->max_size == 0)
                return warren_error_set(reterr, EINVAL, "No size limit given for the download of '%s'", url);
        r = image_url_check(url, reterr);
        if (r < 0)
                return r;
        if (!curl_initialized) {
                if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
                        return warren_error_set(reterr, ENOMEM, "Failed to initialize libcurl");
                curl_initialized = true;
        }

        for (;;) {
                _cleanup_free_ char *current = strdup(url);
                WarrenError e = WARREN_ERROR_NULL;
                Outcome out = OUTCOME_FAIL;
                long status = 0;
                int err = 0;

                if (!current)
                        return -ENOMEM;
                attempt++;
                for (unsigned redirects = 0;; redirects++) {
                        char *loc = NULL;
                        out = transfer_once(t, current, &status, &loc, &err, &e);
                        t->curl = NULL;
                        if (out != OUTCOME_REDIRECT)
                                break;
                        _cleanup_free_ char *target = loc;
                        if (redirects >= IMAGE_DOWNLOAD_MAX_REDIRECTS) {
                                err = warren_error_set(&e, ECOMM,
                                                       "Download of '%s' failed: more than %u redirects",
                                                       url, IMAGE_DOWNLOAD_MAX_REDIRECTS);
                                out = OUTCOME_FAIL;
                                break;
                        }
                        err = check_redirect(current, target, &e);
                        if (err < 0) {
                                out = OUTCOME_FAIL;
                                break;
                        }
                        log_debug("Following redirect from '%s' to '%s'", current, target);
                        free(current);
                        current = TAKE_PTR(target);
                }
                if (ret) {
                        ret->http_status = status;
                        ret->attempts = attempt;
                }
                if (out == OUTCOME_DONE) {
                        warren_error_clear(&e);
                        break;
                }
                if (out == OUTCOME_FAIL || attempt >= attempts) {
                        if (reterr && reterr->error == 0)
                                *reterr = e;
                        else
                                warren_error_clear(&e);
                        return err < 0 ? err : -ECOMM;
                }
                log_debug("Attempt %u of %u failed, retrying: %s", attempt, attempts,
                          warren_error_message(&e));
                warren_error_clear(&e);
                if (o->retry_delay_ms > 0)
                        sleep_ms(o->retry_delay_ms);
        }

        if (ret) {
                ret->size = t->size;
                r = sha256_final(&t->sha, ret->sha256);
                if (r < 0)
                        return warren_error_set(reterr, r, "Failed to hash the download of '%s'", url);
        }
        return 0;
}

int image_download_fd(const char *url, int fd, const ImageDownloadOptions *o, ImageDownloadResult *ret,
                      WarrenError *reterr) {
        Transfer t = { .opts = o, .fd = fd };
        if (fd < 0)
                return warren_error_set(reterr, EBADF, "No file to download '%s' into", url);
        int r = download(url, &t, ret, reterr);
        sha256_done(&t.sha);
        return r;
}

int image_download_buffer(const char *url, const ImageDownloadOptions *o, char **ret_data, size_t *ret_size,
                          ImageDownloadResult *ret, WarrenError *reterr) {
        Transfer t = { .opts = o, .fd = -EBADF };
        int r = download(url, &t, ret, reterr);
        sha256_done(&t.sha);
        if (r < 0) {
                free(t.data);
                return r;
        }
        if (!t.data) {
                t.data = strdup("");
                if (!t.data)
                        return -ENOMEM;
        }
        *ret_data = t.data;
        if (ret_size)
                *ret_size = (size_t) t.size;
        return 0;
}
