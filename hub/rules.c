/*
 * rules.c - the clash rule, series, police certificates, erasure.
 *
 * The clash rule, for one occurrence [start, end) of a booking or an
 * activity in a room:
 *   1. the room must be open for the whole interval (no hours = always);
 *   2. no closure of the room may touch a local date the interval touches;
 *   3. no slot of the room held by a confirmed or pending booking, or by an
 *      activity, may overlap it (half-open: back to back is fine).
 * A series is checked occurrence by occurrence and every refusal is
 * collected, so the user sees all clashing dates at once.
 */
#include "rules.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "knute/error.h"

void kp_clashes_free(struct kp_clashes *c)
{
	if (!c)
		return;
	free(c->items);
	memset(c, 0, sizeof *c);
}

static int s_clash_add(struct kp_clashes *c, const struct kp_clash *item)
{
	if (c->n == c->cap) {
		size_t cap = c->cap ? c->cap * 2 : 8;
		struct kp_clash *grown = realloc(c->items, cap * sizeof *grown);
		if (!grown)
			return KP_ENOMEM;
		c->items = grown;
		c->cap = cap;
	}
	c->items[c->n++] = *item;
	return KP_OK;
}

/* "2026-12-01 17:00-19:00", or with the end's date when it differs. */
static void s_span_text(int64_t start, int64_t end, char *buf, size_t len)
{
	char a[KP_TIME_STRLEN], b[KP_TIME_STRLEN];
	kp_time_format(start, a);
	kp_time_format(end, b);
	if (!strncmp(a, b, 10))
		snprintf(buf, len, "%s-%s", a, b + 11);
	else
		snprintf(buf, len, "%s - %s", a, b);
}

void kp_clash_describe(const struct kp_clash *c, char *buf, size_t len)
{
	char when[80], other[80], id[KP_ID_STRLEN];
	s_span_text(c->start, c->end, when, sizeof when);
	switch (c->why) {
	case KP_CLASH_BOOKED:
		kp_id_format(&c->with.owner, id);
		s_span_text(c->with.start, c->with.end, other, sizeof other);
		snprintf(buf, len, "%s clashes with %s %s (%s, %s)", when,
			 kp_kind_name(c->with.owner.kind), id, c->with_org,
			 other);
		break;
	case KP_CLASH_HOURS:
		snprintf(buf, len, "%s is outside the room's opening hours",
			 when);
		break;
	case KP_CLASH_CLOSED:
		snprintf(buf, len, "%s falls on a closure of the room (%s)",
			 when, c->reason[0] ? c->reason : "closed");
		break;
	}
}

int kp_series_of(const json_t *rec, struct kp_series *s, int64_t **cancelled)
{
	const json_t *list = json_object_get(rec, "cancelled");
	const char *days = kp_rec_str(rec, "days", NULL);
	const char *until = kp_rec_str(rec, "until", NULL);
	size_t i;
	json_t *item;

	memset(s, 0, sizeof *s);
	*cancelled = NULL;
	s->start = kp_rec_int(rec, "start", 0);
	s->end = kp_rec_int(rec, "end", 0);
	s->weekly = kp_rec_bool(rec, "weekly", false);
	if (days && kp_days_parse(days, &s->days_mask))
		return KP_EINVAL;
	if (until && kp_date_parse(until, &s->until_year, &s->until_month,
				   &s->until_day))
		return KP_EINVAL;
	if (json_array_size(list)) {
		*cancelled = malloc(json_array_size(list) * sizeof **cancelled);
		if (!*cancelled)
			return KP_ENOMEM;
		json_array_foreach(list, i, item)(*cancelled)[i] =
		    json_integer_value(item);
		s->cancelled = *cancelled;
		s->ncancelled = json_array_size(list);
	}
	return KP_OK;
}

/* The room's rules, parsed once per check. */
struct s_room {
	struct kp_id id;
	bool has_hours;
	struct kp_week hours;
	const json_t *closures;
};

struct s_hold {
	kp_txn *txn;
	const struct kp_id *owner;
	struct s_room room;
	struct kp_clashes *out;
	bool apply;	 /* second pass: add the slots */
	json_t *skipped; /* starts refused in the first pass */
};

static bool s_closed(const json_t *closures, int64_t start, int64_t end,
		     char *reason)
{
	int y, m, d;
	char first[KP_TIME_STRLEN], last[KP_TIME_STRLEN];
	size_t i;
	json_t *c;

	kp_local_parts(start, &y, &m, &d, NULL, NULL);
	kp_date_format(y, m, d, first);
	/* The last instant inside the interval is end - 1. */
	kp_local_parts(end - 1, &y, &m, &d, NULL, NULL);
	kp_date_format(y, m, d, last);
	json_array_foreach(closures, i, c)
	{
		/* Dates in YYYY-MM-DD compare correctly as text. */
		if (strcmp(kp_rec_str(c, "from", ""), last) <= 0 &&
		    strcmp(kp_rec_str(c, "to", ""), first) >= 0) {
			snprintf(reason, KP_NAME_MAX + 1, "%s",
				 kp_rec_str(c, "reason", ""));
			return true;
		}
	}
	return false;
}

