/*
 * hubweb.c - the hub's web API, its calendar and spreadsheet feeds and
 * /metrics (docs/web-hub.md).
 *
 * Every handler runs on the sync loop's thread (knute/http.h) and reads
 * or writes the daemon's own store: reads in one read transaction each,
 * writes through the same functions the command line uses (kp_op_add()
 * for bookings, kp_op_attend() for attendance, kp_export_write() for the
 * feeds), so a write from the page gets the command line's checks and
 * clash rule and the feeds are the bytes of 'knute ... export'.
 *
 * Times. Instants are UTC seconds in the store; the API gives each one
 * twice: as local wall-clock text in the daemon's zone (Europe/Oslo unless
 * KNUTE_TZ says otherwise), "2026-11-23T17:00", for people, and as UTC
 * seconds ("start_utc") for programs. Dates are "YYYY-MM-DD", times of
 * day "HH:MM".
 *
 * Errors are {"error": "one sentence"} with 400 (bad input), 404 (no such
 * path or record), 405 (wrong method), 409 (a booking clash) or 500; a
 * request that fails writes nothing.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "cmd_export.h"
#include "cmd_sync.h"
#include "hubweb.h"
#include "knute/error.h"
#include "knute/ktime.h"
#include "ops.h"
#include "rules.h"

/* ---- small helpers ---- */

/* "2026-11-23T17:00": the local wall-clock time of t. */
static void s_local_iso(int64_t t, char *buf)
{
	int y, m, d, min;
	kp_local_parts(t, &y, &m, &d, NULL, &min);
	snprintf(buf, KP_TIME_STRLEN, "%04d-%02d-%02dT%02d:%02d", y, m, d,
		 min / 60, min % 60);
}

/* The local time of t as a JSON string, or null for 0. */
static json_t *s_local_json(int64_t t)
{
	char buf[KP_TIME_STRLEN];
	if (t <= 0)
		return json_null();
	s_local_iso(t, buf);
	return json_string(buf);
}

/* "YYYY-MM-DD" of a day number. */
static void s_day_text(int64_t days, char *buf)
{
	int y, m, d;
	kp_civil_from_days(days, &y, &m, &d);
	kp_date_format(y, m, d, buf);
}

/* The day number of the date argument name, or of today when it is
 * absent. false, with a 400 answer set, when it is not a date. */
static bool s_date_arg(const struct kp_http_req *req, struct kp_http_res *res,
		       const char *name, int64_t *days)
{
	const char *v = kp_http_arg(req, name);
	int y, m, d;

	if (!v) {
		kp_local_parts(kp_now(), &y, &m, &d, NULL, NULL);
	} else if (kp_date_parse(v, &y, &m, &d)) {
		kp_http_error(res, 400,
			      "%s '%.40s' is not a date: write YYYY-MM-DD, "
			      "e.g. 2026-11-23",
			      name, v);
		return false;
	}
	*days = kp_days_from_civil(y, m, d);
	return true;
}

/* Local midnight at the start of a day number. */
static int s_day_start(int64_t days, int64_t *out)
{
	int y, m, d;
	kp_civil_from_days(days, &y, &m, &d);
	return kp_date_start(y, m, d, out);
}

static void s_store_error(struct kp_http_res *res, int rc)
{
	kp_http_error(res, rc == KP_ENOMEM ? 503 : 500,
		      "the hub's store could not be read or written: %s",
		      kp_strerror(rc));
}

/* The zone local times are in. */
static const char *s_zone(void)
{
	const char *tz = getenv("TZ");
	return tz && tz[0] ? tz : KP_TZ_DEFAULT;
}

/* ---- GET /metrics ---- */

static void s_metrics(struct hubweb *w, const struct kp_http_req *req,
		      struct kp_http_res *res)
{
	struct kp_hub_stats st;
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	(void)req;

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

/* ---- GET /api/status ---- */

static int s_link_txn(kp_txn *txn, void *arg)
{
	return cli_link_read(txn, arg);
}

static void s_status(struct hubweb *w, const struct kp_http_req *req,
		     struct kp_http_res *res)
{
	kp_store *store = kp_hubsync_store(w->hs);
	struct kp_hub_stats st;
	struct cli_link link;
	const char *mirror_state;
	int rc;
	(void)req;

	kp_hubsync_stats(w->hs, &st);
	if ((rc = kp_store_read(store, s_link_txn, &link))) {
		s_store_error(res, rc);
		return;
	}
	mirror_state = link.mirror_state[0]  ? link.mirror_state
		       : link.mirror_records ? "ok"
					     : "never";
	kp_http_json(
	    res, 200,
	    json_pack(
		"{ss ss ss ss so sb so sI sI sI sI sI sI so "
		"s{ss so sI sI sI} sI so}",
		"hub", kp_store_hub(store), "name", kp_store_name(store),
		"zone", s_zone(), "incarnation", kp_store_incarnation(store),
		"central",
		link.central_addr[0] ? json_string(link.central_addr)
				     : json_null(),
		"connected", st.connected, "last_contact",
		s_local_json(st.last_contact), "last_contact_utc",
		(json_int_t)st.last_contact, "head_seq", (json_int_t)st.head,
		"acked_seq", (json_int_t)st.acked, "pending",
		(json_int_t)(st.head > st.acked ? st.head - st.acked : 0),
		"messages_in", (json_int_t)st.msgs_in, "messages_out",
		(json_int_t)st.msgs_out, "now", s_local_json(kp_now()),
		"mirror", "state", mirror_state, "updated",
		s_local_json(link.mirror_at), "seq", (json_int_t)link.down_seq,
		"records", (json_int_t)link.mirror_records, "hubs",
		(json_int_t)link.mirror_hubs, "dead_letters",
		(json_int_t)link.dead, "errors",
		json_integer((json_int_t)st.errors)));
}

/* ---- GET /api/rooms ---- */

static int s_room_row(const struct kp_id *id, json_t *rec, void *arg)
{
	(void)id;
	return json_array_append(arg, rec) ? KP_ENOMEM : KP_OK;
}

static int s_rooms_txn(kp_txn *txn, void *arg)
{
	json_array_clear(arg);
	return kp_txn_each(txn, KP_ROOM, s_room_row, arg);
}

static void s_rooms(struct hubweb *w, const struct kp_http_req *req,
		    struct kp_http_res *res)
{
	json_t *rooms = json_array();
	int rc;
	(void)req;

