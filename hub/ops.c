/*
 * ops.c - adding bookings and activities the same way from every door.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "knute/error.h"
#include "ops.h"

static int s_count_one(int64_t start, int64_t end, void *arg)
{
	(void)start;
	(void)end;
	++*(size_t *)arg;
	return KP_OK;
}

int kp_op_series_check(const json_t *rec, bool options, char *err)
{
	struct kp_series s;
	int64_t *cancelled = NULL;
	size_t n = 0;
	int rc = kp_series_of(rec, &s, &cancelled);

	if (rc == KP_OK)
		rc = kp_series_each(&s, s_count_one, &n);
	free(cancelled);
	if (rc == KP_ENOMEM)
		return rc;
	if (rc) {
		snprintf(err, KP_ERR_MAX,
			 "the schedule is not valid: %s must not be before "
			 "the first date, and a series has at most %d dates",
			 options ? "--until" : "until", KP_SERIES_MAX);
		return KP_EINVAL;
	}
	if (n == 0) {
		snprintf(err, KP_ERR_MAX, "the schedule has no dates: check %s",
			 options ? "--from, --days and --until"
				 : "start, days and until");
		return KP_EINVAL;
	}
	return KP_OK;
}

int kp_op_add_txn(kp_txn *txn, void *arg)
{
	struct kp_op *op = arg;
	json_t *rec = json_deep_copy(op->rec); /* the txn may run again */
	int rc;

	kp_clashes_free(&op->clashes);
	if (!rec)
		return KP_ENOMEM;
	if ((rc = kp_txn_new_id(txn, op->id.kind, &op->id)) ||
	    ((op->id.kind == KP_BOOKING || json_object_get(rec, "room")) &&
	     (rc = kp_hold_room(txn, &op->id, rec, op->skip, &op->clashes))) ||
	    (rc = kp_txn_put(txn, &op->id, rec))) {
		json_decref(rec);
		return rc;
	}
	json_decref(op->rec);
	op->rec = rec;
	return KP_OK;
}

/* op->err for a refusal from the transaction. */
static void s_refusal(struct kp_op *op, const char *what, int rc)
{
	const char *room = kp_rec_str(op->rec, "room", "?");
	char line[512];

	if (rc == KP_ENOTFOUND) {
		snprintf(op->err, sizeof op->err, "no room %s at this hub",
			 room);
	} else if (rc == KP_EINVAL) {
		snprintf(op->err, sizeof op->err,
			 "room %s is not a room of this hub", room);
	} else if (rc == KP_ECLASH && op->clashes.n) {
		kp_clash_describe(&op->clashes.items[0], line, sizeof line);
		if (op->clashes.n == 1)
			snprintf(op->err, sizeof op->err, "%s refused: %.400s",
				 what, line);
		else
			snprintf(op->err, sizeof op->err,
				 "%s refused: %zu of its dates clash, the "
				 "first: %.380s",
				 what, op->clashes.n, line);
	}
}

struct s_with {
	struct kp_op *op;
	kp_op_extra_fn fn;
	void *arg;
	bool extra_failed; /* the failure came from fn */
};

static int s_with_txn(kp_txn *txn, void *arg)
{
	struct s_with *w = arg;
	int rc = kp_op_add_txn(txn, w->op);

	w->extra_failed = false;
	if (rc || !w->fn)
		return rc;
	rc = w->fn(txn, w->op, w->arg);
	w->extra_failed = rc != KP_OK;
	return rc;
}

