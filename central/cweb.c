/*
 * cweb.c - central's web API and /metrics (docs/web-central.md).
 *
 * NOTES ON THE DESIGN
 *
 * Every figure is computed afresh per request from central's store in
 * one read transaction: the registry of hubs (cli_hubs_json(), what
 * 'knute hubs' shows) and one walk over every hub's records
 * (cli_overview_json(), what 'knute overview' shows: bookings this week,
 * volunteers by skill, the names of those who consented). This file adds,
 * in the same walk, what only the dashboard shows: activities that take
 * place in the week, room use, volunteers by language, activities that
 * lack volunteers and assignments that miss a police certificate.
 *
 * The walk visits a hub's records in key order, so activities ('a') and
 * bookings ('b') come before the rooms ('r') they hold and assignments
 * ('s') before volunteers ('v'): the walk collects into a few JSON tables
 * (struct s_dash), and the district objects are built from them after it.
 *
 * Handlers run on the sync loop's thread (knute/http.h): a read
 * transaction here never waits for, nor holds up, a sync commit.
 */
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd_sync.h"
#include "creq.h"
#include "cweb.h"
#include "knute/error.h"
#include "knute/ktime.h"
#include "rules.h"

#define S_DAY_S 86400

/* What one walk collects; every table is keyed by record id. */
struct s_dash {
	const struct cli_week *week;
	json_t *rooms;	  /* {"hub", "name", "capacity", "open", "booked_s",
			   * "open_s", "known"} */
	json_t *acts;	  /* activities with an occurrence in the week: {"hub",
			   * "title", "category", "target", "room", "needed",
			   * "police", "occ": [[start, end], ...]} */
	json_t *assign;	  /* array of {"activity", "volunteer", "occurrence"} */
	json_t *vols;	  /* {"consent", "name", "police"} */
	json_t *langs;	  /* hub -> {language: count} */
	json_t *bookings; /* hub -> this week's booking occurrences */
};

/* ---- small helpers ---- */

/* counts[key] += n. */
static int s_add(json_t *counts, const char *key, json_int_t n)
{
	json_t *v = json_object_get(counts, key);
	return json_object_set_new(
	    counts, key, json_integer((v ? json_integer_value(v) : 0) + n));
}

/* The object under key in parent, made empty on first use. */
static json_t *s_child(json_t *parent, const char *key)
{
	json_t *c = json_object_get(parent, key);
	if (c)
		return c;
	c = json_object();
	if (!c || json_object_set_new(parent, key, c))
		return NULL;
	return c;
}

/* Seconds as hours, to the hundredth. */
static json_t *s_hours(json_int_t secs)
{
	return json_real(round((double)secs / 36.0) / 100.0);
}

static json_t *s_iso(int64_t t)
{
	char buf[KP_TIME_STRLEN];
	if (t <= 0)
		return json_null();
	kp_time_format_utc(t, buf);
	return json_string(buf);
}

/* Local date, weekday and "17:00-19:00" of an occurrence, set on o. */
static int s_local_when(json_t *o, int64_t start, int64_t end)
{
	char date[KP_TIME_STRLEN], time[32];
	int y, m, d, wd, min_a, min_b;

	kp_local_parts(start, &y, &m, &d, &wd, &min_a);
	kp_local_parts(end, NULL, NULL, NULL, NULL, &min_b);
	kp_date_format(y, m, d, date);
	snprintf(time, sizeof time, "%02d:%02d-%02d:%02d", min_a / 60,
		 min_a % 60, min_b / 60, min_b % 60);
	if (json_object_set_new(o, "start", s_iso(start)) ||
	    json_object_set_new(o, "end", s_iso(end)) ||
	    json_object_set_new(o, "date", json_string(date)) ||
	    json_object_set_new(o, "day", json_string(kp_weekday_name(wd))) ||
	    json_object_set_new(o, "time", json_string(time)))
		return KP_ENOMEM;
	return KP_OK;
}

