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

/* The transaction body of kp_op_add(), for callers that check the fields
 * themselves: a new id, the room's slots, the record. */
int kp_op_add_txn(kp_txn *txn, void *op);

/* The schedule check of kp_op_add(): KP_EINVAL with err set when the
 * series is not valid or has no dates; options names the command line's
 * options in err rather than the fields. */
int kp_op_series_check(const json_t *rec, bool options, char *err);

void kp_op_free(struct kp_op *op);

#endif