/* The organisation of a slot's holder, for the clash message. */
static void s_holder_org(kp_txn *txn, const struct kp_id *owner, char *org)
{
	json_t *rec;
	org[0] = 0;
	if (kp_txn_get(txn, owner, &rec) == KP_OK) {
		snprintf(
		    org, KP_NAME_MAX + 1, "%s",
		    kp_rec_str(rec, "org", kp_rec_str(rec, "organiser", "")));
		json_decref(rec);
	}
}

static int s_hold_one(int64_t start, int64_t end, void *arg)
{
	struct s_hold *h = arg;
	struct kp_clash c = {.start = start, .end = end};
	struct kp_slot slot = {.start = start, .end = end, .owner = *h->owner};
	int rc;

	if (h->apply) {
		/* Occurrences of one series that overlap each other (a
		 * booking longer than the gap between its days) are refused
		 * here, before the index could hold two overlapping slots. */
		rc =
		    kp_txn_slot_find(h->txn, h->room.id.n, start, end, &c.with);
		if (rc == KP_ECLASH) {
			c.why = KP_CLASH_BOOKED;
			s_holder_org(h->txn, &c.with.owner, c.with_org);
			s_clash_add(h->out, &c);
		}
		if (rc)
			return rc;
		return kp_txn_slot_add(h->txn, h->room.id.n, &slot);
	}
	if (h->room.has_hours && !kp_week_covers(&h->room.hours, start, end)) {
		c.why = KP_CLASH_HOURS;
	} else if (s_closed(h->room.closures, start, end, c.reason)) {
		c.why = KP_CLASH_CLOSED;
	} else {
		rc =
		    kp_txn_slot_find(h->txn, h->room.id.n, start, end, &c.with);
		if (rc == KP_OK) {
			h->out->booked++;
			return KP_OK;
		}
		if (rc != KP_ECLASH)
			return rc;
		c.why = KP_CLASH_BOOKED;
		s_holder_org(h->txn, &c.with.owner, c.with_org);
	}
	if (json_array_append_new(h->skipped, json_integer(start)))
		return KP_ENOMEM;
	return s_clash_add(h->out, &c);
}

static int s_load_room(kp_txn *txn, const json_t *rec, struct s_room *room,
		       json_t **room_rec)
{
	char err[KP_ERR_MAX];
	const char *hours;
	int rc;

	if (kp_id_parse(kp_rec_str(rec, "room", ""),
			kp_store_hub(kp_txn_store(txn)), KP_ROOM, &room->id,
			err))
		return KP_EINVAL;
	if (strcmp(room->id.hub, kp_store_hub(kp_txn_store(txn))))
		return KP_EINVAL; /* rooms of other hubs are theirs to book */
	if ((rc = kp_txn_get(txn, &room->id, room_rec)))
		return rc;
	hours = kp_rec_str(*room_rec, "open", "");
	room->has_hours = hours[0] != 0;
	if (room->has_hours &&
	    kp_week_parse(hours, &room->hours, err, sizeof err))
		return KP_ECORRUPT;
	room->closures = json_object_get(*room_rec, "closures");
	return KP_OK;
}

int kp_hold_room(kp_txn *txn, const struct kp_id *owner, json_t *rec, bool skip,
		 struct kp_clashes *out)
{
	struct s_hold h = {.txn = txn, .owner = owner, .out = out};
	struct kp_series s;
	int64_t *cancelled = NULL;
	json_t *room_rec = NULL;
	int rc;

	if ((rc = s_load_room(txn, rec, &h.room, &room_rec)))
		goto out;
	if ((rc = kp_series_of(rec, &s, &cancelled)))
		goto out;
	if (!(h.skipped = json_array())) {
		rc = KP_ENOMEM;
		goto out;
	}
	/* First pass: check every occurrence, slots untouched. */
	if ((rc = kp_series_each(&s, s_hold_one, &h)))
		goto out;
	if (out->n && (!skip || out->booked == 0)) {
		rc = KP_ECLASH;
		goto out;
	}
	if (out->n) {
		/* Skipped occurrences become cancelled ones of the series. */
		json_t *list = json_object_get(rec, "cancelled");
		if (!list) {
			json_object_set_new(rec, "cancelled", json_array());
			list = json_object_get(rec, "cancelled");
		}
		if (json_array_extend(list, h.skipped)) {
			rc = KP_ENOMEM;
			goto out;
		}
		free(cancelled);
		if ((rc = kp_series_of(rec, &s, &cancelled)))
			goto out;
	}
	/* Second pass: take the free slots. */
	h.apply = true;
	rc = kp_series_each(&s, s_hold_one, &h);
out:
	json_decref(h.skipped);
	json_decref(room_rec);
	free(cancelled);
	return rc;
}

struct s_release {
	kp_txn *txn;
	const struct kp_id *owner;
	uint64_t room;
	int64_t from;
};

