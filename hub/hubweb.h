/*
 * hubweb.h - the hub's web API, calendar feeds, /metrics and the data of
 * the hub's page (docs/web-hub.md). Runs on the sync loop's thread (see
 * knute/http.h), with the daemon's store.
 */
#ifndef KNUTE_HUBWEB_H
#define KNUTE_HUBWEB_H

#include "hubsync.h"
#include "knute/http.h"

struct hubweb {
	kp_hubsync *hs;
};

/* The kp_http_fn of knute-hub; arg is a struct hubweb. */
void hubweb_handle(void *arg, const struct kp_http_req *req,
		   struct kp_http_res *res);

#endif
