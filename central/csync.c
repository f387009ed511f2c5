/*
 * csync.c - central's side of the sync protocol (see csync.h and
 * docs/protocol.md).
 *
 * NOTES ON THE DESIGN
 *
 * One thread, one ROUTER socket, one loop. Each turn of the loop takes
 * every message waiting (up to MAX_ROUND), in order, and applies all the
 * CHANGES and SNAP batches among them in one write transaction: hubs
 * catching up together share one flush to disk. While a hub is sending
 * full batches (it has a backlog), the transaction stays open for the
 * batches that arrive meanwhile, up to ROUND_ENTRIES entries or ROUND_MS:
 * a flush to disk costs about the same for two batches as for sixteen,
 * and zmq's queue per hub stays short (RECV_HWM), so central's memory
 * does not grow with the number of hubs. Anything other than a batch that
 * arrives meanwhile ends the round and is handled after the commit.
 * Replies that report durability (ACK) are sent only after that
 * transaction committed.
 *
 * Everything a reply or a decision depends on is in LMDB: the registry
 * entry of each hub (incarnation, applied seq and its fingerprint) is
 * written in the same transaction as the entries it covers, so a crash at
 * any instant leaves a cursor that matches the data. What lives only in
 * memory (sessions, the down-stream's position, when a hub was last heard)
 * is rebuilt from a hub's next HELLO.
 *
 * kp_store_write() may run a transaction function twice (the map grew), so
 * the functions that run inside one work on copies of the registry entries
 * and install them only after the commit.
 */
#include "csync.h"

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sodium.h>
#include <time.h>
#include <zmq.h>

#include "codec.h"
#include "creq.h"
#include "cweb.h"
#include "knute/error.h"
#include "knute/http.h"
#include "model.h"
#include "wire.h"

#define MAX_ROUND     64	 /* messages taken per turn of the loop */
#define ROUND_BYTES   (8u << 20) /* ... or this many bytes of them */
#define ROUND_ENTRIES 16000	 /* entries a round gathers at most */
#define ROUND_MS      50	 /* ... and how long it may gather */
#define ROUND_WAIT_MS 2		 /* wait for the next batch of a backlog */
#define RECV_HWM      3		 /* batches queued per hub connection */
#define DOWN_WINDOW   2		 /* DOWN batches in flight per hub */
#define DOWN_SCAN     20000	 /* mlog entries looked at per DOWN batch */
#define SEEN_EVERY_MS 2000	 /* how often last-seen is written */
#define GC_EVERY_MS   10000	 /* how often the municipality log is pruned */
#define GC_CHUNK      100000	 /* entries pruned per transaction */
#define MAX_RID	      256
#define REQ_CHECK_MS  100   /* how often new requests are looked for */
#define REQ_RESEND_MS 5000  /* unanswered requests are sent again */
#define REQ_BURST     256   /* requests sent to one hub per scan */
#define KEYS_CHECK_MS 100   /* how often key changes are looked for */
#define ZAP_LOG_MS    60000 /* an unknown key is logged this often */
#define ZAP_ENDPOINT  "inproc://zeromq.zap.01"
#define KEY_PROPERTY  "X-Hub-Key" /* ZAP metadata: the key, Z85 */

struct reg {
	char hub[KP_HUB_ID_MAX + 1];
	char inc[KP_INCARNATION_LEN + 1];
	uint64_t applied;
	struct kp_fp afp;
	uint64_t head, dseq, dead;
	int64_t seen;
	/* When the current or last session started, and the hub's name
	 * from its HELLO (for the dashboard). */
	int64_t up;
	char name[KP_NAME_MAX + 1];
	bool known; /* stored before */
};

enum pstate { P_NONE, P_STREAM, P_SNAP, P_RESTORE };

struct peer {
	struct peer *next;
	uint8_t rid[MAX_RID];
	size_t rid_len;
	uint64_t session;
	enum pstate state;
	struct reg reg;	       /* as committed */
	int64_t heard_ms;      /* last message */
	int64_t seen_saved_ms; /* last time reg.seen was written */
	bool dirty;	       /* reg.seen/head/dseq changed since written */

	/* snapshot being received */
	uint64_t snap_batches, snap_count;
	uint8_t snap_digest[16];

	/* restore being sent */
	uint8_t restore_key[KP_KEY_MAX];
	size_t restore_klen;
	uint64_t restore_sent, restore_acked, restore_total;
	bool restore_done;

	/* down-stream */
	uint64_t down_next;	/* next gseq to look at */
	uint64_t down_inflight; /* batches sent, not acknowledged */
	bool down_reset;	/* sending a whole mirror */
	uint64_t down_reset_g;	/* the gseq the whole mirror stands for */
	uint8_t reset_key[KP_KEY_MAX];
	size_t reset_klen;
	bool reset_started;

	/* central requests (creq.h) */
	uint64_t req_sent;     /* the highest number sent in this session */
	bool req_waiting;      /* some sent are not answered yet */
	int64_t req_resend_ms; /* when those are sent again */
	int req_burst;	       /* sent in this scan */

	/* --curve: the key the session was opened with; key_gone: a
	 * message came through a key no longer registered for this hub,
	 * and the session ends at the end of the turn */
	char key[KP_CURVE_KEY_LEN + 1];
	bool key_gone;
};

/* A registered hub key (table keys), as central last read it. */
struct hubkey {
	char hub[KP_HUB_ID_MAX + 1];
	char z85[KP_CURVE_KEY_LEN + 1];
	uint8_t bin[32];
};

struct inmsg;

struct central {
	kp_store *store;
	void *ctx, *sock;
	/* The messages of this turn of the loop, and one that came while a
	 * round was open and waits for its commit (held). */
	struct inmsg *msgs;
	int nmsgs;
	struct inmsg *held;
	struct peer *peers;
	uint64_t mlog_head;
	uint64_t dead_next;
	int offline_ms;
	int64_t last_gc_ms;
	struct kp_buf out; /* a message being encoded */
	struct kp_batch batch;
	struct kp_buf tmp;
	struct kp_entry_reader *reader;
	struct csync_stats stats;
	kp_http *http;

	/* central requests: the request head last read from meta, the
	 * lowest number that may still be pending, and whether a scan for
	 * requests to send is due */
	uint64_t req_head, req_low;
	int64_t req_check_ms;
	bool req_scan;

	/* CurveZMQ (--curve): the ZAP handler's socket, the registered hub
	 * keys and meta keys_gen they were read at, when keys_gen was last
	 * looked at, and when an unknown key was last logged */
	bool curve;
	void *zap;
	struct hubkey *keys;
	size_t nkeys;
	uint64_t keys_gen;
	int64_t keys_check_ms, zap_logged_ms;
};

/* ---- small things ---- */

static int64_t s_now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void s_log(const char *fmt, ...)
{
	char line[1024];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(line, sizeof line, fmt, ap);
	va_end(ap);
	fprintf(stderr, "knute-central: %s\n", line);
}

static size_t s_hub_prefix(const char *hub, uint8_t *key)
{
	size_t n = strlen(hub);
	memcpy(key, hub, n);
	key[n] = 0;
	return n + 1;
}

/* ---- the registry (table hubs) ---- */

static int s_reg_load(kp_txn *txn, const char *hub, struct reg *reg)
{
	const void *val;
	size_t len;
	json_t *o;
	int rc;

	memset(reg, 0, sizeof *reg);
	snprintf(reg->hub, sizeof reg->hub, "%s", hub);
	rc = kp_txn_tget(txn, KP_T_HUBS, hub, strlen(hub), &val, &len);
	if (rc == KP_ENOTFOUND)
		return KP_OK;
	if (rc || (rc = kp_codec_decode(val, len, &o)))
		return rc;
	snprintf(reg->inc, sizeof reg->inc, "%s", kp_rec_str(o, "inc", ""));
	reg->applied = (uint64_t)kp_rec_int(o, "applied", 0);
	reg->afp.seq = (uint64_t)kp_rec_int(o, "aseq", 0);
	reg->afp.at = kp_rec_int(o, "aat", 0);
	snprintf(reg->afp.id, sizeof reg->afp.id, "%s",
		 kp_rec_str(o, "aid", ""));
	reg->head = (uint64_t)kp_rec_int(o, "head", 0);
	reg->dseq = (uint64_t)kp_rec_int(o, "dseq", 0);
	reg->seen = kp_rec_int(o, "seen", 0);
	reg->up = kp_rec_int(o, "up", 0);
	snprintf(reg->name, sizeof reg->name, "%s", kp_rec_str(o, "name", ""));
	reg->dead = (uint64_t)kp_rec_int(o, "dead", 0);
	reg->known = true;
	json_decref(o);
	return KP_OK;
}

static int s_reg_save(kp_txn *txn, struct reg *reg, struct kp_buf *buf)
{
	json_t *o =
	    json_pack("{sssssIsIsIsssIsIsIsIsIss}", "hub", reg->hub, "inc",
		      reg->inc, "applied", (json_int_t)reg->applied, "aseq",
		      (json_int_t)reg->afp.seq, "aat", (json_int_t)reg->afp.at,
		      "aid", reg->afp.id, "head", (json_int_t)reg->head, "dseq",
		      (json_int_t)reg->dseq, "seen", (json_int_t)reg->seen,
		      "dead", (json_int_t)reg->dead, "up", (json_int_t)reg->up,
		      "name", reg->name);
	int rc;
	if (!o)
		return KP_ENOMEM;
	buf->len = 0;
	rc = kp_codec_encode(o, buf);
	json_decref(o);
	if (rc)
		return rc;
	reg->known = true;
	return kp_txn_tput(txn, KP_T_HUBS, reg->hub, strlen(reg->hub),
			   buf->data, buf->len, 0);
}

/* ---- peers ---- */

static struct peer *s_peer_by_hub(struct central *c, const char *hub)
{
	for (struct peer *p = c->peers; p; p = p->next)
		if (!strcmp(p->reg.hub, hub))
			return p;
	return NULL;
}

static struct peer *s_peer_by_rid(struct central *c, const uint8_t *rid,
				  size_t len)
{
	for (struct peer *p = c->peers; p; p = p->next)
		if (p->rid_len == len && !memcmp(p->rid, rid, len))
			return p;
	return NULL;
}

static void s_peer_drop(struct central *c, struct peer *gone)
{
	for (struct peer **pp = &c->peers; *pp; pp = &(*pp)->next) {
		if (*pp == gone) {
			*pp = gone->next;
			free(gone);
			return;
		}
	}
}

/* ---- sending ---- */

static int s_send_to(struct central *c, const uint8_t *rid, size_t rid_len,
		     const struct kp_msg *msg)
{
	c->out.len = 0;
	c->stats.msgs_out++;
	if (kp_wire_encode(msg, &c->out))
		return KP_ENOMEM;
	if (zmq_send(c->sock, rid, rid_len, ZMQ_SNDMORE | ZMQ_DONTWAIT) < 0)
		return KP_EUNREACH;
	if (zmq_send(c->sock, c->out.data, c->out.len, ZMQ_DONTWAIT) < 0)
		return KP_EUNREACH;
	return KP_OK;
}

static int s_send(struct central *c, struct peer *p, struct kp_msg *msg)
{
	msg->session = p->session;
	return s_send_to(c, p->rid, p->rid_len, msg);
}