	if (!rooms) {
		s_store_error(res, KP_ENOMEM);
		return;
	}
	rc = kp_store_read(kp_hubsync_store(w->hs), s_rooms_txn, rooms);
	if (rc) {
		json_decref(rooms);
		s_store_error(res, rc);
		return;
	}
	kp_http_json(res, 200, json_pack("{so}", "rooms", rooms));
}

/* ---- GET /api/calendar ---- */

struct s_cal {
	int64_t from, to;   /* the week: local Monday 00:00 to next Monday */
	json_t *rooms;	    /* the answer's array */
	json_t *by_id;	    /* room id -> its entry (borrowed) */
	json_t *events;	    /* the entry of the record being walked */
	const json_t *rec;  /* the record being walked */
	const char *rec_id; /* its id */
	bool booking;	    /* it is a booking (else an activity) */
};

/* One occurrence of the record being walked: kept when it overlaps the
 * week; the walk stops past the week. */
static int s_cal_occurrence(int64_t start, int64_t end, void *arg)
{
	struct s_cal *c = arg;
	const json_t *rec = c->rec;
	bool booking = c->booking;
	char title[KP_NAME_MAX * 2 + 8];
	json_t *ev;
	int wd;

	if (start >= c->to)
		return 1;
	if (end <= c->from)
		return KP_OK;
	if (booking) {
		const char *purpose = kp_rec_str(rec, "purpose", "");
		snprintf(title, sizeof title, "%s%s%s",
			 kp_rec_str(rec, "org", ""), purpose[0] ? ": " : "",
			 purpose);
	} else {
		snprintf(title, sizeof title, "%s",
			 kp_rec_str(rec, "title", ""));
	}
	kp_local_parts(start, NULL, NULL, NULL, &wd, NULL);
	ev = json_pack(
	    "{ss ss ss ss so so sI sI ss si sb}", "id", c->rec_id, "kind",
	    booking ? "booking" : "activity", "title", title, "org",
	    kp_rec_str(rec, booking ? "org" : "organiser", ""), "start",
	    s_local_json(start), "end", s_local_json(end), "start_utc",
	    (json_int_t)start, "end_utc", (json_int_t)end, "status",
	    kp_rec_str(rec, "status", ""), "weekday", wd, "weekly",
	    kp_rec_bool(rec, "weekly", false));
	if (!ev || json_array_append_new(c->events, ev))
		return KP_ENOMEM;
	return KP_OK;
}

static int s_cal_record(const struct kp_id *id, json_t *rec, void *arg)
{
	struct s_cal *c = arg;
	const json_t *room =
	    json_object_get(c->by_id, kp_rec_str(rec, "room", ""));
	struct kp_series s;
	int64_t *cancelled;
	char text[KP_ID_STRLEN];
	int rc;

	if (!room || !strcmp(kp_rec_str(rec, "status", ""), "cancelled"))
		return KP_OK;
	kp_id_format(id, text);
	c->rec = rec;
	c->rec_id = text;
	c->booking = id->kind == KP_BOOKING;
	c->events = json_object_get(room, "events");
	rc = kp_series_of(rec, &s, &cancelled);
	if (rc == KP_OK)
		rc = kp_series_each(&s, s_cal_occurrence, c);
	free(cancelled);
	if (rc == 1 || rc == KP_EINVAL)
		return KP_OK; /* past the week; or a schedule with no dates */
	return rc;
}

static int s_cal_room(const struct kp_id *id, json_t *rec, void *arg)
{
	struct s_cal *c = arg;
	char text[KP_ID_STRLEN];
	json_t *entry;

	kp_id_format(id, text);
	entry = json_pack("{ss ss sI s[]}", "id", text, "name",
			  kp_rec_str(rec, "name", ""), "capacity",
			  (json_int_t)kp_rec_int(rec, "capacity", 0), "events");
	if (!entry || json_object_set(c->by_id, text, entry) ||
	    json_array_append_new(c->rooms, entry))
		return KP_ENOMEM;
	return KP_OK;
}

static int s_cal_txn(kp_txn *txn, void *arg)
{
	struct s_cal *c = arg;
	int rc;

	json_array_clear(c->rooms);
	json_object_clear(c->by_id);
	if ((rc = kp_txn_each(txn, KP_ROOM, s_cal_room, c)) ||
	    (rc = kp_txn_each(txn, KP_BOOKING, s_cal_record, c)) ||
	    (rc = kp_txn_each(txn, KP_ACTIVITY, s_cal_record, c)))
		return rc;
	return KP_OK;
}

static int s_by_start(const void *a, const void *b)
{
	json_int_t x = json_integer_value(
	    json_object_get(*(json_t *const *)a, "start_utc"));
	json_int_t y = json_integer_value(
	    json_object_get(*(json_t *const *)b, "start_utc"));
	return x < y ? -1 : x > y;
}

/* Sort an array of events (or activities) by "start_utc". */
static int s_sort_by_start(json_t *list)
{
	size_t n = json_array_size(list), i;
	json_t **v;

	if (n < 2)
		return KP_OK;
	if (!(v = malloc(n * sizeof *v)))
		return KP_ENOMEM;
	for (i = 0; i < n; i++)
		v[i] = json_incref(json_array_get(list, i));
	qsort(v, n, sizeof *v, s_by_start);
	json_array_clear(list);
	for (i = 0; i < n; i++)
		json_array_append_new(list, v[i]);
	free(v);
	return KP_OK;
}

static void s_calendar(struct hubweb *w, const struct kp_http_req *req,
		       struct kp_http_res *res)
{
	struct s_cal c = {.rooms = json_array(), .by_id = json_object()};
	json_t *days = json_array(), *room;
	char monday[KP_TIME_STRLEN], sunday[KP_TIME_STRLEN];
	char prev[KP_TIME_STRLEN], next[KP_TIME_STRLEN], day[KP_TIME_STRLEN];
	int64_t d, first;
	size_t i;
	int wd, rc;

