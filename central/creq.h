/*
 * creq.h - central requests (DESIGN.md section 3): a booking or an
 * activity that central asks a hub to add. Central never writes a hub's
 * record itself: it stores the request durably here, knute-central
 * delivers it to the owning hub as a COMMAND when the hub is connected,
 * the hub executes it under the same rules as a local write (hub/ops.h)
 * and its COMMAND_RESULT is recorded here (docs/protocol.md, "Central
 * requests").
 *
 * A request is a JSON object:
 *
 *   id       "q7": "q" and the request's number, counted 1, 2, 3 ... per
 *            central store (what people see and type)
 *   number   7
 *   token    32 hex digits, random, made at creation: the hub's
 *            idempotency key (a central restored from an older copy may
 *            hand a number out again, never a token)
 *   hub      the hub that is asked, e.g. "fjell"
 *   kind     "booking" or "activity"
 *   fields   the record's fields, instants as UTC seconds
 *   state    "pending", "accepted" or "refused"
 *   reason   why it was refused, one sentence; null otherwise
 *   result   the new record's id once accepted ("fjell:b42"); else null
 *   created, updated   ISO 8601 UTC ("2026-12-01T16:00:00Z")
 *
 * Stored in table KP_T_REQS under the be64 number as a msgpack map with
 * the same fields, instants as UTC seconds and no "id"; meta "req_head"
 * is the highest number handed out, and moves with every new request, so
 * knute-central notices one written by another process with a read of
 * one meta key.
 */
#ifndef KNUTE_CREQ_H
#define KNUTE_CREQ_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "knute/store.h"

/*
 * Check and store a request at central: hub must be in central's
 * registry (a hub that has connected once), kind KP_BOOKING or
 * KP_ACTIVITY, fields valid for kind (kp_model_validate(), the schedule
 * check of hub/ops.h), and a room, when there is one, a room of hub
 * ("r1" is read as hub's r1). "id", "kind" and "hub" in the fields are
 * dropped; a missing "status" becomes "confirmed" (booking) or "active".
 * fields is stolen (freed whatever happens). On KP_OK the request is
 * committed, pending, and *req_out (when req_out is not NULL) holds it as
 * above (the caller frees it). KP_EINVAL with one sentence in err
 * (KP_ERR_MAX bytes) when anything is wrong, nothing written; or the
 * store's error.
 */
int creq_add(kp_store *central, const char *hub, char kind, json_t *fields,
	     json_t **req_out, char *err);

/* Every request, or only hub's when hub is not NULL, in number order, as
 * a new JSON array in *out (the caller frees it). */
int creq_list(kp_store *central, const char *hub, json_t **out);

/* The request with that number in *out (the caller frees it);
 * KP_ENOTFOUND when there is none. */
int creq_get(kp_store *central, uint64_t number, json_t **out);

/* "q7" or "7" to 7; KP_EINVAL for anything else. */
int creq_parse_id(const char *text, uint64_t *number);

/* ---- for knute-central (inside its transactions) ---- */

/* The highest request number handed out (0 when none). */
int creq_txn_head(kp_txn *txn, uint64_t *head);

/* Call fn for each pending request with a number >= from, in order;
 * fields is the request's fields as msgpack (valid for the call). */
typedef int (*creq_pending_fn)(uint64_t number, const char *token,
			       const char *hub, const char *kind,
			       const void *fields, size_t len, void *arg);
int creq_txn_pending(kp_txn *txn, uint64_t from, creq_pending_fn fn, void *arg);

/* Record a hub's answer to request number: state "accepted" (result the
 * new id) or "refused" (reason). *changed is false, and nothing is
 * written, when the request is not there, has another token (it is not
 * the request the hub answered), comes from another hub, or was decided
 * already. KP_EINVAL for a state that is neither. */
int creq_txn_result(kp_txn *txn, uint64_t number, const char *token,
		    const char *hub, const char *state, const char *result,
		    const char *reason, bool *changed);

#endif
