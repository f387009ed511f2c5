/*
 * creq.c - central requests (see creq.h).
 *
 * NOTES ON THE DESIGN
 *
 * A request is written once when it is made (pending) and once more when
 * its hub answers (accepted or refused); both writes are one transaction
 * each. The number comes from meta "req_head" in the transaction that
 * stores the request, so two processes adding at once (the command line
 * and the daemon's web API) get different numbers: LMDB serialises the
 * writers. What the hub keys on is the token, so a number handed out
 * twice (central restored from an older copy) can never make a hub take a
 * new request for one it executed.
 */
#include "creq.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "codec.h"
#include "knute/error.h"
#include "knute/ktime.h"
#include "model.h"
#include "ops.h"

#define S_HEAD_KEY "req_head"

int creq_txn_head(kp_txn *txn, uint64_t *head)
{
	return kp_txn_meta_u64(txn, S_HEAD_KEY, head);
}

int creq_parse_id(const char *text, uint64_t *number)
{
	char *end;
	unsigned long long n;

	if (text[0] == 'q' || text[0] == 'Q')
		text++;
	if (text[0] < '0' || text[0] > '9')
		return KP_EINVAL;
	n = strtoull(text, &end, 10);
	if (*end || n == 0 || n == UINT64_MAX)
		return KP_EINVAL;
	*number = n;
	return KP_OK;
}

/* The stored request under number, decoded; KP_ENOTFOUND when none. */
static int s_load(kp_txn *txn, uint64_t number, json_t **req)
{
	uint8_t key[8];
	const void *v;
	size_t vlen;
	int rc;

	*req = NULL;
	kp_be64_put(key, number);
	if ((rc = kp_txn_tget(txn, KP_T_REQS, key, 8, &v, &vlen)))
		return rc;
	return kp_codec_decode(v, vlen, req);
}

static int s_store(kp_txn *txn, uint64_t number, const json_t *req)
{
	struct kp_buf buf = {0};
	uint8_t key[8];
	int rc;

	kp_be64_put(key, number);
	if ((rc = kp_codec_encode(req, &buf)) == KP_OK)
		rc = kp_txn_tput(txn, KP_T_REQS, key, 8, buf.data, buf.len, 0);
	kp_buf_free(&buf);
	return rc;
}

/* The request as people and programs see it (creq.h): a new object. */
static json_t *s_public(const json_t *stored)
{
	char id[32], created[KP_TIME_STRLEN], updated[KP_TIME_STRLEN];
	uint64_t n = (uint64_t)kp_rec_int(stored, "number", 0);
	json_t *reason = json_object_get(stored, "reason");
	json_t *result = json_object_get(stored, "result");
	json_t *fields = json_object_get(stored, "fields");

	snprintf(id, sizeof id, "q%" PRIu64, n);
	kp_time_format_utc(kp_rec_int(stored, "created", 0), created);
	kp_time_format_utc(kp_rec_int(stored, "updated", 0), updated);
	return json_pack(
	    "{sssIsssssssssOsOsOssss}", "id", id, "number", (json_int_t)n,
	    "token", kp_rec_str(stored, "token", ""), "hub",
	    kp_rec_str(stored, "hub", ""), "kind",
	    kp_rec_str(stored, "kind", ""), "state",
	    kp_rec_str(stored, "state", ""), "reason",
	    json_is_string(reason) ? reason : json_null(), "result",
	    json_is_string(result) ? result : json_null(), "fields",
	    fields ? fields : json_null(), "created", created, "updated",
	    updated);
}

/* ---- adding ---- */

struct s_add {
	const char *hub;
	char kind;
	json_t *fields;
	char *err;
	uint64_t number;
	char token[2 * 16 + 1];
	json_t *stored; /* the request as written */
};

static int s_known_hub(const void *k, size_t klen, const void *v, size_t vlen,
		       void *arg)
{
	struct s_add *a = arg;
	size_t used = strlen(a->err);
	(void)v;
	(void)vlen;
	if (used + klen + 8 < KP_ERR_MAX)
		snprintf(a->err + used, KP_ERR_MAX - used, "%s%.*s",
			 used ? ", " : "", (int)klen, (const char *)k);
	return KP_OK;
}