static void s_refuse(struct central *c, const uint8_t *rid, size_t rid_len,
		     uint64_t session, const char *reason)
{
	struct kp_msg m = {.type = KP_MSG_REFUSE, .session = session};
	c->stats.refused++;
	snprintf(m.reason, sizeof m.reason, "%.*s", (int)sizeof m.reason - 1,
		 reason);
	s_send_to(c, rid, rid_len, &m);
}

/* ---- a round: the transaction's own view of counters ---- */

struct round {
	struct central *c;
	uint64_t mlog_head, dead_next;
};

/* ---- dead letters ---- */

static int s_dead(struct round *r, kp_txn *txn, struct reg *reg, uint64_t seq,
		  const char *id, const char *reason, const void *entry,
		  size_t len)
{
	struct kp_buf *buf = &r->c->tmp;
	uint8_t key[8];
	json_t *o, *e = NULL;
	int rc;

	if (kp_codec_decode(entry, len, &e))
		e = json_string("(bytes that are not msgpack)");
	o = json_pack("{sssIsssssIso}", "hub", reg->hub, "seq", (json_int_t)seq,
		      "id", id, "reason", reason, "at",
		      (json_int_t)(s_now_ms() / 1000), "entry", e);
	if (!o)
		return KP_ENOMEM;
	buf->len = 0;
	rc = kp_codec_encode(o, buf);
	json_decref(o);
	if (rc)
		return rc;
	kp_be64_put(key, r->dead_next);
	if ((rc = kp_txn_tput(txn, KP_T_DEAD, key, 8, buf->data, buf->len,
			      KP_TPUT_APPEND)))
		return rc;
	r->dead_next++;
	reg->dead++;
	s_log("hub %s: entry %" PRIu64 " (%s) refused and kept as a dead "
	      "letter: %s",
	      reg->hub, seq, id[0] ? id : "no id", reason);
	return KP_OK;
}

/* ---- the municipality log ---- */

/* Append {g, op, id, at} for a change of hub's record id (put, or del
 * when deleted). The record is not copied into the log: the down-stream
 * reads it from the records table as it is when the entry is sent
 * (s_down_put()). Entries written by older versions carry a "rec" and go
 * down as they are. */
static int s_mlog(struct round *r, kp_txn *txn, const char *hub, const char *id,
		  bool put)
{
	struct kp_buf *buf = &r->c->tmp;
	uint8_t key[8], hl = (uint8_t)strlen(hub);
	uint64_t g = r->mlog_head + 1;
	json_t *o = json_pack("{sIsssssI}", "g", (json_int_t)g, "op",
			      put ? "put" : "del", "id", id, "at",
			      (json_int_t)s_now_ms());
	int rc;
	if (!o)
		return KP_ENOMEM;
	buf->len = 0;
	if ((rc = kp_buf_append(buf, &hl, 1)) ||
	    (rc = kp_buf_append(buf, hub, hl)) ||
	    (rc = kp_codec_encode(o, buf))) {
		json_decref(o);
		return rc;
	}
	json_decref(o);
	kp_be64_put(key, g);
	if ((rc = kp_txn_tput(txn, KP_T_MLOG, key, 8, buf->data, buf->len,
			      KP_TPUT_APPEND)))
		return rc;
	r->mlog_head = g;
	return KP_OK;
}

/* Write the record id at central as entry bytes (rec NULL: delete it),
 * and log its public change. */
static int s_apply(struct round *r, kp_txn *txn, const struct kp_id *id,
		   const char *idtext, const json_t *rec, const void *entry,
		   size_t len)
{
	uint8_t key[KP_KEY_MAX];
	size_t klen = kp_id_key(id, key);
	json_t *pub = NULL;
	int rc;

	if (rec)
		rc = kp_txn_tput(txn, KP_T_RECORDS, key, klen, entry, len, 0);
	else
		rc = kp_txn_tdel(txn, KP_T_RECORDS, key, klen);
	if (rc)
		return rc;
	if (rec && !(pub = json_deep_copy(rec)))
		return KP_ENOMEM;
	json_t *shape = pub ? pub : json_object();
	bool public = shape && kp_model_project(id->kind, shape, KP_TO_MIRROR);
	if (!pub)
		json_decref(shape);
	rc = public ? s_mlog(r, txn, id->hub, idtext, pub != NULL) : KP_OK;
	json_decref(pub);
	return rc;
}

/* ---- checking what a hub sent ---- */

/* Entries kp_entry_read() refuses, and volunteers (whose projection is
 * JSON work), are checked by kp_entry_check() (proto/wire.c), which names
 * the reason a dead letter keeps. */

/* ---- CHANGES ---- */

struct inmsg {
	zmq_msg_t rid, body;
	struct kp_msg m;
	struct peer *peer;
	struct kp_msg answer; /* sent after the commit when reply is set */
	bool reply;
	struct reg reg; /* the peer's registry entry after this message */
	uint64_t snap_batches, snap_count;
	uint8_t snap_digest[16];
	bool snap_done;		  /* the partition was replaced */
	char fail[KP_REASON_MAX]; /* the session must end: why */
};

/* The common case, without JSON: an entry that kp_entry_read() took. */
static int s_apply_fast(struct round *r, kp_txn *txn, const struct kp_entry *e,
			const void *bytes, size_t len)
{
	struct kp_buf *buf = &r->c->tmp;
	uint8_t key[KP_KEY_MAX], gkey[8], hl = (uint8_t)strlen(e->id.hub);
	size_t klen = kp_id_key(&e->id, key);
	int rc;

	rc = e->del ? kp_txn_tdel(txn, KP_T_RECORDS, key, klen)
		    : kp_txn_tput(txn, KP_T_RECORDS, key, klen, bytes, len, 0);
	if (rc || !kp_model_public(e->id.kind))
		return rc;
	/* The log names the change; the record itself is read from the
	 * records table when the entry goes down (s_down_put()), so a
	 * change is written once, not twice. */
	struct kp_entry ref = *e;
	ref.rec = NULL;
	buf->len = 0;
	if ((rc = kp_buf_append(buf, &hl, 1)) ||
	    (rc = kp_buf_append(buf, e->id.hub, hl)) ||
	    (rc = kp_entry_mlog(&ref, r->mlog_head + 1, s_now_ms(), buf)))
		return rc;
	kp_be64_put(gkey, r->mlog_head + 1);
	if ((rc = kp_txn_tput(txn, KP_T_MLOG, gkey, 8, buf->data, buf->len,
			      KP_TPUT_APPEND)))
		return rc;
	r->mlog_head++;
	return KP_OK;
}

static int s_changes(struct round *r, kp_txn *txn, struct inmsg *im)
{
	const struct kp_msg *m = &im->m;
	struct reg *reg = &im->reg;
	struct kp_buf *own = &r->c->out;
	size_t off = 0, elen;
	const uint8_t *bytes;
	char why[KP_ERR_MAX];
	int rc;

	im->reply = true;
	im->answer = (struct kp_msg){.type = KP_MSG_ACK};
	if (m->first > reg->applied + 1) {
		im->answer.seq = reg->applied;
		im->answer.gap = true;
		return KP_OK;
	}
	while ((rc = kp_wire_next(m->data, m->len, &off, &bytes, &elen)) ==
	       KP_OK) {
		struct kp_entry fe;
		if (kp_entry_read(r->c->reader, bytes, elen, reg->hub, &fe) ==
			KP_OK &&
		    fe.id.kind != KP_VOLUNTEER) {
			if (fe.seq <= reg->applied)
				continue;
			if (fe.seq != reg->applied + 1) {
				im->answer.gap = true;
				break;
			}
			if ((rc = s_apply_fast(r, txn, &fe, bytes, elen)))
				return rc;
			reg->applied = fe.seq;
			reg->afp.seq = fe.seq;
			reg->afp.at = fe.at;
			memcpy(reg->afp.id, fe.idtext, sizeof reg->afp.id);
			continue;
		}
		/* Volunteers (their projection) and entries to refuse (the
		 * reason) take the JSON path. */
		struct kp_entry_json e;
		int bad = kp_entry_check(reg->hub, bytes, elen, &e, why);
		uint64_t seq = e.seq ? e.seq : reg->applied + 1;
		if (seq <= reg->applied) {
			json_decref(e.root);
			continue; /* had it: sent at least once, applied once */
		}
		if (seq != reg->applied + 1) {
			json_decref(e.root); /* a hole: never skipped */
			im->answer.gap = true;
			break;
		}
		if (bad) {
			rc = s_dead(r, txn, reg, seq, e.idtext, why, bytes,
				    elen);
		} else if (e.rec && e.id.kind == KP_VOLUNTEER) {
			/* A volunteer's personal fields stay here only with
			 * consent, whatever a hub sent. */
			kp_model_project(KP_VOLUNTEER, e.rec, KP_TO_CENTRAL);
			own->len = 0;
			rc = kp_codec_encode(e.root, own);
			if (!rc)
				rc = s_apply(r, txn, &e.id, e.idtext, e.rec,
					     own->data, own->len);
		} else {
			rc = s_apply(r, txn, &e.id, e.idtext, e.rec, bytes,
				     elen);
		}
		json_decref(e.root);
		if (rc)
			return rc;
		reg->applied = seq;
		reg->afp.seq = seq;
		reg->afp.at = e.at;
		snprintf(reg->afp.id, sizeof reg->afp.id, "%s", e.idtext);
	}
	if (rc != KP_ENOTFOUND && rc != KP_OK)
		im->answer.gap = true; /* the rest is resent from applied */
	if (reg->head < reg->applied)
		reg->head = reg->applied;
	im->answer.seq = reg->applied;
	return s_reg_save(txn, reg, &r->c->tmp);
}

/* ---- SNAP ---- */

/* Delete up to max keys of a table under prefix, from the start. */
struct s_keys {
	uint8_t (*keys)[KP_KEY_MAX];
	size_t *lens;
	size_t n, max;
	kp_txn *txn; /* for s_missing: look the key up in the stage */
	bool missing_only;
};

static int s_collect(const void *k, size_t klen, const void *v, size_t vlen,
		     void *arg)
{
	struct s_keys *ks = arg;
	const void *sv;
	size_t slen;
	(void)v;
	(void)vlen;
	if (klen > KP_KEY_MAX)
		return KP_ECORRUPT;
	if (ks->missing_only &&
	    kp_txn_tget(ks->txn, KP_T_STAGE, k, klen, &sv, &slen) == KP_OK)
		return KP_OK;
	memcpy(ks->keys[ks->n], k, klen);
	ks->lens[ks->n] = klen;
	return ++ks->n == ks->max ? 1 : KP_OK;
}

#define KEY_CHUNK 4096

static int s_clear_prefix(kp_txn *txn, enum kp_table t, const uint8_t *prefix,
			  size_t plen)
{
	static uint8_t keys[KEY_CHUNK][KP_KEY_MAX];
	static size_t lens[KEY_CHUNK];
	struct s_keys ks = {keys, lens, 0, KEY_CHUNK, txn, false};
	int rc;
	do {
		ks.n = 0;
		rc =
		    kp_txn_teach(txn, t, NULL, 0, prefix, plen, s_collect, &ks);
		if (rc < 0)
			return rc;
		for (size_t i = 0; i < ks.n; i++)
			if ((rc = kp_txn_tdel(txn, t, keys[i], lens[i])))
				return rc;
	} while (ks.n == KEY_CHUNK);
	return KP_OK;
}

