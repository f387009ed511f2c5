/*
 * rules.h - the hub's rules over its own records: the clash rule for rooms,
 * recurring series, the police-certificate rule, erasure. Used by the
 * command line, the import and (later) the daemon executing central's
 * requests, so a write follows the same rules whichever way it comes.
 *
 * Every function here runs inside a write or read transaction of the store;
 * a refusal returns an error and the caller aborts the transaction, so a
 * refused write leaves nothing behind.
 */
#ifndef KNUTE_RULES_H
#define KNUTE_RULES_H

#include <jansson.h>
#include <stdbool.h>

#include "knute/ktime.h"
#include "knute/store.h"

/* Why one occurrence cannot have its room. */
enum kp_clash_why {
	KP_CLASH_BOOKED, /* another booking or activity holds the slot */
	KP_CLASH_HOURS,	 /* outside the room's opening hours */
	KP_CLASH_CLOSED, /* on a closure day */
};

struct kp_clash {
	int64_t start, end; /* the occurrence refused */
	enum kp_clash_why why;
	struct kp_slot with;		/* KP_CLASH_BOOKED: the holder */
	char with_org[KP_NAME_MAX + 1]; /* its organisation or organiser */
	char reason[KP_NAME_MAX + 1];	/* KP_CLASH_CLOSED: the closure's */
};

/* The clashes found by one check; free with kp_clashes_free(). */
struct kp_clashes {
	size_t n, cap;
	struct kp_clash *items;
	size_t booked; /* occurrences that got their slot */
};

void kp_clashes_free(struct kp_clashes *c);
/* One line per clash, for the user: "2026-12-01 17:00-19:00 clashes with
 * booking fjell:b3 (Røde Kors, 2026-12-01 16:00-18:00)". */
void kp_clash_describe(const struct kp_clash *c, char *buf, size_t len);

/* Read the series fields of a booking or activity. *cancelled is an array
 * the caller frees (it may be NULL when there are none). */
int kp_series_of(const json_t *rec, struct kp_series *s, int64_t **cancelled);

/*
 * Give owner's occurrences their slots in rec's room. With skip false, any
 * clash refuses the whole series (KP_ECLASH, every clash listed in out).
 * With skip true the free occurrences are booked, the clashing ones are
 * added to rec's "cancelled" list and listed in out, and KP_OK is returned
 * if at least one occurrence was booked. KP_ENOTFOUND if the room does not
 * exist (out says nothing then).
 */
int kp_hold_room(kp_txn *txn, const struct kp_id *owner, json_t *rec, bool skip,
		 struct kp_clashes *out);
/* Release the slots of every occurrence of rec (owner's). */
int kp_release_room(kp_txn *txn, const struct kp_id *owner, const json_t *rec);
/* Release the slots of the occurrences that start at or after from. */
int kp_release_after(kp_txn *txn, const struct kp_id *owner, const json_t *rec,
		     int64_t from);
/* Release one occurrence's slot. */
int kp_release_one(kp_txn *txn, const struct kp_id *owner, const json_t *rec,
		   int64_t start, int64_t end);

/* The occurrence of rec on a local date; KP_ENOTFOUND if none. */
int kp_occurrence_on(const json_t *rec, int year, int month, int day,
		     int64_t *start, int64_t *end);

/* KP_EPOLICE when activity requires a police certificate and volunteer
 * has shown none. */
int kp_police_check(const json_t *volunteer, const json_t *activity);

/* True when every span of want lies inside a span of have on its day. */
bool kp_week_contains(const struct kp_week *have, const struct kp_week *want);

/* Erase volunteer id: delete the record and strip the personal fields from
 * every oplog entry about it. */
int kp_volunteer_erase(kp_txn *txn, const struct kp_id *id);

#endif