	if (!c.rooms || !c.by_id || !days) {
		rc = KP_ENOMEM;
		goto fail;
	}
	if (!s_date_arg(req, res, "week", &d))
		goto out;
	/* 1970-01-01 was a Thursday: weekday 3 when Monday is 0. */
	wd = (int)(((d + 3) % 7 + 7) % 7);
	first = d - wd;
	if ((rc = s_day_start(first, &c.from)) ||
	    (rc = s_day_start(first + 7, &c.to)))
		goto fail;
	for (i = 0; i < 7; i++) {
		s_day_text(first + (int64_t)i, day);
		json_array_append_new(days, json_string(day));
	}
	rc = kp_store_read(kp_hubsync_store(w->hs), s_cal_txn, &c);
	if (rc)
		goto fail;
	json_array_foreach(c.rooms, i, room)
	{
		if ((rc = s_sort_by_start(json_object_get(room, "events"))))
			goto fail;
	}
	s_day_text(first, monday);
	s_day_text(first + 6, sunday);
	s_day_text(first - 7, prev);
	s_day_text(first + 7, next);
	kp_http_json(res, 200,
		     json_pack("{ss ss ss ss ss sO sO}", "week", monday, "end",
			       sunday, "prev", prev, "next", next, "zone",
			       s_zone(), "days", days, "rooms", c.rooms));
	goto out;
fail:
	s_store_error(res, rc);
out:
	json_decref(days);
	json_decref(c.rooms);
	json_decref(c.by_id);
}

/* ---- GET /api/today ---- */

struct s_today {
	int y, m, d;
	kp_txn *txn;
	json_t *rooms; /* room id -> name */
	json_t *acts;  /* the answer's array */
	json_t *by_id; /* activity id -> its entry (borrowed) */
	json_t *names; /* volunteer id -> name (a cache) */
};

static int s_today_room(const struct kp_id *id, json_t *rec, void *arg)
{
	struct s_today *t = arg;
	char text[KP_ID_STRLEN];
	kp_id_format(id, text);
	return json_object_set_new(t->rooms, text,
				   json_string(kp_rec_str(rec, "name", "")))
		   ? KP_ENOMEM
		   : KP_OK;
}

static int s_today_activity(const struct kp_id *id, json_t *rec, void *arg)
{
	struct s_today *t = arg;
	const char *room = kp_rec_str(rec, "room", "");
	char text[KP_ID_STRLEN];
	int64_t start, end;
	json_t *entry;
	int rc;

	if (!strcmp(kp_rec_str(rec, "status", ""), "cancelled"))
		return KP_OK;
	rc = kp_occurrence_on(rec, t->y, t->m, t->d, &start, &end);
	if (rc == KP_ENOTFOUND || rc == KP_EINVAL)
		return KP_OK;
	if (rc)
		return rc;
	kp_id_format(id, text);
	entry = json_pack(
	    "{ss ss ss ss ss so so so sI sI sI s[]}", "id", text, "title",
	    kp_rec_str(rec, "title", ""), "organiser",
	    kp_rec_str(rec, "organiser", ""), "category",
	    kp_rec_str(rec, "category", ""), "target",
	    kp_rec_str(rec, "target", ""), "room",
	    room[0] ? json_string(room) : json_null(), "start",
	    s_local_json(start), "end", s_local_json(end), "start_utc",
	    (json_int_t)start, "end_utc", (json_int_t)end, "volunteers_needed",
	    (json_int_t)kp_rec_int(rec, "volunteers_needed", 0), "volunteers");
	if (!entry)
		return KP_ENOMEM;
	json_object_set(entry, "room_name",
			room[0] && json_object_get(t->rooms, room)
			    ? json_object_get(t->rooms, room)
			    : json_null());
	if (json_object_set(t->by_id, text, entry) ||
	    json_array_append_new(t->acts, entry))
		return KP_ENOMEM;
	return KP_OK;
}

/* The volunteer entry of vol in act's list, made when missing. */
static json_t *s_today_volunteer(struct s_today *t, json_t *act,
				 const char *vol)
{
	json_t *list = json_object_get(act, "volunteers"), *v, *rec = NULL;
	struct kp_id id;
	char err[KP_ERR_MAX];
	size_t i;

	json_array_foreach(list, i, v)
	{
		if (!strcmp(kp_rec_str(v, "id", ""), vol))
			return v;
	}
	if (!json_object_get(t->names, vol)) {
		const char *name = "";
		if (kp_id_parse(vol, NULL, KP_VOLUNTEER, &id, err) == KP_OK &&
		    kp_txn_get(t->txn, &id, &rec) == KP_OK)
			name = kp_rec_str(rec, "name", "");
		json_object_set_new(t->names, vol, json_string(name));
		json_decref(rec);
	}
	v = json_pack("{ss sO sn sn sn}", "id", vol, "name",
		      json_object_get(t->names, vol), "assigned", "attendance",
		      "attendance_id");
	if (!v || json_array_append_new(list, v))
		return NULL;
	return v;
}

/* An assignment (whole series, or this date's occurrence) or an
 * attendance record of this date's occurrence of a listed activity. */
static int s_today_person(const struct kp_id *id, json_t *rec, void *arg)
{
	struct s_today *t = arg;
	json_t *act =
	    json_object_get(t->by_id, kp_rec_str(rec, "activity", ""));
	const json_t *occ = json_object_get(rec, "occurrence");
	const char *vol = kp_rec_str(rec, "volunteer", "");
	json_int_t start;
	json_t *v;
	char text[KP_ID_STRLEN];

	if (!act || !vol[0])
		return KP_OK;
	start = json_integer_value(json_object_get(act, "start_utc"));
	if (json_is_integer(occ) ? json_integer_value(occ) != start
				 : id->kind == KP_ATTENDANCE)
		return KP_OK;
	if (!(v = s_today_volunteer(t, act, vol)))
		return KP_ENOMEM;
	if (id->kind == KP_ASSIGNMENT) {
		json_object_set_new(
		    v, "assigned",
		    json_string(json_is_integer(occ) ? "date" : "series"));
	} else {
		kp_id_format(id, text);
		json_object_set_new(v, "attendance",
				    json_string(kp_rec_str(rec, "status", "")));
		json_object_set_new(v, "attendance_id", json_string(text));
	}
	return KP_OK;
}

static int s_today_txn(kp_txn *txn, void *arg)
{
	struct s_today *t = arg;
	int rc;

	t->txn = txn;
	json_object_clear(t->rooms);
	json_array_clear(t->acts);
	json_object_clear(t->by_id);
	json_object_clear(t->names);
	if ((rc = kp_txn_each(txn, KP_ROOM, s_today_room, t)) ||
	    (rc = kp_txn_each(txn, KP_ACTIVITY, s_today_activity, t)) ||
	    (rc = kp_txn_each(txn, KP_ASSIGNMENT, s_today_person, t)) ||
	    (rc = kp_txn_each(txn, KP_ATTENDANCE, s_today_person, t)))
		return rc;
	return KP_OK;
}

static void s_today(struct hubweb *w, const struct kp_http_req *req,
		    struct kp_http_res *res)
{
	struct s_today t = {.rooms = json_object(),
			    .acts = json_array(),
			    .by_id = json_object(),
			    .names = json_object()};
	char date[KP_TIME_STRLEN];
	int64_t d;
	int rc = KP_ENOMEM;