struct s_swap {
	struct round *r;
	kp_txn *txn;
	const struct kp_msg *m;
	int rc;
};

/* One staged record: becomes central's entry for the key unless it is
 * the record central holds already. */
static int s_swap_one(const void *k, size_t klen, const void *v, size_t vlen,
		      void *arg)
{
	struct s_swap *sw = arg;
	struct kp_buf *buf = &sw->r->c->out;
	const void *old;
	size_t oldlen;
	json_t *rec, *entry, *was = NULL;
	struct kp_id id;
	int rc;

	if ((rc = kp_key_id(k, klen, &id)) ||
	    (rc = kp_codec_decode(v, vlen, &rec)))
		return rc;
	if (kp_txn_tget(sw->txn, KP_T_RECORDS, k, klen, &old, &oldlen) ==
		KP_OK &&
	    kp_codec_decode(old, oldlen, &was) == KP_OK &&
	    json_equal(json_object_get(was, "rec"), rec)) {
		json_decref(was);
		json_decref(rec);
		return KP_OK;
	}
	json_decref(was);
	entry = json_pack("{sIsssssIsO}", "seq", (json_int_t)sw->m->head, "op",
			  "put", "id", kp_rec_str(rec, "id", ""), "at",
			  (json_int_t)(s_now_ms() / 1000), "rec", rec);
	if (!entry) {
		json_decref(rec);
		return KP_ENOMEM;
	}
	buf->len = 0;
	rc = kp_codec_encode(entry, buf);
	if (!rc)
		rc = s_apply(sw->r, sw->txn, &id, kp_rec_str(rec, "id", ""),
			     rec, buf->data, buf->len);
	json_decref(entry);
	json_decref(rec);
	return rc;
}

static int s_snap_swap(struct round *r, kp_txn *txn, struct inmsg *im)
{
	static uint8_t keys[KEY_CHUNK][KP_KEY_MAX];
	static size_t lens[KEY_CHUNK];
	uint8_t prefix[KP_HUB_ID_MAX + 1];
	size_t plen = s_hub_prefix(im->reg.hub, prefix);
	struct s_keys ks = {keys, lens, 0, KEY_CHUNK, txn, true};
	struct s_swap sw = {r, txn, &im->m, KP_OK};
	uint8_t after[KP_KEY_MAX];
	size_t afterlen = 0;
	int rc;

	/* Records central holds that the snapshot lacks go, in chunks. */
	do {
		ks.n = 0;
		rc = kp_txn_teach(txn, KP_T_RECORDS, afterlen ? after : NULL,
				  afterlen, prefix, plen, s_collect, &ks);
		if (rc < 0)
			return rc;
		for (size_t i = 0; i < ks.n; i++) {
			struct kp_id id;
			char idtext[KP_ID_STRLEN];
			if ((rc = kp_key_id(keys[i], lens[i], &id)))
				return rc;
			kp_id_format(&id, idtext);
			if ((rc = s_apply(r, txn, &id, idtext, NULL, NULL, 0)))
				return rc;
		}
		if (ks.n) {
			memcpy(after, keys[ks.n - 1], lens[ks.n - 1]);
			afterlen = lens[ks.n - 1];
		}
	} while (ks.n == KEY_CHUNK);
	if ((rc = kp_txn_teach(txn, KP_T_STAGE, NULL, 0, prefix, plen,
			       s_swap_one, &sw)))
		return rc;
	if ((rc = s_clear_prefix(txn, KP_T_STAGE, prefix, plen)))
		return rc;
	snprintf(im->reg.inc, sizeof im->reg.inc, "%s", im->m.inc);
	im->reg.applied = im->m.head;
	im->reg.afp = im->m.check;
	if (im->reg.head < im->m.head)
		im->reg.head = im->m.head;
	im->snap_done = true;
	return s_reg_save(txn, &im->reg, &r->c->tmp);
}

static int s_snap(struct round *r, kp_txn *txn, struct inmsg *im)
{
	const struct kp_msg *m = &im->m;
	size_t off = 0, elen;
	const uint8_t *bytes;
	char why[KP_ERR_MAX];
	int rc;

	im->reply = true;
	im->answer = (struct kp_msg){.type = KP_MSG_ACK};
	while ((rc = kp_wire_next(m->data, m->len, &off, &bytes, &elen)) ==
	       KP_OK) {
		uint8_t key[KP_KEY_MAX], h[16];
		struct kp_id id;
		json_t *rec;
		im->snap_count++;
		if (kp_codec_decode(bytes, elen, &rec)) {
			rc = s_dead(r, txn, &im->reg, 0, "",
				    "a snapshot record that is not msgpack",
				    bytes, elen);
			if (rc)
				return rc;
			continue;
		}
		kp_record_hash(rec, h);
		for (int i = 0; i < 16; i++)
			im->snap_digest[i] ^= h[i];
		if (kp_record_check(im->reg.hub, rec, &id, why)) {
			rc =
			    s_dead(r, txn, &im->reg, 0,
				   kp_rec_str(rec, "id", ""), why, bytes, elen);
		} else {
			rc = kp_txn_tput(txn, KP_T_STAGE, key,
					 kp_id_key(&id, key), bytes, elen, 0);
		}
		json_decref(rec);
		if (rc)
			return rc;
	}
	if (rc != KP_ENOTFOUND) {
		snprintf(im->fail, sizeof im->fail,
			 "a snapshot batch that does not decode");
		return KP_OK;
	}
	im->snap_batches++;
	im->answer.seq = im->snap_batches;
	if (!m->end)
		return KP_OK;
	if (m->total != im->snap_count ||
	    memcmp(m->digest, im->snap_digest, 16)) {
		snprintf(im->fail, sizeof im->fail,
			 "the snapshot's count or digest does not match what "
			 "arrived (%" PRIu64 " records said, %" PRIu64
			 " arrived): send it again",
			 m->total, im->snap_count);
		return KP_OK;
	}
	return s_snap_swap(r, txn, im);
}

/* ---- a round of batches in one transaction ---- */

struct batchround {
	struct round r;
	struct inmsg **msgs; /* MAX_ROUND of room */
	int n;
	size_t bytes, entries; /* of the n messages */
	int64_t start_ms;
};

static struct peer *s_batch_peer(struct central *c, struct inmsg *im);
static bool s_recv(struct central *c, struct inmsg *im);

/* A batch its hub filled: more of its backlog is on the way. */
static bool s_full(const struct kp_msg *m)
{
	return m->count >= KP_BATCH_ENTRIES || m->len >= KP_BATCH_BYTES / 2;
}

/* Gather one more batch into the open round: true when one was added.
 * It waits (briefly) only while the last batch was a full one, so a
 * single live write is committed at once. A message that is not a batch
 * of a session in step is held for after the commit, and ends the round. */
static bool s_more(struct batchround *br)
{
	struct central *c = br->r.c;
	int64_t now = s_now_ms(), wait;
	struct inmsg *im;

	if (!br->start_ms || c->held || br->n == 0 || br->n >= MAX_ROUND ||
	    c->nmsgs >= MAX_ROUND || br->bytes >= ROUND_BYTES ||
	    br->entries >= ROUND_ENTRIES || now - br->start_ms >= ROUND_MS)
		return false;
	wait = s_full(&br->msgs[br->n - 1]->m) ? ROUND_WAIT_MS : 0;
	zmq_pollitem_t it = {c->sock, 0, ZMQ_POLLIN, 0};
	if (zmq_poll(&it, 1, (long)wait) <= 0)
		return false;
	im = &c->msgs[c->nmsgs];
	if (!s_recv(c, im))
		return false;
	c->nmsgs++;
	if (!s_batch_peer(c, im)) {
		c->held = im;
		return false;
	}
	br->msgs[br->n++] = im;
	br->bytes += im->m.len;
	br->entries += im->m.count;
	return true;
}

static int s_round_fn(kp_txn *txn, void *arg)
{
	struct batchround *br = arg;
	int rc;

	br->r.mlog_head = br->r.c->mlog_head;
	br->r.dead_next = br->r.c->dead_next;
	/* On a second run (the map grew) the batches gathered in the first
	 * are all applied again before more are gathered. */
	for (int i = 0; i < br->n || s_more(br); i++) {
		struct inmsg *im = br->msgs[i];
		struct peer *p = im->peer;
		int j;
		/* Start from this peer's state as the round left it. */
		for (j = i - 1; j >= 0 && br->msgs[j]->peer != p; j--)
			;
		if (j >= 0 && !br->msgs[j]->fail[0]) {
			im->reg = br->msgs[j]->reg;
			im->snap_batches = br->msgs[j]->snap_batches;
			im->snap_count = br->msgs[j]->snap_count;
			memcpy(im->snap_digest, br->msgs[j]->snap_digest, 16);
		} else {
			im->reg = p->reg;
			im->snap_batches = p->snap_batches;
			im->snap_count = p->snap_count;
			memcpy(im->snap_digest, p->snap_digest, 16);
		}
		im->reply = false;
		im->snap_done = false;
		im->fail[0] = 0;
		rc = im->m.type == KP_MSG_CHANGES ? s_changes(&br->r, txn, im)
						  : s_snap(&br->r, txn, im);
		if (rc)
			return rc;
	}
	if (br->r.mlog_head != br->r.c->mlog_head) {
		char v[24];
		snprintf(v, sizeof v, "%" PRIu64, br->r.mlog_head);
		if ((rc = kp_txn_meta_put(txn, "mlog_head", v)))
			return rc;
	}
	return KP_OK;
}

/* Apply the n batches of msgs (room for MAX_ROUND) in one transaction;
 * with gather, batches that arrive meanwhile join it (s_more()). Without,
 * the round is applied as it is: a message handled right after it (a
 * HELLO, say) must not see later batches applied before it. */
static void s_apply_round(struct central *c, struct inmsg **msgs, int n,
			  bool gather)
{
	struct batchround br = {.r = {.c = c},
				.msgs = msgs,
				.n = n,
				.start_ms = gather ? s_now_ms() : 0};
	int rc;

	if (n == 0)
		return;
	for (int i = 0; i < n; i++) {
		br.bytes += msgs[i]->m.len;
		br.entries += msgs[i]->m.count;
	}
	rc = kp_store_write(c->store, s_round_fn, &br);
	n = br.n;
	if (rc) {
		/* Nothing of the round was written: no ACK goes out, and the
		 * hubs send again after their timeout. */
		s_log("could not apply %d batches: %s (%s)", n, kp_strerror(rc),
		      kp_store_detail(c->store));
		return;
	}
	c->stats.commits++;
	c->stats.dead_letters += br.r.dead_next - c->dead_next;
	c->mlog_head = br.r.mlog_head;
	c->dead_next = br.r.dead_next;
	for (int i = 0; i < n; i++) {
		struct inmsg *im = msgs[i];
		struct peer *p = im->peer;
		if (!im->fail[0] && im->m.type == KP_MSG_CHANGES &&
		    im->reg.applied > p->reg.applied)
			c->stats.entries_applied +=
			    im->reg.applied - p->reg.applied;
		if (im->fail[0]) {
			s_log("hub %s: %s", p->reg.hub, im->fail);
			s_refuse(c, p->rid, p->rid_len, p->session, im->fail);
			p->state = P_NONE;
			continue;
		}
		p->reg = im->reg;
		if (im->m.type == KP_MSG_SNAP) {
			p->snap_batches = im->snap_batches;
			p->snap_count = im->snap_count;
			memcpy(p->snap_digest, im->snap_digest, 16);
			if (im->snap_done) {
				s_log("hub %s: snapshot of %" PRIu64
				      " records taken, incarnation %.8s, "
				      "seq %" PRIu64,
				      p->reg.hub, p->snap_count, p->reg.inc,
				      p->reg.applied);
				p->state = P_STREAM;
			}
		}
		if (im->reply)
			s_send(c, p, &im->answer);
	}
}

