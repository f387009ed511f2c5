/*
 * cweb.c - central's web API and /metrics.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cweb.h"
#include "knute/error.h"

static void s_metrics(struct cweb *w, struct kp_http_res *res)
{
	const struct csync_stats *st = w->stats;
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	if (!f) {
		kp_http_error(res, 500, "out of memory");
		return;
	}
	fprintf(f,
		"# HELP knute_messages_received_total ZeroMQ messages from "
		"hubs.\n# TYPE knute_messages_received_total counter\n"
		"knute_messages_received_total %" PRIu64 "\n"
		"# HELP knute_messages_sent_total ZeroMQ messages to hubs.\n"
		"# TYPE knute_messages_sent_total counter\n"
		"knute_messages_sent_total %" PRIu64 "\n"
		"# HELP knute_messages_refused_total Messages refused as "
		"malformed or of another protocol version.\n"
		"# TYPE knute_messages_refused_total counter\n"
		"knute_messages_refused_total %" PRIu64 "\n"
		"# HELP knute_dead_letters_total Entries kept as dead "
		"letters.\n# TYPE knute_dead_letters_total counter\n"
		"knute_dead_letters_total %" PRIu64 "\n"
		"# HELP knute_entries_applied_total Oplog entries "
		"committed.\n# TYPE knute_entries_applied_total counter\n"
		"knute_entries_applied_total %" PRIu64 "\n"
		"# HELP knute_commits_total Group-commit transactions.\n"
		"# TYPE knute_commits_total counter\n"
		"knute_commits_total %" PRIu64 "\n",
		st->msgs_in, st->msgs_out, st->refused, st->dead_letters,
		st->entries_applied, st->commits);
	fclose(f);
	kp_http_bytes(res, 200, "text/plain; version=0.0.4; charset=utf-8", buf,
		      len);
}

void cweb_handle(void *arg, const struct kp_http_req *req,
		 struct kp_http_res *res)
{
	struct cweb *w = arg;

	if (!strcmp(req->path, "/metrics") && !strcmp(req->method, "GET"))
		s_metrics(w, res);
}