static int s_add_txn(kp_txn *txn, void *arg)
{
	struct s_add *a = arg;
	const void *v;
	size_t vlen;
	int64_t now = kp_now();
	int rc;

	rc = kp_txn_tget(txn, KP_T_HUBS, a->hub, strlen(a->hub), &v, &vlen);
	if (rc == KP_ENOTFOUND) {
		char known[KP_ERR_MAX];
		a->err[0] = 0;
		if ((rc = kp_txn_teach(txn, KP_T_HUBS, NULL, 0, NULL, 0,
				       s_known_hub, a)))
			return rc;
		snprintf(known, sizeof known, "%s", a->err);
		if (known[0])
			snprintf(a->err, KP_ERR_MAX,
				 "no hub '%s' is known at central: give one "
				 "of %.400s ('knute hubs' lists them)",
				 a->hub, known);
		else
			snprintf(a->err, KP_ERR_MAX,
				 "no hub '%s' is known at central: no hub has "
				 "connected yet, and a hub is known once its "
				 "knute-hub has connected",
				 a->hub);
		return KP_EINVAL;
	}
	if (rc || (rc = creq_txn_head(txn, &a->number)))
		return rc;
	a->number++;
	json_decref(a->stored);
	a->stored = json_pack(
	    "{sIsssssssOsssnsnsIsI}", "number", (json_int_t)a->number, "token",
	    a->token, "hub", a->hub, "kind", kp_kind_name(a->kind), "fields",
	    a->fields, "state", "pending", "reason", "result", "created",
	    (json_int_t)now, "updated", (json_int_t)now);
	if (!a->stored)
		return KP_ENOMEM;
	char head[32];
	snprintf(head, sizeof head, "%" PRIu64, a->number);
	if ((rc = s_store(txn, a->number, a->stored)) ||
	    (rc = kp_txn_meta_put(txn, S_HEAD_KEY, head)))
		return rc;
	return KP_OK;
}

/* Check the fields as kp_op_add() will at the hub, as far as central
 * can: the schema, the schedule, and that the room is the hub's. */
static int s_check(const char *hub, char kind, json_t *fields, char *err)
{
	const char *what = kind == KP_BOOKING ? "booking" : "activity";
	json_t *room;

	if (!json_is_object(fields)) {
		snprintf(err, KP_ERR_MAX,
			 "the %s must be a JSON object of its fields", what);
		return KP_EINVAL;
	}
	json_object_del(fields, "id");
	json_object_del(fields, "kind");
	json_object_del(fields, "hub");
	if (!json_object_get(fields, "status"))
		json_object_set_new(
		    fields, "status",
		    json_string(kind == KP_BOOKING ? "confirmed" : "active"));
	room = json_object_get(fields, "room");
	if (kind == KP_BOOKING && !room) {
		snprintf(err, KP_ERR_MAX,
			 "say which room: a booking needs \"room\"");
		return KP_EINVAL;
	}
	if (room) {
		struct kp_id rid;
		char text[KP_ID_STRLEN], why[KP_ERR_MAX];
		if (!json_is_string(room) ||
		    kp_id_parse(json_string_value(room), hub, KP_ROOM, &rid,
				why)) {
			snprintf(err, KP_ERR_MAX, "room: %.400s",
				 json_is_string(room) ? why
						      : "must be a room id");
			return KP_EINVAL;
		}
		if (strcmp(rid.hub, hub)) {
			snprintf(err, KP_ERR_MAX,
				 "room %.64s is a room of hub %s, not of %s: "
				 "ask hub %s for it, or give a room of %s",
				 json_string_value(room), rid.hub, hub, rid.hub,
				 hub);
			return KP_EINVAL;
		}
		kp_id_format(&rid, text);
		json_object_set_new(fields, "room", json_string(text));
	}
	if (kp_model_validate(kind, fields, err))
		return KP_EINVAL;
	return kp_op_series_check(fields, false, err);
}

int creq_add(kp_store *central, const char *hub, char kind, json_t *fields,
	     json_t **req_out, char *err)
{
	struct s_add a = {
	    .hub = hub, .kind = kind, .fields = fields, .err = err};
	uint8_t raw[16];
	int rc;

	err[0] = 0;
	if (req_out)
		*req_out = NULL;
	if (!kp_store_is_central(central)) {
		snprintf(err, KP_ERR_MAX,
			 "requests are made at central's store; at hub %s add "
			 "the record directly",
			 kp_store_hub(central));
		rc = KP_EINVAL;
		goto out;
	}
	if (!hub || !kp_hub_id_valid(hub)) {
		snprintf(err, KP_ERR_MAX,
			 "'%.40s' is not a hub id: a hub id is 1 to %d of a-z, "
			 "0-9 and '-', such as fjell",
			 hub ? hub : "", KP_HUB_ID_MAX);
		rc = KP_EINVAL;
		goto out;
	}
	if (kind != KP_BOOKING && kind != KP_ACTIVITY) {
		snprintf(err, KP_ERR_MAX,
			 "a request adds a booking or an activity, nothing "
			 "else");
		rc = KP_EINVAL;
		goto out;
	}
	if ((rc = s_check(hub, kind, fields, err)))
		goto out;
	if (getrandom(raw, sizeof raw, 0) != (ssize_t)sizeof raw) {
		rc = KP_EIO;
		goto out;
	}
	for (size_t i = 0; i < sizeof raw; i++)
		snprintf(a.token + 2 * i, 3, "%02x", raw[i]);
	if ((rc = kp_store_write(central, s_add_txn, &a)))
		goto out;
	if (req_out && !(*req_out = s_public(a.stored)))
		rc = KP_ENOMEM; /* stored all the same */
out:
	json_decref(a.stored);
	json_decref(fields);
	return rc;
}

/* ---- reading ---- */

struct s_list {
	const char *hub;
	json_t *out;
};