/* ---- HELLO and the other single messages ---- */

struct s_hello {
	struct central *c;
	struct peer *p;
	const struct kp_msg *m;
	struct kp_msg *w;
	struct reg reg;
	bool reset;
	uint64_t down_from;
};

static int s_mlog_fp(kp_txn *txn, uint64_t g, struct kp_fp *fp)
{
	uint8_t key[8];
	const uint8_t *v;
	size_t vlen;
	json_t *o;
	int rc;
	kp_be64_put(key, g);
	if ((rc =
		 kp_txn_tget(txn, KP_T_MLOG, key, 8, (const void **)&v, &vlen)))
		return rc;
	if (vlen < 1u + v[0] ||
	    kp_codec_decode(v + 1 + v[0], vlen - 1 - v[0], &o))
		return KP_ECORRUPT;
	fp->seq = g;
	fp->at = kp_rec_int(o, "at", 0);
	snprintf(fp->id, sizeof fp->id, "%s", kp_rec_str(o, "id", ""));
	json_decref(o);
	return KP_OK;
}

static int s_hello_fn(kp_txn *txn, void *arg)
{
	struct s_hello *h = arg;
	const struct kp_msg *m = h->m;
	struct reg *reg = &h->reg;
	uint8_t prefix[KP_HUB_ID_MAX + 1];
	struct kp_fp fp;
	int rc;

	if ((rc = s_reg_load(txn, m->hub, reg)))
		return rc;
	h->w->type = KP_MSG_WELCOME;
	snprintf(h->w->cinc, sizeof h->w->cinc, "%s",
		 kp_store_incarnation(h->c->store));
	if (!reg->known && m->oldest <= 1) {
		/* A hub central never saw whose oplog starts at 1 sends it
		 * all: the same as a snapshot, and cheaper. */
		snprintf(reg->inc, sizeof reg->inc, "%s", m->inc);
		h->w->mode = KP_RESUME;
		h->w->from = 1;
	} else if (strcmp(reg->inc, m->inc) || m->oldest > reg->applied + 1) {
		h->w->mode = KP_SNAPSHOT;
		if ((rc = s_clear_prefix(txn, KP_T_STAGE, prefix,
					 s_hub_prefix(m->hub, prefix))))
			return rc;
	} else {
		h->w->mode = KP_RESUME;
		h->w->from = reg->applied + 1;
		h->w->check = reg->afp;
	}
	if (reg->head < m->head)
		reg->head = m->head;
	reg->seen = s_now_ms() / 1000;
	reg->up = reg->seen; /* the dashboard's "since" */
	if (m->name[0]) {
		/* Kept only when it is text jansson takes (UTF-8). */
		json_t *name = json_string(m->name);
		if (name)
			snprintf(reg->name, sizeof reg->name, "%s", m->name);
		json_decref(name);
	}

	/* The mirror: go on from its cursor when that is this central's
	 * history, else send it whole. */
	h->reset = strcmp(m->cinc, kp_store_incarnation(h->c->store)) ||
		   m->down.seq == 0 || m->down.seq > h->c->mlog_head ||
		   s_mlog_fp(txn, m->down.seq, &fp) ||
		   !kp_fp_equal(&fp, &m->down);
	h->down_from = h->reset ? 0 : m->down.seq + 1;
	h->w->down_reset = h->reset;
	return s_reg_save(txn, reg, &h->c->tmp);
}

static void s_hello(struct central *c, struct inmsg *im)
{
	const struct kp_msg *m = &im->m;
	const uint8_t *rid = zmq_msg_data(&im->rid);
	size_t rid_len = zmq_msg_size(&im->rid);
	struct kp_msg w = {0};
	struct s_hello h = {.c = c, .m = m, .w = &w};
	struct peer *p;
	int rc;

	if (rid_len > MAX_RID)
		return;
	/* A hub id speaks through one connection at a time: the newest. */
	if (!(p = s_peer_by_hub(c, m->hub))) {
		if (!(p = calloc(1, sizeof *p)))
			return;
		p->next = c->peers;
		c->peers = p;
		snprintf(p->reg.hub, sizeof p->reg.hub, "%s", m->hub);
	}
	struct peer *other = s_peer_by_rid(c, rid, rid_len);
	if (other && other != p)
		s_peer_drop(c, other);
	memcpy(p->rid, rid, rid_len);
	p->rid_len = rid_len;
	p->session = m->session;
	p->heard_ms = s_now_ms();
	p->key_gone = false;
	snprintf(p->key, sizeof p->key, "%s",
		 c->curve && zmq_msg_gets(&im->body, KEY_PROPERTY)
		     ? zmq_msg_gets(&im->body, KEY_PROPERTY)
		     : "");
	h.p = p;
	if ((rc = kp_store_write(c->store, s_hello_fn, &h))) {
		s_log("hub %s: could not start a session: %s (%s)", m->hub,
		      kp_strerror(rc), kp_store_detail(c->store));
		s_peer_drop(c, p);
		return;
	}
	p->reg = h.reg;
	p->seen_saved_ms = p->heard_ms;
	p->snap_batches = p->snap_count = 0;
	memset(p->snap_digest, 0, 16);
	p->down_inflight = 0;
	p->down_reset = h.reset;
	p->reset_started = false;
	p->reset_klen = 0;
	p->down_next = h.down_from;
	p->restore_done = false;
	p->req_sent = 0; /* a new session: every pending request again */
	p->req_waiting = false;
	c->req_scan = true;
	p->state = w.mode == KP_SNAPSHOT ? P_SNAP : P_STREAM;
	s_send(c, p, &w);
	if (w.mode == KP_SNAPSHOT)
		s_log("hub %s connected: incarnation %.8s, head %" PRIu64
		      "; asking for a snapshot%s",
		      m->hub, m->inc, m->head,
		      h.reset ? "; its mirror is sent whole" : "");
	else
		s_log("hub %s connected: incarnation %.8s, head %" PRIu64
		      "; resuming from seq %" PRIu64 "%s",
		      m->hub, m->inc, m->head, w.from,
		      h.reset ? "; its mirror is sent whole" : "");
}

static void s_diverged(struct central *c, struct peer *p,
		       const struct kp_msg *m)
{
	struct kp_msg w = {.type = KP_MSG_WELCOME, .mode = KP_RESTORE};
	s_log("hub %s says its history differs from central's (%s): "
	      "sending back the %s records central holds",
	      p->reg.hub, m->reason, p->reg.hub);
	snprintf(w.cinc, sizeof w.cinc, "%s", kp_store_incarnation(c->store));
	w.check = p->reg.afp;
	p->state = P_RESTORE;
	p->restore_klen = 0;
	p->restore_sent = p->restore_acked = p->restore_total = 0;
	p->restore_done = false;
	s_send(c, p, &w);
}

/* ---- VERIFY ---- */

struct s_verify {
	struct central *c;
	const uint8_t *rid;
	size_t rid_len;
	uint64_t total;
	int rc;
};

static int s_verify_send(struct s_verify *v, bool end)
{
	struct kp_msg m = {.type = KP_MSG_VERIFY_R,
			   .count = v->c->batch.count,
			   .data = (const uint8_t *)v->c->batch.buf.data,
			   .len = v->c->batch.buf.len,
			   .end = end,
			   .total = v->total};
	int rc = s_send_to(v->c, v->rid, v->rid_len, &m);
	kp_batch_reset(&v->c->batch);
	return rc;
}

static int s_verify_one(const void *k, size_t klen, const void *val,
			size_t vlen, void *arg)
{
	struct s_verify *v = arg;
	json_t *entry;
	uint8_t h[16];
	int rc;
	(void)k;
	(void)klen;
	if (kp_codec_decode(val, vlen, &entry))
		return KP_OK; /* cannot happen: central wrote it */
	kp_record_hash(json_object_get(entry, "rec"), h);
	rc = kp_batch_add_hash(&v->c->batch, kp_rec_str(entry, "id", ""), h);
	json_decref(entry);
	if (rc)
		return rc;
	v->total++;
	if (kp_batch_full(&v->c->batch))
		return s_verify_send(v, false);
	return KP_OK;
}

struct s_verify_arg {
	struct s_verify *v;
	const uint8_t *prefix;
	size_t plen;
};

static int s_verify_fn(kp_txn *txn, void *arg)
{
	struct s_verify_arg *a = arg;
	return kp_txn_teach(txn, KP_T_RECORDS, NULL, 0, a->prefix, a->plen,
			    s_verify_one, a->v);
}

static void s_verify(struct central *c, struct inmsg *im)
{
	struct s_verify v = {.c = c,
			     .rid = zmq_msg_data(&im->rid),
			     .rid_len = zmq_msg_size(&im->rid)};
	uint8_t prefix[KP_HUB_ID_MAX + 1];
	struct s_verify_arg a = {&v, prefix, s_hub_prefix(im->m.hub, prefix)};
	int rc;

	kp_batch_reset(&c->batch);
	rc = kp_store_read(c->store, s_verify_fn, &a);
	if (rc) {
		s_log("verify of hub %s failed: %s", im->m.hub,
		      kp_strerror(rc));
		s_refuse(c, v.rid, v.rid_len, 0, "central could not read");
		return;
	}
	s_verify_send(&v, true);
	s_log("verify: sent %" PRIu64 " record hashes of hub %s", v.total,
	      im->m.hub);
}

/* ---- restore: the hub's partition back to it ---- */

struct s_pump {
	struct central *c;
	struct peer *p;
	kp_txn *txn;
	bool full;
	uint64_t scanned;
};

static int s_restore_one(const void *k, size_t klen, const void *v, size_t vlen,
			 void *arg)
{
	struct s_pump *pu = arg;
	int rc;
	if (pu->p->restore_klen == klen && !memcmp(pu->p->restore_key, k, klen))
		return KP_OK; /* sent in the last batch */
	if ((rc = kp_batch_add(&pu->c->batch, 0, v, vlen)))
		return rc;
	memcpy(pu->p->restore_key, k, klen);
	pu->p->restore_klen = klen;
	if (kp_batch_full(&pu->c->batch)) {
		pu->full = true;
		return 1;
	}
	return KP_OK;
}

static int s_restore_fn(kp_txn *txn, void *arg)
{
	struct s_pump *pu = arg;
	uint8_t prefix[KP_HUB_ID_MAX + 1];
	size_t plen = s_hub_prefix(pu->p->reg.hub, prefix);
	int rc = kp_txn_teach(
	    txn, KP_T_RECORDS, pu->p->restore_klen ? pu->p->restore_key : NULL,
	    pu->p->restore_klen, prefix, plen, s_restore_one, pu);
	return rc < 0 ? rc : KP_OK;
}