	if (!t.rooms || !t.acts || !t.by_id || !t.names)
		goto fail;
	if (!s_date_arg(req, res, "date", &d))
		goto out;
	kp_civil_from_days(d, &t.y, &t.m, &t.d);
	kp_date_format(t.y, t.m, t.d, date);
	if ((rc = kp_store_read(kp_hubsync_store(w->hs), s_today_txn, &t)) ||
	    (rc = s_sort_by_start(t.acts)))
		goto fail;
	kp_http_json(res, 200,
		     json_pack("{ss ss ss sO}", "date", date, "weekday",
			       kp_weekday_name((int)(((d + 3) % 7 + 7) % 7)),
			       "zone", s_zone(), "activities", t.acts));
	goto out;
fail:
	s_store_error(res, rc);
out:
	json_decref(t.rooms);
	json_decref(t.acts);
	json_decref(t.by_id);
	json_decref(t.names);
}

/* ---- request bodies ---- */

/* The text field name of body: *out is NULL when it is absent (or null).
 * false, with a 400 answer, when it is there but not text. */
static bool s_text_field(const json_t *body, const char *name,
			 struct kp_http_res *res, const char **out)
{
	const json_t *v = json_object_get(body, name);
	*out = NULL;
	if (!v || json_is_null(v))
		return true;
	if (!json_is_string(v)) {
		kp_http_error(res, 400, "%s must be text (a JSON string)",
			      name);
		return false;
	}
	*out = json_string_value(v);
	return true;
}

/* Refuse a field of body not in allowed (NULL-terminated). */
static bool s_known_fields(const json_t *body, const char *const *allowed,
			   const char *list, struct kp_http_res *res)
{
	const char *key;
	const json_t *v;
	json_object_foreach((json_t *)body, key, v)
	{
		const char *const *a = allowed;
		while (*a && strcmp(*a, key))
			a++;
		if (!*a) {
			kp_http_error(res, 400,
				      "unknown field '%.60s': send only %s",
				      key, list);
			return false;
		}
	}
	return true;
}

/* ---- POST /api/attendance ---- */

static void s_attendance(struct hubweb *w, const struct kp_http_req *req,
			 struct kp_http_res *res)
{
	static const char *const fields[] = {"activity", "volunteer", "date",
					     "status", NULL};
	kp_store *store = kp_hubsync_store(w->hs);
	struct kp_attend a = {0};
	const char *act, *vol, *date, *status;
	char err[KP_ERR_MAX], text[KP_ID_STRLEN];
	json_t *body = kp_http_body_object(req, res), *out;
	int rc;

