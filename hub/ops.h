/*
 * ops.h - the writes that come to a hub from more than one door: the
 * command line, the hub's web API and central's requests. Whichever way a
 * booking or an activity arrives, it gets the same checks (the schema, the
 * schedule, the room's owner) and the same clash rule, in one transaction.
 */
#ifndef KNUTE_OPS_H
#define KNUTE_OPS_H

#include <jansson.h>
#include <stdbool.h>

#include "knute/store.h"
#include "model.h"
#include "rules.h"

struct kp_op {
	json_t *rec;	 /* in: the fields; out: the record written */
	bool skip;	 /* book the free dates, skip those that clash */
	struct kp_id id; /* out: the new record's id */
	struct kp_clashes clashes; /* out: the dates refused or skipped */
	char err[KP_ERR_MAX];	   /* out: why it was refused, one sentence */
};

/*
 * Add a booking or an activity (kind) with the fields in op->rec, which
 * this call owns from then on (op->rec is replaced by the record as
 * written). "id", "kind" and "hub" in the fields are ignored; a booking
 * without "status" is confirmed, an activity without one active.
 * KP_OK, or: KP_EINVAL (a field is wrong, or the room is another hub's),
 * KP_ENOTFOUND (no such room), KP_ECLASH (a date clashes: op->clashes
 * names the holders), each with op->err set and nothing written; or the
 * store's error. Free with kp_op_free().
 */
int kp_op_add(kp_store *store, char kind, struct kp_op *op);

/*
 * kp_op_add() with one more write in the same transaction: after the
 * record is written (op->id and op->rec are the new record's), fn runs
 * with arg; a non-zero return aborts the whole transaction, record and
 * all, and is returned (op->err is then left empty). fn may run more than
 * once (the map grew), so it must leave no trace outside the transaction.
 * Central's requests use it to write the request's result with the
 * record, so a hub killed at any instant executes a request at most once.
 */
typedef int (*kp_op_extra_fn)(kp_txn *txn, const struct kp_op *op, void *arg);
int kp_op_add_with(kp_store *store, char kind, struct kp_op *op,
		   kp_op_extra_fn fn, void *arg);

/* The transaction body of kp_op_add(), for callers that check the fields
 * themselves: a new id, the room's slots, the record. */
int kp_op_add_txn(kp_txn *txn, void *op);

/* The schedule check of kp_op_add(): KP_EINVAL with err set when the
 * series is not valid or has no dates; options names the command line's
 * options in err rather than the fields. */
int kp_op_series_check(const json_t *rec, bool options, char *err);

void kp_op_free(struct kp_op *op);

/* Make text valid UTF-8 in place: a byte that starts no well-formed
 * sequence (a character cut short by a bounded printf, or bytes from the
 * wire) becomes '?'. op->err has been through it. */
void kp_utf8_clean(char *text);

/*
 * Attendance: a volunteer's status at one occurrence of an activity, the
 * rule of 'knute activity attend' and of the web API. The volunteer must
 * be assigned to the series or to that occurrence; there is one record
 * per volunteer and occurrence, so recording it again changes its status.
 */
struct kp_attend {
	struct kp_id activity, volunteer; /* in */
	int year, month, day;		  /* in: the occurrence's local date */
	const char *status;		  /* in: present, no-show or excused */
	bool options;	      /* in: err names the command line's commands */
	json_t *rec;	      /* out: the record written (kp_attend_free) */
	struct kp_id id;      /* out: its id */
	bool updated;	      /* out: an existing record was changed */
	int64_t occurrence;   /* out: the occurrence's start */
	char err[KP_ERR_MAX]; /* out: why it was refused, one sentence */
};

/* Record it in one write transaction. KP_OK; or, with a->err set and
 * nothing written: KP_ENOTFOUND (no such activity or volunteer, or no
 * occurrence on the date), KP_EINVAL (a bad status, or the volunteer is
 * not assigned); or the store's error (a->err empty). */
int kp_op_attend(kp_store *store, struct kp_attend *a);
void kp_attend_free(struct kp_attend *a);

#endif