static int s_add(kp_store *store, char kind, struct kp_op *op,
		 kp_op_extra_fn fn, void *arg)
{
	struct s_with w = {.op = op, .fn = fn, .arg = arg};
	const char *what = kind == KP_BOOKING ? "booking" : "activity";
	const char *hub = kp_store_hub(store);
	json_t *room;
	int rc;

	op->err[0] = 0;
	memset(&op->id, 0, sizeof op->id);
	op->id.kind = kind;
	if (kind != KP_BOOKING && kind != KP_ACTIVITY) {
		snprintf(op->err, sizeof op->err,
			 "only bookings and activities are added this way");
		return KP_EINVAL;
	}
	if (!json_is_object(op->rec)) {
		snprintf(op->err, sizeof op->err,
			 "the %s must be a JSON object of its fields", what);
		return KP_EINVAL;
	}
	json_object_del(op->rec, "id");
	json_object_del(op->rec, "kind");
	json_object_del(op->rec, "hub");
	if (!json_object_get(op->rec, "status"))
		json_object_set_new(
		    op->rec, "status",
		    json_string(kind == KP_BOOKING ? "confirmed" : "active"));
	room = json_object_get(op->rec, "room");
	if (kind == KP_BOOKING && !room) {
		snprintf(op->err, sizeof op->err,
			 "say which room: a booking needs \"room\"");
		return KP_EINVAL;
	}
	if (room) {
		struct kp_id rid;
		char text[KP_ID_STRLEN], why[KP_ERR_MAX];
		if (!json_is_string(room) ||
		    kp_id_parse(json_string_value(room), hub, KP_ROOM, &rid,
				why)) {
			snprintf(op->err, sizeof op->err, "room: %.400s",
				 json_is_string(room) ? why
						      : "must be a room id");
			return KP_EINVAL;
		}
		if (strcmp(rid.hub, hub)) {
			snprintf(op->err, sizeof op->err,
				 "room %s is not a room of this hub (%s)",
				 json_string_value(room), hub);
			return KP_EINVAL;
		}
		kp_id_format(&rid, text);
		json_object_set_new(op->rec, "room", json_string(text));
	}
	if (kp_model_validate(kind, op->rec, op->err))
		return KP_EINVAL;
	if ((rc = kp_op_series_check(op->rec, false, op->err)))
		return rc;
	rc = kp_store_write(store, s_with_txn, &w);
	if (rc && !w.extra_failed)
		s_refusal(op, what, rc);
	return rc;
}

int kp_op_add_with(kp_store *store, char kind, struct kp_op *op,
		   kp_op_extra_fn fn, void *arg)
{
	int rc = s_add(store, kind, op, fn, arg);
	/* A bounded printf may have cut a character of a name. */
	kp_utf8_clean(op->err);
	return rc;
}

int kp_op_add(kp_store *store, char kind, struct kp_op *op)
{
	return kp_op_add_with(store, kind, op, NULL, NULL);
}

void kp_op_free(struct kp_op *op)
{
	json_decref(op->rec);
	op->rec = NULL;
	kp_clashes_free(&op->clashes);
}

/* ---- attendance ---- */

/* Assignment or attendance records of one volunteer and activity at one
 * occurrence. */
struct s_match {
	const char *volunteer, *activity;
	int64_t occ;
	bool series; /* an assignment of the whole series */
	bool exact;  /* a record of exactly this occurrence */
	struct kp_id exact_id;
};

static int s_match_row(const struct kp_id *id, json_t *rec, void *arg)
{
	struct s_match *m = arg;
	const json_t *occ = json_object_get(rec, "occurrence");

	if (strcmp(kp_rec_str(rec, "volunteer", ""), m->volunteer) ||
	    strcmp(kp_rec_str(rec, "activity", ""), m->activity))
		return KP_OK;
	if (!json_is_integer(occ)) {
		m->series = true;
	} else if (json_integer_value(occ) == m->occ) {
		m->exact = true;
		m->exact_id = *id;
	}
	return KP_OK;
}

/* Fetch id into *rec, or say in a->err that there is none. */
static int s_attend_get(kp_txn *txn, struct kp_attend *a,
			const struct kp_id *id, json_t **rec)
{
	char text[KP_ID_STRLEN];
	int rc = kp_txn_get(txn, id, rec);

	if (rc == KP_ENOTFOUND) {
		const char *kind = kp_kind_name(id->kind);
		kp_id_format(id, text);
		if (a->options)
			snprintf(a->err, sizeof a->err,
				 "no %s %s here: 'knute %s list' shows them",
				 kind, text, kind);
		else
			snprintf(a->err, sizeof a->err, "no %s %s at this hub",
				 kind, text);
	}
	return rc;
}

