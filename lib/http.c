/*
 * http.c - libmicrohttpd in external-epoll mode, files from the web root,
 * and the JSON answer helpers.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <microhttpd.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "knute/error.h"
#include "knute/http.h"

#define S_ERR_MAX  512
#define S_FILE_MAX (4 << 20) /* the largest page or script served */

struct kp_http {
	struct MHD_Daemon *d;
	char root[1024];
	char index[64];
	kp_http_fn fn;
	void *arg;
	int port;
};

/* One request's upload, kept between the calls libmicrohttpd makes. */
struct s_upload {
	char *buf;
	size_t len, cap;
	bool too_big;
};

const char *kp_http_arg(const struct kp_http_req *req, const char *name)
{
	return MHD_lookup_connection_value(req->conn, MHD_GET_ARGUMENT_KIND,
					   name);
}

void kp_http_bytes(struct kp_http_res *res, int status, const char *type,
		   char *body, size_t len)
{
	free(res->body);
	res->status = status;
	res->type = type;
	res->body = body;
	res->len = len;
}

void kp_http_json(struct kp_http_res *res, int status, json_t *body)
{
	char *text = body ? json_dumps(body, JSON_COMPACT) : NULL;
	json_decref(body);
	if (!text) {
		kp_http_bytes(res, 500, "text/plain; charset=utf-8",
			      strdup("out of memory\n"), 14);
		return;
	}
	kp_http_bytes(res, status, "application/json", text, strlen(text));
}

void kp_http_error(struct kp_http_res *res, int status, const char *fmt, ...)
{
	char msg[S_ERR_MAX];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	kp_http_json(res, status, json_pack("{ss}", "error", msg));
}

json_t *kp_http_body_object(const struct kp_http_req *req,
			    struct kp_http_res *res)
{
	json_error_t jerr;
	json_t *o;

	if (!req->body_len) {
		kp_http_error(res, 400,
			      "the request has no body: send a JSON object");
		return NULL;
	}
	o = json_loadb(req->body, req->body_len, JSON_REJECT_DUPLICATES, &jerr);
	if (!o) {
		kp_http_error(res, 400,
			      "the body is not valid JSON: %s (at character "
			      "%d)",
			      jerr.text, jerr.position);
		return NULL;
	}
	if (!json_is_object(o)) {
		json_decref(o);
		kp_http_error(res, 400, "the body must be a JSON object");
		return NULL;
	}
	return o;
}

static const char *s_type_of(const char *path)
{
	static const char *const types[][2] = {
	    {".html", "text/html; charset=utf-8"},
	    {".css", "text/css; charset=utf-8"},
	    {".js", "text/javascript; charset=utf-8"},
	    {".svg", "image/svg+xml"},
	    {".png", "image/png"},
	    {".ico", "image/x-icon"},
	    {".json", "application/json"},
	};
	const char *dot = strrchr(path, '.');
	for (size_t i = 0; dot && i < sizeof types / sizeof types[0]; i++)
		if (!strcmp(dot, types[i][0]))
			return types[i][1];
	return "application/octet-stream";
}

/* A file under the web root. Only names made of letters, digits, '-',
 * '_' and one '.' in each part are served, so nothing outside the root
 * (no "..", no hidden file) can be named. */