	if (!body)
		return;
	if (!s_known_fields(body, fields,
			    "activity, volunteer, date and status", res) ||
	    !s_text_field(body, "activity", res, &act) ||
	    !s_text_field(body, "volunteer", res, &vol) ||
	    !s_text_field(body, "date", res, &date) ||
	    !s_text_field(body, "status", res, &status))
		goto out;
	if (!act || kp_id_parse(act, kp_store_hub(store), KP_ACTIVITY,
				&a.activity, err)) {
		kp_http_error(res, 400, "activity: %s",
			      act ? err
				  : "say which activity, e.g. "
				    "\"fjell:a1\"");
		goto out;
	}
	if (!vol || kp_id_parse(vol, kp_store_hub(store), KP_VOLUNTEER,
				&a.volunteer, err)) {
		kp_http_error(res, 400, "volunteer: %s",
			      vol ? err
				  : "say which volunteer, e.g. "
				    "\"fjell:v1\"");
		goto out;
	}
	if (!date || kp_date_parse(date, &a.year, &a.month, &a.day)) {
		kp_http_error(res, 400,
			      "date '%.40s' is not a date: write YYYY-MM-DD, "
			      "the date of the occurrence, e.g. 2026-11-24",
			      date ? date : "");
		goto out;
	}
	a.status = status;
	rc = kp_op_attend(store, &a);
	if (rc == KP_OK) {
		kp_id_format(&a.id, text);
		out = json_deep_copy(a.rec);
		if (out) {
			json_object_set_new(out, "id", json_string(text));
			json_object_set_new(out, "date", json_string(date));
			json_object_set_new(out, "updated",
					    json_boolean(a.updated));
		}
		kp_http_json(res, a.updated ? 200 : 201, out);
	} else if (a.err[0]) {
		kp_http_error(res, rc == KP_ENOTFOUND ? 404 : 400, "%s", a.err);
	} else {
		s_store_error(res, rc);
	}
	kp_attend_free(&a);
out:
	json_decref(body);
}

/* ---- POST /api/bookings ---- */

/* The instant of a local date and "HH:MM" field; false with a 400 answer
 * when the field is missing, malformed or does not exist that day. */
static bool s_local_time(const json_t *body, const char *name, const char *date,
			 struct kp_http_res *res, int64_t *out)
{
	const char *v;
	char text[48];
	int min;

	if (!s_text_field(body, name, res, &v))
		return false;
	if (!v || kp_hhmm_parse(v, &min)) {
		kp_http_error(res, 400,
			      "%s '%.20s' is not a time of day: write HH:MM "
			      "(24-hour clock), e.g. %s",
			      name, v ? v : "",
			      strcmp(name, "end") ? "17:00" : "19:00");
		return false;
	}
	/* The command line's parser for --from and --to, so a time that
	 * does not exist locally is refused the same way. */
	snprintf(text, sizeof text, "%s %s", date, v);
	if (kp_time_parse(text, out)) {
		kp_http_error(res, 400,
			      "%s %s does not exist on %s in %s (the clocks "
			      "skip that hour when summer time starts): "
			      "choose another time",
			      name, v, date, s_zone());
		return false;
	}
	return true;
}

/* The "days" field: "tue,thu" or ["tue", "thu"], into canonical text. */
static bool s_days_field(const json_t *body, struct kp_http_res *res,
			 char *canon, bool *given)
{
	const json_t *v = json_object_get(body, "days");
	char joined[256] = "";
	uint8_t mask;
	size_t i, used = 0;
	const json_t *item;

	*given = v && !json_is_null(v);
	if (!*given)
		return true;
	if (json_is_string(v)) {
		snprintf(joined, sizeof joined, "%s", json_string_value(v));
	} else if (json_is_array(v)) {
		json_array_foreach(v, i, item)
		{
			if (!json_is_string(item) ||
			    used + json_string_length(item) + 2 >=
				sizeof joined)
				goto bad;
			used += (size_t)snprintf(
			    joined + used, sizeof joined - used, "%s%s",
			    used ? "," : "", json_string_value(item));
		}
	} else {
		goto bad;
	}
	if (kp_days_parse(joined, &mask) == KP_OK) {
		kp_days_format(mask, canon);
		return true;
	}
bad:
	kp_http_error(res, 400,
		      "days is not a list of weekdays: write e.g. \"tue,thu\", "
		      "\"mon-fri\" or [\"tue\", \"thu\"]");
	return false;
}

/* The clashes of a refused booking, for the 409 answer. */
static json_t *s_clashes_json(const struct kp_clashes *c)
{
	static const char *const why[] = {"booked", "hours", "closed"};
	json_t *list = json_array();
	char line[600], with[KP_ID_STRLEN];

	for (size_t i = 0; list && i < c->n; i++) {
		const struct kp_clash *k = &c->items[i];
		json_t *o;
		kp_clash_describe(k, line, sizeof line);
		o = json_pack(
		    "{so so sI sI ss ss}", "start", s_local_json(k->start),
		    "end", s_local_json(k->end), "start_utc",
		    (json_int_t)k->start, "end_utc", (json_int_t)k->end, "why",
		    why[k->why <= KP_CLASH_CLOSED ? k->why : 0], "message",
		    line);
		if (!o)
			continue;
		if (k->why == KP_CLASH_BOOKED) {
			kp_id_format(&k->with.owner, with);
			json_object_set_new(o, "with", json_string(with));
			json_object_set_new(o, "with_org",
					    json_string(k->with_org));
		} else if (k->why == KP_CLASH_CLOSED && k->reason[0]) {
			json_object_set_new(o, "reason",
					    json_string(k->reason));
		}
		json_array_append_new(list, o);
	}
	return list;
}

static void s_booking(struct hubweb *w, const struct kp_http_req *req,
		      struct kp_http_res *res)
{
	static const char *const fields[] = {
	    "room", "org",    "contact", "purpose", "date",   "start",
	    "end",  "weekly", "days",	 "until",   "status", NULL};
	kp_store *store = kp_hubsync_store(w->hs);
	struct kp_op op = {0};
	const char *room, *org, *contact, *purpose, *date, *until, *status;
	const json_t *weekly_v;
	char canon[40], err[KP_ERR_MAX], text[KP_ID_STRLEN];
	int64_t start, end;
	int y, m, d, rc;
	bool weekly = false, has_days;
	struct kp_id rid;
	json_t *body = kp_http_body_object(req, res), *out;

