/*
 * http.h - the small web server inside knute-hub and knute-central: the
 * JSON API, /metrics, the calendar feeds and the pages in web/.
 *
 * It runs on the daemon's own thread: libmicrohttpd keeps its sockets in
 * one epoll descriptor (kp_http_fd()) that the daemon's zmq_poll() loop
 * watches beside its ZeroMQ socket, and kp_http_run() serves whatever is
 * ready. So a request handler may use the daemon's store and state as the
 * sync code does, with no lock, and a slow page never races a sync
 * transaction.
 *
 * Requests under /api/, /feeds/ and /metrics go to the daemon's handler;
 * anything else is a GET of a file under the web root. A POST must carry
 * Content-Type: application/json (a page of another site cannot send that
 * without the browser asking first), and its body is at most
 * KP_HTTP_BODY_MAX bytes.
 */
#ifndef KNUTE_HTTP_H
#define KNUTE_HTTP_H

#include <jansson.h>
#include <stddef.h>

#define KP_HTTP_BODY_MAX (1 << 20)

typedef struct kp_http kp_http;

struct kp_http_req {
	const char *method; /* "GET", "POST", ... */
	const char *path;   /* without the query, e.g. "/api/bookings" */
	const char *body;   /* NUL-terminated; "" when there is none */
	size_t body_len;
	void *conn; /* libmicrohttpd's connection, for kp_http_arg() */
};

struct kp_http_res {
	int status;	  /* 0: not handled (404) */
	const char *type; /* Content-Type */
	char *body;	  /* malloc()ed; kp_http takes it */
	size_t len;
	char disposition[160]; /* Content-Disposition, when set */
};

/* A handler fills res; it leaves res->status 0 for a path it does not
 * know. */
typedef void (*kp_http_fn)(void *arg, const struct kp_http_req *req,
			   struct kp_http_res *res);

/*
 * Listen on addr ("127.0.0.1:8080", "0.0.0.0:8080", or a bare port "8080"
 * for 127.0.0.1; port 0 picks a free one) and serve files from webroot, with
 * "/" meaning index (e.g. "hub.html"). On failure *out is NULL and err
 * (KP_ERR_MAX bytes) says why in one sentence; KP_EINVAL for an address that is
 * not ADDR:PORT.
 */
int kp_http_start(const char *addr, const char *webroot, const char *index,
		  kp_http_fn fn, void *arg, kp_http **out, char *err);
/* The web root to use: given when not NULL, else the pages installed
 * beside the program (BINDIR/../share/knutepunkt/web), else the source
 * tree's web/ (KP_WEBDIR, set by the Makefile). */
const char *kp_http_webroot(const char *given, char *buf, size_t len);

/* The host part of an --http address, for a URL in a log line. */
const char *kp_http_host(const char *addr, char *buf, size_t len);

/* The port it listens on (useful after port 0). */
int kp_http_port(const kp_http *h);
/* The descriptor to poll for reading. */
int kp_http_fd(const kp_http *h);
/* Milliseconds until kp_http_run() must run anyway, at most max_ms. */
long kp_http_timeout(const kp_http *h, long max_ms);
/* Serve what is ready; never blocks. */
void kp_http_run(kp_http *h);
/* Close every connection; accepts NULL and sets *h to NULL. */
void kp_http_stop(kp_http **h);

/* The query argument name ("?week=2026-11-23"), or NULL. */
const char *kp_http_arg(const struct kp_http_req *req, const char *name);

/* Answer with JSON (takes the reference to body). */
void kp_http_json(struct kp_http_res *res, int status, json_t *body);
/* Answer {"error": MESSAGE} with status (400, 404, 409, ...). */
void kp_http_error(struct kp_http_res *res, int status, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Answer with bytes of a type (takes body, a malloc()ed buffer). */
void kp_http_bytes(struct kp_http_res *res, int status, const char *type,
		   char *body, size_t len);
/* The request's body as a JSON object; NULL with a 400 answer set in res
 * when it is not one. */
json_t *kp_http_body_object(const struct kp_http_req *req,
			    struct kp_http_res *res);

#endif