static void s_file(struct kp_http *h, const char *path, struct kp_http_res *res)
{
	char full[1200];
	struct stat st;
	char *buf;
	int fd;

	if (!strcmp(path, "/"))
		path = h->index;
	else
		path++;
	for (const char *p = path; *p; p++) {
		bool ok =
		    (*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		    (*p >= '0' && *p <= '9') || *p == '-' || *p == '_' ||
		    (*p == '.' && p > path && p[-1] != '.' && p[-1] != '/') ||
		    (*p == '/' && p > path && p[-1] != '/');
		if (!ok)
			return; /* 404 */
	}
	snprintf(full, sizeof full, "%s/%s", h->root, path);
	if ((fd = open(full, O_RDONLY | O_CLOEXEC)) < 0)
		return;
	if (fstat(fd, &st) || !S_ISREG(st.st_mode) || st.st_size > S_FILE_MAX ||
	    !(buf = malloc((size_t)st.st_size + 1))) {
		close(fd);
		return;
	}
	size_t got = 0;
	while (got < (size_t)st.st_size) {
		ssize_t n = read(fd, buf + got, (size_t)st.st_size - got);
		if (n <= 0)
			break;
		got += (size_t)n;
	}
	close(fd);
	kp_http_bytes(res, 200, s_type_of(full), buf, got);
}

static enum MHD_Result s_send(struct MHD_Connection *c, struct kp_http_res *res,
			      bool api)
{
	struct MHD_Response *r;
	enum MHD_Result ret;

	if (!res->status)
		kp_http_error(res, 404,
			      "nothing here: the API is under /api/ (see "
			      "docs/web.md)");
	r = MHD_create_response_from_buffer(res->len, res->body,
					    MHD_RESPMEM_MUST_FREE);
	if (!r) {
		free(res->body);
		return MHD_NO;
	}
	res->body = NULL;
	MHD_add_response_header(r, "Content-Type", res->type);
	MHD_add_response_header(r, "X-Content-Type-Options", "nosniff");
	MHD_add_response_header(r, "Cache-Control",
				api ? "no-store" : "no-cache");
	if (res->disposition[0])
		MHD_add_response_header(r, "Content-Disposition",
					res->disposition);
	ret = MHD_queue_response(c, (unsigned)res->status, r);
	MHD_destroy_response(r);
	return ret;
}

static bool s_is_api(const char *url)
{
	return !strncmp(url, "/api/", 5) || !strcmp(url, "/api") ||
	       !strncmp(url, "/feeds/", 7) || !strcmp(url, "/metrics");
}

static enum MHD_Result s_access(void *cls, struct MHD_Connection *c,
				const char *url, const char *method,
				const char *version, const char *data,
				size_t *data_size, void **state)
{
	struct kp_http *h = cls;
	struct s_upload *up = *state;
	struct kp_http_res res = {0};
	bool api = s_is_api(url);
	(void)version;

	if (!up) {
		if (!(up = calloc(1, sizeof *up)))
			return MHD_NO;
		*state = up;
		return MHD_YES;
	}
	if (*data_size) {
		size_t n = *data_size;
		*data_size = 0;
		if (up->too_big || up->len + n > KP_HTTP_BODY_MAX) {
			up->too_big = true;
			return MHD_YES;
		}
		if (up->len + n + 1 > up->cap) {
			size_t cap = (up->len + n + 1) * 2;
			char *b = realloc(up->buf, cap);
			if (!b)
				return MHD_NO;
			up->buf = b;
			up->cap = cap;
		}
		memcpy(up->buf + up->len, data, n);
		up->len += n;
		up->buf[up->len] = 0;
		return MHD_YES;
	}

	if (up->too_big) {
		kp_http_error(&res, 413,
			      "the body is larger than %d bytes: send less",
			      KP_HTTP_BODY_MAX);
	} else if (api) {
		const char *ct = MHD_lookup_connection_value(c, MHD_HEADER_KIND,
							     "Content-Type");
		struct kp_http_req req = {.method = method,
					  .path = url,
					  .body = up->buf ? up->buf : "",
					  .body_len = up->len,
					  .conn = c};
		if (strcmp(method, "GET") && strcmp(method, "HEAD") &&
		    (!ct || strncmp(ct, "application/json", 16)))
			kp_http_error(&res, 415,
				      "send the body as JSON with "
				      "Content-Type: application/json");
		else
			h->fn(h->arg, &req, &res);
	} else if (!strcmp(method, "GET") || !strcmp(method, "HEAD")) {
		s_file(h, url, &res);
	} else {
		kp_http_error(&res, 405, "pages are only read (GET)");
	}
	if (!res.type)
		res.type = "application/json";
	return s_send(c, &res, api);
}

static void s_done(void *cls, struct MHD_Connection *c, void **state,
		   enum MHD_RequestTerminationCode why)
{
	struct s_upload *up = *state;
	(void)cls;
	(void)c;
	(void)why;
	if (up) {
		free(up->buf);
		free(up);
		*state = NULL;
	}
}

/* "ADDR:PORT" into sin; false when it is not one. */
static bool s_parse_addr(const char *addr, struct sockaddr_in *sin)
{
	const char *colon = strrchr(addr, ':');
	char host[64], *end;
	long port;

	if (!colon) {
		colon = addr - 1; /* a bare port: loopback */
		snprintf(host, sizeof host, "127.0.0.1");
	} else if (colon == addr || (size_t)(colon - addr) >= sizeof host) {
		return false;
	} else {
		memcpy(host, addr, (size_t)(colon - addr));
		host[colon - addr] = 0;
	}
	errno = 0;
	port = strtol(colon + 1, &end, 10);
	if (!colon[1] || *end || errno || port < 0 || port > 65535)
		return false;
	memset(sin, 0, sizeof *sin);
	sin->sin_family = AF_INET;
	sin->sin_port = htons((uint16_t)port);
	if (!strcmp(host, "localhost"))
		snprintf(host, sizeof host, "127.0.0.1");
	return inet_pton(AF_INET, host, &sin->sin_addr) == 1;
}

int kp_http_start(const char *addr, const char *webroot, const char *index,
		  kp_http_fn fn, void *arg, kp_http **out, char *err)
{
	struct sockaddr_in sin;
	const union MHD_DaemonInfo *info;
	struct kp_http *h;

	*out = NULL;
	if (!s_parse_addr(addr, &sin)) {
		snprintf(err, S_ERR_MAX,
			 "--http '%s' is not ADDRESS:PORT with an IPv4 "
			 "address, e.g. 127.0.0.1:8080",
			 addr);
		return KP_EINVAL;
	}
	if (!(h = calloc(1, sizeof *h))) {
		snprintf(err, S_ERR_MAX, "out of memory");
		return KP_ENOMEM;
	}
	snprintf(h->root, sizeof h->root, "%s", webroot);
	snprintf(h->index, sizeof h->index, "%s", index);
	h->fn = fn;
	h->arg = arg;
	h->d = MHD_start_daemon(
	    MHD_USE_EPOLL, 0, NULL, NULL, s_access, h, MHD_OPTION_SOCK_ADDR,
	    (struct sockaddr *)&sin, MHD_OPTION_NOTIFY_COMPLETED, s_done, NULL,
	    MHD_OPTION_CONNECTION_LIMIT, (unsigned)64,
	    MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)30, MHD_OPTION_END);
	if (!h->d) {
		snprintf(err, S_ERR_MAX,
			 "cannot serve HTTP on %s: %s (is the port in use? "
			 "choose another with --http ADDRESS:PORT)",
			 addr, errno ? strerror(errno) : "refused");
		free(h);
		return KP_EIO;
	}
	info = MHD_get_daemon_info(h->d, MHD_DAEMON_INFO_BIND_PORT);
	h->port = info ? info->port : ntohs(sin.sin_port);
	*out = h;
	return KP_OK;
}