	if (!body)
		return;
	if (!s_known_fields(body, fields,
			    "room, org, contact, purpose, date, start, end, "
			    "weekly, days, until and status",
			    res) ||
	    !s_text_field(body, "room", res, &room) ||
	    !s_text_field(body, "org", res, &org) ||
	    !s_text_field(body, "contact", res, &contact) ||
	    !s_text_field(body, "purpose", res, &purpose) ||
	    !s_text_field(body, "date", res, &date) ||
	    !s_text_field(body, "until", res, &until) ||
	    !s_text_field(body, "status", res, &status))
		goto out;
	if (!room || !room[0]) {
		kp_http_error(res, 400,
			      "room: say which room, e.g. \"fjell:r1\" (GET "
			      "/api/rooms lists them)");
		goto out;
	}
	if (kp_id_parse(room, kp_store_hub(store), KP_ROOM, &rid, err)) {
		kp_http_error(res, 400, "room: %s", err);
		goto out;
	}
	if (!org || !org[0]) {
		kp_http_error(res, 400,
			      "org: say who books the room, e.g. \"Røde "
			      "Kors\"");
		goto out;
	}
	if (!date || kp_date_parse(date, &y, &m, &d)) {
		kp_http_error(res, 400,
			      "date '%.40s' is not a date: write YYYY-MM-DD, "
			      "e.g. 2026-12-01",
			      date ? date : "");
		goto out;
	}
	if (!s_local_time(body, "start", date, res, &start) ||
	    !s_local_time(body, "end", date, res, &end))
		goto out;
	if (end <= start) {
		kp_http_error(res, 400,
			      "end must be after start on %s (a booking over "
			      "midnight is two bookings)",
			      date);
		goto out;
	}
	weekly_v = json_object_get(body, "weekly");
	if (weekly_v && !json_is_null(weekly_v) && !json_is_boolean(weekly_v)) {
		kp_http_error(res, 400, "weekly must be true or false");
		goto out;
	}
	weekly = json_is_true(weekly_v);
	if (!s_days_field(body, res, canon, &has_days))
		goto out;
	if ((has_days || until) && !weekly) {
		kp_http_error(res, 400,
			      "days and until go with \"weekly\": true");
		goto out;
	}
	if (weekly && !until) {
		kp_http_error(res, 400,
			      "until: a weekly booking needs its last date, "
			      "YYYY-MM-DD, e.g. 2027-06-15");
		goto out;
	}
	if (weekly && kp_date_parse(until, &y, &m, &d)) {
		kp_http_error(res, 400,
			      "until '%.40s' is not a date: write YYYY-MM-DD, "
			      "e.g. 2027-06-15",
			      until);
		goto out;
	}
	if (status && strcmp(status, "confirmed") &&
	    strcmp(status, "pending")) {
		kp_http_error(res, 400,
			      "status '%.40s' is not confirmed or pending",
			      status);
		goto out;
	}
	kp_id_format(&rid, text);
	op.rec = json_pack("{ss ss sI sI ss}", "room", text, "org", org,
			   "start", (json_int_t)start, "end", (json_int_t)end,
			   "status", status ? status : "confirmed");
	if (!op.rec) {
		s_store_error(res, KP_ENOMEM);
		goto out;
	}
	if (contact && contact[0])
		json_object_set_new(op.rec, "contact", json_string(contact));
	if (purpose && purpose[0])
		json_object_set_new(op.rec, "purpose", json_string(purpose));
	if (weekly) {
		json_object_set_new(op.rec, "weekly", json_true());
		json_object_set_new(op.rec, "until", json_string(until));
		if (has_days) {
			json_object_set_new(op.rec, "days", json_string(canon));
		} else {
			/* The series repeats on the weekday of its date, as
			 * on the command line. */
			int wd;
			kp_local_parts(start, NULL, NULL, NULL, &wd, NULL);
			json_object_set_new(op.rec, "days",
					    json_string(kp_weekday_name(wd)));
		}
	}
	rc = kp_op_add(store, KP_BOOKING, &op);
	if (rc == KP_OK) {
		kp_id_format(&op.id, text);
		out = json_deep_copy(op.rec);
		if (out) {
			json_object_set_new(out, "id", json_string(text));
			json_object_set_new(out, "start_local",
					    s_local_json(start));
			json_object_set_new(out, "end_local",
					    s_local_json(end));
		}
		kp_http_json(res, 201, out);
	} else if (rc == KP_ECLASH) {
		kp_http_json(
		    res, 409,
		    json_pack("{ss so}", "error",
			      op.err[0] ? op.err : "the booking clashes",
			      "clashes", s_clashes_json(&op.clashes)));
	} else if (op.err[0]) {
		kp_http_error(res, rc == KP_ENOTFOUND ? 404 : 400, "%s",
			      op.err);
	} else {
		s_store_error(res, rc);
	}
	kp_op_free(&op);
out:
	json_decref(body);
}

/* ---- GET /api/volunteers ---- */

struct s_vsearch {
	const char *skill, *language;
	int day; /* -1: any */
	bool has_span;
	struct kp_week want; /* one span: day from-to */
	json_t *out;
};

static bool s_has_word(const json_t *list, const char *word)
{
	size_t i;
	json_t *item;
	json_array_foreach(list, i, item)
	{
		if (json_is_string(item) &&
		    !strcasecmp(json_string_value(item), word))
			return true;
	}
	return false;
}

/* True when the volunteer's weekly hours have the wanted span, or any
 * time on the wanted day when no span was given. */
static bool s_available(const json_t *rec, const struct s_vsearch *s)
{
	const char *spec = kp_rec_str(rec, "availability", NULL);
	struct kp_week have;
	char err[KP_ERR_MAX];

	if (s->day < 0)
		return true;
	if (!spec || kp_week_parse(spec, &have, err, sizeof err))
		return false;
	if (s->has_span)
		return kp_week_contains(&have, &s->want);
	for (int i = 0; i < have.nspans; i++)
		if (have.spans[i].weekday == s->day)
			return true;
	return false;
}

static int s_volunteer_row(const struct kp_id *id, json_t *rec, void *arg)
{
	struct s_vsearch *s = arg;
	const json_t *police = json_object_get(rec, "police");
	const json_t *skills = json_object_get(rec, "skills");
	const json_t *langs = json_object_get(rec, "languages");
	const char *avail = kp_rec_str(rec, "availability", NULL);
	const char *org = kp_rec_str(rec, "org", NULL);
	char text[KP_ID_STRLEN];
	json_t *o;

	if ((s->skill && !s_has_word(skills, s->skill)) ||
	    (s->language && !s_has_word(langs, s->language)) ||
	    !s_available(rec, s))
		return KP_OK;
	kp_id_format(id, text);
	/* Only what the page shows: no phone, e-mail or birth year. */
	o = json_pack(
	    "{ss ss so so so so sb so}", "id", text, "name",
	    kp_rec_str(rec, "name", ""), "org",
	    org ? json_string(org) : json_null(), "skills",
	    json_is_array(skills) ? json_deep_copy(skills) : json_array(),
	    "languages",
	    json_is_array(langs) ? json_deep_copy(langs) : json_array(),
	    "availability", avail ? json_string(avail) : json_null(), "police",
	    json_is_object(police), "police_role",
	    json_is_object(police) ? json_string(kp_rec_str(police, "role", ""))
				   : json_null());
	if (!o || json_array_append_new(s->out, o))
		return KP_ENOMEM;
	return KP_OK;
}

static int s_volunteers_txn(kp_txn *txn, void *arg)
{
	struct s_vsearch *s = arg;
	json_array_clear(s->out);
	return kp_txn_each(txn, KP_VOLUNTEER, s_volunteer_row, s);
}

static void s_volunteers(struct hubweb *w, const struct kp_http_req *req,
			 struct kp_http_res *res)
{
	struct s_vsearch s = {.skill = kp_http_arg(req, "skill"),
			      .language = kp_http_arg(req, "language"),
			      .day = -1,
			      .out = json_array()};
	const char *day = kp_http_arg(req, "day");
	const char *from = kp_http_arg(req, "from");
	const char *to = kp_http_arg(req, "to");
	int a, b, rc;