static void s_restore_pump(struct central *c, struct peer *p)
{
	while (!p->restore_done &&
	       p->restore_sent - p->restore_acked < KP_WINDOW) {
		struct s_pump pu = {.c = c, .p = p};
		kp_batch_reset(&c->batch);
		if (kp_store_read(c->store, s_restore_fn, &pu))
			return;
		p->restore_total += c->batch.count;
		struct kp_msg m = {.type = KP_MSG_RESTORE,
				   .count = c->batch.count,
				   .data = (const uint8_t *)c->batch.buf.data,
				   .len = c->batch.buf.len,
				   .end = !pu.full,
				   .total = p->restore_total};
		if (s_send(c, p, &m))
			return;
		p->restore_sent++;
		if (!pu.full) {
			p->restore_done = true;
			s_log("hub %s: sent back %" PRIu64 " records",
			      p->reg.hub, p->restore_total);
		}
	}
}

/* ---- down-stream ---- */

/* The record of a reference-only put entry {g, op, id, at} of hub, as
 * the mirrors see it, into the batch: read from the records table now (a
 * newer version than the entry's is fine: a mirror keeps the latest), or a
 * del when the record is gone (its own del entry follows later). */
static int s_down_put(struct s_pump *pu, const char *hub, uint64_t g,
		      const void *m, size_t mlen)
{
	struct kp_buf *buf = &pu->c->tmp;
	uint8_t key[KP_KEY_MAX];
	const void *v;
	size_t vlen, klen;
	struct kp_entry fe = {0};
	char err[KP_ERR_MAX];
	json_t *o;
	int rc;

	if (kp_codec_decode(m, mlen, &o))
		return KP_ECORRUPT;
	if (strcmp(kp_rec_str(o, "op", ""), "put") ||
	    json_object_get(o, "rec")) {
		json_decref(o);
		return kp_batch_add(&pu->c->batch, g, m, mlen);
	}
	fe.at = kp_rec_int(o, "at", 0);
	snprintf(fe.idtext, sizeof fe.idtext, "%s", kp_rec_str(o, "id", ""));
	json_decref(o);
	if (kp_id_parse(fe.idtext, NULL, 0, &fe.id, err))
		return KP_ECORRUPT;
	klen = kp_id_key(&fe.id, key);
	rc = kp_txn_tget(pu->txn, KP_T_RECORDS, key, klen, &v, &vlen);
	buf->len = 0;
	if (rc == KP_ENOTFOUND) {
		fe.del = true;
		rc = kp_entry_mlog(&fe, g, fe.at, buf);
	} else if (rc) {
		return rc;
	} else {
		int64_t at = fe.at;
		if (kp_entry_read(pu->c->reader, v, vlen, hub, &fe) == KP_OK &&
		    !fe.del) {
			rc = kp_entry_mlog(&fe, g, at, buf);
		} else {
			/* Stored through the JSON path: project it so. */
			json_t *root, *rec;
			if (kp_codec_decode(v, vlen, &root))
				return KP_ECORRUPT;
			rec = json_deep_copy(json_object_get(root, "rec"));
			json_decref(root);
			if (!rec ||
			    !kp_model_project(fe.id.kind, rec, KP_TO_MIRROR)) {
				json_decref(rec);
				return KP_OK; /* nothing a mirror shows */
			}
			o = json_pack("{sIsssssIso}", "g", (json_int_t)g, "op",
				      "put", "id", fe.idtext, "at",
				      (json_int_t)at, "rec", rec);
			if (!o)
				return KP_ENOMEM;
			rc = kp_codec_encode(o, buf);
			json_decref(o);
		}
	}
	if (rc)
		return rc;
	return kp_batch_add(&pu->c->batch, g, buf->data, buf->len);
}

static int s_down_one(const void *k, size_t klen, const void *v, size_t vlen,
		      void *arg)
{
	struct s_pump *pu = arg;
	const uint8_t *b = v;
	size_t hl;
	int rc;
	(void)klen;
	pu->p->down_next = kp_be64_get(k) + 1;
	if (vlen < 1 || vlen < 1u + b[0])
		return KP_ECORRUPT;
	hl = b[0];
	pu->scanned++;
	if (!(hl == strlen(pu->p->reg.hub) &&
	      !memcmp(b + 1, pu->p->reg.hub, hl))) {
		char hub[KP_HUB_ID_MAX + 1];
		snprintf(hub, sizeof hub, "%.*s", (int)hl, (const char *)b + 1);
		if ((rc = s_down_put(pu, hub, kp_be64_get(k), b + 1 + hl,
				     vlen - 1 - hl)))
			return rc;
	}
	if (kp_batch_full(&pu->c->batch) || pu->scanned >= DOWN_SCAN) {
		pu->full = true;
		return 1;
	}
	return KP_OK;
}

static int s_down_fn(kp_txn *txn, void *arg)
{
	struct s_pump *pu = arg;
	uint8_t from[8];
	pu->txn = txn;
	kp_be64_put(from, pu->p->down_next);
	int rc = kp_txn_teach(txn, KP_T_MLOG, from, 8, NULL, 0, s_down_one, pu);
	return rc < 0 ? rc : KP_OK;
}

/* The whole mirror: every public record of the other hubs, then the log
 * entry at the gseq the mirror then stands at. */
static int s_reset_one(const void *k, size_t klen, const void *v, size_t vlen,
		       void *arg)
{
	struct s_pump *pu = arg;
	struct peer *p = pu->p;
	struct kp_buf *buf = &pu->c->tmp;
	struct kp_id id;
	json_t *entry, *rec, *o;
	int rc;

	if (p->reset_klen == klen && !memcmp(p->reset_key, k, klen))
		return KP_OK;
	memcpy(p->reset_key, k, klen);
	p->reset_klen = klen;
	if (kp_key_id(k, klen, &id) || !strcmp(id.hub, p->reg.hub))
		return KP_OK;
	if (kp_codec_decode(v, vlen, &entry))
		return KP_OK;
	rec = json_object_get(entry, "rec");
	if (!rec || !kp_model_project(id.kind, rec, KP_TO_MIRROR)) {
		json_decref(entry);
		return KP_OK;
	}
	o = json_pack("{sssssO}", "op", "put", "id",
		      kp_rec_str(entry, "id", ""), "rec", rec);
	json_decref(entry);
	if (!o)
		return KP_ENOMEM;
	buf->len = 0;
	rc = kp_codec_encode(o, buf);
	json_decref(o);
	if (rc || (rc = kp_batch_add(&pu->c->batch, p->down_reset_g, buf->data,
				     buf->len)))
		return rc;
	if (kp_batch_full(&pu->c->batch)) {
		pu->full = true;
		return 1;
	}
	return KP_OK;
}

static int s_reset_fn(kp_txn *txn, void *arg)
{
	struct s_pump *pu = arg;
	struct peer *p = pu->p;
	int rc =
	    kp_txn_teach(txn, KP_T_RECORDS, p->reset_klen ? p->reset_key : NULL,
			 p->reset_klen, NULL, 0, s_reset_one, pu);
	if (rc < 0)
		return rc;
	if (!pu->full && p->down_reset_g) {
		/* The end: the log entry the mirror's cursor will name. */
		uint8_t key[8];
		const uint8_t *v;
		size_t vlen;
		kp_be64_put(key, p->down_reset_g);
		if (kp_txn_tget(txn, KP_T_MLOG, key, 8, (const void **)&v,
				&vlen) == KP_OK &&
		    vlen >= 1u + v[0]) {
			char hub[KP_HUB_ID_MAX + 1];
			snprintf(hub, sizeof hub, "%.*s", (int)v[0],
				 (const char *)v + 1);
			pu->txn = txn;
			return s_down_put(pu, hub, p->down_reset_g,
					  v + 1 + v[0], vlen - 1 - v[0]);
		}
	}
	return KP_OK;
}

static void s_down_pump(struct central *c, struct peer *p)
{
	while (p->state == P_STREAM && p->down_inflight < DOWN_WINDOW) {
		struct s_pump pu = {.c = c, .p = p};
		struct kp_msg m = {.type = KP_MSG_DOWN};
		kp_batch_reset(&c->batch);
		if (p->down_reset) {
			if (!p->reset_started) {
				p->reset_started = true;
				p->reset_klen = 0;
				p->down_reset_g = c->mlog_head;
				m.down_reset = true;
			}
			if (kp_store_read(c->store, s_reset_fn, &pu))
				return;
			m.first = m.last = p->down_reset_g;
			m.end = !pu.full;
		} else {
			if (p->down_next > c->mlog_head)
				return;
			m.first = p->down_next;
			if (kp_store_read(c->store, s_down_fn, &pu))
				return;
			m.last = p->down_next - 1;
			if (m.last < m.first)
				return; /* the log was pruned under us */
		}
		m.count = c->batch.count;
		m.data = (const uint8_t *)c->batch.buf.data;
		m.len = c->batch.buf.len;
		if (s_send(c, p, &m))
			return;
		p->down_inflight++;
		if (p->down_reset && m.end) {
			p->down_reset = false;
			p->down_next = p->down_reset_g + 1;
		}
	}
}

/* ---- housekeeping ---- */

static int s_seen_fn(kp_txn *txn, void *arg)
{
	struct central *c = arg;
	int rc;
	for (struct peer *p = c->peers; p; p = p->next) {
		if (!p->dirty)
			continue;
		struct reg reg;
		/* Only the fields the session keeps in memory change here;
		 * the rest is as committed. */
		if ((rc = s_reg_load(txn, p->reg.hub, &reg)))
			return rc;
		reg.seen = p->reg.seen;
		reg.head = p->reg.head;
		reg.dseq = p->reg.dseq;
		if ((rc = s_reg_save(txn, &reg, &c->tmp)))
			return rc;
	}
	return KP_OK;
}

static void s_seen_save(struct central *c, int64_t now, bool all)
{
	bool any = false;
	for (struct peer *p = c->peers; p; p = p->next) {
		if (p->dirty &&
		    (all || now - p->seen_saved_ms >= SEEN_EVERY_MS))
			any = true;
	}
	if (!any)
		return;
	/* Last seen, head and mirror cursor: after a crash of the machine
	 * they may be one save old, which only shows an older "last seen"
	 * and keeps tombstones a little longer. One flush is enough while
	 * serving; the save before stopping is durable. */
	int rc = all ? kp_store_write(c->store, s_seen_fn, c)
		     : kp_store_write_lazy(c->store, s_seen_fn, c);
	if (rc)
		return;
	for (struct peer *p = c->peers; p; p = p->next) {
		if (p->dirty) {
			p->dirty = false;
			p->seen_saved_ms = now;
		}
	}
}

struct s_gc {
	uint64_t min;
	bool any;
	uint64_t pruned;
};

static int s_gc_min(const void *k, size_t klen, const void *v, size_t vlen,
		    void *arg)
{
	struct s_gc *g = arg;
	json_t *o;
	(void)k;
	(void)klen;
	if (kp_codec_decode(v, vlen, &o))
		return KP_OK;
	uint64_t d = (uint64_t)kp_rec_int(o, "dseq", 0);
	json_decref(o);
	if (!g->any || d < g->min)
		g->min = d;
	g->any = true;
	return KP_OK;
}

struct s_gc_keys {
	uint64_t below, n;
	uint64_t *gs;
};

static int s_gc_collect(const void *k, size_t klen, const void *v, size_t vlen,
			void *arg)
{
	struct s_gc_keys *ks = arg;
	(void)v;
	(void)vlen;
	if (klen != 8 || kp_be64_get(k) >= ks->below)
		return 1;
	ks->gs[ks->n++] = kp_be64_get(k);
	return ks->n == GC_CHUNK ? 1 : KP_OK;
}

