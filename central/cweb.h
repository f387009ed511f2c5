/*
 * cweb.h - central's web API, /metrics and the dashboard's data
 * (docs/web-central.md). Runs on the sync loop's thread (see
 * knute/http.h).
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

/*
 * The record fields of a central request as the district page sends it
 * (docs/web-central.md, "Requests"): body holds "date" (a local date
 * YYYY-MM-DD), "start" and "end" (local times HH:MM on that date, in the
 * zone in use) and the record's other fields ("room", "org", "title",
 * ...). *fields is a new object (the caller owns it) with "start" and
 * "end" as UTC seconds and every other field of body except "hub",
 * "kind" and "date" (an empty "room" is left out). KP_EINVAL with one
 * sentence in err (KP_ERR_MAX bytes) for a bad date or time.
 */
int cweb_request_fields(const json_t *body, json_t **fields, char *err);

#endif