#ifndef KP_WEBDIR
#define KP_WEBDIR "/usr/local/share/knutepunkt/web"
#endif

const char *kp_http_webroot(const char *given, char *buf, size_t len)
{
	char exe[1024];
	ssize_t n;
	struct stat st;

	if (given)
		return given;
	n = readlink("/proc/self/exe", exe, sizeof exe - 1);
	if (n > 0) {
		char *slash;
		exe[n] = 0;
		if ((slash = strrchr(exe, '/'))) {
			*slash = 0;
			snprintf(buf, len, "%s/../share/knutepunkt/web", exe);
			if (!stat(buf, &st) && S_ISDIR(st.st_mode))
				return buf;
		}
	}
	snprintf(buf, len, "%s", KP_WEBDIR);
	return buf;
}

const char *kp_http_host(const char *addr, char *buf, size_t len)
{
	const char *colon = strrchr(addr, ':');
	if (!colon || colon == addr)
		return "127.0.0.1";
	snprintf(buf, len, "%.*s", (int)(colon - addr), addr);
	return buf;
}

int kp_http_port(const kp_http *h)
{
	return h->port;
}

int kp_http_fd(const kp_http *h)
{
	const union MHD_DaemonInfo *info =
	    MHD_get_daemon_info(h->d, MHD_DAEMON_INFO_EPOLL_FD);
	return info ? info->epoll_fd : -1;
}

long kp_http_timeout(const kp_http *h, long max_ms)
{
	MHD_UNSIGNED_LONG_LONG t;
	if (MHD_get_timeout(h->d, &t) == MHD_YES && t < (unsigned long)max_ms)
		return (long)t;
	return max_ms;
}

void kp_http_run(kp_http *h)
{
	MHD_run(h->d);
}

void kp_http_stop(kp_http **hp)
{
	if (!hp || !*hp)
		return;
	MHD_stop_daemon((*hp)->d);
	free(*hp);
	*hp = NULL;
}