static int s_gc_fn(kp_txn *txn, void *arg)
{
	static uint64_t gs[GC_CHUNK];
	struct s_gc *g = arg;
	struct s_gc_keys ks = {.gs = gs};
	uint8_t key[8];
	int rc;

	g->any = false;
	g->min = 0;
	g->pruned = 0;
	if ((rc = kp_txn_teach(txn, KP_T_HUBS, NULL, 0, NULL, 0, s_gc_min, g)))
		return rc;
	if (!g->any)
		return KP_OK;
	/* Keep the entry at the lowest cursor: that hub's next HELLO is
	 * checked against its fingerprint. */
	ks.below = g->min;
	rc = kp_txn_teach(txn, KP_T_MLOG, NULL, 0, NULL, 0, s_gc_collect, &ks);
	if (rc < 0)
		return rc;
	for (uint64_t i = 0; i < ks.n; i++) {
		kp_be64_put(key, gs[i]);
		if ((rc = kp_txn_tdel(txn, KP_T_MLOG, key, 8)))
			return rc;
	}
	g->pruned = ks.n;
	return KP_OK;
}

static void s_gc(struct central *c)
{
	struct s_gc g;
	if (kp_store_write(c->store, s_gc_fn, &g) == KP_OK && g.pruned)
		s_log("collected %" PRIu64 " municipality log entries below "
		      "gseq %" PRIu64 " (every mirror has them)",
		      g.pruned, g.min);
}

/* ---- central requests (creq.h; docs/protocol.md, "Central requests")
 *
 * A pending request goes to its hub as a COMMAND once the hub's session
 * is streaming (after WELCOME, also while the hub catches up), in number
 * order; peer->req_sent says how far this session got, so a new session
 * (HELLO) sends every pending request again. New requests, also those
 * the command line writes in another process, show as a move of meta
 * "req_head", read every REQ_CHECK_MS. A request sent and not answered
 * within REQ_RESEND_MS is sent again (the hub may have been busy with a
 * snapshot); the hub executes a token once and answers a repeat with the
 * result it stored. The answer is recorded in its own transaction. ---- */

struct s_reqscan {
	struct central *c;
	int64_t now;
	uint64_t low; /* the lowest pending number seen */
	bool any;
	bool more; /* a hub's burst was full: scan again next turn */
};

static int s_req_one(uint64_t number, const char *token, const char *hub,
		     const char *kind, const void *fields, size_t len,
		     void *arg)
{
	struct s_reqscan *s = arg;
	struct central *c = s->c;
	struct peer *p = s_peer_by_hub(c, hub);
	struct kp_msg m = {.type = KP_MSG_COMMAND, .num = number};

	if (!s->any || number < s->low)
		s->low = number;
	s->any = true;
	if (!p || p->state != P_STREAM)
		return KP_OK;
	p->req_waiting = true;
	if (number <= p->req_sent)
		return KP_OK;
	if (p->req_burst >= REQ_BURST) {
		s->more = true;
		return KP_OK;
	}
	snprintf(m.token, sizeof m.token, "%s", token);
	snprintf(m.kind, sizeof m.kind, "%s", kind);
	m.data = fields;
	m.len = len;
	if (s_send(c, p, &m)) {
		/* The pipe is full: this one and the rest next turn, in
		 * order. */
		p->req_burst = REQ_BURST;
		s->more = true;
		return KP_OK;
	}
	p->req_burst++;
	p->req_sent = number;
	p->req_resend_ms = s->now + REQ_RESEND_MS;
	return KP_OK;
}

static int s_req_scan_fn(kp_txn *txn, void *arg)
{
	struct s_reqscan *s = arg;
	return creq_txn_pending(txn, s->c->req_low, s_req_one, s);
}

static int s_req_head_fn(kp_txn *txn, void *arg)
{
	return creq_txn_head(txn, arg);
}

static void s_requests(struct central *c, int64_t now)
{
	struct s_reqscan s = {.c = c, .now = now};
	bool streaming = false;
	uint64_t head;
	int rc;

	for (struct peer *p = c->peers; p; p = p->next) {
		if (p->state != P_STREAM)
			continue;
		streaming = true;
		if (p->req_waiting && now >= p->req_resend_ms) {
			p->req_sent = 0;
			c->req_scan = true;
		}
	}
	if (!streaming)
		return;
	if (now - c->req_check_ms >= REQ_CHECK_MS) {
		c->req_check_ms = now;
		if (kp_store_read(c->store, s_req_head_fn, &head) == KP_OK &&
		    head != c->req_head) {
			/* Lower: central's store was put back from a copy. */
			if (head < c->req_head)
				c->req_low = 0;
			c->req_head = head;
			c->req_scan = true;
		}
	}
	if (!c->req_scan)
		return;
	for (struct peer *p = c->peers; p; p = p->next) {
		p->req_waiting = false;
		p->req_burst = 0;
	}
	if ((rc = kp_store_read(c->store, s_req_scan_fn, &s))) {
		s_log("cannot read the central requests: %s (%s)",
		      kp_strerror(rc), kp_store_detail(c->store));
		return; /* the flag stays: tried again next turn */
	}
	c->req_low = s.any ? s.low : c->req_head + 1;
	c->req_scan = s.more;
}

struct s_result {
	const struct kp_msg *m;
	const struct peer *p;
	bool changed;
};

static int s_result_fn(kp_txn *txn, void *arg)
{
	struct s_result *r = arg;
	return creq_txn_result(txn, r->m->num, r->m->token, r->p->reg.hub,
			       r->m->state, r->m->rid, r->m->reason,
			       &r->changed);
}

static void s_command_result(struct central *c, struct peer *p,
			     const struct kp_msg *m)
{
	struct s_result r = {.m = m, .p = p};
	int rc = kp_store_write(c->store, s_result_fn, &r);

	if (rc == KP_EINVAL) {
		s_log("hub %s answered request q%" PRIu64 " with %s, which "
		      "central cannot take (state \"%s\", id \"%s\")",
		      p->reg.hub, m->num, kp_wire_type_name(m->type), m->state,
		      m->rid);
		return;
	}
	if (rc) {
		/* Not recorded: the request stays pending and is sent again,
		 * and the hub answers it again. */
		s_log("cannot record hub %s's answer to request q%" PRIu64
		      ": %s (%s)",
		      p->reg.hub, m->num, kp_strerror(rc),
		      kp_store_detail(c->store));
		return;
	}
	c->req_scan = true; /* who still waits for an answer */
	if (!r.changed)
		return;
	if (!strcmp(m->state, "accepted"))
		s_log("request q%" PRIu64 " accepted by hub %s: %s", m->num,
		      p->reg.hub, m->rid);
	else
		s_log("request q%" PRIu64 " refused by hub %s: %s", m->num,
		      p->reg.hub, m->reason);
}

/* ---- CurveZMQ (--curve; docs/security.md)
 *
 * The ROUTER is a CURVE server with the store's key pair. libzmq asks
 * the ZAP handler, a REP socket on ZAP_ENDPOINT in central's own context,
 * about every new connection's client key; s_zap() answers it in the
 * loop's turn: 200 with User-Id the hub the key is registered for (and
 * the key as metadata KEY_PROPERTY), 400 for any other key. Every
 * message then carries both, and s_from_key() checks each one against
 * the keys as registered now: a key revoked or replaced since the
 * connection was made speaks no more, and its session ends. A HELLO or
 * VERIFY must name the key's own hub (s_own_hub()). The command line
 * changes the table keys in another process and moves meta keys_gen,
 * which s_keys_poll() reads every KEYS_CHECK_MS. ---- */

struct s_keyload {
	struct hubkey *keys;
	size_t n, cap;
	uint64_t gen;
};

static int s_keys_one(const void *k, size_t klen, const void *v, size_t vlen,
		      void *arg)
{
	struct s_keyload *ks = arg;
	struct hubkey *hk;
	json_t *o;

	if (klen > KP_HUB_ID_MAX || kp_codec_decode(v, vlen, &o))
		return KP_OK; /* not a key the command line wrote: skipped */
	if (ks->n == ks->cap) {
		size_t cap = ks->cap ? ks->cap * 2 : 16;
		struct hubkey *grown = realloc(ks->keys, cap * sizeof *grown);
		if (!grown) {
			json_decref(o);
			return KP_ENOMEM;
		}
		ks->keys = grown;
		ks->cap = cap;
	}
	hk = &ks->keys[ks->n];
	snprintf(hk->hub, sizeof hk->hub, "%.*s", (int)klen, (const char *)k);
	snprintf(hk->z85, sizeof hk->z85, "%s", kp_rec_str(o, "key", ""));
	json_decref(o);
	if (strlen(hk->z85) == KP_CURVE_KEY_LEN &&
	    zmq_z85_decode(hk->bin, hk->z85))
		ks->n++;
	return KP_OK;
}

static int s_keys_fn(kp_txn *txn, void *arg)
{
	struct s_keyload *ks = arg;
	int rc = kp_txn_meta_u64(txn, "keys_gen", &ks->gen);
	if (rc)
		return rc;
	ks->n = 0;
	return kp_txn_teach(txn, KP_T_KEYS, NULL, 0, NULL, 0, s_keys_one, ks);
}

static int s_gen_fn(kp_txn *txn, void *arg)
{
	return kp_txn_meta_u64(txn, "keys_gen", arg);
}

/* Read the registered keys anew; on failure the old ones stay. */
static int s_keys_load(struct central *c)
{
	struct s_keyload ks = {0};
	int rc = kp_store_read(c->store, s_keys_fn, &ks);
	if (rc) {
		free(ks.keys);
		s_log("cannot read the hub keys: %s (%s)", kp_strerror(rc),
		      kp_store_detail(c->store));
		return rc;
	}
	free(c->keys);
	c->keys = ks.keys;
	c->nkeys = ks.n;
	c->keys_gen = ks.gen;
	return KP_OK;
}

static const struct hubkey *s_key_of_hub(const struct central *c,
					 const char *hub)
{
	for (size_t i = 0; i < c->nkeys; i++)
		if (!strcmp(c->keys[i].hub, hub))
			return &c->keys[i];
	return NULL;
}

/* Send one frame of a ZAP reply. */
static void s_zap_frame(struct central *c, const void *data, size_t len,
			bool more)
{
	zmq_send(c->zap, data, len, more ? ZMQ_SNDMORE : 0);
}

