/*
 * cmd_requests.c - knute requests, and central requests made by 'booking
 * add --hub' and 'activity add --hub' at central's store (see
 * cmd_requests.h and central/creq.h).
 *
 * The command line only stores the request; knute-central, when it runs,
 * notices it within a tenth of a second, delivers it to the hub and
 * records the answer. --wait watches the stored request for that answer.
 */
#include "cmd_requests.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

#include "creq.h"
#include "knute/error.h"
#include "knute/ktime.h"
#include "model.h"

#define S_WAIT_MAX 86400 /* the longest --wait, in seconds */
#define S_POLL_MS  100	 /* how often --wait looks */

int cli_request_hub(struct cli *cli, const char **hub)
{
	const char *h = cli_opt(cli, "hub");

	*hub = NULL;
	if (!kp_store_is_central(cli->store)) {
		if (h)
			return cli_fail(cli, KP_EINVAL,
					"--hub is for requests made at "
					"central's store, and this is hub %s's "
					"store: leave --hub out to add it "
					"here",
					kp_store_hub(cli->store));
		if (cli_opt(cli, "wait"))
			return cli_fail(cli, KP_EINVAL,
					"--wait is for requests made at "
					"central's store with --hub; here the "
					"record is added at once");
		return KP_OK;
	}
	if (!h || !h[0])
		return cli_fail(cli, KP_EINVAL,
				"this is central's store: say which district "
				"should add it with --hub ID ('knute hubs' "
				"lists them)");
	if (cli_flag(cli, "skip-clashes"))
		return cli_fail(cli, KP_EINVAL,
				"--skip-clashes is not available for a "
				"request to a hub: leave it out (a request "
				"that clashes is refused, naming the clash)");
	*hub = h;
	return KP_OK;
}

const char *cli_request_local_hub(struct cli *cli)
{
	const char *h = cli_opt(cli, "hub");
	if (kp_store_is_central(cli->store) && h && h[0])
		return h;
	return kp_store_hub(cli->store);
}

static void s_sleep_ms(int ms)
{
	struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
	nanosleep(&ts, NULL);
}

static int64_t s_mono_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Wait up to secs seconds for the hub's answer; *req is replaced by the
 * latest reading. */
static int s_wait(struct cli *cli, json_t **req, int64_t secs)
{
	uint64_t n = (uint64_t)kp_rec_int(*req, "number", 0);
	int64_t end = s_mono_ms() + secs * 1000;
	int rc;

	for (;;) {
		json_t *now;
		if (strcmp(kp_rec_str(*req, "state", ""), "pending"))
			return KP_OK;
		if (s_mono_ms() >= end)
			return KP_OK;
		s_sleep_ms(S_POLL_MS);
		if ((rc = creq_get(cli->store, n, &now)))
			return rc;
		json_decref(*req);
		*req = now;
	}
}

int cli_request_submit(struct cli *cli, const char *hub, char kind,
		       json_t *fields)
{
	char err[KP_ERR_MAX];
	const char *id, *state;
	int64_t secs = 0;
	bool wait;
	json_t *req = NULL;
	int rc;

	rc = cli_int(cli, "wait", 0, S_WAIT_MAX, &secs);
	if (rc && rc != KP_ENOTFOUND) {
		json_decref(fields);
		return rc;
	}
	wait = rc == KP_OK;
	rc = creq_add(cli->store, hub, kind, fields, &req, err);
	if (rc == KP_EINVAL)
		return cli_fail(cli, rc, "%s", err);
	if (rc)
		return rc;
	if (wait && (rc = s_wait(cli, &req, secs))) {
		json_decref(req);
		return rc;
	}
	id = kp_rec_str(req, "id", "");
	state = kp_rec_str(req, "state", "");
	if (cli->json) {
		cli_print_json(json_incref(req));
	} else if (!strcmp(state, "accepted")) {
		printf("%s accepted %s\n", id, kp_rec_str(req, "result", ""));
	} else {
		printf("%s %s\n", id, state);
	}
	rc = KP_OK;
	if (!strcmp(state, "refused")) {
		rc =
		    cli_fail(cli, KP_ECLASH, "request %s refused by hub %s: %s",
			     id, hub, kp_rec_str(req, "reason", ""));
	} else if (wait && !strcmp(state, "pending")) {
		rc = cli_fail(cli, KP_EUNREACH,
			      "request %s is still pending: hub %s has not "
			      "answered within %lld s ('knute requests' "
			      "shows it later; it is delivered when the hub "
			      "and knute-central are running)",
			      id, hub, (long long)secs);
	}
	json_decref(req);
	return rc;
}

