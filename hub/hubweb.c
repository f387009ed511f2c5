/*
 * hubweb.c - the hub's web API and /metrics.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hubweb.h"
#include "knute/error.h"

static void s_metrics(struct hubweb *w, struct kp_http_res *res)
{
	struct kp_hub_stats st;
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	if (!f) {
		kp_http_error(res, 500, "out of memory");
		return;
	}
	kp_hubsync_stats(w->hs, &st);
	fprintf(f,
		"# HELP knute_central_connected 1 while a session with "
		"central is up.\n# TYPE knute_central_connected gauge\n"
		"knute_central_connected %d\n"
		"# HELP knute_oplog_head_seq The hub's last oplog seq.\n"
		"# TYPE knute_oplog_head_seq gauge\n"
		"knute_oplog_head_seq %" PRIu64 "\n"
		"# HELP knute_acked_seq The last seq central acknowledged.\n"
		"# TYPE knute_acked_seq gauge\nknute_acked_seq %" PRIu64 "\n"
		"# HELP knute_pending_changes Changes central has not "
		"acknowledged yet.\n# TYPE knute_pending_changes gauge\n"
		"knute_pending_changes %" PRIu64 "\n"
		"# HELP knute_messages_received_total Messages from "
		"central.\n# TYPE knute_messages_received_total counter\n"
		"knute_messages_received_total %" PRIu64 "\n"
		"# HELP knute_messages_sent_total Messages to central.\n"
		"# TYPE knute_messages_sent_total counter\n"
		"knute_messages_sent_total %" PRIu64 "\n"
		"# HELP knute_errors_total Refusals from central and "
		"messages that could not be read.\n"
		"# TYPE knute_errors_total counter\n"
		"knute_errors_total %" PRIu64 "\n"
		"# HELP knute_sessions_total Sessions with central "
		"started.\n# TYPE knute_sessions_total counter\n"
		"knute_sessions_total %" PRIu64 "\n",
		st.connected ? 1 : 0, st.head, st.acked,
		st.head > st.acked ? st.head - st.acked : 0, st.msgs_in,
		st.msgs_out, st.errors, st.reconnects);
	fclose(f);
	kp_http_bytes(res, 200, "text/plain; version=0.0.4; charset=utf-8", buf,
		      len);
}

void hubweb_handle(void *arg, const struct kp_http_req *req,
		   struct kp_http_res *res)
{
	struct hubweb *w = arg;

	if (!strcmp(req->path, "/metrics") && !strcmp(req->method, "GET"))
		s_metrics(w, res);
}