/* Answer the ZAP requests waiting (ZMTP's ZAP 1.0, rfc.zeromq.org/spec/27). */
static void s_zap(struct central *c)
{
	for (;;) {
		zmq_msg_t f[8];
		int n = 0, more = 1;
		size_t ml = sizeof more;
		const struct hubkey *hk = NULL;
		char addr[64] = "", z85[KP_CURVE_KEY_LEN + 1] = "";
		uint8_t meta[1 + sizeof KEY_PROPERTY + 4 + KP_CURVE_KEY_LEN];
		size_t mlen = 0, plen = strlen(KEY_PROPERTY);

		zmq_msg_init(&f[0]);
		if (zmq_msg_recv(&f[0], c->zap, ZMQ_DONTWAIT) < 0) {
			zmq_msg_close(&f[0]);
			return;
		}
		n = 1;
		zmq_getsockopt(c->zap, ZMQ_RCVMORE, &more, &ml);
		while (more) {
			zmq_msg_t extra, *m = n < 8 ? &f[n] : &extra;
			zmq_msg_init(m);
			zmq_msg_recv(m, c->zap, 0);
			if (n < 8)
				n++;
			else
				zmq_msg_close(&extra);
			zmq_getsockopt(c->zap, ZMQ_RCVMORE, &more, &ml);
		}
		/* version, request id, domain, address, identity, mechanism,
		 * client key */
		if (n >= 7 && zmq_msg_size(&f[0]) == 3 &&
		    !memcmp(zmq_msg_data(&f[0]), "1.0", 3) &&
		    zmq_msg_size(&f[5]) == 5 &&
		    !memcmp(zmq_msg_data(&f[5]), "CURVE", 5) &&
		    zmq_msg_size(&f[6]) == 32) {
			zmq_z85_encode(z85, zmq_msg_data(&f[6]), 32);
			for (size_t i = 0; i < c->nkeys && !hk; i++)
				if (!memcmp(c->keys[i].bin, zmq_msg_data(&f[6]),
					    32))
					hk = &c->keys[i];
		}
		if (n >= 4)
			snprintf(addr, sizeof addr, "%.*s",
				 (int)(zmq_msg_size(&f[3]) < 60
					   ? zmq_msg_size(&f[3])
					   : 60),
				 (const char *)zmq_msg_data(&f[3]));
		if (hk) {
			meta[mlen++] = (uint8_t)plen;
			memcpy(meta + mlen, KEY_PROPERTY, plen);
			mlen += plen;
			meta[mlen++] = 0;
			meta[mlen++] = 0;
			meta[mlen++] = 0;
			meta[mlen++] = KP_CURVE_KEY_LEN;
			memcpy(meta + mlen, hk->z85, KP_CURVE_KEY_LEN);
			mlen += KP_CURVE_KEY_LEN;
		} else {
			int64_t now = s_now_ms();
			c->stats.refused++;
			if (now - c->zap_logged_ms >= ZAP_LOG_MS ||
			    !c->zap_logged_ms) {
				c->zap_logged_ms = now;
				s_log("refused a connection from %s: its key "
				      "%s is not registered at central "
				      "(register a hub's key with knute keys "
				      "add HUB KEY; logged once a minute)",
				      addr[0] ? addr : "an unknown address",
				      z85[0] ? z85 : "(none)");
			}
		}
		s_zap_frame(c, "1.0", 3, true);
		if (n >= 2)
			s_zap_frame(c, zmq_msg_data(&f[1]), zmq_msg_size(&f[1]),
				    true);
		else
			s_zap_frame(c, "", 0, true);
		s_zap_frame(c, hk ? "200" : "400", 3, true);
		s_zap_frame(c, hk ? "OK" : "key not registered", hk ? 2 : 18,
			    true);
		s_zap_frame(c, hk ? hk->hub : "", hk ? strlen(hk->hub) : 0,
			    true);
		s_zap_frame(c, meta, mlen, false);
		for (int i = 0; i < n; i++)
			zmq_msg_close(&f[i]);
	}
}

/* With --curve: true when im comes through a key that is registered now
 * for the hub its connection was accepted as, and, when the connection
 * has a session, for that session's hub. Otherwise the sender is
 * refused, its session (if any) ends at the end of the turn, and false. */
static bool s_from_key(struct central *c, struct inmsg *im)
{
	const uint8_t *rid = zmq_msg_data(&im->rid);
	size_t rid_len = zmq_msg_size(&im->rid);
	const char *user = zmq_msg_gets(&im->body, "User-Id");
	const char *key = zmq_msg_gets(&im->body, KEY_PROPERTY);
	const struct hubkey *hk = user ? s_key_of_hub(c, user) : NULL;
	struct peer *p = s_peer_by_rid(c, rid, rid_len);
	char why[KP_REASON_MAX];

	if (hk && key && !strcmp(hk->z85, key) &&
	    (!p || !strcmp(p->reg.hub, user)))
		return true;
	if (!hk || !key || strcmp(hk->z85, key))
		snprintf(why, sizeof why,
			 "central no longer accepts this hub's key (revoked "
			 "or replaced for hub %.40s): register it with knute "
			 "keys add",
			 user ? user : "?");
	else
		snprintf(why, sizeof why,
			 "this connection's key belongs to hub %.40s, not to "
			 "hub %.40s, whose session it is in",
			 user, p->reg.hub);
	c->stats.refused++;
	if (p) {
		if (!p->key_gone)
			s_log("hub %s: %s; session ended", p->reg.hub, why);
		p->key_gone = true;
		p->state = P_NONE;
		s_refuse(c, rid, rid_len, p->session, why);
	} else {
		s_refuse(c, rid, rid_len, 0, why);
	}
	return false;
}

/* HELLO and VERIFY speak for a hub: with --curve, only for the hub of
 * the connection's key. Refuses (logged) and returns false otherwise. */
static bool s_own_hub(struct central *c, struct inmsg *im)
{
	const char *user = zmq_msg_gets(&im->body, "User-Id");
	const uint8_t *rid = zmq_msg_data(&im->rid);
	size_t rid_len = zmq_msg_size(&im->rid);
	char why[KP_REASON_MAX];
	struct peer *p;

	if (!c->curve || (user && !strcmp(user, im->m.hub)))
		return true;
	snprintf(why, sizeof why,
		 "%s names hub %.40s, but this connection's key is registered "
		 "for hub %.40s: a key speaks only for its own hub",
		 kp_wire_type_name(im->m.type), im->m.hub, user ? user : "?");
	s_log("refused a %s: %s", kp_wire_type_name(im->m.type), why);
	c->stats.refused++;
	s_refuse(c, rid, rid_len, im->m.session, why);
	if ((p = s_peer_by_rid(c, rid, rid_len))) {
		p->key_gone = true;
		p->state = P_NONE;
	}
	return false;
}

/* Every KEYS_CHECK_MS: take key changes the command line made, and end
 * each session whose key is no longer registered for its hub (or whose
 * connection spoke with another key). */
static void s_keys_poll(struct central *c, int64_t now)
{
	struct peer *p, *next;
	uint64_t gen;

	if (!c->curve)
		return;
	if (now - c->keys_check_ms >= KEYS_CHECK_MS) {
		c->keys_check_ms = now;
		if (kp_store_read(c->store, s_gen_fn, &gen) == KP_OK &&
		    gen != c->keys_gen && s_keys_load(c) == KP_OK)
			s_log("hub keys changed: %zu registered", c->nkeys);
	}
	for (p = c->peers; p; p = next) {
		const struct hubkey *hk = s_key_of_hub(c, p->reg.hub);
		next = p->next;
		if (!p->key_gone && hk && !strcmp(hk->z85, p->key))
			continue;
		if (!p->key_gone) {
			char why[KP_REASON_MAX];
			snprintf(
			    why, sizeof why,
			    "central no longer accepts this hub's key "
			    "(revoked or replaced for hub %.40s): register "
			    "it with knute keys add",
			    p->reg.hub);
			s_log("hub %s: its key was %s at central; session "
			      "ended",
			      p->reg.hub, hk ? "replaced" : "revoked");
			s_refuse(c, p->rid, p->rid_len, p->session, why);
		}
		p->dirty = true;
		s_seen_save(c, now, true);
		s_peer_drop(c, p);
	}
}

static int s_own_keys_fn(kp_txn *txn, void *arg)
{
	char *pair = arg;
	return kp_txn_curve_keys(txn, pair, pair + KP_CURVE_KEY_LEN + 1);
}

/* Make c->sock a CURVE server with the store's key pair (made now for a
 * store that has none) and bind the ZAP handler. */
static int s_curve_setup(struct central *c)
{
	char pair[2 * (KP_CURVE_KEY_LEN + 1)], pub[KP_CURVE_KEY_LEN + 1];
	const char *sec = pair + KP_CURVE_KEY_LEN + 1;
	int one = 1, rc;

	if ((rc = kp_store_write(c->store, s_own_keys_fn, pair))) {
		s_log("cannot read or make central's key pair: %s (%s)",
		      kp_strerror(rc), kp_store_detail(c->store));
		return rc;
	}
	memcpy(pub, pair, sizeof pub);
	if ((rc = s_keys_load(c))) {
		sodium_memzero(pair, sizeof pair);
		return rc;
	}
	if (!(c->zap = zmq_socket(c->ctx, ZMQ_REP)) ||
	    zmq_bind(c->zap, ZAP_ENDPOINT) ||
	    zmq_setsockopt(c->sock, ZMQ_CURVE_SERVER, &one, sizeof one) ||
	    zmq_setsockopt(c->sock, ZMQ_CURVE_SECRETKEY, sec,
			   KP_CURVE_KEY_LEN)) {
		s_log("cannot set up CurveZMQ: %s (is libzmq built with "
		      "libsodium?)",
		      zmq_strerror(zmq_errno()));
		sodium_memzero(pair, sizeof pair);
		return KP_EINVAL;
	}
	sodium_memzero(pair, sizeof pair);
	s_log("CurveZMQ on: central's public key is %s (each hub trusts it "
	      "with knute keys central KEY); %zu hub keys registered%s",
	      pub, c->nkeys,
	      c->nkeys ? ""
		       : ", so every hub is refused until one is added with "
			 "knute keys add HUB KEY");
	return KP_OK;
}

/* ---- the loop ---- */

static void s_inmsg_free(struct inmsg *im)
{
	zmq_msg_close(&im->rid);
	zmq_msg_close(&im->body);
}

/* Take one message off the socket; false when none is waiting. */
static bool s_recv(struct central *c, struct inmsg *im)
{
	int more;
	size_t ml = sizeof more;

	zmq_msg_init(&im->rid);
	zmq_msg_init(&im->body);
	if (zmq_msg_recv(&im->rid, c->sock, ZMQ_DONTWAIT) < 0) {
		s_inmsg_free(im);
		return false;
	}
	c->stats.msgs_in++;
	zmq_getsockopt(c->sock, ZMQ_RCVMORE, &more, &ml);
	if (!more || zmq_msg_recv(&im->body, c->sock, 0) < 0) {
		s_inmsg_free(im);
		zmq_msg_init(&im->rid);
		zmq_msg_init(&im->body);
		im->m.type = KP_MSG_NONE;
		return true;
	}
	/* A DEALER sends one frame; anything more is read and dropped. */
	zmq_getsockopt(c->sock, ZMQ_RCVMORE, &more, &ml);
	while (more) {
		zmq_msg_t extra;
		zmq_msg_init(&extra);
		zmq_msg_recv(&extra, c->sock, 0);
		zmq_msg_close(&extra);
		zmq_getsockopt(c->sock, ZMQ_RCVMORE, &more, &ml);
	}
	/* With --curve a message whose key central no longer accepts is
	 * refused here and passed on empty, which every taker skips. */
	if (c->curve && !s_from_key(c, im)) {
		s_inmsg_free(im);
		zmq_msg_init(&im->rid);
		zmq_msg_init(&im->body);
		im->m.type = KP_MSG_NONE;
	}
	return true;
}

/* A message of p's session arrived: p was seen now. */
static void s_heard(struct peer *p)
{
	p->heard_ms = s_now_ms();
	p->reg.seen = p->heard_ms / 1000;
	p->dirty = true;
}