/* ---- knute requests ---- */

/* "2026-12-01T16:00:00Z" back to an instant; KP_EINVAL for other text. */
static int s_utc_parse(const char *text, int64_t *out)
{
	struct tm tm = {0};
	char z = 0;
	if (sscanf(text, "%4d-%2d-%2dT%2d:%2d:%2d%c", &tm.tm_year, &tm.tm_mon,
		   &tm.tm_mday, &tm.tm_hour, &tm.tm_min, &tm.tm_sec, &z) != 7 ||
	    z != 'Z')
		return KP_EINVAL;
	tm.tm_year -= 1900;
	tm.tm_mon -= 1;
	*out = (int64_t)timegm(&tm);
	return KP_OK;
}

static int s_list(struct cli *cli)
{
	static const char *const head[] = {
	    "ID", "HUB", "KIND", "STATE", "RESULT", "CREATED", "REASON"};
	const char *hub = cli_opt(cli, "hub");
	const char *state = cli_opt(cli, "state");
	struct cli_table *table;
	json_t *all, *keep, *req;
	size_t i;
	int rc;

	if (cli->npos)
		return cli_fail(cli, KP_EINVAL, "unexpected argument '%s'",
				cli->pos[0]);
	if (!kp_store_is_central(cli->store))
		return cli_fail(cli, KP_EINVAL,
				"requests are kept at central's store, and "
				"this is hub %s's store: give central's --data",
				kp_store_hub(cli->store));
	if (state && strcmp(state, "pending") && strcmp(state, "accepted") &&
	    strcmp(state, "refused"))
		return cli_fail(cli, KP_EINVAL,
				"--state '%.40s' is not a request state: use "
				"pending, accepted or refused",
				state);
	if (hub && !kp_hub_id_valid(hub))
		return cli_fail(cli, KP_EINVAL,
				"--hub '%.40s' is not a hub id: a hub id is "
				"a-z, 0-9 and '-', such as fjell",
				hub);
	if ((rc = creq_list(cli->store, hub, &all)))
		return rc;
	if (!(keep = json_array())) {
		json_decref(all);
		return KP_ENOMEM;
	}
	json_array_foreach(all, i, req)
	{
		if (!state || !strcmp(kp_rec_str(req, "state", ""), state))
			json_array_append(keep, req);
	}
	json_decref(all);
	if (cli->json) {
		cli_print_json(keep);
		return KP_OK;
	}
	table = cli_table_new(7, head);
	json_array_foreach(keep, i, req)
	{
		char created[KP_TIME_STRLEN];
		int64_t t;
		/* People read local time; the JSON has UTC. */
		if (s_utc_parse(kp_rec_str(req, "created", ""), &t))
			snprintf(created, sizeof created, "?");
		else
			kp_time_format(t, created);
		const char *row[] = {kp_rec_str(req, "id", ""),
				     kp_rec_str(req, "hub", ""),
				     kp_rec_str(req, "kind", ""),
				     kp_rec_str(req, "state", ""),
				     kp_rec_str(req, "result", "-"),
				     created,
				     kp_rec_str(req, "reason", "")};
		cli_table_row(table, row);
	}
	cli_table_print(table);
	cli_table_free(&table);
	json_decref(keep);
	return KP_OK;
}

const struct cli_command cli_requests_commands[] = {
    {"requests", NULL, s_list, "hub state",
     "requests [--hub ID] [--state pending|accepted|refused]",
     "At central's store: the requests made with 'booking add --hub' and "
     "'activity add --hub' (and from the dashboard), oldest first: id "
     "(q1, q2 ...), hub, kind, state, the new record's id once accepted, "
     "and why a refused one was refused. With --json an array of objects "
     "with id, number, token, hub, kind, state, reason, result, fields, "
     "created and updated (UTC).",
     false},
    {0},
};