static int s_str_cmp(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* The keys of obj in order; *keys is malloc()ed (NULL when empty). */
static int s_sorted_keys(const json_t *obj, const char ***keys, size_t *n)
{
	const char *key;
	json_t *v;
	size_t k = 0;

	*n = json_object_size(obj);
	*keys = NULL;
	if (!*n)
		return KP_OK;
	if (!(*keys = malloc(*n * sizeof **keys)))
		return KP_ENOMEM;
	json_object_foreach((json_t *)obj, key, v)(*keys)[k++] = key;
	qsort(*keys, *n, sizeof **keys, s_str_cmp);
	return KP_OK;
}

static int s_start_cmp(const void *a, const void *b)
{
	const json_t *x = *(const json_t *const *)a;
	const json_t *y = *(const json_t *const *)b;
	int c = strcmp(kp_rec_str(x, "start", ""), kp_rec_str(y, "start", ""));
	return c ? c : strcmp(kp_rec_str(x, "id", ""), kp_rec_str(y, "id", ""));
}

/* Sort an array of objects by "start" (ISO UTC text sorts as time). */
static int s_sort_by_start(json_t *arr)
{
	size_t n = json_array_size(arr), i;
	json_t **items, *v;

	if (n < 2)
		return KP_OK;
	if (!(items = malloc(n * sizeof *items)))
		return KP_ENOMEM;
	json_array_foreach(arr, i, v) items[i] = json_incref(v);
	qsort(items, n, sizeof *items, s_start_cmp);
	json_array_clear(arr);
	for (i = 0; i < n; i++)
		json_array_append_new(arr, items[i]);
	free(items);
	return json_array_size(arr) == n ? KP_OK : KP_ENOMEM;
}

/* ---- the walk ---- */

/* The room entry of id, made on first use (an activity or booking may
 * come before its room). */
static json_t *s_room(struct s_dash *d, const char *id, const char *hub)
{
	json_t *r = json_object_get(d->rooms, id);
	if (r)
		return r;
	r = json_pack("{ss,ss,sn,sI,sI,sb}", "id", id, "hub", hub, "name",
		      "booked_s", (json_int_t)0, "open_s", (json_int_t)0,
		      "known", 0);
	if (!r || json_object_set_new(d->rooms, id, r))
		return NULL;
	return r;
}

/* Opening seconds of a room in the week: its weekly "open" hours on each
 * of the seven dates (a room without them is open all 24 hours), minus
 * the dates of its closures. Hours count on the clock: a day with a
 * summer-time change still counts 24. */
static json_int_t s_open_secs(const struct cli_week *week, const json_t *rec)
{
	const json_t *open = json_object_get(rec, "open");
	const json_t *closures = json_object_get(rec, "closures");
	struct kp_week spans;
	char err[KP_ERR_MAX], date[KP_TIME_STRLEN];
	bool has_spans = false;
	json_int_t secs = 0;

	if (json_is_string(open) &&
	    kp_week_parse(json_string_value(open), &spans, err, sizeof err) ==
		KP_OK)
		has_spans = true;
	for (int day = 0; day < 7; day++) {
		int y, m, dd, wd;
		bool closed = false;
		size_t i;
		json_t *c;

		/* Noon of the day: clear of any summer-time shift. */
		kp_local_parts(week->from + (int64_t)day * S_DAY_S + 12 * 3600,
			       &y, &m, &dd, &wd, NULL);
		kp_date_format(y, m, dd, date);
		json_array_foreach(closures, i, c)
		{
			/* Dates in YYYY-MM-DD compare correctly as text. */
			if (strcmp(kp_rec_str(c, "from", ""), date) <= 0 &&
			    strcmp(kp_rec_str(c, "to", ""), date) >= 0)
				closed = true;
		}
		if (closed)
			continue;
		if (!has_spans) {
			secs += S_DAY_S;
			continue;
		}
		for (int k = 0; k < spans.nspans; k++)
			if (spans.spans[k].weekday == wd)
				secs += (spans.spans[k].to_min -
					 spans.spans[k].from_min) *
					60;
	}
	return secs;
}

/* The occurrences of a booking or activity that start in the week. */
struct s_occ {
	int64_t from, to;
	json_t *list; /* [[start, end], ...] */
};

static int s_occ_fn(int64_t start, int64_t end, void *arg)
{
	struct s_occ *o = arg;
	if (start >= o->to)
		return 1; /* in time order: nothing later counts */
	if (start < o->from)
		return 0;
	return json_array_append_new(
		   o->list,
		   json_pack("[II]", (json_int_t)start, (json_int_t)end))
		   ? KP_ENOMEM
		   : 0;
}

/* The week's occurrences of rec as a new array (empty for none). */
static json_t *s_week_occurrences(const struct cli_week *week,
				  const json_t *rec)
{
	struct s_occ o = {week->from, week->to, json_array()};
	struct kp_series s;
	int64_t *cancelled = NULL;
	int rc;

	if (!o.list)
		return NULL;
	if (kp_series_of(rec, &s, &cancelled) || s.start >= o.to) {
		free(cancelled);
		return o.list;
	}
	/* A malformed series counts what it gave before the error. */
	rc = kp_series_each(&s, s_occ_fn, &o);
	free(cancelled);
	if (rc == KP_ENOMEM) {
		json_decref(o.list);
		return NULL;
	}
	return o.list;
}

/* Add the booked seconds of occ (clipped to the week) to room. */
static int s_hold(struct s_dash *d, const char *room, const char *hub,
		  const json_t *occ)
{
	json_t *r, *pair;
	json_int_t secs = 0;
	size_t i;

	if (!room[0])
		return KP_OK;
	if (!(r = s_room(d, room, hub)))
		return KP_ENOMEM;
	json_array_foreach(occ, i, pair)
	{
		int64_t start = json_integer_value(json_array_get(pair, 0));
		int64_t end = json_integer_value(json_array_get(pair, 1));
		if (end > d->week->to)
			end = d->week->to;
		if (end > start)
			secs += end - start;
	}
	return s_add(r, "booked_s", secs) ? KP_ENOMEM : KP_OK;
}

static int s_take_room(struct s_dash *d, const char *idtext,
		       const struct kp_id *id, const json_t *rec)
{
	json_t *r = s_room(d, idtext, id->hub);
	const json_t *open = json_object_get(rec, "open");
	if (!r ||
	    json_object_set_new(r, "name",
				json_string(kp_rec_str(rec, "name", idtext))) ||
	    json_object_set_new(r, "capacity",
				json_integer(kp_rec_int(rec, "capacity", 0))) ||
	    json_object_set_new(r, "open",
				json_is_string(open)
				    ? json_incref((json_t *)open)
				    : json_null()) ||
	    json_object_set_new(r, "open_s",
				json_integer(s_open_secs(d->week, rec))) ||
	    json_object_set_new(r, "known", json_true()))
		return KP_ENOMEM;
	return KP_OK;
}

static int s_take_booking(struct s_dash *d, const char *idtext,
			  const struct kp_id *id, const json_t *rec)
{
	json_t *occ, *list = NULL, *pair;
	size_t i;
	int rc;

	if (!strcmp(kp_rec_str(rec, "status", ""), "cancelled"))
		return KP_OK;
	if (!(occ = s_week_occurrences(d->week, rec)))
		return KP_ENOMEM;
	rc = s_hold(d, kp_rec_str(rec, "room", ""), id->hub, occ);
	if (rc == KP_OK && json_array_size(occ)) {
		list = json_object_get(d->bookings, id->hub);
		if (!list && (!(list = json_array()) ||
			      json_object_set_new(d->bookings, id->hub, list)))
			rc = KP_ENOMEM;
	}
	json_array_foreach(occ, i, pair)
	{
		json_t *b;
		if (rc)
			break;
		b = json_pack("{ss,ss,ss,ss,ss}", "id", idtext, "org",
			      kp_rec_str(rec, "org", ""), "room",
			      kp_rec_str(rec, "room", ""), "status",
			      kp_rec_str(rec, "status", "confirmed"), "purpose",
			      kp_rec_str(rec, "purpose", ""));
		if (!b ||
		    s_local_when(b, json_integer_value(json_array_get(pair, 0)),
				 json_integer_value(json_array_get(pair, 1))) ||
		    json_array_append_new(list, b))
			rc = KP_ENOMEM;
	}
	json_decref(occ);
	return rc;
}

static int s_take_activity(struct s_dash *d, const char *idtext,
			   const struct kp_id *id, const json_t *rec)
{
	json_t *occ, *a;
	int rc;

	if (!strcmp(kp_rec_str(rec, "status", ""), "cancelled"))
		return KP_OK;
	if (!(occ = s_week_occurrences(d->week, rec)))
		return KP_ENOMEM;
	if (!json_array_size(occ)) {
		json_decref(occ);
		return KP_OK; /* not this week */
	}
	if ((rc = s_hold(d, kp_rec_str(rec, "room", ""), id->hub, occ))) {
		json_decref(occ);
		return rc;
	}
	a = json_pack("{ss,ss,ss,ss,ss,ss,sI,sb,so}", "id", idtext, "hub",
		      id->hub, "title", kp_rec_str(rec, "title", ""),
		      "category", kp_rec_str(rec, "category", "(none)"),
		      "target", kp_rec_str(rec, "target", "(none)"), "room",
		      kp_rec_str(rec, "room", ""), "needed",
		      (json_int_t)kp_rec_int(rec, "volunteers_needed", 0),
		      "police", kp_rec_bool(rec, "police_required", false),
		      "occ", occ);
	if (!a || json_object_set_new(d->acts, idtext, a))
		return KP_ENOMEM;
	return KP_OK;
}

static int s_take_volunteer(struct s_dash *d, const char *idtext,
			    const struct kp_id *id, const json_t *rec)
{
	bool consent =
	    kp_rec_bool(json_object_get(rec, "consent"), "share", false);
	json_t *langs = s_child(d->langs, id->hub), *v, *item;
	size_t i;

	if (!langs)
		return KP_ENOMEM;
	json_array_foreach(json_object_get(rec, "languages"), i, item)
	{
		if (json_is_string(item) &&
		    s_add(langs, json_string_value(item), 1))
			return KP_ENOMEM;
	}
	/* Central holds no personal field of a volunteer who did not
	 * consent; the rule is applied here as well. */
	v = json_pack("{sb,ss?,sb}", "consent", consent, "name",
		      consent ? kp_rec_str(rec, "name", NULL) : NULL, "police",
		      consent &&
			  json_is_object(json_object_get(rec, "police")));
	if (!v || json_object_set_new(d->vols, idtext, v))
		return KP_ENOMEM;
	return KP_OK;
}

static int s_walk_fn(const struct kp_id *id, const json_t *rec,
		     json_t *district, void *arg)
{
	struct s_dash *d = arg;
	char idtext[KP_ID_STRLEN];
	json_t *s;
	(void)district;

	kp_id_format(id, idtext);
	switch (id->kind) {
	case KP_ROOM:
		return s_take_room(d, idtext, id, rec);
	case KP_BOOKING:
		return s_take_booking(d, idtext, id, rec);
	case KP_ACTIVITY:
		return s_take_activity(d, idtext, id, rec);
	case KP_VOLUNTEER:
		return s_take_volunteer(d, idtext, id, rec);
	case KP_ASSIGNMENT:
		s = json_pack(
		    "{ss,ss,sO}", "activity", kp_rec_str(rec, "activity", ""),
		    "volunteer", kp_rec_str(rec, "volunteer", ""), "occurrence",
		    json_object_get(rec, "occurrence") ?: json_null());
		return !s || json_array_append_new(d->assign, s) ? KP_ENOMEM
								 : KP_OK;
	default:
		return KP_OK;
	}
}

/* ---- from the tables to the districts ---- */

/* How many volunteers an occurrence starting at start has: those
 * assigned to the whole series and those assigned to that date. */
static json_int_t s_assigned(const struct s_dash *d, const char *act,
			     int64_t start)
{
	json_int_t n = 0;
	size_t i;
	json_t *s;

	json_array_foreach(d->assign, i, s)
	{
		const json_t *occ = json_object_get(s, "occurrence");
		if (strcmp(kp_rec_str(s, "activity", ""), act))
			continue;
		if (!json_is_integer(occ) || json_integer_value(occ) == start)
			n++;
	}
	return n;
}

/* True when an assignment's occurrence (or its whole series) falls in
 * the activity's occurrences this week. */
static bool s_assignment_this_week(const json_t *s, const json_t *act)
{
	const json_t *occ = json_object_get(s, "occurrence"), *pair;
	size_t i;

	if (!json_is_integer(occ))
		return true;
	json_array_foreach(json_object_get(act, "occ"), i, pair)
	{
		if (json_integer_value(json_array_get(pair, 0)) ==
		    json_integer_value(occ))
			return true;
	}
	return false;
}

/* A district's figures that come from the walk's tables. With detail,
 * also its rooms, this week's activities (one entry per occurrence) and
 * bookings. */
static int s_district_figures(const struct s_dash *d, const char *hub,
			      json_t *out, bool detail)
{
	json_t *by_cat = json_object(), *by_tgt = json_object();
	json_t *rooms = json_array(), *lacking = json_array();
	json_t *police = json_array(), *acts = json_array(), *seen_pairs;
	json_int_t booked = 0, open = 0, unknown = 0, total = 0;
	const char **keys = NULL;
	size_t n = 0, k, i;
	int rc = KP_ENOMEM;
	json_t *r, *a, *s, *pair, *bookings;

	seen_pairs = json_object();
	if (!by_cat || !by_tgt || !rooms || !lacking || !police || !acts ||
	    !seen_pairs)
		goto out;

	/* Rooms, in id order; a room only referred to is left out. */
	if (s_sorted_keys(d->rooms, &keys, &n))
		goto out;
	for (k = 0; k < n; k++) {
		r = json_object_get(d->rooms, keys[k]);
		if (strcmp(kp_rec_str(r, "hub", ""), hub) ||
		    !kp_rec_bool(r, "known", false))
			continue;
		json_int_t b = kp_rec_int(r, "booked_s", 0);
		json_int_t o = kp_rec_int(r, "open_s", 0);
		booked += b;
		open += o;
		json_t *room =
		    json_pack("{ss,ss,so,so}", "id", keys[k], "name",
			      kp_rec_str(r, "name", keys[k]), "booked_hours",
			      s_hours(b), "open_hours", s_hours(o));
		if (room && detail &&
		    (json_object_set_new(
			 room, "capacity",
			 json_integer(kp_rec_int(r, "capacity", 0))) ||
		     json_object_set(room, "open", json_object_get(r, "open"))))
			goto out_room;
		if (!room || json_array_append_new(rooms, room))
			goto out;
		continue;
	out_room:
		json_decref(room);
		goto out;
	}
	free(keys);
	keys = NULL;

	/* Activities this week, in id order. */
	if (s_sorted_keys(d->acts, &keys, &n))
		goto out;
	for (k = 0; k < n; k++) {
		json_int_t needed, fewest = -1;
		a = json_object_get(d->acts, keys[k]);
		if (strcmp(kp_rec_str(a, "hub", ""), hub))
			continue;
		total++;
		if (s_add(by_cat, kp_rec_str(a, "category", "(none)"), 1) ||
		    s_add(by_tgt, kp_rec_str(a, "target", "(none)"), 1))
			goto out;
		needed = kp_rec_int(a, "needed", 0);
		json_array_foreach(json_object_get(a, "occ"), i, pair)
		{
			int64_t start =
			    json_integer_value(json_array_get(pair, 0));
			int64_t end =
			    json_integer_value(json_array_get(pair, 1));
			json_int_t have = s_assigned(d, keys[k], start);
			if (fewest < 0 || have < fewest)
				fewest = have;
			if (!detail)
				continue;
			const char *room = kp_rec_str(a, "room", "");
			json_t *rr = json_object_get(d->rooms, room);
			json_t *o = json_pack(
			    "{ss,ss,ss,ss,so,so,sI,sI}", "id", keys[k], "title",
			    kp_rec_str(a, "title", ""), "category",
			    kp_rec_str(a, "category", ""), "target",
			    kp_rec_str(a, "target", ""), "room",
			    room[0] ? json_string(room) : json_null(),
			    "room_name",
			    rr && kp_rec_bool(rr, "known", false)
				? json_string(kp_rec_str(rr, "name", room))
				: json_null(),
			    "assigned", have, "needed", needed);
			if (!o || s_local_when(o, start, end) ||
			    json_array_append_new(acts, o))
				goto out;
		}
		if (needed > 0 && fewest < needed) {
			json_t *l = json_pack(
			    "{ss,ss,sI,sI}", "id", keys[k], "title",
			    kp_rec_str(a, "title", ""), "needed", needed,
			    "assigned", fewest < 0 ? 0 : fewest);
			if (!l || json_array_append_new(lacking, l))
				goto out;
		}
	}

	/* Assignments this week to activities that require a police
	 * certificate, once per activity and volunteer. */
	json_array_foreach(d->assign, i, s)
	{
		const char *act = kp_rec_str(s, "activity", "");
		const char *vid = kp_rec_str(s, "volunteer", "");
		char pairkey[2 * KP_ID_STRLEN + 2];
		json_t *v;

		a = json_object_get(d->acts, act);
		if (!a || strcmp(kp_rec_str(a, "hub", ""), hub) ||
		    !kp_rec_bool(a, "police", false) ||
		    !s_assignment_this_week(s, a))
			continue;
		snprintf(pairkey, sizeof pairkey, "%s %s", act, vid);
		if (json_object_get(seen_pairs, pairkey))
			continue;
		if (json_object_set_new(seen_pairs, pairkey, json_true()))
			goto out;
		v = json_object_get(d->vols, vid);
		if (!v || !kp_rec_bool(v, "consent", false)) {
			unknown++;
			continue;
		}
		if (kp_rec_bool(v, "police", false))
			continue;
		json_t *m = json_pack("{ss,ss,ss}", "activity", act, "title",
				      kp_rec_str(a, "title", ""), "volunteer",
				      kp_rec_str(v, "name", vid));
		if (!m || json_array_append_new(police, m))
			goto out;
	}

	if (json_object_set_new(out, "activities_week",
				json_pack("{sI,sO,sO}", "total", total,
					  "by_category", by_cat, "by_target",
					  by_tgt)) ||
	    json_object_set_new(out, "room_use",
				json_pack("{so,so,sO}", "booked_hours",
					  s_hours(booked), "open_hours",
					  s_hours(open), "rooms", rooms)) ||
	    json_object_set(out, "lacking_volunteers", lacking) ||
	    json_object_set(out, "missing_police", police) ||
	    json_object_set_new(out, "police_unknown", json_integer(unknown)))
		goto out;
	if (detail) {
		bookings = json_object_get(d->bookings, hub);
		bookings = bookings ? json_incref(bookings) : json_array();
		if (!bookings || s_sort_by_start(bookings) ||
		    s_sort_by_start(acts) ||
		    json_object_set_new(out, "bookings", bookings) ||
		    json_object_set(out, "activities", acts) ||
		    json_object_set(out, "rooms", rooms))
			goto out;
	}
	rc = KP_OK;
out:
	free(keys);
	json_decref(by_cat);
	json_decref(by_tgt);
	json_decref(rooms);
	json_decref(lacking);
	json_decref(police);
	json_decref(acts);
	json_decref(seen_pairs);
	return rc;
}

/* ---- the overview ---- */

struct s_view {
	struct cweb *w;
	const struct cli_week *week;
	const char *only; /* one district (with detail), or NULL: all */
	json_t *hubs;	  /* registry rows */
	json_t *list;	  /* the overview's districts */
	struct s_dash dash;
};

static int s_view_txn(kp_txn *txn, void *arg)
{
	struct s_view *v = arg;
	int online_s = (v->w->offline_ms + 999) / 1000;

	/* A retried read starts again from nothing. */
	json_array_clear(v->hubs);
	json_object_clear(v->dash.rooms);
	json_object_clear(v->dash.acts);
	json_array_clear(v->dash.assign);
	json_object_clear(v->dash.vols);
	json_object_clear(v->dash.langs);
	json_object_clear(v->dash.bookings);
	json_decref(v->list);
	v->list = NULL;
	int rc = cli_hubs_json(txn, kp_now(), online_s, true, v->hubs);
	if (rc)
		return rc;
	return cli_overview_json(txn, v->week, s_walk_fn, &v->dash, &v->list);
}

static void s_view_free(struct s_view *v)
{
	json_decref(v->hubs);
	json_decref(v->list);
	json_decref(v->dash.rooms);
	json_decref(v->dash.acts);
	json_decref(v->dash.assign);
	json_decref(v->dash.vols);
	json_decref(v->dash.langs);
	json_decref(v->dash.bookings);
}

static const json_t *s_hub_row(const json_t *hubs, const char *hub)
{
	size_t i;
	json_t *row;
	json_array_foreach(hubs, i, row)
	{
		if (!strcmp(kp_rec_str(row, "id", ""), hub))
			return row;
	}
	return NULL;
}

/* One district of the API from the overview's district ov. */
static json_t *s_district(const struct s_view *v, const json_t *ov, bool detail)
{
	const char *hub = kp_rec_str(ov, "hub", "");
	const json_t *row = s_hub_row(v->hubs, hub);
	const json_t *vol = json_object_get(ov, "volunteers");
	const json_t *langs = json_object_get(v->dash.langs, hub);
	bool online = row && kp_rec_bool(row, "online", false);
	int64_t seen = row ? kp_rec_int(row, "seen_s", 0) : 0;
	int64_t up = row ? kp_rec_int(row, "up_s", 0) : 0;
	json_t *named = json_array(), *who, *d;
	size_t i;

	if (!named)
		return NULL;
	json_array_foreach(json_object_get(vol, "consenting"), i, who)
	{
		if (json_array_append(named, json_object_get(who, "name"))) {
			json_decref(named);
			return NULL;
		}
	}
	d = json_pack(
	    "{ss,ss,sb,so,so,sI,sI,sI,sI,s{sI,sO,so,so}}", "hub", hub, "name",
	    row ? kp_rec_str(row, "name", hub) : kp_rec_str(ov, "name", hub),
	    "online", online, "since",
	    s_iso(online ? (up > 0 ? up : seen) : seen), "last_seen",
	    s_iso(seen), "applied_seq",
	    (json_int_t)(row ? kp_rec_int(row, "applied_seq", 0) : 0),
	    "backlog", (json_int_t)(row ? kp_rec_int(row, "backlog", 0) : 0),
	    "dead_letters",
	    (json_int_t)(row ? kp_rec_int(row, "dead_letters", 0) : 0),
	    "bookings_week",
	    (json_int_t)kp_rec_int(ov, "bookings_this_week", 0), "volunteers",
	    "count", (json_int_t)kp_rec_int(vol, "count", 0), "by_skill",
	    json_object_get(vol, "by_skill"), "by_language",
	    langs ? json_incref((json_t *)langs) : json_object(), "named",
	    named);
	if (d && s_district_figures(&v->dash, hub, d, detail)) {
		json_decref(d);
		return NULL;
	}
	return d;
}

/* Sum the counts of src into dst. */
static int s_merge_counts(json_t *dst, const json_t *src)
{
	const char *key;
	json_t *val;
	json_object_foreach((json_t *)src, key, val)
	{
		if (s_add(dst, key, json_integer_value(val)))
			return KP_ENOMEM;
	}
	return KP_OK;
}

static json_t *s_totals(const json_t *districts)
{
	json_t *t = json_pack(
	    "{sI,sI,sI,sI,s{sI,s{},s{}},sI,s{sf,sf},s{sI,s{},s{},sI},sI,sI,"
	    "sI}",
	    "districts", (json_int_t)json_array_size(districts), "online",
	    (json_int_t)0, "backlog", (json_int_t)0, "dead_letters",
	    (json_int_t)0, "activities_week", "total", (json_int_t)0,
	    "by_category", "by_target", "bookings_week", (json_int_t)0,
	    "room_use", "booked_hours", 0.0, "open_hours", 0.0, "volunteers",
	    "count", (json_int_t)0, "by_skill", "by_language", "consented",
	    (json_int_t)0, "lacking_volunteers", (json_int_t)0,
	    "missing_police", (json_int_t)0, "police_unknown", (json_int_t)0);
	json_t *d;
	size_t i;

	if (!t)
		return NULL;
	json_array_foreach(districts, i, d)
	{
		json_t *aw = json_object_get(d, "activities_week");
		json_t *ru = json_object_get(d, "room_use");
		json_t *vo = json_object_get(d, "volunteers");
		json_t *taw = json_object_get(t, "activities_week");
		json_t *tru = json_object_get(t, "room_use");
		json_t *tvo = json_object_get(t, "volunteers");
		if (s_add(t, "online", kp_rec_bool(d, "online", false)) ||
		    s_add(t, "backlog", kp_rec_int(d, "backlog", 0)) ||
		    s_add(t, "dead_letters",
			  kp_rec_int(d, "dead_letters", 0)) ||
		    s_add(taw, "total", kp_rec_int(aw, "total", 0)) ||
		    s_merge_counts(json_object_get(taw, "by_category"),
				   json_object_get(aw, "by_category")) ||
		    s_merge_counts(json_object_get(taw, "by_target"),
				   json_object_get(aw, "by_target")) ||
		    s_add(t, "bookings_week",
			  kp_rec_int(d, "bookings_week", 0)) ||
		    s_add(tvo, "count", kp_rec_int(vo, "count", 0)) ||
		    s_merge_counts(json_object_get(tvo, "by_skill"),
				   json_object_get(vo, "by_skill")) ||
		    s_merge_counts(json_object_get(tvo, "by_language"),
				   json_object_get(vo, "by_language")) ||
		    s_add(tvo, "consented",
			  (json_int_t)json_array_size(
			      json_object_get(vo, "named"))) ||
		    s_add(t, "lacking_volunteers",
			  (json_int_t)json_array_size(
			      json_object_get(d, "lacking_volunteers"))) ||
		    s_add(t, "missing_police",
			  (json_int_t)json_array_size(
			      json_object_get(d, "missing_police"))) ||
		    s_add(t, "police_unknown",
			  kp_rec_int(d, "police_unknown", 0))) {
			json_decref(t);
			return NULL;
		}
		for (int k = 0; k < 2; k++) {
			const char *f = k ? "open_hours" : "booked_hours";
			double sum = json_real_value(json_object_get(tru, f)) +
				     json_real_value(json_object_get(ru, f));
			json_object_set_new(tru, f,
					    json_real(round(sum * 100) / 100));
		}
	}
	return t;
}

/* The week of ?week=YYYY-MM-DD, or this week; false with a 400 set. */
static bool s_week_arg(const struct kp_http_req *req, struct kp_http_res *res,
		       struct cli_week *week)
{
	const char *arg = kp_http_arg(req, "week");
	int64_t t = kp_now();
	int y, m, d;

	if (arg &&
	    (kp_date_parse(arg, &y, &m, &d) || kp_date_start(y, m, d, &t))) {
		kp_http_error(res, 400,
			      "week '%.40s' is not a date: give "
			      "?week=YYYY-MM-DD, any day of the week wanted "
			      "(e.g. ?week=2026-11-23)",
			      arg);
		return false;
	}
	if (cli_week_of(t, week)) {
		kp_http_error(res, 400,
			      "the week of '%.40s' cannot be worked out in "
			      "this time zone: give another date",
			      arg ? arg : "today");
		return false;
	}
	return true;
}

static void s_store_error(struct cweb *w, struct kp_http_res *res, int rc)
{
	kp_http_error(res, 500,
		      "central's store could not be read (%s%s%s): see "
		      "knute-central's log",
		      kp_strerror(rc), kp_store_detail(w->store)[0] ? ": " : "",
		      kp_store_detail(w->store));
}

static bool s_view_new(struct s_view *v)
{
	v->hubs = json_array();
	v->dash.rooms = json_object();
	v->dash.acts = json_object();
	v->dash.assign = json_array();
	v->dash.vols = json_object();
	v->dash.langs = json_object();
	v->dash.bookings = json_object();
	return v->hubs && v->dash.rooms && v->dash.acts && v->dash.assign &&
	       v->dash.vols && v->dash.langs && v->dash.bookings;
}

/* GET /api/overview and GET /api/districts/HUB (only not NULL). */
static void s_overview(struct cweb *w, const struct kp_http_req *req,
		       struct kp_http_res *res, const char *only)
{
	struct cli_week week;
	struct s_view v = {.w = w, .week = &week, .only = only};
	json_t *districts = NULL, *ov, *body, *d;
	size_t i;
	int rc;

	if (only && !kp_hub_id_valid(only)) {
		kp_http_error(res, 404,
			      "'%.40s' is not a district id: ids look like "
			      "'fjell' (GET /api/overview lists them)",
			      only);
		return;
	}
	if (!s_week_arg(req, res, &week))
		return;
	v.dash.week = &week;
	if (!s_view_new(&v)) {
		kp_http_error(res, 500, "out of memory");
		goto out;
	}
	if ((rc = kp_store_read(w->store, s_view_txn, &v))) {
		s_store_error(w, res, rc);
		goto out;
	}
	if (!(districts = json_array())) {
		kp_http_error(res, 500, "out of memory");
		goto out;
	}
	json_array_foreach(v.list, i, ov)
	{
		if (only && strcmp(kp_rec_str(ov, "hub", ""), only))
			continue;
		if (!(d = s_district(&v, ov, only != NULL)) ||
		    json_array_append_new(districts, d)) {
			kp_http_error(res, 500, "out of memory");
			goto out;
		}
	}
	if (only && !json_array_size(districts)) {
		kp_http_error(res, 404,
			      "no district '%s' at this central: GET "
			      "/api/overview lists them",
			      only);
		goto out;
	}
	if (only) {
		body = json_incref(json_array_get(districts, 0));
		json_object_set_new(body, "municipality",
				    json_string(kp_store_name(w->store)));
	} else {
		body = json_pack("{ss,so}", "municipality",
				 kp_store_name(w->store), "totals",
				 s_totals(districts));
		if (body)
			json_object_set(body, "districts", districts);
	}
	if (!body ||
	    json_object_set_new(body, "week_start", json_string(week.monday)) ||
	    json_object_set_new(body, "week_end", json_string(week.sunday)) ||
	    json_object_set_new(body, "week_number",
				json_integer(week.number)) ||
	    json_object_set_new(body, "timezone",
				json_string(getenv("TZ") && getenv("TZ")[0]
						? getenv("TZ")
						: KP_TZ_DEFAULT)) ||
	    json_object_set_new(body, "generated", s_iso(kp_now()))) {
		json_decref(body);
		kp_http_error(res, 500, "out of memory");
		goto out;
	}
	kp_http_json(res, 200, body);
out:
	json_decref(districts);
	s_view_free(&v);
}

/* ---- /metrics ---- */

/* A Prometheus label value: backslash, double quote and newline
 * escaped. */
static void s_label(FILE *f, const char *v)
{
	for (; *v; v++) {
		if (*v == '\\' || *v == '"')
			fprintf(f, "\\%c", *v);
		else if (*v == '\n')
			fputs("\\n", f);
		else
			fputc(*v, f);
	}
}

struct s_gauge {
	const char *name, *help, *field;
};

static int s_hubs_txn(kp_txn *txn, void *arg)
{
	struct s_view *v = arg;
	json_array_clear(v->hubs);
	return cli_hubs_json(txn, kp_now(), (v->w->offline_ms + 999) / 1000,
			     true, v->hubs);
}

static void s_metrics(struct cweb *w, struct kp_http_res *res)
{
	static const struct s_gauge gauges[] = {
	    {"knute_hub_online",
	     "1 when central heard from the hub within the offline time.",
	     "online"},
	    {"knute_hub_backlog_changes",
	     "Changes the hub reported that central has not applied yet.",
	     "backlog"},
	    {"knute_hub_applied_seq",
	     "The highest seq of the hub that central applied.", "applied_seq"},
	    {"knute_hub_seconds_since_seen",
	     "Seconds since central last heard from the hub (sync lag).",
	     "seen_s"},
	    {"knute_hub_dead_letters",
	     "Entries of the hub that central refused.", "dead_letters"},
	};
	const struct csync_stats *st = w->stats;
	struct s_view v = {.w = w};
	int64_t now = kp_now();
	char *buf = NULL;
	size_t len = 0, i;
	json_t *row;
	FILE *f;
	int rc;

	if (!(v.hubs = json_array())) {
		kp_http_error(res, 500, "out of memory");
		return;
	}
	if ((rc = kp_store_read(w->store, s_hubs_txn, &v))) {
		json_decref(v.hubs);
		s_store_error(w, res, rc);
		return;
	}
	if (!(f = open_memstream(&buf, &len))) {
		json_decref(v.hubs);
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
	for (size_t g = 0; g < sizeof gauges / sizeof gauges[0]; g++) {
		fprintf(f, "# HELP %s %s\n# TYPE %s gauge\n", gauges[g].name,
			gauges[g].help, gauges[g].name);
		json_array_foreach(v.hubs, i, row)
		{
			json_t *val = json_object_get(row, gauges[g].field);
			long long n = json_is_true(val) ? 1
				      : json_is_integer(val)
					  ? json_integer_value(val)
					  : 0;
			if (!strcmp(gauges[g].field, "seen_s")) {
				if (n <= 0)
					continue; /* never seen: no sample */
				n = now - n;
			}
			fprintf(f, "%s{hub=\"", gauges[g].name);
			s_label(f, kp_rec_str(row, "id", ""));
			fprintf(f, "\"} %lld\n", n);
		}
	}
	json_decref(v.hubs);
	if (fclose(f)) {
		free(buf);
		kp_http_error(res, 500, "out of memory");
		return;
	}
	kp_http_bytes(res, 200, "text/plain; version=0.0.4; charset=utf-8", buf,
		      len);
}

/* ---- requests from the district page ---- */

/* "17:00" on the local date y-m-d as an instant. */
static int s_local_time(int y, int m, int d, const char *hhmm, int64_t *out)
{
	int min;
	if (kp_hhmm_parse(hhmm, &min))
		return KP_EINVAL;
	return kp_local_make(y, m, d, min, out);
}

int cweb_request_fields(const json_t *body, json_t **fields, char *err)
{
	const char *date = kp_rec_str(body, "date", NULL);
	const char *start = kp_rec_str(body, "start", NULL);
	const char *end = kp_rec_str(body, "end", NULL);
	int64_t from, to;
	int y, m, d;
	const char *key;
	json_t *val;

	*fields = NULL;
	if (!json_is_object(body)) {
		snprintf(err, KP_ERR_MAX, "the request must be a JSON object");
		return KP_EINVAL;
	}
	if (!date || kp_date_parse(date, &y, &m, &d)) {
		snprintf(err, KP_ERR_MAX,
			 "\"date\" must be a local date YYYY-MM-DD, e.g. "
			 "\"2026-12-01\"");
		return KP_EINVAL;
	}
	if (s_local_time(y, m, d, start, &from) ||
	    s_local_time(y, m, d, end, &to)) {
		snprintf(err, KP_ERR_MAX,
			 "\"start\" and \"end\" must be local times HH:MM "
			 "that exist on %s in %s, e.g. \"17:00\" and "
			 "\"19:00\"",
			 date, KP_TZ_DEFAULT);
		return KP_EINVAL;
	}
	if (to <= from) {
		snprintf(err, KP_ERR_MAX,
			 "\"end\" (%s) must be after \"start\" (%s)", end,
			 start);
		return KP_EINVAL;
	}
	if (!(*fields = json_object()))
		return KP_ENOMEM;
	json_object_foreach((json_t *)body, key, val)
	{
		if (!strcmp(key, "hub") || !strcmp(key, "kind") ||
		    !strcmp(key, "date"))
			continue;
		if (!strcmp(key, "room") && json_is_string(val) &&
		    !json_string_length(val))
			continue; /* an activity without a room */
		if (json_object_set(*fields, key, val))
			goto out_nomem;
	}
	if (json_object_set_new(*fields, "start", json_integer(from)) ||
	    json_object_set_new(*fields, "end", json_integer(to)))
		goto out_nomem;
	return KP_OK;
out_nomem:
	json_decref(*fields);
	*fields = NULL;
	return KP_ENOMEM;
}

/* ---- routing ---- */

/* GET /api/requests[?hub=ID]: every request, newest last. */
static void s_requests_list(struct cweb *w, const struct kp_http_req *req,
			    struct kp_http_res *res)
{
	const char *hub = kp_http_arg(req, "hub");
	json_t *list;
	int rc;

	if (hub && !kp_hub_id_valid(hub)) {
		kp_http_error(
		    res, 400,
		    "hub '%.64s' is not a hub id: lower-case letters, "
		    "digits and '-', e.g. fjell",
		    hub);
		return;
	}
	if ((rc = creq_list(w->store, hub, &list))) {
		kp_http_error(res, 500, "cannot read the requests: %s",
			      kp_strerror(rc));
		return;
	}
	kp_http_json(res, 200, list);
}

/* POST /api/requests {"hub", "kind", "date", "start", "end", fields...}:
 * store a request for the hub (creq_add), answer 202 with it. */
static void s_requests_add(struct cweb *w, const struct kp_http_req *req,
			   struct kp_http_res *res)
{
	json_t *body = kp_http_body_object(req, res), *fields, *out = NULL;
	const char *hub, *kind;
	char err[KP_ERR_MAX];
	int rc;

	if (!body)
		return;
	hub = kp_rec_str(body, "hub", NULL);
	kind = kp_rec_str(body, "kind", NULL);
	if (!hub || !*hub) {
		kp_http_error(res, 400,
			      "say which hub is asked: \"hub\": \"fjell\"");
	} else if (!kind ||
		   (strcmp(kind, "booking") && strcmp(kind, "activity"))) {
		kp_http_error(res, 400,
			      "\"kind\" must be \"booking\" or "
			      "\"activity\"");
	} else if ((rc = cweb_request_fields(body, &fields, err))) {
		kp_http_error(res, 400, "%s", err);
	} else if ((rc = creq_add(w->store, hub,
				  kind[0] == 'b' ? KP_BOOKING : KP_ACTIVITY,
				  fields, &out, err))) {
		if (rc == KP_EINVAL)
			kp_http_error(res, 400, "%s", err);
		else
			kp_http_error(res, 500,
				      "the request was not stored: %s",
				      kp_strerror(rc));
	} else {
		kp_http_json(res, 202, out);
	}
	json_decref(body);
}

void cweb_handle(void *arg, const struct kp_http_req *req,
		 struct kp_http_res *res)
{
	struct cweb *w = arg;
	const char *p = req->path;
	bool get = !strcmp(req->method, "GET") || !strcmp(req->method, "HEAD");

	if (!strcmp(p, "/metrics")) {
		if (get)
			s_metrics(w, res);
		else
			kp_http_error(res, 405, "/metrics is only read (GET)");
	} else if (!strcmp(p, "/api/overview")) {
		if (get)
			s_overview(w, req, res, NULL);
		else
			kp_http_error(res, 405,
				      "/api/overview is only read (GET)");
	} else if (!strcmp(p, "/api/requests")) {
		if (get)
			s_requests_list(w, req, res);
		else if (!strcmp(req->method, "POST"))
			s_requests_add(w, req, res);
		else
			kp_http_error(res, 405,
				      "/api/requests takes GET or POST");
	} else if (!strncmp(p, "/api/districts/", 15) && p[15]) {
		if (get)
			s_overview(w, req, res, p + 15);
		else
			kp_http_error(res, 405,
				      "a district's figures are only read "
				      "(GET)");
	}
}