/* The peer of im when im is a batch (CHANGES, or SNAP) of its current
 * session and in turn: it goes to the round. NULL for anything else,
 * which s_take() handles (or refuses) on its own. */
static struct peer *s_batch_peer(struct central *c, struct inmsg *im)
{
	char err[KP_ERR_MAX];
	struct peer *p;

	if (zmq_msg_size(&im->body) == 0 ||
	    kp_wire_decode(zmq_msg_data(&im->body), zmq_msg_size(&im->body),
			   &im->m, err) ||
	    (im->m.type != KP_MSG_CHANGES && im->m.type != KP_MSG_SNAP))
		return NULL;
	p = s_peer_by_rid(c, zmq_msg_data(&im->rid), zmq_msg_size(&im->rid));
	if (!p || p->session != im->m.session ||
	    (im->m.type == KP_MSG_SNAP) != (p->state == P_SNAP))
		return NULL;
	s_heard(p);
	im->peer = p;
	return p;
}

/* Decode and route one message: batches go to the round, the rest is
 * handled at once (after the round so far is applied, to keep order). */
static void s_take(struct central *c, struct inmsg *im, struct inmsg **round,
		   int *nround)
{
	char err[KP_ERR_MAX];
	const uint8_t *rid = zmq_msg_data(&im->rid);
	size_t rid_len = zmq_msg_size(&im->rid);
	struct peer *p;
	int rc;

	if (s_batch_peer(c, im)) {
		round[(*nround)++] = im;
		return;
	}

	rc = kp_wire_decode(zmq_msg_data(&im->body), zmq_msg_size(&im->body),
			    &im->m, err);
	if (rc) {
		p = s_peer_by_rid(c, rid, rid_len);
		s_log("refused a message from %s: %s",
		      p ? p->reg.hub : "an unknown peer", err);
		s_refuse(c, rid, rid_len, p ? p->session : 0, err);
		return;
	}
	if (im->m.type == KP_MSG_HELLO || im->m.type == KP_MSG_VERIFY) {
		s_apply_round(c, round, *nround, false);
		*nround = 0;
		if (!s_own_hub(c, im))
			return;
		if (im->m.type == KP_MSG_HELLO)
			s_hello(c, im);
		else
			s_verify(c, im);
		return;
	}
	p = s_peer_by_rid(c, rid, rid_len);
	if (!p || p->session != im->m.session) {
		/* A message of an ended session: dropped, and the hub is told
		 * to start again if it is still there. */
		if (!p)
			s_refuse(c, rid, rid_len, im->m.session,
				 "no session: send HELLO");
		return;
	}
	s_heard(p);
	switch (im->m.type) {
	case KP_MSG_CHANGES:
	case KP_MSG_SNAP:
		if ((im->m.type == KP_MSG_SNAP) != (p->state == P_SNAP)) {
			s_log("hub %s sent %s out of turn", p->reg.hub,
			      kp_wire_type_name(im->m.type));
			return;
		}
		im->peer = p;
		round[(*nround)++] = im;
		return;
	case KP_MSG_PING: {
		struct kp_msg pong = {.type = KP_MSG_PING, .seq = c->mlog_head};
		if (im->m.seq > p->reg.head)
			p->reg.head = im->m.seq;
		s_send(c, p, &pong);
		return;
	}
	case KP_MSG_DOWN_ACK:
		if (p->down_inflight)
			p->down_inflight--;
		p->reg.dseq = im->m.seq;
		return;
	case KP_MSG_RESTORE_ACK:
		p->restore_acked = im->m.seq;
		return;
	case KP_MSG_COMMAND_RESULT:
		s_command_result(c, p, &im->m);
		return;
	case KP_MSG_DIVERGED:
		s_apply_round(c, round, *nround, false);
		*nround = 0;
		s_diverged(c, p, &im->m);
		return;
	default:
		s_log("hub %s sent %s, which central does not take", p->reg.hub,
		      kp_wire_type_name(im->m.type));
		return;
	}
}

static int s_bind(struct central *c, const char *endpoint)
{
	/* A hub's batches wait in its own pipe, at most RECV_HWM of them:
	 * beyond that TCP holds them back, so central's memory does not grow
	 * with the number of hubs times their windows. */
	int zero = 0, hwm = 10000, rhwm = RECV_HWM, mandatory = 0;
	if (!(c->ctx = zmq_ctx_new()) ||
	    !(c->sock = zmq_socket(c->ctx, ZMQ_ROUTER)))
		return KP_ENOMEM;
	zmq_setsockopt(c->sock, ZMQ_LINGER, &zero, sizeof zero);
	zmq_setsockopt(c->sock, ZMQ_SNDHWM, &hwm, sizeof hwm);
	zmq_setsockopt(c->sock, ZMQ_RCVHWM, &rhwm, sizeof rhwm);
	zmq_setsockopt(c->sock, ZMQ_ROUTER_MANDATORY, &mandatory,
		       sizeof mandatory);
	if (c->curve && s_curve_setup(c))
		return KP_EINVAL;
	if (zmq_bind(c->sock, endpoint)) {
		s_log("cannot listen on %s: %s", endpoint,
		      zmq_strerror(zmq_errno()));
		return KP_EINVAL;
	}
	return KP_OK;
}

static int s_start_fn(kp_txn *txn, void *arg)
{
	struct central *c = arg;
	char v[24];
	const void *k;
	size_t klen;
	c->mlog_head = 0;
	if (kp_txn_meta_get(txn, "mlog_head", v, sizeof v) == KP_OK)
		c->mlog_head = strtoull(v, NULL, 10);
	c->dead_next = 1;
	if (kp_txn_tlast(txn, KP_T_DEAD, &k, &klen, NULL, NULL) == KP_OK &&
	    klen == 8)
		c->dead_next = kp_be64_get(k) + 1;
	return KP_OK;
}

static void s_offline(struct central *c, int64_t now, int offline_ms)
{
	struct peer *p = c->peers, *next;
	for (; p; p = next) {
		next = p->next;
		if (now - p->heard_ms < offline_ms)
			continue;
		s_log("hub %s is offline: nothing heard for %d s (applied seq "
		      "%" PRIu64 ", backlog %" PRIu64 ")",
		      p->reg.hub, offline_ms / 1000, p->reg.applied,
		      p->reg.head > p->reg.applied
			  ? p->reg.head - p->reg.applied
			  : 0);
		p->dirty = true;
		s_seen_save(c, now, true);
		s_peer_drop(c, p);
	}
}

int csync_serve(kp_store *store, const struct csync_opts *opts,
		volatile sig_atomic_t *stop)
{
	static struct inmsg msgs[MAX_ROUND];
	struct inmsg *round[MAX_ROUND];
	struct central c = {.store = store, .msgs = msgs, .curve = opts->curve};
	int offline_ms = opts->offline_ms > 0 ? opts->offline_ms : 6000;
	struct cweb web = {
	    .store = store, .stats = &c.stats, .offline_ms = offline_ms};
	char root[1100], err[KP_ERR_MAX];
	int rc;

	c.stats.started = s_now_ms() / 1000;
	if ((rc = kp_store_read(store, s_start_fn, &c)))
		return rc;
	if (opts->http) {
		const char *dir =
		    kp_http_webroot(opts->webroot, root, sizeof root);
		if ((rc = kp_http_start(opts->http, dir, "central.html",
					cweb_handle, &web, &c.http, err))) {
			s_log("%s", err);
			return rc;
		}
		s_log("web pages on http://%s:%d/ (from %s)",
		      kp_http_host(opts->http, err, sizeof err),
		      kp_http_port(c.http), dir);
	}
	if (!(c.reader = kp_entry_reader_new()))
		return KP_ENOMEM;
	if ((rc = s_bind(&c, opts->listen)))
		goto out;
	s_log("serving %s on %s (incarnation %.8s, municipality log at "
	      "gseq %" PRIu64 ")",
	      kp_store_name(store), opts->listen, kp_store_incarnation(store),
	      c.mlog_head);
	if (!c.curve)
		s_log("connections are not authenticated: any program that "
		      "reaches %s may speak for any hub; run knute-central "
		      "--curve with registered hub keys (docs/security.md)",
		      opts->listen);
	c.last_gc_ms = s_now_ms();
	while (!*stop) {
		zmq_pollitem_t it[3] = {{c.sock, 0, ZMQ_POLLIN, 0},
					{NULL, -1, ZMQ_POLLIN, 0}};
		int nround = 0, nit = c.http ? 2 : 1;
		if (c.http)
			it[1].fd = kp_http_fd(c.http);
		if (c.zap)
			it[nit++] = (zmq_pollitem_t){c.zap, 0, ZMQ_POLLIN, 0};
		if (zmq_poll(it, nit,
			     c.http ? kp_http_timeout(c.http, 100) : 100) < 0 &&
		    zmq_errno() != EINTR) {
			s_log("poll failed: %s", zmq_strerror(zmq_errno()));
			rc = KP_EIO;
			break;
		}
		if (c.http)
			kp_http_run(c.http);
		if (c.zap)
			s_zap(&c);
		size_t bytes = 0, entries = 0;
		c.nmsgs = 0;
		do {
			for (;;) {
				struct inmsg *im = c.held;
				c.held = NULL;
				if (!im) {
					if (c.nmsgs >= MAX_ROUND ||
					    bytes >= ROUND_BYTES ||
					    entries >= ROUND_ENTRIES ||
					    !s_recv(&c, &msgs[c.nmsgs]))
						break;
					im = &msgs[c.nmsgs++];
				}
				if (zmq_msg_size(&im->body) == 0)
					continue;
				bytes += zmq_msg_size(&im->body);
				s_take(&c, im, round, &nround);
				if (nround && round[nround - 1] == im)
					entries += im->m.count;
			}
			/* A message that arrived while the round gathered
			 * batches is held: take it now, then go on. */
			s_apply_round(&c, round, nround, true);
			nround = 0;
		} while (c.held);
		for (int i = 0; i < c.nmsgs; i++)
			s_inmsg_free(&msgs[i]);
		/* Mirrors wait while any hub is catching up: the up-stream
		 * is what the municipality's picture needs first. */
		bool catching_up = false;
		for (struct peer *p = c.peers; p; p = p->next)
			catching_up |=
			    p->state == P_SNAP ||
			    p->reg.head > p->reg.applied + KP_BATCH_ENTRIES;
		for (struct peer *p = c.peers; p; p = p->next) {
			if (p->state == P_RESTORE)
				s_restore_pump(&c, p);
			else if (!catching_up)
				s_down_pump(&c, p);
		}
		int64_t now = s_now_ms();
		s_offline(&c, now, offline_ms);
		s_keys_poll(&c, now);
		s_requests(&c, now);
		s_seen_save(&c, now, false);
		if (now - c.last_gc_ms >= GC_EVERY_MS) {
			c.last_gc_ms = now;
			s_gc(&c);
		}
	}
	s_seen_save(&c, s_now_ms(), true);
	s_log("stopped");
out:
	kp_http_stop(&c.http);
	while (c.peers)
		s_peer_drop(&c, c.peers);
	if (c.sock)
		zmq_close(c.sock);
	if (c.zap)
		zmq_close(c.zap);
	free(c.keys);
	if (c.ctx)
		zmq_ctx_term(c.ctx);
	kp_buf_free(&c.out);
	kp_buf_free(&c.tmp);
	kp_buf_free(&c.batch.buf);
	kp_entry_reader_free(c.reader);
	return rc;
}