static int s_list_one(const void *k, size_t klen, const void *v, size_t vlen,
		      void *arg)
{
	struct s_list *l = arg;
	json_t *req, *pub;
	int rc;
	(void)k;
	(void)klen;
	if ((rc = kp_codec_decode(v, vlen, &req)))
		return rc;
	if (l->hub && strcmp(kp_rec_str(req, "hub", ""), l->hub)) {
		json_decref(req);
		return KP_OK;
	}
	pub = s_public(req);
	json_decref(req);
	if (!pub || json_array_append_new(l->out, pub))
		return KP_ENOMEM;
	return KP_OK;
}

static int s_list_txn(kp_txn *txn, void *arg)
{
	return kp_txn_teach(txn, KP_T_REQS, NULL, 0, NULL, 0, s_list_one, arg);
}

int creq_list(kp_store *central, const char *hub, json_t **out)
{
	struct s_list l = {.hub = hub, .out = json_array()};
	int rc;

	*out = NULL;
	if (!l.out)
		return KP_ENOMEM;
	if ((rc = kp_store_read(central, s_list_txn, &l))) {
		json_decref(l.out);
		return rc;
	}
	*out = l.out;
	return KP_OK;
}

struct s_get {
	uint64_t number;
	json_t *req;
};

static int s_get_txn(kp_txn *txn, void *arg)
{
	struct s_get *g = arg;
	return s_load(txn, g->number, &g->req);
}

int creq_get(kp_store *central, uint64_t number, json_t **out)
{
	struct s_get g = {.number = number};
	int rc = kp_store_read(central, s_get_txn, &g);

	*out = NULL;
	if (rc)
		return rc;
	*out = s_public(g.req);
	json_decref(g.req);
	return *out ? KP_OK : KP_ENOMEM;
}

/* ---- for knute-central ---- */

struct s_pending {
	creq_pending_fn fn;
	void *arg;
	struct kp_buf buf;
};

static int s_pending_one(const void *k, size_t klen, const void *v, size_t vlen,
			 void *arg)
{
	struct s_pending *p = arg;
	json_t *req;
	int rc;

	if (klen != 8)
		return KP_ECORRUPT;
	if ((rc = kp_codec_decode(v, vlen, &req)))
		return rc;
	if (strcmp(kp_rec_str(req, "state", ""), "pending")) {
		json_decref(req);
		return KP_OK;
	}
	p->buf.len = 0;
	rc = kp_codec_encode(json_object_get(req, "fields"), &p->buf);
	if (rc == KP_OK)
		rc = p->fn(kp_be64_get(k), kp_rec_str(req, "token", ""),
			   kp_rec_str(req, "hub", ""),
			   kp_rec_str(req, "kind", ""), p->buf.data, p->buf.len,
			   p->arg);
	json_decref(req);
	return rc;
}

int creq_txn_pending(kp_txn *txn, uint64_t from, creq_pending_fn fn, void *arg)
{
	struct s_pending p = {.fn = fn, .arg = arg};
	uint8_t key[8];
	int rc;

	kp_be64_put(key, from);
	rc = kp_txn_teach(txn, KP_T_REQS, key, 8, NULL, 0, s_pending_one, &p);
	kp_buf_free(&p.buf);
	return rc;
}

int creq_txn_result(kp_txn *txn, uint64_t number, const char *token,
		    const char *hub, const char *state, const char *result,
		    const char *reason, bool *changed)
{
	bool accepted = !strcmp(state, "accepted");
	char why[KP_ERR_MAX], err[KP_ERR_MAX];
	struct kp_id id;
	json_t *req;
	int rc;

	*changed = false;
	if (!accepted && strcmp(state, "refused"))
		return KP_EINVAL;
	rc = s_load(txn, number, &req);
	if (rc == KP_ENOTFOUND)
		return KP_OK;
	if (rc)
		return rc;
	if (strcmp(kp_rec_str(req, "token", ""), token) ||
	    strcmp(kp_rec_str(req, "hub", ""), hub) ||
	    strcmp(kp_rec_str(req, "state", ""), "pending"))
		goto out;
	if (accepted &&
	    (kp_id_parse(result ? result : "", NULL,
			 kp_kind_from_name(kp_rec_str(req, "kind", "")), &id,
			 err) ||
	     strcmp(id.hub, hub))) {
		rc = KP_EINVAL; /* an accepted request names its record */
		goto out;
	}
	/* Text from the wire is only checked for NULs. */
	snprintf(why, sizeof why, "%s",
		 reason && reason[0] ? reason : "refused by the hub");
	kp_utf8_clean(why);
	if (json_object_set_new(req, "state", json_string(state)) ||
	    json_object_set_new(req, "updated", json_integer(kp_now())) ||
	    json_object_set_new(req, "result",
				accepted ? json_string(result) : json_null()) ||
	    json_object_set_new(req, "reason",
				accepted ? json_null() : json_string(why))) {
		rc = KP_ENOMEM;
		goto out;
	}
	if ((rc = s_store(txn, number, req)) == KP_OK)
		*changed = true;
out:
	json_decref(req);
	return rc;
}
