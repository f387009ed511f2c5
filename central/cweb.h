/*
 * cweb.h - central's web API, /metrics and the dashboard's data
 * (docs/web.md). Runs on the sync loop's thread (see knute/http.h).
 */
#ifndef KNUTE_CWEB_H
#define KNUTE_CWEB_H

#include "csync.h"
#include "knute/http.h"
#include "knute/store.h"

struct cweb {
	kp_store *store;
	const struct csync_stats *stats;
	int offline_ms; /* silence after which a hub counts as offline */
};

/* The kp_http_fn of knute-central; arg is a struct cweb. */
void cweb_handle(void *arg, const struct kp_http_req *req,
		 struct kp_http_res *res);

#endif
