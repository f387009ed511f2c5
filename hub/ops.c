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

int kp_op_add(kp_store *store, char kind, struct kp_op *op)
{
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
	rc = kp_store_write(store, kp_op_add_txn, op);
	if (rc)
		s_refusal(op, what, rc);
	return rc;
}

void kp_op_free(struct kp_op *op)
{
	json_decref(op->rec);
	op->rec = NULL;
	kp_clashes_free(&op->clashes);
}