static int s_release_one(int64_t start, int64_t end, void *arg)
{
	struct s_release *r = arg;
	struct kp_slot slot = {.start = start, .end = end, .owner = *r->owner};
	if (start < r->from)
		return KP_OK;
	return kp_txn_slot_del(r->txn, r->room, &slot);
}

static int s_room_of(kp_txn *txn, const json_t *rec, uint64_t *room)
{
	struct kp_id id;
	char err[KP_ERR_MAX];
	const char *text = kp_rec_str(rec, "room", NULL);
	*room = 0;
	if (!text)
		return KP_ENOTFOUND;
	if (kp_id_parse(text, kp_store_hub(kp_txn_store(txn)), KP_ROOM, &id,
			err))
		return KP_ECORRUPT;
	*room = id.n;
	return KP_OK;
}

int kp_release_room(kp_txn *txn, const struct kp_id *owner, const json_t *rec)
{
	return kp_release_after(txn, owner, rec, INT64_MIN);
}

int kp_release_after(kp_txn *txn, const struct kp_id *owner, const json_t *rec,
		     int64_t from)
{
	struct s_release r = {.txn = txn, .owner = owner, .from = from};
	struct kp_series s;
	int64_t *cancelled;
	int rc = s_room_of(txn, rec, &r.room);
	if (rc)
		return rc == KP_ENOTFOUND ? KP_OK : rc;
	if ((rc = kp_series_of(rec, &s, &cancelled)) == KP_OK)
		rc = kp_series_each(&s, s_release_one, &r);
	free(cancelled);
	return rc;
}

int kp_release_one(kp_txn *txn, const struct kp_id *owner, const json_t *rec,
		   int64_t start, int64_t end)
{
	struct s_release r = {.txn = txn, .owner = owner, .from = INT64_MIN};
	int rc = s_room_of(txn, rec, &r.room);
	if (rc)
		return rc == KP_ENOTFOUND ? KP_OK : rc;
	return s_release_one(start, end, &r);
}

struct s_find_date {
	int y, m, d;
	int64_t start, end;
};

static int s_find_date(int64_t start, int64_t end, void *arg)
{
	struct s_find_date *f = arg;
	int y, m, d;
	kp_local_parts(start, &y, &m, &d, NULL, NULL);
	if (y == f->y && m == f->m && d == f->d) {
		f->start = start;
		f->end = end;
		return 1;
	}
	return 0;
}

int kp_occurrence_on(const json_t *rec, int year, int month, int day,
		     int64_t *start, int64_t *end)
{
	struct s_find_date f = {year, month, day, 0, 0};
	struct kp_series s;
	int64_t *cancelled;
	int rc = kp_series_of(rec, &s, &cancelled);
	if (rc == KP_OK)
		rc = kp_series_each(&s, s_find_date, &f);
	free(cancelled);
	if (rc == 1) {
		*start = f.start;
		*end = f.end;
		return KP_OK;
	}
	return rc ? rc : KP_ENOTFOUND;
}

int kp_police_check(const json_t *volunteer, const json_t *activity)
{
	const json_t *police = json_object_get(volunteer, "police");
	if (!kp_rec_bool(activity, "police_required", false))
		return KP_OK;
	return json_is_object(police) ? KP_OK : KP_EPOLICE;
}

bool kp_week_contains(const struct kp_week *have, const struct kp_week *want)
{
	for (int i = 0; i < want->nspans; i++) {
		const struct kp_span *w = &want->spans[i];
		bool inside = false;
		for (int j = 0; j < have->nspans && !inside; j++) {
			const struct kp_span *h = &have->spans[j];
			inside = h->weekday == w->weekday &&
				 h->from_min <= w->from_min &&
				 h->to_min >= w->to_min;
		}
		if (!inside)
			return false;
	}
	return true;
}

struct s_scrub {
	kp_txn *txn;
	const char *id;
};

static int s_scrub_entry(uint64_t seq, json_t *entry, void *arg)
{
	struct s_scrub *s = arg;
	json_t *rec = json_object_get(entry, "rec");
	bool changed = false;

	if (strcmp(kp_rec_str(entry, "id", ""), s->id) || !json_is_object(rec))
		return KP_OK;
	for (const char *const *f = kp_personal_fields; *f; f++)
		if (json_object_del(rec, *f) == 0)
			changed = true;
	if (json_object_del(rec, "erased") == 0 || changed)
		json_object_set_new(rec, "erased", json_true());
	return changed ? kp_txn_oplog_rewrite(s->txn, seq, entry) : KP_OK;
}

int kp_volunteer_erase(kp_txn *txn, const struct kp_id *id)
{
	char text[KP_ID_STRLEN];
	struct s_scrub s = {txn, text};
	int rc;

	kp_id_format(id, text);
	if ((rc = kp_txn_delete(txn, id)))
		return rc;
	return kp_txn_oplog_each(txn, 1, s_scrub_entry, &s);
}