static int s_attend_txn(kp_txn *txn, void *arg)
{
	struct kp_attend *a = arg;
	char act[KP_ID_STRLEN], vol[KP_ID_STRLEN], date[KP_TIME_STRLEN];
	struct s_match assigned = {.volunteer = vol, .activity = act};
	struct s_match seen = {.volunteer = vol, .activity = act};
	json_t *activity = NULL, *volunteer = NULL, *rec = NULL;
	int64_t end;
	int rc;

	json_decref(a->rec);
	a->rec = NULL;
	a->updated = false;
	a->err[0] = 0;
	kp_id_format(&a->activity, act);
	kp_id_format(&a->volunteer, vol);
	kp_date_format(a->year, a->month, a->day, date);
	if ((rc = s_attend_get(txn, a, &a->activity, &activity)) ||
	    (rc = s_attend_get(txn, a, &a->volunteer, &volunteer)))
		goto out;
	rc = kp_occurrence_on(activity, a->year, a->month, a->day,
			      &a->occurrence, &end);
	if (rc == KP_ENOTFOUND) {
		if (a->options)
			snprintf(a->err, sizeof a->err,
				 "activity %s does not take place on %s: "
				 "'knute activity show %s' shows its schedule",
				 act, date, act);
		else
			snprintf(a->err, sizeof a->err,
				 "activity %s does not take place on %s: "
				 "give a date of its schedule",
				 act, date);
	}
	if (rc)
		goto out;
	assigned.occ = seen.occ = a->occurrence;
	if ((rc = kp_txn_each(txn, KP_ASSIGNMENT, s_match_row, &assigned)) ||
	    (rc = kp_txn_each(txn, KP_ATTENDANCE, s_match_row, &seen)))
		goto out;
	if (!assigned.series && !assigned.exact) {
		if (a->options)
			snprintf(a->err, sizeof a->err,
				 "volunteer %s is not assigned to activity %s "
				 "on %s: assign them first with 'knute "
				 "activity assign %s --volunteer %s [--date "
				 "%s]'",
				 vol, act, date, act, vol, date);
		else
			snprintf(a->err, sizeof a->err,
				 "volunteer %s is not assigned to activity %s "
				 "on %s: assign them first (knute activity "
				 "assign)",
				 vol, act, date);
		rc = KP_EINVAL;
		goto out;
	}
	if (seen.exact) {
		/* One record per volunteer and occurrence: change it. */
		a->updated = true;
		a->id = seen.exact_id;
		if ((rc = kp_txn_get(txn, &a->id, &rec)))
			goto out;
		json_object_set_new(rec, "status", json_string(a->status));
	} else {
		rec = json_pack("{sssssIss}", "volunteer", vol, "activity", act,
				"occurrence", (json_int_t)a->occurrence,
				"status", a->status);
		if (!rec) {
			rc = KP_ENOMEM;
			goto out;
		}
	}
	if (kp_model_validate(KP_ATTENDANCE, rec, a->err)) {
		rc = KP_EINVAL;
		goto out;
	}
	if ((!a->updated && (rc = kp_txn_new_id(txn, KP_ATTENDANCE, &a->id))) ||
	    (rc = kp_txn_put(txn, &a->id, rec)))
		goto out;
	a->rec = json_incref(rec);
out:
	json_decref(activity);
	json_decref(volunteer);
	json_decref(rec);
	return rc;
}

int kp_op_attend(kp_store *store, struct kp_attend *a)
{
	a->err[0] = 0;
	if (!a->status || !kp_in_list(kp_attendance_states, a->status)) {
		snprintf(a->err, sizeof a->err,
			 "give the attendance: %s present, no-show or excused",
			 a->options ? "--status" : "status");
		return KP_EINVAL;
	}
	return kp_store_write(store, s_attend_txn, a);
}

void kp_attend_free(struct kp_attend *a)
{
	json_decref(a->rec);
	a->rec = NULL;
}

/* The length of the well-formed UTF-8 sequence at s, or 0 (RFC 3629: no
 * overlong forms, no surrogates, nothing above U+10FFFF). */
static size_t s_utf8_len(const unsigned char *s)
{
	size_t n = *s < 0x80		 ? 1
		   : (*s & 0xe0) == 0xc0 ? 2
		   : (*s & 0xf0) == 0xe0 ? 3
		   : (*s & 0xf8) == 0xf0 ? 4
					 : 0;
	if (n == 0 || (n == 2 && *s < 0xc2) || (n == 4 && *s > 0xf4))
		return 0;
	for (size_t i = 1; i < n; i++)
		if ((s[i] & 0xc0) != 0x80)
			return 0;
	if (n == 3 &&
	    ((*s == 0xe0 && s[1] < 0xa0) || (*s == 0xed && s[1] >= 0xa0)))
		return 0;
	if (n == 4 &&
	    ((*s == 0xf0 && s[1] < 0x90) || (*s == 0xf4 && s[1] >= 0x90)))
		return 0;
	return n;
}

void kp_utf8_clean(char *text)
{
	unsigned char *s = (unsigned char *)text;
	while (*s) {
		size_t n = s_utf8_len(s);
		if (n == 0)
			*s++ = '?';
		else
			s += n;
	}
}