	if (!s.out) {
		s_store_error(res, KP_ENOMEM);
		return;
	}
	/* An empty field of the page's form means "any". */
	if (s.skill && !s.skill[0])
		s.skill = NULL;
	if (s.language && !s.language[0])
		s.language = NULL;
	if (day && !day[0])
		day = NULL;
	if (from && !from[0])
		from = NULL;
	if (to && !to[0])
		to = NULL;
	if (day && kp_weekday_parse(day, &s.day)) {
		kp_http_error(res, 400,
			      "day '%.20s' is not a weekday: write mon, tue, "
			      "wed, thu, fri, sat or sun",
			      day);
		goto out;
	}
	if ((from || to) && !day) {
		kp_http_error(res, 400,
			      "from and to go with day: e.g. "
			      "?day=tue&from=17:00&to=19:00");
		goto out;
	}
	if (from || to) {
		if (!from || !to || kp_hhmm_parse(from, &a) ||
		    (kp_hhmm_parse(to, &b) && strcmp(to, "24:00"))) {
			kp_http_error(res, 400,
				      "give both from and to as HH:MM, e.g. "
				      "from=17:00&to=19:00");
			goto out;
		}
		if (!strcmp(to, "24:00"))
			b = 1440;
		if (b <= a) {
			kp_http_error(res, 400, "to must be after from");
			goto out;
		}
		s.has_span = true;
		s.want.nspans = 1;
		s.want.spans[0].weekday = (uint8_t)s.day;
		s.want.spans[0].from_min = (uint16_t)a;
		s.want.spans[0].to_min = (uint16_t)b;
	}
	rc = kp_store_read(kp_hubsync_store(w->hs), s_volunteers_txn, &s);
	if (rc) {
		s_store_error(res, rc);
		goto out;
	}
	kp_http_json(res, 200,
		     json_pack("{sIsO}", "count",
			       (json_int_t)json_array_size(s.out), "volunteers",
			       s.out));
out:
	json_decref(s.out);
}

/* ---- GET /feeds/... ---- */

static void s_feed(struct hubweb *w, const struct kp_http_req *req,
		   struct kp_http_res *res, char kind, bool ics)
{
	kp_store *store = kp_hubsync_store(w->hs);
	struct kp_export x = {.kind = kind, .ics = ics};
	const char *room = kp_http_arg(req, "room");
	char text[KP_ID_STRLEN], err[KP_ERR_MAX], name[KP_ID_STRLEN + 40];
	const char *what;
	struct kp_id rid;
	char *buf = NULL;
	size_t len = 0;
	FILE *f;
	int rc;

	switch (kind) {
	case KP_BOOKING:
		what = "bookings";
		break;
	case KP_ACTIVITY:
		what = "activities";
		break;
	case KP_ROOM:
		what = "rooms";
		break;
	default:
		what = "volunteers";
		break;
	}
	if (room && room[0]) {
		if (kind != KP_BOOKING && kind != KP_ACTIVITY) {
			kp_http_error(
			    res, 400,
			    "room= is for the bookings and activities "
			    "feeds only");
			return;
		}
		if (kp_id_parse(room, kp_store_hub(store), KP_ROOM, &rid,
				err)) {
			kp_http_error(res, 400, "room: %s", err);
			return;
		}
		kp_id_format(&rid, text);
		x.room = text;
	}
	if (!(f = open_memstream(&buf, &len))) {
		s_store_error(res, KP_ENOMEM);
		return;
	}
	rc = kp_export_write(store, &x, f);
	fclose(f);
	if (rc) {
		free(buf);
		if (rc == KP_ENOTFOUND)
			kp_http_error(res, 404,
				      "no room %s at this hub: GET /api/rooms "
				      "lists the rooms",
				      x.room);
		else
			s_store_error(res, rc);
		return;
	}
	if (x.room)
		snprintf(name, sizeof name, "%s-%s.%s", text, what,
			 ics ? "ics" : "csv");
	else
		snprintf(name, sizeof name, "%s-%s.%s", kp_store_hub(store),
			 what, ics ? "ics" : "csv");
	for (char *p = name; *p; p++)
		if (*p == ':')
			*p = '-';
	kp_http_bytes(res, 200,
		      ics ? "text/calendar; charset=utf-8"
			  : "text/csv; charset=utf-8",
		      buf, len);
	snprintf(res->disposition, sizeof res->disposition,
		 "attachment; filename=\"%s\"", name);
}

static void s_feed_bookings_ics(struct hubweb *w, const struct kp_http_req *req,
				struct kp_http_res *res)
{
	s_feed(w, req, res, KP_BOOKING, true);
}

static void s_feed_bookings_csv(struct hubweb *w, const struct kp_http_req *req,
				struct kp_http_res *res)
{
	s_feed(w, req, res, KP_BOOKING, false);
}

static void s_feed_activities_ics(struct hubweb *w,
				  const struct kp_http_req *req,
				  struct kp_http_res *res)
{
	s_feed(w, req, res, KP_ACTIVITY, true);
}

static void s_feed_activities_csv(struct hubweb *w,
				  const struct kp_http_req *req,
				  struct kp_http_res *res)
{
	s_feed(w, req, res, KP_ACTIVITY, false);
}

static void s_feed_rooms_csv(struct hubweb *w, const struct kp_http_req *req,
			     struct kp_http_res *res)
{
	s_feed(w, req, res, KP_ROOM, false);
}

static void s_feed_volunteers_csv(struct hubweb *w,
				  const struct kp_http_req *req,
				  struct kp_http_res *res)
{
	s_feed(w, req, res, KP_VOLUNTEER, false);
}

/* ---- routing ---- */

typedef void (*s_route_fn)(struct hubweb *w, const struct kp_http_req *req,
			   struct kp_http_res *res);

static const struct {
	const char *path;
	const char *method; /* GET also answers HEAD */
	s_route_fn fn;
} s_routes[] = {
    {"/metrics", "GET", s_metrics},
    {"/api/status", "GET", s_status},
    {"/api/rooms", "GET", s_rooms},
    {"/api/calendar", "GET", s_calendar},
    {"/api/today", "GET", s_today},
    {"/api/attendance", "POST", s_attendance},
    {"/api/bookings", "POST", s_booking},
    {"/api/volunteers", "GET", s_volunteers},
    {"/feeds/bookings.ics", "GET", s_feed_bookings_ics},
    {"/feeds/bookings.csv", "GET", s_feed_bookings_csv},
    {"/feeds/activities.ics", "GET", s_feed_activities_ics},
    {"/feeds/activities.csv", "GET", s_feed_activities_csv},
    {"/feeds/rooms.csv", "GET", s_feed_rooms_csv},
    {"/feeds/volunteers.csv", "GET", s_feed_volunteers_csv},
};

void hubweb_handle(void *arg, const struct kp_http_req *req,
		   struct kp_http_res *res)
{
	struct hubweb *w = arg;
	size_t n = sizeof s_routes / sizeof s_routes[0];

	for (size_t i = 0; i < n; i++) {
		const char *want = s_routes[i].method;
		if (strcmp(req->path, s_routes[i].path))
			continue;
		if (!strcmp(req->method, want) ||
		    (!strcmp(want, "GET") && !strcmp(req->method, "HEAD")))
			s_routes[i].fn(w, req, res);
		else
			kp_http_error(res, 405,
				      "%s %s is not served: use %s (see "
				      "docs/web-hub.md)",
				      req->method, req->path, want);
		return;
	}
	kp_http_error(res, 404,
		      "no such path %s: the hub's API is /api/status, "
		      "/api/rooms, /api/calendar, /api/today, /api/attendance, "
		      "/api/bookings, /api/volunteers and the feeds under "
		      "/feeds/ (see docs/web-hub.md)",
		      req->path);
}
