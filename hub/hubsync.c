/*
 * hubsync.c - the hub's side of the sync protocol (see hubsync.h and
 * docs/protocol.md, the reference).
 *
 * NOTES ON THE DESIGN
 *
 * One thread, one DEALER socket, one zmq_poll() loop over the socket, an
 * inotify watch on DIR/data.mdb and the caller's stop descriptor, with a
 * timeout to the next timer. Nothing is kept in memory that the store
 * does not also hold: the oplog is read in one short read transaction per
 * batch, straight from the table (entries go out as the bytes the store
 * wrote, except volunteers, which are projected), so a backlog of any
 * size costs one batch buffer. The session's state is rebuilt from the
 * store and central's WELCOME after every reconnect.
 *
 * The session:
 *
 *   DISCONNECTED --backoff passed, socket connected--> HELLO --> WAITING
 *   WAITING --WELCOME resume, fingerprint ok--> STREAMING
 *   WAITING --WELCOME resume, fingerprint differs--> DIVERGED, WAITING
 *   WAITING --WELCOME snapshot--> SNAPSHOT --last batch acked--> STREAMING
 *   WAITING --WELCOME restore--> RESTORING --end batch merged-->
 *           new incarnation, HELLO --> WAITING
 *   STREAMING, SNAPSHOT --5 s without ACK progress--> HELLO --> WAITING
 *   any --REFUSE, or 3 s without a word from central--> DISCONNECTED
 *
 *   transition                         function
 *   DISCONNECTED -> WAITING            s_hello()
 *   WAITING -> the WELCOME's state     s_on_welcome()
 *   ACK (window, gap, snapshot end)    s_on_ack()
 *   sending CHANGES                    s_pump()
 *   sending SNAP batches               s_snapshot()
 *   RESTORE batches, the merge         s_on_restore(), s_merge()
 *   DOWN batches into the mirror       s_on_down()
 *   a central request (COMMAND)        s_on_command()
 *   -> DISCONNECTED                    s_lost()
 *   a new session at once              s_restart()
 *
 * The snapshot is read in one read transaction, as the protocol asks (one
 * consistent view): the loop that waits for window room runs inside it
 * (s_snap_wait), taking ACKs and PINGs and leaving DOWN batches for the
 * next session, since no write transaction may start while the read one
 * is open (the map may have to grow).
 *
 * Meta that changes with every message (acked_seq, central_contact,
 * central_session) is written at most every second, or with the next
 * mirror batch, never with one flush per message.
 */
#include "hubsync.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/random.h>
#include <sodium.h>
#include <time.h>
#include <unistd.h>
#include <zmq.h>

#include "codec.h"
#include "hubweb.h"
#include "knute/error.h"
#include "knute/http.h"
#include "knute/ktime.h"
#include "knute/store.h"
#include "model.h"
#include "ops.h"
#include "rules.h"
#include "wire.h"

#define S_SILENCE_MS   3000  /* no word from central: the session is lost */
#define S_STALL_MS     5000  /* batches out and no ACK: a new session */
#define S_PING_MS      1000  /* heartbeat */
#define S_HEADCHECK_MS 1000  /* a look at the head, in case inotify missed */
#define S_RECHECK_MAX  256   /* last look after a write was seen */
#define S_PRUNE_MS     10000 /* oplog pruning */
#define S_PRUNE_CHUNK  10000 /* entries deleted per transaction */
#define S_META_MS      1000  /* meta written at most this often */
#define S_BACKOFF_MIN  100
#define S_BACKOFF_MAX  5000
#define S_QUIET_MS     60000 /* "still unreachable" once a minute */
#define S_RENEW_MS     2000  /* a refused handshake: a new socket after */
#define S_DRAIN_MAX    256   /* messages taken per turn of the loop */
#define S_DEFER_CHUNK  256   /* deferred restore entries per transaction */
#define S_MOVED_LOGGED 10    /* relocated records named one by one */
#define S_ABORT	       1     /* a callback's "stop here", not an error */

enum s_state {
	S_DISCONNECTED,
	S_WAITING,
	S_STREAMING,
	S_SNAPSHOT,
	S_RESTORING,
};

/* Restore counters, for the log. */
struct s_merge_count {
	uint64_t back, taken, same, kept, moved, dead, deferred;
};

struct kp_hubsync {
	kp_store *store;
	char hub[KP_HUB_ID_MAX + 1];
	char dir[1024];
	char central[512];
	int64_t retention;
	void *zctx, *sock;
	int inotify_fd;
	int stop_fd;
	bool stopping;
	int fatal; /* a store error that ends the run */

	enum s_state state;
	uint64_t session;
	char cinc[KP_INCARNATION_LEN + 1]; /* central's, from WELCOME */
	int64_t backoff_ms, hello_due, unreach_due, unreach_since;
	int64_t last_rx, next_ping, last_progress;

	/* up-stream */
	uint64_t head;		      /* the oplog head last seen */
	uint64_t next;		      /* the next seq to send */
	uint64_t acked;		      /* the highest seq central acknowledged */
	uint64_t inflight[KP_WINDOW]; /* last seq of each batch out */
	int ninflight;
	uint64_t rewound; /* the ACK seq of the last gap rewind */
	bool caught_up;	  /* the last read reached the head */
	bool send_blocked;

	/* snapshot */
	bool snap_pending, in_snap_txn;
	uint64_t snap_sent, snap_acked, snap_head, snap_total;

	/* restore */
	uint64_t rs_batches, rs_entries;
	struct s_merge_count rs;
	bool rs_ack_pending;

	/* down-stream */
	bool down_ack_pending;
	uint64_t down_ack_seq;

	/* meta written with throttling */
	bool meta_dirty;
	int64_t meta_flushed;
	int64_t contact_s;
	bool session_up;

	int64_t next_headcheck, next_prune;
	int64_t recheck_ms, recheck_due; /* looks after a write was seen */
	int rechecks;
	uint64_t pruned_run, pruned_last; /* entries and seq, this pass */

	struct kp_batch batch;
	struct kp_buf out, tmp;

	struct kp_hub_stats stats; /* the counters; the rest filled on ask */
	kp_http *http;
	struct hubweb web;

	/* CurveZMQ (docs/security.md): on when the store trusts a central
	 * key; the socket's monitor (handshake events), a new socket due
	 * after central refused the handshake (libzmq does not retry one),
	 * and the last handshake failure logged and when */
	bool curve;
	char pub[KP_CURVE_KEY_LEN + 1];
	void *mon;
	unsigned mon_n;
	int64_t renew_due, hs_logged_ms;
	int hs_logged;
};

/* ---- small things ---- */

static int64_t s_mono_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void s_log(const kp_hubsync *hs, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void s_log(const kp_hubsync *hs, const char *fmt, ...)
{
	char line[1024];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(line, sizeof line, fmt, ap);
	va_end(ap);
	fprintf(stderr, "knute-hub[%s]: %s\n", hs->hub, line);
}

static int s_meta_put_u64(kp_txn *txn, const char *key, uint64_t v)
{
	char buf[32];
	snprintf(buf, sizeof buf, "%" PRIu64, v);
	return kp_txn_meta_put(txn, key, buf);
}

static int s_meta_put_i64(kp_txn *txn, const char *key, int64_t v)
{
	char buf[32];
	snprintf(buf, sizeof buf, "%" PRId64, v);
	return kp_txn_meta_put(txn, key, buf);
}

/* A fingerprint kept in meta as PREFIX_seq, PREFIX_at, PREFIX_id. */
static int s_meta_fp(kp_txn *txn, const char *prefix, struct kp_fp *fp)
{
	char key[32], buf[32];
	int rc;
	memset(fp, 0, sizeof *fp);
	snprintf(key, sizeof key, "%s_seq", prefix);
	if ((rc = kp_txn_meta_u64(txn, key, &fp->seq)))
		return rc;
	snprintf(key, sizeof key, "%s_at", prefix);
	rc = kp_txn_meta_get(txn, key, buf, sizeof buf);
	if (rc && rc != KP_ENOTFOUND)
		return rc;
	fp->at = rc ? 0 : strtoll(buf, NULL, 10);
	snprintf(key, sizeof key, "%s_id", prefix);
	rc = kp_txn_meta_get(txn, key, fp->id, sizeof fp->id);
	if (rc && rc != KP_ENOTFOUND)
		return rc;
	if (rc)
		fp->id[0] = 0;
	return KP_OK;
}

static int s_meta_put_fp(kp_txn *txn, const char *prefix,
			 const struct kp_fp *fp)
{
	char key[32];
	int rc;
	snprintf(key, sizeof key, "%s_seq", prefix);
	if ((rc = s_meta_put_u64(txn, key, fp->seq)))
		return rc;
	snprintf(key, sizeof key, "%s_at", prefix);
	if ((rc = s_meta_put_i64(txn, key, fp->at)))
		return rc;
	snprintf(key, sizeof key, "%s_id", prefix);
	return kp_txn_meta_put(txn, key, fp->id);
}

/* ---- reading oplog entries without decoding them ---- */

/*
 * The store writes every oplog entry as a map whose first keys are seq,
 * op, id and at (kp_txn_put(), kp_txn_put_packed()); s_peek() reads those
 * four straight from the bytes. Anything else (an entry rewritten by an
 * erasure in another key order) takes the slow way through the codec.
 */
struct s_head {
	uint64_t seq;
	int64_t at;
	bool del;
	const char *id; /* not NUL-terminated; into the entry or idbuf */
	size_t idlen;
	char idbuf[KP_ID_STRLEN];
};

struct s_rd {
	const uint8_t *p, *end;
};

static bool s_rd_map(struct s_rd *r, uint32_t *n)
{
	size_t avail = (size_t)(r->end - r->p);
	if (avail < 1)
		return false;
	if ((r->p[0] & 0xf0) == 0x80) {
		*n = r->p[0] & 0x0f;
		r->p += 1;
	} else if (r->p[0] == 0xde && avail >= 3) {
		*n = (uint32_t)r->p[1] << 8 | r->p[2];
		r->p += 3;
	} else if (r->p[0] == 0xdf && avail >= 5) {
		*n = (uint32_t)r->p[1] << 24 | (uint32_t)r->p[2] << 16 |
		     (uint32_t)r->p[3] << 8 | r->p[4];
		r->p += 5;
	} else {
		return false;
	}
	return true;
}

static bool s_rd_str(struct s_rd *r, const char **s, size_t *n)
{
	size_t avail = (size_t)(r->end - r->p), len, hl;
	if (avail < 1)
		return false;
	if ((r->p[0] & 0xe0) == 0xa0) {
		len = r->p[0] & 0x1f;
		hl = 1;
	} else if (r->p[0] == 0xd9 && avail >= 2) {
		len = r->p[1];
		hl = 2;
	} else if (r->p[0] == 0xda && avail >= 3) {
		len = (size_t)r->p[1] << 8 | r->p[2];
		hl = 3;
	} else if (r->p[0] == 0xdb && avail >= 5) {
		len = (size_t)r->p[1] << 24 | (size_t)r->p[2] << 16 |
		      (size_t)r->p[3] << 8 | r->p[4];
		hl = 5;
	} else {
		return false;
	}
	if (avail - hl < len)
		return false;
	*s = (const char *)r->p + hl;
	*n = len;
	r->p += hl + len;
	return true;
}

static bool s_rd_int(struct s_rd *r, int64_t *v)
{
	size_t avail = (size_t)(r->end - r->p), n;
	uint8_t b;
	uint64_t u = 0;
	if (avail < 1)
		return false;
	b = r->p[0];
	if (b <= 0x7f || b >= 0xe0) {
		*v = (int8_t)b;
		if (b <= 0x7f)
			*v = b;
		r->p += 1;
		return true;
	}
	switch (b) {
	case 0xcc:
	case 0xd0:
		n = 1;
		break;
	case 0xcd:
	case 0xd1:
		n = 2;
		break;
	case 0xce:
	case 0xd2:
		n = 4;
		break;
	case 0xcf:
	case 0xd3:
		n = 8;
		break;
	default:
		return false;
	}
	if (avail < 1 + n)
		return false;
	for (size_t i = 0; i < n; i++)
		u = u << 8 | r->p[1 + i];
	if (b >= 0xd0) { /* signed: extend from n bytes */
		if (n < 8 && (u >> (8 * n - 1)) & 1)
			u |= ~0ULL << (8 * n);
		*v = (int64_t)u;
	} else {
		if (u > INT64_MAX)
			return false;
		*v = (int64_t)u;
	}
	r->p += 1 + n;
	return true;
}

static bool s_key(const char *s, size_t n, const char *want)
{
	return n == strlen(want) && !memcmp(s, want, n);
}

static bool s_peek_fast(const void *entry, size_t len, struct s_head *h)
{
	struct s_rd r = {entry, (const uint8_t *)entry + len};
	unsigned got = 0;
	uint32_t n;
	const char *k, *s;
	size_t kn, sn;
	int64_t v;

	if (!s_rd_map(&r, &n))
		return false;
	for (uint32_t i = 0; i < n && got != 15; i++) {
		if (!s_rd_str(&r, &k, &kn))
			return false;
		if (s_key(k, kn, "seq") || s_key(k, kn, "at")) {
			if (!s_rd_int(&r, &v))
				return false;
			if (k[0] == 's') {
				if (v <= 0)
					return false;
				h->seq = (uint64_t)v;
				got |= 1;
			} else {
				h->at = v;
				got |= 8;
			}
		} else if (s_key(k, kn, "op") || s_key(k, kn, "id")) {
			if (!s_rd_str(&r, &s, &sn))
				return false;
			if (k[0] == 'o') {
				if (!s_key(s, sn, "put") &&
				    !s_key(s, sn, "del"))
					return false;
				h->del = s[0] == 'd';
				got |= 2;
			} else {
				if (sn == 0 || sn >= KP_ID_STRLEN)
					return false;
				h->id = s;
				h->idlen = sn;
				got |= 4;
			}
		} else {
			return false;
		}
	}
	return got == 15;
}

/* seq, op, id and at of an oplog entry; false when it has not all four. */
static bool s_peek(const void *entry, size_t len, struct s_head *h)
{
	json_t *o;
	const char *op, *id;
	bool ok;

	memset(h, 0, sizeof *h);
	if (s_peek_fast(entry, len, h))
		return true;
	memset(h, 0, sizeof *h);
	if (kp_codec_decode(entry, len, &o))
		return false;
	h->seq = (uint64_t)kp_rec_int(o, "seq", 0);
	h->at = kp_rec_int(o, "at", 0);
	op = kp_rec_str(o, "op", "");
	id = kp_rec_str(o, "id", "");
	h->del = !strcmp(op, "del");
	snprintf(h->idbuf, sizeof h->idbuf, "%s", id);
	h->id = h->idbuf;
	h->idlen = strlen(h->idbuf);
	ok = kp_rec_int(o, "seq", 0) > 0 && h->idlen > 0 &&
	     (h->del || !strcmp(op, "put"));
	json_decref(o);
	return ok;
}

/* The kind and number of an id text of this hub ("fjell:b42"); false for
 * another hub's id or anything malformed. */
static bool s_own_id(const kp_hubsync *hs, const char *id, size_t len,
		     char *kind, uint64_t *n)
{
	size_t hl = strlen(hs->hub), i;
	uint64_t v = 0;
	if (len < hl + 3 || memcmp(id, hs->hub, hl) || id[hl] != ':' ||
	    !kp_kind_name(id[hl + 1]))
		return false;
	for (i = hl + 2; i < len; i++) {
		if (id[i] < '0' || id[i] > '9' || v > (UINT64_MAX - 9) / 10)
			return false;
		v = v * 10 + (uint64_t)(id[i] - '0');
	}
	if (!v)
		return false;
	*kind = id[hl + 1];
	*n = v;
	return true;
}

/* ---- the socket ---- */

struct s_curve {
	char central[KP_CURVE_KEY_LEN + 1];
	char pub[KP_CURVE_KEY_LEN + 1], sec[KP_CURVE_KEY_LEN + 1];
};

static int s_curve_fn(kp_txn *txn, void *arg)
{
	struct s_curve *k = arg;
	int rc = kp_txn_meta_get(txn, "curve_central", k->central,
				 sizeof k->central);
	if (rc == KP_ENOTFOUND || (rc == KP_OK && !k->central[0])) {
		k->central[0] = 0;
		return KP_OK;
	}
	if (rc)
		return rc;
	return kp_txn_curve_keys(txn, k->pub, k->sec);
}

int kp_hubsync_curve_client(kp_store *store, void *sock, bool *on, char *pub)
{
	struct s_curve k = {0};
	int rc = kp_store_read(store, s_curve_fn, &k);

	*on = false;
	if (rc == KP_OK && k.central[0]) {
		if (zmq_setsockopt(sock, ZMQ_CURVE_SERVERKEY, k.central,
				   KP_CURVE_KEY_LEN) ||
		    zmq_setsockopt(sock, ZMQ_CURVE_PUBLICKEY, k.pub,
				   KP_CURVE_KEY_LEN) ||
		    zmq_setsockopt(sock, ZMQ_CURVE_SECRETKEY, k.sec,
				   KP_CURVE_KEY_LEN))
			rc = KP_EINVAL;
		else
			*on = true;
		if (pub)
			memcpy(pub, k.pub, sizeof k.pub);
	}
	sodium_memzero(k.sec, sizeof k.sec);
	return rc;
}

/* Watch the handshakes of hs->sock (s_monitor() reads the events). */
static void s_monitor_open(kp_hubsync *hs)
{
	char ep[64];
	int zero = 0;

	snprintf(ep, sizeof ep, "inproc://knute-hub-monitor-%u", hs->mon_n++);
	if (zmq_socket_monitor(hs->sock, ep,
			       ZMQ_EVENT_HANDSHAKE_FAILED_NO_DETAIL |
				   ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL |
				   ZMQ_EVENT_HANDSHAKE_FAILED_AUTH |
				   ZMQ_EVENT_HANDSHAKE_SUCCEEDED) ||
	    !(hs->mon = zmq_socket(hs->zctx, ZMQ_PAIR)))
		return; /* no monitor: only the log lines are missing */
	zmq_setsockopt(hs->mon, ZMQ_LINGER, &zero, sizeof zero);
	if (zmq_connect(hs->mon, ep)) {
		zmq_close(hs->mon);
		hs->mon = NULL;
	}
}

static int s_socket_open(kp_hubsync *hs, char *err)
{
	int one = 1, zero = 0, ivl = S_BACKOFF_MIN, ivl_max = S_BACKOFF_MAX;
	int64_t maxmsg = KP_WIRE_MAX + 4096;

	if (!(hs->sock = zmq_socket(hs->zctx, ZMQ_DEALER))) {
		if (err)
			snprintf(err, KP_ERR_MAX,
				 "cannot make a ZeroMQ socket: %s",
				 zmq_strerror(zmq_errno()));
		return KP_ENOMEM;
	}
	zmq_setsockopt(hs->sock, ZMQ_IMMEDIATE, &one, sizeof one);
	zmq_setsockopt(hs->sock, ZMQ_LINGER, &zero, sizeof zero);
	zmq_setsockopt(hs->sock, ZMQ_RECONNECT_IVL, &ivl, sizeof ivl);
	zmq_setsockopt(hs->sock, ZMQ_RECONNECT_IVL_MAX, &ivl_max,
		       sizeof ivl_max);
	zmq_setsockopt(hs->sock, ZMQ_MAXMSGSIZE, &maxmsg, sizeof maxmsg);
	/* Read anew for every socket: 'knute keys central' takes effect
	 * with the next connection. */
	if (kp_hubsync_curve_client(hs->store, hs->sock, &hs->curve, hs->pub)) {
		if (err)
			snprintf(
			    err, KP_ERR_MAX,
			    "cannot set up CurveZMQ from the keys in %.300s: "
			    "check them with knute keys central",
			    hs->dir);
		zmq_close(hs->sock);
		hs->sock = NULL;
		return KP_EINVAL;
	}
	s_monitor_open(hs);
	if (zmq_connect(hs->sock, hs->central)) {
		if (err)
			snprintf(err, KP_ERR_MAX,
				 "--central '%.200s' is not an address central "
				 "can be reached at (%s): give "
				 "tcp://HOST:PORT, e.g. tcp://127.0.0.1:5570",
				 hs->central, zmq_strerror(zmq_errno()));
		zmq_close(hs->sock);
		hs->sock = NULL;
		return KP_EINVAL;
	}
	return KP_OK;
}

/* A new socket: a fresh TCP connection, nothing left in the old one's
 * queues (a half-open connection to a central that vanished stays
 * behind). */
static void s_socket_renew(kp_hubsync *hs)
{
	if (hs->sock)
		zmq_close(hs->sock);
	hs->sock = NULL;
	if (hs->mon)
		zmq_close(hs->mon);
	hs->mon = NULL;
	hs->renew_due = 0;
	if (s_socket_open(hs, NULL)) {
		s_log(hs, "cannot make a new ZeroMQ socket: %s",
		      zmq_strerror(zmq_errno()));
		hs->fatal = KP_EUNREACH;
	}
}

/* Log a handshake failure, the same one at most once a minute. */
static void s_hs_log(kp_hubsync *hs, int64_t now, int what, const char *line)
{
	if (hs->hs_logged == what && now - hs->hs_logged_ms < S_QUIET_MS)
		return;
	hs->hs_logged = what;
	hs->hs_logged_ms = now;
	s_log(hs, "%s", line);
}

/* Read the socket's handshake events: a refused handshake gets one clear
 * line, and a new socket in S_RENEW_MS (libzmq gives a connection whose
 * handshake was refused up for good). */
static void s_monitor(kp_hubsync *hs, int64_t now)
{
	char line[600];

	while (hs->mon) {
		zmq_msg_t ev, addr;
		uint16_t event = 0;
		uint32_t value = 0;

		zmq_msg_init(&ev);
		if (zmq_msg_recv(&ev, hs->mon, ZMQ_DONTWAIT) < 0) {
			zmq_msg_close(&ev);
			break;
		}
		if (zmq_msg_size(&ev) >= 6) {
			memcpy(&event, zmq_msg_data(&ev), 2);
			memcpy(&value, (uint8_t *)zmq_msg_data(&ev) + 2, 4);
		}
		zmq_msg_close(&ev);
		zmq_msg_init(&addr);
		zmq_msg_recv(&addr, hs->mon, ZMQ_DONTWAIT); /* the endpoint */
		zmq_msg_close(&addr);
		switch (event) {
		case ZMQ_EVENT_HANDSHAKE_SUCCEEDED:
			if (hs->hs_logged && hs->curve)
				s_log(hs, "central accepted this hub's key");
			hs->hs_logged = 0;
			break;
		case ZMQ_EVENT_HANDSHAKE_FAILED_AUTH:
			snprintf(line, sizeof line,
				 "central did not accept this hub's key: "
				 "register it with knute keys add (at central: "
				 "knute --data CENTRAL_DIR keys add %s '%s')",
				 hs->hub, hs->pub);
			s_hs_log(hs, now, 1, line);
			hs->renew_due = now + S_RENEW_MS;
			break;
		case ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL:
			if (value == ZMQ_PROTOCOL_ERROR_ZMTP_MECHANISM_MISMATCH)
				snprintf(line, sizeof line, "%s",
					 hs->curve
					     ? "central does not use CurveZMQ, "
					       "and this hub trusts a central "
					       "key: start knute-central with "
					       "--curve, or clear the key with "
					       "knute keys central --clear"
					     : "central requires CurveZMQ: "
					       "trust its key here with knute "
					       "keys central KEY (knute keys "
					       "show at central prints it)");
			else
				snprintf(line, sizeof line,
					 "the handshake with central failed "
					 "(protocol error 0x%x): check "
					 "central's key here (knute keys "
					 "central) against knute keys show at "
					 "central",
					 (unsigned)value);
			s_hs_log(hs, now, 2, line);
			hs->renew_due = now + S_RENEW_MS;
			break;
		case ZMQ_EVENT_HANDSHAKE_FAILED_NO_DETAIL:
			if (hs->curve)
				s_hs_log(hs, now, 3,
					 "the secure handshake with central "
					 "broke off: the central key this hub "
					 "trusts (knute keys central) is not "
					 "central's (knute keys show at "
					 "central), or central does not run "
					 "with --curve");
			break;
		default:
			break;
		}
	}
	if (hs->renew_due && now >= hs->renew_due &&
	    hs->state == S_DISCONNECTED)
		s_socket_renew(hs);
}

static bool s_writable(kp_hubsync *hs)
{
	int events = 0;
	size_t len = sizeof events;
	if (!hs->sock || zmq_getsockopt(hs->sock, ZMQ_EVENTS, &events, &len))
		return false;
	return events & ZMQ_POLLOUT;
}

/* Send msg in this session; KP_EUNREACH when it cannot go now (no
 * connection, or the queue is full): the caller's state makes it again. */
static int s_send(kp_hubsync *hs, struct kp_msg *msg)
{
	int rc;
	msg->session = hs->session;
	hs->out.len = 0;
	if ((rc = kp_wire_encode(msg, &hs->out))) {
		s_log(hs, "cannot encode %s: %s", kp_wire_type_name(msg->type),
		      kp_strerror(rc));
		return rc;
	}
	if (zmq_send(hs->sock, hs->out.data, hs->out.len, ZMQ_DONTWAIT) < 0)
		return KP_EUNREACH;
	hs->stats.msgs_out++;
	return KP_OK;
}

/* ---- meta written with throttling ---- */

static int s_meta_session_put(kp_txn *txn, kp_hubsync *hs)
{
	int rc;
	if ((rc = s_meta_put_u64(txn, "acked_seq", hs->acked)) ||
	    (hs->contact_s &&
	     (rc = s_meta_put_i64(txn, "central_contact", hs->contact_s))) ||
	    (rc = kp_txn_meta_put(txn, "central_session",
				  hs->session_up ? "up" : "down")))
		return rc;
	return KP_OK;
}

static int s_meta_fn(kp_txn *txn, void *arg)
{
	return s_meta_session_put(txn, arg);
}

static void s_meta_flush(kp_hubsync *hs, int64_t now)
{
	int rc;
	if (!hs->meta_dirty)
		return;
	/* One flush, not two: after a crash of the machine this state may
	 * be one step old, and central's WELCOME puts it right. */
	if ((rc = kp_store_write_lazy(hs->store, s_meta_fn, hs))) {
		s_log(hs, "cannot write the session's state: %s (%s)",
		      kp_strerror(rc), kp_store_detail(hs->store));
		hs->meta_flushed = now; /* try again later */
		return;
	}
	hs->meta_dirty = false;
	hs->meta_flushed = now;
}

static void s_contact(kp_hubsync *hs)
{
	int64_t now = kp_now();
	if (now != hs->contact_s) {
		hs->contact_s = now;
		hs->meta_dirty = true;
	}
}

/* ---- session changes ---- */

static void s_session_reset(kp_hubsync *hs)
{
	hs->ninflight = 0;
	hs->rewound = UINT64_MAX;
	hs->send_blocked = false;
	hs->snap_pending = false;
	hs->snap_sent = hs->snap_acked = 0;
	hs->rs_batches = hs->rs_entries = 0;
	memset(&hs->rs, 0, sizeof hs->rs);
	hs->rs_ack_pending = false;
	hs->down_ack_pending = false;
	if (hs->session_up) {
		hs->session_up = false;
		hs->meta_dirty = true;
	}
}

/* The session is over (REFUSE, silence, a broken message): wait out the
 * backoff, then say HELLO again. renew: the connection itself is suspect. */
static void s_lost(kp_hubsync *hs, const char *why, bool renew)
{
	int64_t now = s_mono_ms();
	s_session_reset(hs);
	hs->state = S_DISCONNECTED;
	s_log(hs, "%s; trying again in %.1f s", why,
	      (double)hs->backoff_ms / 1000);
	hs->hello_due = now + hs->backoff_ms;
	hs->unreach_since = now;
	hs->unreach_due = hs->hello_due + 1000;
	if (hs->backoff_ms < S_BACKOFF_MAX)
		hs->backoff_ms = hs->backoff_ms * 2 > S_BACKOFF_MAX
				     ? S_BACKOFF_MAX
				     : hs->backoff_ms * 2;
	if (renew)
		s_socket_renew(hs);
}

/* Start a new session at once (central is there; our side wants to begin
 * again: ACKs stalled, a restore ended). */
static void s_restart(kp_hubsync *hs, const char *why)
{
	int64_t now = s_mono_ms();
	if (why)
		s_log(hs, "%s", why);
	s_session_reset(hs);
	hs->state = S_DISCONNECTED;
	hs->hello_due = now;
	hs->unreach_since = now;
	hs->unreach_due = now + 1000;
}

/* ---- HELLO ---- */

struct s_hello {
	uint64_t head, oldest;
	struct kp_fp down;
	char cinc[KP_INCARNATION_LEN + 1];
	bool rebuilding;
};

static int s_first_seq(const void *k, size_t klen, const void *v, size_t vlen,
		       void *arg)
{
	(void)v;
	(void)vlen;
	if (klen == 8)
		*(uint64_t *)arg = kp_be64_get(k);
	return S_ABORT;
}

static int s_oldest(kp_txn *txn, uint64_t head, uint64_t *oldest)
{
	int rc;
	*oldest = 0;
	rc = kp_txn_teach(txn, KP_T_OPLOG, NULL, 0, NULL, 0, s_first_seq,
			  oldest);
	if (rc < 0)
		return rc;
	if (!*oldest)
		*oldest = head + 1;
	return KP_OK;
}

static int s_hello_fn(kp_txn *txn, void *arg)
{
	struct s_hello *h = arg;
	char state[16];
	int rc;

	h->head = kp_txn_head_seq(txn);
	if ((rc = s_oldest(txn, h->head, &h->oldest)) ||
	    (rc = s_meta_fp(txn, "down", &h->down)))
		return rc;
	rc = kp_txn_meta_get(txn, "down_cinc", h->cinc, sizeof h->cinc);
	if (rc && rc != KP_ENOTFOUND)
		return rc;
	if (rc)
		h->cinc[0] = 0;
	rc = kp_txn_meta_get(txn, "mirror_state", state, sizeof state);
	if (rc && rc != KP_ENOTFOUND)
		return rc;
	h->rebuilding = rc == KP_OK && !strcmp(state, "rebuilding");
	return KP_OK;
}

static void s_hello(kp_hubsync *hs)
{
	struct kp_msg m = {.type = KP_MSG_HELLO};
	struct s_hello h;
	int rc;

	if ((rc = kp_store_read(hs->store, s_hello_fn, &h))) {
		s_log(hs, "cannot read the store: %s (%s)", kp_strerror(rc),
		      kp_store_detail(hs->store));
		hs->fatal = rc;
		return;
	}
	if (getrandom(&hs->session, sizeof hs->session, 0) !=
	    (ssize_t)sizeof hs->session) {
		hs->session =
		    (uint64_t)s_mono_ms() ^ ((uint64_t)getpid() << 32);
	}
	hs->head = h.head;
	snprintf(m.hub, sizeof m.hub, "%s", hs->hub);
	snprintf(m.inc, sizeof m.inc, "%s", kp_store_incarnation(hs->store));
	snprintf(m.name, sizeof m.name, "%s", kp_store_name(hs->store));
	m.head = h.head;
	m.oldest = h.oldest;
	/* A mirror half rebuilt asks for a whole one (dseq 0). */
	if (!h.rebuilding)
		m.down = h.down;
	snprintf(m.cinc, sizeof m.cinc, "%s", h.cinc);
	if (s_send(hs, &m))
		return; /* not connected after all: the loop tries again */
	hs->state = S_WAITING;
	hs->last_rx = s_mono_ms();
}

/* ---- WELCOME ---- */

enum s_verdict { S_FITS, S_DIFFERS, S_OUT_OF_REACH };

struct s_check {
	const struct kp_msg *m;
	enum s_verdict verdict;
	uint64_t head, oldest;
	struct kp_fp have;
	char why[KP_REASON_MAX];
};

static int s_check_fn(kp_txn *txn, void *arg)
{
	struct s_check *c = arg;
	const struct kp_fp *want = &c->m->check;
	struct kp_fp pruned;
	uint8_t key[8];
	const void *v;
	size_t vlen;
	uint64_t central;
	int rc;

	c->verdict = S_FITS;
	c->head = kp_txn_head_seq(txn);
	memset(&c->have, 0, sizeof c->have);
	if ((rc = s_oldest(txn, c->head, &c->oldest)) ||
	    (rc = s_meta_fp(txn, "pruned", &pruned)))
		return rc;
	central = c->m->from ? c->m->from - 1 : 0;
	if (want->seq > central)
		central = want->seq;
	if (central > c->head) {
		c->verdict = S_DIFFERS;
		snprintf(c->why, sizeof c->why,
			 "central applied up to seq %" PRIu64
			 ", but this hub's oplog ends at seq %" PRIu64,
			 central, c->head);
		return KP_OK;
	}
	if (want->seq) {
		kp_be64_put(key, want->seq);
		rc = kp_txn_tget(txn, KP_T_OPLOG, key, 8, &v, &vlen);
		if (rc == KP_OK) {
			if (kp_wire_entry_fp(v, vlen, &c->have))
				return KP_ECORRUPT;
		} else if (rc == KP_ENOTFOUND && pruned.seq == want->seq) {
			c->have = pruned;
		} else if (rc == KP_ENOTFOUND && want->seq < pruned.seq) {
			c->verdict = S_OUT_OF_REACH;
			snprintf(c->why, sizeof c->why,
				 "central asks to resume after seq %" PRIu64
				 ", which this hub pruned (up to seq %" PRIu64
				 ")",
				 want->seq, pruned.seq);
			return KP_OK;
		} else if (rc != KP_ENOTFOUND) {
			return rc;
		}
		if (!kp_fp_equal(&c->have, want)) {
			c->verdict = S_DIFFERS;
			snprintf(c->why, sizeof c->why,
				 "entry %" PRIu64 " is %s at %" PRId64
				 " here, %s at %" PRId64 " at central",
				 want->seq,
				 c->have.id[0] ? c->have.id : "missing",
				 c->have.at, want->id, want->at);
			return KP_OK;
		}
	}
	if (c->m->from < c->oldest && c->m->from <= c->head) {
		c->verdict = S_OUT_OF_REACH;
		snprintf(c->why, sizeof c->why,
			 "central asks for seq %" PRIu64
			 ", but the oplog starts at seq %" PRIu64,
			 c->m->from, c->oldest);
	}
	return KP_OK;
}

static void s_on_welcome(kp_hubsync *hs, const struct kp_msg *m)
{
	struct s_check c = {.m = m};
	int64_t now = s_mono_ms();
	uint64_t backlog;
	int rc;

	if (hs->state != S_WAITING)
		return; /* a second WELCOME in one session: nothing to do */
	hs->backoff_ms = S_BACKOFF_MIN;
	snprintf(hs->cinc, sizeof hs->cinc, "%s", m->cinc);
	hs->session_up = true;
	hs->stats.reconnects++;
	hs->meta_dirty = true;
	hs->next_ping = now + S_PING_MS;
	hs->last_progress = now;
	switch (m->mode) {
	case KP_RESUME:
		if ((rc = kp_store_read(hs->store, s_check_fn, &c))) {
			s_log(hs, "cannot read the oplog: %s (%s)",
			      kp_strerror(rc), kp_store_detail(hs->store));
			hs->fatal = rc;
			return;
		}
		hs->head = c.head;
		if (c.verdict == S_DIFFERS) {
			struct kp_msg d = {.type = KP_MSG_DIVERGED};
			snprintf(d.reason, sizeof d.reason, "%s", c.why);
			s_log(hs,
			      "this hub's history differs from what central "
			      "applied (%s): asking central for its copy",
			      c.why);
			if (s_send(hs, &d))
				s_lost(hs, "could not tell central", false);
			return;
		}
		if (c.verdict == S_OUT_OF_REACH) {
			s_lost(hs, c.why, false);
			return;
		}
		hs->state = S_STREAMING;
		hs->next = m->from ? m->from : 1;
		if (hs->acked != hs->next - 1) {
			hs->acked = hs->next - 1;
			hs->meta_dirty = true;
		}
		hs->caught_up = false;
		backlog = c.head >= hs->next ? c.head - hs->next + 1 : 0;
		s_log(hs,
		      "connected to central, resuming from seq %" PRIu64
		      " (%" PRIu64 " %s to send)%s",
		      hs->next, backlog, backlog == 1 ? "change" : "changes",
		      m->down_reset ? "; the mirror comes whole" : "");
		return;
	case KP_SNAPSHOT:
		hs->state = S_SNAPSHOT;
		hs->snap_pending = true;
		hs->snap_sent = hs->snap_acked = 0;
		s_log(hs, "connected to central, which asks for a snapshot of "
			  "this hub's records");
		return;
	case KP_RESTORE:
		hs->state = S_RESTORING;
		hs->rs_batches = hs->rs_entries = 0;
		memset(&hs->rs, 0, sizeof hs->rs);
		s_log(hs, "restore started: central sends back the records it "
			  "holds for this hub");
		return;
	}
}

/* ---- CHANGES ---- */

struct s_fill {
	kp_hubsync *hs;
	uint64_t expect;
	bool hole;
	int rc;
};

static int s_fill_one(const void *k, size_t klen, const void *v, size_t vlen,
		      void *arg)
{
	struct s_fill *f = arg;
	kp_hubsync *hs = f->hs;
	struct s_head h;
	const char *colon;
	uint64_t seq;
	int rc;

	if (klen != 8)
		return KP_ECORRUPT;
	seq = kp_be64_get(k);
	if (seq != f->expect) {
		f->hole = true;
		return S_ABORT;
	}
	if (!s_peek(v, vlen, &h))
		return KP_ECORRUPT;
	colon = memchr(h.id, ':', h.idlen);
	if (colon && colon + 1 < h.id + h.idlen && colon[1] == KP_VOLUNTEER &&
	    !h.del) {
		/* A volunteer leaves the hub projected (DESIGN.md 6). */
		json_t *entry, *rec;
		if ((rc = kp_codec_decode(v, vlen, &entry)))
			return rc;
		rec = json_object_get(entry, "rec");
		if (json_is_object(rec))
			kp_model_project(KP_VOLUNTEER, rec, KP_TO_CENTRAL);
		hs->tmp.len = 0;
		rc = kp_codec_encode(entry, &hs->tmp);
		json_decref(entry);
		if (rc || (rc = kp_batch_add(&hs->batch, seq, hs->tmp.data,
					     hs->tmp.len)))
			return rc;
	} else if ((rc = kp_batch_add(&hs->batch, seq, v, vlen))) {
		return rc;
	}
	f->expect++;
	return kp_batch_full(&hs->batch) ? S_ABORT : KP_OK;
}

static int s_fill_fn(kp_txn *txn, void *arg)
{
	struct s_fill *f = arg;
	uint8_t key[8];
	int rc;

	kp_batch_reset(&f->hs->batch);
	f->hole = false;
	f->expect = f->hs->next;
	f->hs->head = kp_txn_head_seq(txn);
	if (f->hs->next > f->hs->head)
		return KP_OK;
	kp_be64_put(key, f->hs->next);
	rc = kp_txn_teach(txn, KP_T_OPLOG, key, 8, NULL, 0, s_fill_one, f);
	return rc < 0 ? rc : KP_OK;
}

/* Send CHANGES while the window has room and the oplog has more. */
static void s_pump(kp_hubsync *hs)
{
	while (hs->state == S_STREAMING && hs->ninflight < KP_WINDOW &&
	       !hs->caught_up && !hs->send_blocked && !hs->fatal) {
		struct s_fill f = {.hs = hs};
		struct kp_msg m = {.type = KP_MSG_CHANGES};
		int rc = kp_store_read(hs->store, s_fill_fn, &f);
		if (rc) {
			s_log(hs, "cannot read the oplog: %s (%s)",
			      kp_strerror(rc), kp_store_detail(hs->store));
			hs->fatal = rc;
			return;
		}
		if (hs->batch.count == 0) {
			if (f.hole) {
				char why[160];
				snprintf(why, sizeof why,
					 "the oplog lacks seq %" PRIu64
					 ", which central asks for",
					 hs->next);
				s_lost(hs, why, false);
				return;
			}
			hs->caught_up = true;
			return;
		}
		m.first = hs->batch.first;
		m.last = hs->batch.last;
		m.count = hs->batch.count;
		m.data = (const uint8_t *)hs->batch.buf.data;
		m.len = hs->batch.buf.len;
		if (s_send(hs, &m)) {
			hs->send_blocked = true; /* read again when writable */
			return;
		}
		if (hs->ninflight == 0)
			hs->last_progress = s_mono_ms();
		hs->inflight[hs->ninflight++] = m.last;
		hs->next = m.last + 1;
		if (!kp_batch_full(&hs->batch) || f.hole)
			hs->caught_up = true;
	}
}

static void s_snap_done(kp_hubsync *hs);

static void s_on_ack(kp_hubsync *hs, const struct kp_msg *m)
{
	int64_t now = s_mono_ms();

	if (hs->state == S_SNAPSHOT) {
		if (m->seq > hs->snap_acked) {
			hs->snap_acked = m->seq;
			hs->last_progress = now;
		}
		if (!hs->snap_pending && !hs->in_snap_txn &&
		    hs->snap_acked >= hs->snap_sent)
			s_snap_done(hs);
		return;
	}
	if (hs->state != S_STREAMING)
		return;
	if (m->seq > hs->acked) {
		hs->acked = m->seq;
		hs->meta_dirty = true;
		hs->last_progress = now;
		int keep = 0;
		for (int i = 0; i < hs->ninflight; i++)
			if (hs->inflight[i] > m->seq)
				hs->inflight[keep++] = hs->inflight[i];
		hs->ninflight = keep;
	}
	if (!m->gap) {
		hs->rewound = UINT64_MAX;
		return;
	}
	/* Central did not take a batch: everything out after seq is void.
	 * The batches already on their way come back with the same gap;
	 * one rewind per seq is enough (a lost resend stalls, and the stall
	 * starts a new session). */
	if (hs->rewound == m->seq)
		return;
	hs->rewound = m->seq;
	hs->next = m->seq + 1;
	hs->ninflight = 0;
	hs->caught_up = false;
	hs->last_progress = now;
}

/* ---- SNAP ---- */

struct s_snap {
	kp_hubsync *hs;
	uint64_t total;
	uint8_t digest[16];
	struct kp_fp headfp;
	uint64_t head;
};

/* Wait, inside the snapshot's read transaction, until a batch may go:
 * window room and a writable socket. S_ABORT when the session ended or
 * a stop was asked for. */
static void s_drain(kp_hubsync *hs);

static int s_snap_wait(kp_hubsync *hs)
{
	for (;;) {
		int64_t now = s_mono_ms(), timeout;
		zmq_pollitem_t items[2] = {
		    {hs->sock, 0, ZMQ_POLLIN, 0},
		    {NULL, hs->stop_fd, ZMQ_POLLIN, 0},
		};
		bool room = hs->snap_sent - hs->snap_acked < KP_WINDOW;

		if (hs->state != S_SNAPSHOT || hs->fatal || hs->stopping)
			return S_ABORT;
		if (room && s_writable(hs))
			return KP_OK;
		if (now - hs->last_rx > S_SILENCE_MS) {
			s_lost(hs,
			       "no word from central for 3 s during the "
			       "snapshot",
			       true);
			return S_ABORT;
		}
		if (!room && now - hs->last_progress > S_STALL_MS) {
			s_restart(hs, "central acknowledged no snapshot batch "
				      "for 5 s: starting a new session");
			return S_ABORT;
		}
		if (now >= hs->next_ping) {
			struct kp_msg p = {.type = KP_MSG_PING,
					   .seq = hs->head};
			s_send(hs, &p);
			hs->next_ping = now + S_PING_MS;
		}
		if (room)
			items[0].events |= ZMQ_POLLOUT;
		timeout = hs->next_ping - now;
		if (timeout < 0)
			timeout = 0;
		if (zmq_poll(items, 2, (long)timeout) < 0 &&
		    zmq_errno() != EINTR)
			return S_ABORT;
		if (items[1].revents)
			hs->stopping = true;
		if (items[0].revents & ZMQ_POLLIN)
			s_drain(hs);
	}
}

static int s_snap_send(struct s_snap *s, bool end)
{
	kp_hubsync *hs = s->hs;
	struct kp_msg m = {.type = KP_MSG_SNAP};
	int rc;

	snprintf(m.inc, sizeof m.inc, "%s", kp_store_incarnation(hs->store));
	m.head = s->head;
	m.count = hs->batch.count;
	m.data = (const uint8_t *)hs->batch.buf.data;
	m.len = hs->batch.buf.len;
	m.end = end;
	if (end) {
		m.total = s->total;
		memcpy(m.digest, s->digest, 16);
		m.check = s->headfp;
	}
	for (;;) {
		if ((rc = s_snap_wait(hs)))
			return rc;
		rc = s_send(hs, &m);
		if (rc == KP_OK)
			break;
		if (rc != KP_EUNREACH)
			return rc;
	}
	if (hs->snap_sent == hs->snap_acked)
		hs->last_progress = s_mono_ms();
	hs->snap_sent++;
	kp_batch_reset(&hs->batch);
	return KP_OK;
}

static int s_snap_one(const void *k, size_t klen, const void *v, size_t vlen,
		      void *arg)
{
	struct s_snap *s = arg;
	kp_hubsync *hs = s->hs;
	struct kp_id id;
	uint8_t h[16];
	json_t *rec;
	int rc;

	if ((rc = kp_key_id(k, klen, &id)) ||
	    (rc = kp_codec_decode(v, vlen, &rec)))
		return rc;
	if (!kp_model_project(id.kind, rec, KP_TO_CENTRAL)) {
		json_decref(rec);
		return KP_OK;
	}
	kp_record_hash(rec, h);
	for (int i = 0; i < 16; i++)
		s->digest[i] ^= h[i];
	s->total++;
	if (id.kind == KP_VOLUNTEER) {
		hs->tmp.len = 0;
		rc = kp_codec_encode(rec, &hs->tmp);
		if (!rc)
			rc = kp_batch_add(&hs->batch, 0, hs->tmp.data,
					  hs->tmp.len);
	} else {
		rc = kp_batch_add(&hs->batch, 0, v, vlen);
	}
	json_decref(rec);
	if (rc)
		return rc;
	return kp_batch_full(&hs->batch) ? s_snap_send(s, false) : KP_OK;
}

static int s_snap_fn(kp_txn *txn, void *arg)
{
	struct s_snap *s = arg;
	uint8_t prefix[KP_HUB_ID_MAX + 1], key[8];
	size_t plen = strlen(s->hs->hub) + 1;
	struct kp_fp pruned;
	const void *v;
	size_t vlen;
	int rc;

	memcpy(prefix, s->hs->hub, plen); /* the id and its NUL */
	s->head = kp_txn_head_seq(txn);
	s->hs->head = s->head;
	memset(&s->headfp, 0, sizeof s->headfp);
	if (s->head) {
		kp_be64_put(key, s->head);
		rc = kp_txn_tget(txn, KP_T_OPLOG, key, 8, &v, &vlen);
		if (rc == KP_OK) {
			if (kp_wire_entry_fp(v, vlen, &s->headfp))
				memset(&s->headfp, 0, sizeof s->headfp);
		} else if (rc == KP_ENOTFOUND) {
			if ((rc = s_meta_fp(txn, "pruned", &pruned)))
				return rc;
			if (pruned.seq == s->head)
				s->headfp = pruned;
		} else {
			return rc;
		}
	}
	kp_batch_reset(&s->hs->batch);
	rc = kp_txn_teach(txn, KP_T_RECORDS, NULL, 0, prefix, plen, s_snap_one,
			  s);
	if (rc)
		return rc;
	return s_snap_send(s, true);
}

static void s_snapshot(kp_hubsync *hs)
{
	struct s_snap s = {.hs = hs};
	int rc;

	hs->snap_pending = false;
	hs->in_snap_txn = true;
	hs->snap_sent = hs->snap_acked = 0;
	hs->last_progress = s_mono_ms();
	s_log(hs, "snapshot started");
	rc = kp_store_read(hs->store, s_snap_fn, &s);
	hs->in_snap_txn = false;
	if (rc == S_ABORT)
		return; /* the session ended; the state says how */
	if (rc) {
		s_log(hs, "cannot send the snapshot: %s (%s)", kp_strerror(rc),
		      kp_store_detail(hs->store));
		if (rc == KP_ENOMEM || rc == KP_ECORRUPT)
			s_lost(hs, "snapshot abandoned", false);
		else
			hs->fatal = rc;
		return;
	}
	hs->snap_head = s.head;
	hs->snap_total = s.total;
	if (hs->snap_acked >= hs->snap_sent)
		s_snap_done(hs);
}

static void s_snap_done(kp_hubsync *hs)
{
	s_log(hs,
	      "snapshot finished: %" PRIu64 " records in %" PRIu64
	      " batches, up to seq %" PRIu64,
	      hs->snap_total, hs->snap_sent, hs->snap_head);
	hs->state = S_STREAMING;
	hs->next = hs->snap_head + 1;
	hs->acked = hs->snap_head;
	hs->meta_dirty = true;
	hs->ninflight = 0;
	hs->rewound = UINT64_MAX;
	hs->caught_up = false;
	hs->last_progress = s_mono_ms();
}

/* ---- DOWN: the mirror ---- */

struct s_down {
	kp_hubsync *hs;
	const struct kp_msg *m;
	struct kp_fp cursor;
	uint64_t applied;
	char why[KP_ERR_MAX];
};

/*
 * A municipality log entry {g, op, id, at, rec} (a whole mirror's entries
 * lack g and at), read straight from its bytes: the record goes into the
 * mirror as the bytes central sent, already shaped for mirrors there, so
 * a mirror of a million records costs no decoding.
 */
struct s_mentry {
	uint64_t g;
	int64_t at;
	bool del;
	char id[KP_ID_STRLEN];
	const uint8_t *rec; /* the record's map; NULL for a delete */
	size_t reclen;
};

/* Skip the value at r->p; false when it is not one whole msgpack value. */
static bool s_rd_skip(struct s_rd *r, const uint8_t *base, size_t len)
{
	size_t off = (size_t)(r->p - base);
	if (kp_codec_check(base, len, &off))
		return false;
	r->p = base + off;
	return true;
}

static bool s_mentry_read(const uint8_t *p, size_t len, struct s_mentry *e)
{
	struct s_rd r = {p, p + len};
	bool has_op = false, has_id = false;
	const char *k, *s;
	size_t kn, sn;
	uint32_t n;
	int64_t v;

	memset(e, 0, sizeof *e);
	if (!s_rd_map(&r, &n))
		return false;
	for (uint32_t i = 0; i < n; i++) {
		if (!s_rd_str(&r, &k, &kn))
			return false;
		if (s_key(k, kn, "g") || s_key(k, kn, "at")) {
			if (!s_rd_int(&r, &v) || (k[0] == 'g' && v < 0))
				return false;
			if (k[0] == 'g')
				e->g = (uint64_t)v;
			else
				e->at = v;
		} else if (s_key(k, kn, "op")) {
			if (!s_rd_str(&r, &s, &sn) ||
			    (!s_key(s, sn, "put") && !s_key(s, sn, "del")))
				return false;
			e->del = s[0] == 'd';
			has_op = true;
		} else if (s_key(k, kn, "id")) {
			if (!s_rd_str(&r, &s, &sn) || sn >= sizeof e->id ||
			    memchr(s, 0, sn))
				return false;
			memcpy(e->id, s, sn);
			e->id[sn] = 0;
			has_id = true;
		} else if (s_key(k, kn, "rec")) {
			const uint8_t *at = r.p;
			if (!s_rd_skip(&r, p, len))
				return false;
			e->rec = at;
			e->reclen = (size_t)(r.p - at);
		} else if (!s_rd_skip(&r, p, len)) {
			return false;
		}
	}
	if (e->del) {
		e->rec = NULL;
		e->reclen = 0;
	}
	return has_op && has_id &&
	       (e->del || (e->rec && ((e->rec[0] & 0xf0) == 0x80 ||
				      e->rec[0] == 0xde || e->rec[0] == 0xdf)));
}

static int s_down_entry(kp_txn *txn, struct s_down *d, const uint8_t *bytes,
			size_t len)
{
	char err[KP_ERR_MAX];
	uint8_t key[KP_KEY_MAX];
	struct s_mentry e;
	struct kp_id id;
	int rc = KP_OK;

	if (!s_mentry_read(bytes, len, &e) ||
	    kp_id_parse(e.id, NULL, 0, &id, err)) {
		snprintf(d->why, sizeof d->why,
			 "entry %" PRIu64 " (%s) is not a change of a record",
			 e.g, e.id[0] ? e.id : "no id");
		return KP_EPROTO;
	}
	if (e.g && e.g <= d->cursor.seq && !d->m->down_reset)
		return KP_OK; /* had it: delivered again */
	/* This hub's own records are not mirrored, and volunteers never
	 * leave their hub's partition at central. */
	if (strcmp(id.hub, d->hs->hub) && id.kind != KP_VOLUNTEER) {
		size_t klen = kp_id_key(&id, key);
		if (e.del)
			rc = kp_txn_tdel(txn, KP_T_MIRROR, key, klen);
		else
			rc = kp_txn_tput(txn, KP_T_MIRROR, key, klen, e.rec,
					 e.reclen, 0);
		d->applied++;
	}
	if (!rc && e.g) {
		d->cursor.seq = e.g;
		d->cursor.at = e.at;
		snprintf(d->cursor.id, sizeof d->cursor.id, "%s", e.id);
	}
	return rc;
}

static int s_down_fn(kp_txn *txn, void *arg)
{
	struct s_down *d = arg;
	const struct kp_msg *m = d->m;
	const uint8_t *bytes;
	size_t off = 0, len;
	int rc;

	d->applied = 0;
	d->why[0] = 0;
	if ((rc = s_meta_fp(txn, "down", &d->cursor)))
		return rc;
	if (m->down_reset) {
		memset(&d->cursor, 0, sizeof d->cursor);
		if ((rc = kp_txn_tclear(txn, KP_T_MIRROR)) ||
		    (rc = kp_txn_meta_put(txn, "mirror_state", "rebuilding")) ||
		    (rc = kp_txn_meta_put(txn, "down_cinc", d->hs->cinc)))
			return rc;
	}
	while ((rc = kp_wire_next(m->data, m->len, &off, &bytes, &len)) ==
	       KP_OK)
		if ((rc = s_down_entry(txn, d, bytes, len)))
			return rc;
	if (rc != KP_ENOTFOUND) {
		if (!d->why[0])
			snprintf(d->why, sizeof d->why,
				 "the batch's entries do not decode");
		return KP_EPROTO;
	}
	if ((rc = s_meta_put_fp(txn, "down", &d->cursor)) ||
	    (rc = s_meta_put_i64(txn, "mirror_at", kp_now())) ||
	    (m->end && (rc = kp_txn_meta_put(txn, "mirror_state", "ok"))))
		return rc;
	/* The session's meta rides along: one flush for both. */
	return s_meta_session_put(txn, d->hs);
}

static void s_send_down_ack(kp_hubsync *hs)
{
	struct kp_msg a = {.type = KP_MSG_DOWN_ACK, .seq = hs->down_ack_seq};
	hs->down_ack_pending = s_send(hs, &a) != KP_OK;
}

static void s_on_down(kp_hubsync *hs, const struct kp_msg *m)
{
	struct s_down d = {.hs = hs, .m = m};
	int rc;

	if (hs->in_snap_txn)
		return; /* no writes now; central sends it again */
	rc = kp_store_write(hs->store, s_down_fn, &d);
	if (rc == KP_EPROTO) {
		char why[KP_ERR_MAX + 64];
		snprintf(why, sizeof why,
			 "refused a mirror batch from central: %s", d.why);
		s_lost(hs, why, false);
		return;
	}
	if (rc) {
		s_log(hs, "cannot write the mirror: %s (%s)", kp_strerror(rc),
		      kp_store_detail(hs->store));
		hs->fatal = rc;
		return;
	}
	hs->meta_dirty = false;
	hs->meta_flushed = s_mono_ms();
	if (m->down_reset)
		s_log(hs,
		      "mirror rebuild started (central's log at gseq "
		      "%" PRIu64 ")",
		      m->last);
	if (m->end)
		s_log(hs, "mirror rebuilt, up to gseq %" PRIu64, d.cursor.seq);
	hs->down_ack_seq = d.cursor.seq;
	s_send_down_ack(hs);
}

/* ---- RESTORE: merging central's copy ---- */

/* What the oplog says about one record: its last write. */
struct s_lw {
	char kind;
	uint64_t n;
	bool found, del;
	int64_t at;
};

static int s_lw_cmp(const void *a, const void *b)
{
	const struct s_lw *x = a, *y = b;
	if (x->kind != y->kind)
		return x->kind < y->kind ? -1 : 1;
	return x->n < y->n ? -1 : x->n > y->n;
}

struct s_item {
	const uint8_t *bytes;
	size_t len;
	json_t *entry; /* decoded; NULL when it does not decode */
	struct kp_id id;
	bool own; /* id parsed and of this hub */
};

struct s_scan {
	kp_hubsync *hs;
	struct s_lw *lw;
	size_t n;
};

static int s_scan_one(const void *k, size_t klen, const void *v, size_t vlen,
		      void *arg)
{
	struct s_scan *sc = arg;
	struct s_head h;
	struct s_lw key, *hit;
	(void)k;
	(void)klen;
	if (!s_peek(v, vlen, &h) ||
	    !s_own_id(sc->hs, h.id, h.idlen, &key.kind, &key.n))
		return KP_OK;
	hit = bsearch(&key, sc->lw, sc->n, sizeof *sc->lw, s_lw_cmp);
	if (hit) { /* in seq order: the last one seen is the last write */
		hit->found = true;
		hit->del = h.del;
		hit->at = h.at;
	}
	return KP_OK;
}

static bool s_holds_room(char kind, const json_t *rec)
{
	if (kind != KP_BOOKING && kind != KP_ACTIVITY)
		return false;
	return json_object_get(rec, "room") &&
	       strcmp(kp_rec_str(rec, "status", ""), "cancelled");
}

/* Keep entry as a dead letter of this hub: {at, id, reason, entry}. */
static int s_dead(kp_txn *txn, kp_hubsync *hs, json_t *entry,
		  const char *idtext, const char *reason)
{
	uint8_t key[8];
	const void *k;
	size_t klen;
	uint64_t n = 1;
	json_t *o;
	int rc = kp_txn_tlast(txn, KP_T_DEAD, &k, &klen, NULL, NULL);

	if (rc == KP_OK && klen == 8)
		n = kp_be64_get(k) + 1;
	else if (rc && rc != KP_ENOTFOUND)
		return rc;
	o = json_pack("{sIsssssO?}", "at", (json_int_t)kp_now(), "id", idtext,
		      "reason", reason, "entry", entry);
	if (!o)
		return KP_ENOMEM;
	hs->tmp.len = 0;
	rc = kp_codec_encode(o, &hs->tmp);
	json_decref(o);
	if (rc)
		return rc;
	kp_be64_put(key, n);
	return kp_txn_tput(txn, KP_T_DEAD, key, 8, hs->tmp.data, hs->tmp.len,
			   KP_TPUT_APPEND);
}

/*
 * Give rec (owner's new version) its room, or say why not. KP_OK, or
 * KP_ECLASH/KP_ENOTFOUND/KP_EINVAL with a sentence in why; other codes
 * are failures of the store.
 */
static int s_hold(kp_txn *txn, const struct kp_id *owner, json_t *rec,
		  char *why, size_t whylen)
{
	struct kp_clashes clashes = {0};
	char line[400];
	int rc;

	if (!s_holds_room(owner->kind, rec))
		return KP_OK;
	rc = kp_hold_room(txn, owner, rec, false, &clashes);
	if (rc == KP_ECLASH && clashes.n) {
		kp_clash_describe(&clashes.items[0], line, sizeof line);
		snprintf(why, whylen, "its room is taken: %s%s", line,
			 clashes.n > 1 ? " (and more)" : "");
	} else if (rc == KP_ENOTFOUND) {
		snprintf(why, whylen, "its room %s does not exist",
			 kp_rec_str(rec, "room", "?"));
	} else if (rc == KP_EINVAL || rc == KP_ECORRUPT) {
		snprintf(why, whylen, "its room %s cannot be booked here",
			 kp_rec_str(rec, "room", "?"));
		rc = KP_EINVAL;
	}
	kp_clashes_free(&clashes);
	return rc;
}

/* Put back the slots kp_release_room() just took from rec (owner's), as
 * they were: the undo of a release, without the rules' checks. */
struct s_reslot {
	kp_txn *txn;
	const struct kp_id *owner;
	uint64_t room;
};

static int s_reslot_one(int64_t start, int64_t end, void *arg)
{
	struct s_reslot *r = arg;
	struct kp_slot slot = {.start = start, .end = end, .owner = *r->owner};
	return kp_txn_slot_add(r->txn, r->room, &slot);
}

static int s_reslot(kp_txn *txn, const struct kp_id *owner, const json_t *rec)
{
	struct s_reslot r = {.txn = txn, .owner = owner};
	char err[KP_ERR_MAX];
	struct kp_series s;
	struct kp_id room;
	int64_t *cancelled = NULL;
	int rc;

	if (kp_id_parse(kp_rec_str(rec, "room", ""), owner->hub, KP_ROOM, &room,
			err))
		return KP_OK; /* it held no slot: nothing was released */
	r.room = room.n;
	if ((rc = kp_series_of(rec, &s, &cancelled)) == KP_OK)
		rc = kp_series_each(&s, s_reslot_one, &r);
	free(cancelled);
	return rc == KP_EINVAL ? KP_OK : rc;
}

struct s_merge {
	kp_hubsync *hs;
	struct s_item *items;
	size_t n;
	bool defer; /* a missing room: keep the entry for the end */
	bool first; /* the session's first batch: clear the stage */
	struct s_merge_count count;
};

/* Put the volunteer's personal fields the hub has back into central's
 * version, which lacks them unless the volunteer consented. */
static void s_keep_personal(json_t *rec, const json_t *cur)
{
	for (int i = 0; kp_personal_fields[i]; i++) {
		json_t *v = json_object_get(cur, kp_personal_fields[i]);
		if (v && !json_object_get(rec, kp_personal_fields[i]))
			json_object_set(rec, kp_personal_fields[i], v);
	}
}

static int s_defer(kp_txn *txn, struct s_merge *mg, const struct s_item *it)
{
	uint8_t key[KP_KEY_MAX];
	mg->count.deferred++;
	return kp_txn_tput(txn, KP_T_STAGE, key, kp_id_key(&it->id, key),
			   it->bytes, it->len, 0);
}

/* Central's version of a record whose id the hub used again: it comes
 * back as a new record under a fresh id, or goes to the dead letters
 * when its room is taken. */
static int s_relocate(kp_txn *txn, struct s_merge *mg, struct s_item *it,
		      const json_t *rec, const char *idtext)
{
	kp_hubsync *hs = mg->hs;
	char why[600], newtext[KP_ID_STRLEN];
	struct kp_id nid;
	json_t *mine;
	int rc;

	if ((rc = kp_txn_new_id(txn, it->id.kind, &nid)))
		return rc;
	if (!(mine = json_deep_copy(rec)))
		return KP_ENOMEM;
	kp_id_format(&nid, newtext);
	rc = s_hold(txn, &nid, mine, why, sizeof why);
	if (rc == KP_ECLASH || rc == KP_ENOTFOUND || rc == KP_EINVAL) {
		char reason[800];
		snprintf(reason, sizeof reason,
			 "this hub used %s again for another record; central's "
			 "version cannot come back as %s: %.500s",
			 idtext, newtext, why);
		mg->count.dead++;
		rc = s_dead(txn, hs, it->entry, idtext, reason);
	} else if (rc == KP_OK) {
		mg->count.moved++;
		if (hs->rs.moved + mg->count.moved <= S_MOVED_LOGGED)
			s_log(hs,
			      "restore: %s was used again here; central's "
			      "version is back as %s",
			      idtext, newtext);
		rc = kp_txn_put(txn, &nid, mine);
	}
	json_decref(mine);
	return rc;
}

/* The restore rules of docs/protocol.md for one entry of central's. */
static int s_merge_one(kp_txn *txn, struct s_merge *mg, struct s_item *it,
		       const struct s_lw *lw)
{
	kp_hubsync *hs = mg->hs;
	char why[600], err[KP_ERR_MAX], idtext[KP_ID_STRLEN];
	const char *op = kp_rec_str(it->entry, "op", "");
	int64_t at = kp_rec_int(it->entry, "at", 0);
	json_t *rec = json_object_get(it->entry, "rec"), *cur = NULL, *mine;
	bool del = !strcmp(op, "del"), fresh;
	int rc;

	kp_id_format(&it->id, idtext);
	if (!del && (!json_is_object(rec) ||
		     kp_model_validate_shared(it->id.kind, rec, err))) {
		snprintf(why, sizeof why, "central's version is not valid: %s",
			 json_is_object(rec) ? err : "no record");
		mg->count.dead++;
		return s_dead(txn, hs, it->entry, idtext, why);
	}
	/* Ids central holds are taken: the hub hands none of them out
	 * again (a restored hub's counters are as old as its backup). */
	if ((rc = kp_txn_id_seen(txn, &it->id, &fresh)))
		return rc;
	rc = kp_txn_get(txn, &it->id, &cur);
	if (rc && rc != KP_ENOTFOUND)
		return rc;
	if (!cur) {
		/* The hub lacks it: back it comes, unless the hub deleted it
		 * after central's version was written. */
		if (del || (lw && lw->found && lw->del && lw->at >= at)) {
			mg->count.kept++;
			return KP_OK;
		}
		if (!(mine = json_deep_copy(rec)))
			return KP_ENOMEM;
		rc = s_hold(txn, &it->id, mine, why, sizeof why);
		if (rc == KP_ENOTFOUND && mg->defer) {
			rc = s_defer(txn, mg, it);
		} else if (rc == KP_ECLASH || rc == KP_ENOTFOUND ||
			   rc == KP_EINVAL) {
			mg->count.dead++;
			rc = s_dead(txn, hs, it->entry, idtext, why);
		} else if (rc == KP_OK) {
			mg->count.back++;
			rc = kp_txn_put(txn, &it->id, mine);
		}
		goto out_mine;
	}
	/* The hub has it. */
	if (!(mine = json_deep_copy(cur))) {
		rc = KP_ENOMEM;
		goto out;
	}
	kp_model_project(it->id.kind, mine, KP_TO_CENTRAL);
	if (!del && json_equal(mine, rec)) {
		mg->count.same++;
		rc = KP_OK;
		goto out_mine;
	}
	json_decref(mine);
	mine = NULL;
	if (lw && lw->found && lw->at >= at) {
		/* The hub wrote the id after central's version: typically
		 * the restored hub handed it out again, for a new record.
		 * The hub's record stands; central's comes back under a
		 * fresh id, once every id central holds is known (the end
		 * of the restore), so the fresh one is nobody's. */
		if (del) {
			mg->count.kept++;
			rc = KP_OK;
		} else if (mg->defer) {
			rc = s_defer(txn, mg, it);
		} else {
			rc = s_relocate(txn, mg, it, rec, idtext);
		}
		goto out;
	}
	/* Central's version is newer: it is taken. */
	if (s_holds_room(it->id.kind, cur) &&
	    (rc = kp_release_room(txn, &it->id, cur)))
		goto out;
	if (del) {
		mg->count.taken++;
		rc = kp_txn_delete(txn, &it->id);
		goto out;
	}
	if (!(mine = json_deep_copy(rec))) {
		rc = KP_ENOMEM;
		goto out;
	}
	if (it->id.kind == KP_VOLUNTEER)
		s_keep_personal(mine, cur);
	rc = s_hold(txn, &it->id, mine, why, sizeof why);
	if (rc == KP_ECLASH || rc == KP_ENOTFOUND || rc == KP_EINVAL) {
		/* The hub's version keeps its slots, as before. */
		int rc2 = s_holds_room(it->id.kind, cur)
			      ? s_reslot(txn, &it->id, cur)
			      : KP_OK;
		if (rc2)
			rc = rc2;
		else if (rc == KP_ENOTFOUND && mg->defer)
			rc = s_defer(txn, mg, it);
		else {
			mg->count.dead++;
			rc = s_dead(txn, hs, it->entry, idtext, why);
		}
		goto out_mine;
	}
	if (rc == KP_OK) {
		mg->count.taken++;
		rc = kp_txn_put(txn, &it->id, mine);
	}
out_mine:
	json_decref(mine);
out:
	json_decref(cur);
	return rc;
}

/* Merge mg->items in the transaction: decode, find each record's last
 * write in the oplog (one pass), apply the rules. */
static int s_merge_fn(kp_txn *txn, void *arg)
{
	struct s_merge *mg = arg;
	kp_hubsync *hs = mg->hs;
	struct s_scan sc = {.hs = hs};
	char err[KP_ERR_MAX];
	int rc = KP_OK;

	memset(&mg->count, 0, sizeof mg->count);
	if (mg->first && (rc = kp_txn_tclear(txn, KP_T_STAGE)))
		return rc;
	if (!(sc.lw = calloc(mg->n ? mg->n : 1, sizeof *sc.lw)))
		return KP_ENOMEM;
	for (size_t i = 0; i < mg->n; i++) {
		struct s_item *it = &mg->items[i];
		it->entry = NULL;
		it->own = false;
		if (kp_codec_decode(it->bytes, it->len, &it->entry) ||
		    !json_is_object(it->entry))
			continue;
		if (kp_id_parse(kp_rec_str(it->entry, "id", ""), NULL, 0,
				&it->id, err) ||
		    strcmp(it->id.hub, hs->hub))
			continue;
		it->own = true;
		sc.lw[sc.n].kind = it->id.kind;
		sc.lw[sc.n].n = it->id.n;
		sc.n++;
	}
	qsort(sc.lw, sc.n, sizeof *sc.lw, s_lw_cmp);
	if (sc.n) {
		rc = kp_txn_teach(txn, KP_T_OPLOG, NULL, 0, NULL, 0, s_scan_one,
				  &sc);
	}
	for (size_t i = 0; i < mg->n && rc == KP_OK; i++) {
		struct s_item *it = &mg->items[i];
		struct s_lw key, *lw;
		if (!it->own) {
			mg->count.dead++;
			rc = s_dead(txn, hs, it->entry,
				    kp_rec_str(it->entry, "id", ""),
				    it->entry ? "central sent back a record "
						"that is not this hub's"
					      : "central sent back bytes "
						"that do not decode");
			continue;
		}
		key.kind = it->id.kind;
		key.n = it->id.n;
		lw = bsearch(&key, sc.lw, sc.n, sizeof *sc.lw, s_lw_cmp);
		rc = s_merge_one(txn, mg, it, lw);
	}
	for (size_t i = 0; i < mg->n; i++) {
		json_decref(mg->items[i].entry);
		mg->items[i].entry = NULL;
	}
	free(sc.lw);
	return rc;
}

static void s_count_add(struct s_merge_count *to, const struct s_merge_count *c)
{
	to->back += c->back;
	to->taken += c->taken;
	to->same += c->same;
	to->kept += c->kept;
	to->moved += c->moved;
	to->dead += c->dead;
	to->deferred += c->deferred;
}

/* Deferred entries (their room came later), a chunk per transaction;
 * what still cannot be put back is a dead letter now. */
struct s_staged {
	struct kp_buf bytes;
	size_t off[S_DEFER_CHUNK], len[S_DEFER_CHUNK];
	uint8_t keys[S_DEFER_CHUNK][KP_KEY_MAX];
	size_t klen[S_DEFER_CHUNK];
	size_t n;
};

static int s_staged_one(const void *k, size_t klen, const void *v, size_t vlen,
			void *arg)
{
	struct s_staged *st = arg;
	int rc;
	if (klen > KP_KEY_MAX)
		return KP_ECORRUPT;
	st->off[st->n] = st->bytes.len;
	st->len[st->n] = vlen;
	memcpy(st->keys[st->n], k, klen);
	st->klen[st->n] = klen;
	if ((rc = kp_buf_append(&st->bytes, v, vlen)))
		return rc;
	return ++st->n == S_DEFER_CHUNK ? S_ABORT : KP_OK;
}

struct s_deferred {
	struct s_merge mg;
	struct s_staged st;
	struct s_item items[S_DEFER_CHUNK];
};

static int s_deferred_fn(kp_txn *txn, void *arg)
{
	struct s_deferred *d = arg;
	int rc;

	d->st.n = 0;
	d->st.bytes.len = 0;
	rc = kp_txn_teach(txn, KP_T_STAGE, NULL, 0, NULL, 0, s_staged_one,
			  &d->st);
	if (rc < 0)
		return rc;
	for (size_t i = 0; i < d->st.n; i++) {
		d->items[i].bytes =
		    (const uint8_t *)d->st.bytes.data + d->st.off[i];
		d->items[i].len = d->st.len[i];
		if ((rc = kp_txn_tdel(txn, KP_T_STAGE, d->st.keys[i],
				      d->st.klen[i])))
			return rc;
	}
	d->mg.items = d->items;
	d->mg.n = d->st.n;
	d->mg.defer = false;
	d->mg.first = false;
	return s_merge_fn(txn, &d->mg);
}

static int s_finish_fn(kp_txn *txn, void *arg)
{
	int rc;
	(void)arg;
	if ((rc = kp_txn_tclear(txn, KP_T_STAGE)))
		return rc;
	return kp_txn_new_incarnation(txn);
}

static void s_restore_finish(kp_hubsync *hs)
{
	struct s_deferred *d = calloc(1, sizeof *d);
	int rc = KP_OK;

	if (!d) {
		hs->fatal = KP_ENOMEM;
		return;
	}
	d->mg.hs = hs;
	do {
		rc = kp_store_write(hs->store, s_deferred_fn, d);
		if (rc == KP_OK)
			s_count_add(&hs->rs, &d->mg.count);
	} while (rc == KP_OK && d->st.n == S_DEFER_CHUNK);
	kp_buf_free(&d->st.bytes);
	free(d);
	if (rc == KP_OK)
		rc = kp_store_write(hs->store, s_finish_fn, NULL);
	if (rc) {
		s_log(hs, "cannot finish the restore: %s (%s)", kp_strerror(rc),
		      kp_store_detail(hs->store));
		hs->fatal = rc;
		return;
	}
	s_log(hs,
	      "restore finished: %" PRIu64 " records back, %" PRIu64
	      " taken from central, %" PRIu64 " back under a new id, %" PRIu64
	      " the same, %" PRIu64 " left as the hub has them, %" PRIu64
	      " to the dead letters; new incarnation %.8s",
	      hs->rs.back, hs->rs.taken, hs->rs.moved, hs->rs.same, hs->rs.kept,
	      hs->rs.dead, kp_store_incarnation(hs->store));
	s_restart(hs, NULL);
}

static void s_send_restore_ack(kp_hubsync *hs)
{
	struct kp_msg a = {.type = KP_MSG_RESTORE_ACK, .seq = hs->rs_batches};
	hs->rs_ack_pending = s_send(hs, &a) != KP_OK;
}

static void s_on_restore(kp_hubsync *hs, const struct kp_msg *m)
{
	struct s_merge mg = {.hs = hs, .defer = true};
	const uint8_t *bytes;
	size_t off = 0, len;
	int rc;

	if (hs->state != S_RESTORING)
		return;
	if (!(mg.items = calloc(m->count ? m->count : 1, sizeof *mg.items))) {
		hs->fatal = KP_ENOMEM;
		return;
	}
	while (mg.n < m->count && (rc = kp_wire_next(m->data, m->len, &off,
						     &bytes, &len)) == KP_OK) {
		mg.items[mg.n].bytes = bytes;
		mg.items[mg.n].len = len;
		mg.n++;
	}
	if (mg.n != m->count || off != m->len) {
		free(mg.items);
		s_lost(hs,
		       "refused a restore batch from central: its entries "
		       "do not match its count",
		       false);
		return;
	}
	mg.first = hs->rs_batches == 0;
	rc = kp_store_write(hs->store, s_merge_fn, &mg);
	free(mg.items);
	if (rc) {
		s_log(hs, "cannot merge central's records: %s (%s)",
		      kp_strerror(rc), kp_store_detail(hs->store));
		hs->fatal = rc;
		return;
	}
	s_count_add(&hs->rs, &mg.count);
	hs->rs_batches++;
	hs->rs_entries += m->count;
	s_send_restore_ack(hs);
	if (!m->end)
		return;
	if (m->total != hs->rs_entries) {
		char why[200];
		snprintf(why, sizeof why,
			 "the restore ended with %" PRIu64
			 " records where central counted %" PRIu64,
			 hs->rs_entries, m->total);
		s_lost(hs, why, false);
		return;
	}
	s_restore_finish(hs);
}

/* ---- central requests (docs/protocol.md, "Central requests") ----
 *
 * A COMMAND is executed with kp_op_add_with(): the same checks and clash
 * rule as the command line, and the token's result (table KP_T_DONE,
 * token -> {num, state, result, reason, at}) written in the same
 * transaction as the record. A refusal writes nothing but its result, in
 * a transaction of its own. So a hub killed at any instant has executed a
 * request once or not at all, and knows which; a COMMAND whose token is
 * there already is answered with the stored result and not executed
 * again. A store failure (full, read-only) records nothing and answers
 * nothing: central sends the request again later.
 */

struct s_cmd {
	const struct kp_msg *m;
	const char *state;
	char rid[KP_ID_STRLEN];
	char reason[KP_REASON_MAX];
	bool found; /* the token was there already */
};

/* The stored result of c->m's token into c; found false when none. */
static int s_cmd_get_fn(kp_txn *txn, void *arg)
{
	struct s_cmd *c = arg;
	const char *tok = c->m->token;
	const void *v;
	size_t vlen;
	json_t *o;
	int rc;

	c->found = false;
	rc = kp_txn_tget(txn, KP_T_DONE, tok, strlen(tok), &v, &vlen);
	if (rc == KP_ENOTFOUND)
		return KP_OK;
	if (rc || (rc = kp_codec_decode(v, vlen, &o)))
		return rc;
	c->found = true;
	c->state = strcmp(kp_rec_str(o, "state", ""), "accepted") ? "refused"
								  : "accepted";
	snprintf(c->rid, sizeof c->rid, "%s", kp_rec_str(o, "result", ""));
	snprintf(c->reason, sizeof c->reason, "%s",
		 kp_rec_str(o, "reason", ""));
	json_decref(o);
	return KP_OK;
}

/* Write the token's result; KP_EEXIST when the token has one already. */
static int s_cmd_put(kp_txn *txn, struct s_cmd *c)
{
	const char *tok = c->m->token;
	struct kp_buf buf = {0};
	const void *v;
	size_t vlen;
	json_t *o;
	int rc;

	rc = kp_txn_tget(txn, KP_T_DONE, tok, strlen(tok), &v, &vlen);
	if (rc == KP_OK)
		return KP_EEXIST;
	if (rc != KP_ENOTFOUND)
		return rc;
	o = json_pack("{sIsssssssI}", "num", (json_int_t)c->m->num, "state",
		      c->state, "result", c->rid, "reason", c->reason, "at",
		      (json_int_t)kp_now());
	if (!o)
		return KP_ENOMEM;
	rc = kp_codec_encode(o, &buf);
	json_decref(o);
	if (rc == KP_OK)
		rc = kp_txn_tput(txn, KP_T_DONE, tok, strlen(tok), buf.data,
				 buf.len, 0);
	kp_buf_free(&buf);
	return rc;
}

static int s_cmd_accepted(kp_txn *txn, const struct kp_op *op, void *arg)
{
	struct s_cmd *c = arg;
	c->state = "accepted";
	kp_id_format(&op->id, c->rid);
	c->reason[0] = 0;
	return s_cmd_put(txn, c);
}

static int s_cmd_refused_fn(kp_txn *txn, void *arg)
{
	return s_cmd_put(txn, arg);
}

static void s_cmd_answer(kp_hubsync *hs, const struct s_cmd *c)
{
	struct kp_msg r = {.type = KP_MSG_COMMAND_RESULT, .num = c->m->num};
	snprintf(r.token, sizeof r.token, "%s", c->m->token);
	snprintf(r.state, sizeof r.state, "%s", c->state);
	snprintf(r.rid, sizeof r.rid, "%s", c->rid);
	snprintf(r.reason, sizeof r.reason, "%s", c->reason);
	/* Not sent now: central asks again and gets the stored result. */
	s_send(hs, &r);
}

static void s_on_command(kp_hubsync *hs, const struct kp_msg *m)
{
	struct s_cmd c = {.m = m};
	struct kp_op op = {0};
	char kind = kp_kind_from_name(m->kind);
	int rc;

	if (hs->in_snap_txn || hs->state == S_RESTORING ||
	    hs->state == S_WAITING)
		return; /* no write now: central sends it again */
	if (!m->token[0]) {
		s_log(hs,
		      "central sent request q%" PRIu64 " without a token; "
		      "it is not executed",
		      m->num);
		hs->stats.errors++;
		return;
	}
	if ((rc = kp_store_read(hs->store, s_cmd_get_fn, &c)))
		goto store_failed;
	if (c.found) {
		s_log(hs,
		      "request q%" PRIu64 " came again: it was %s before, "
		      "and is not executed twice",
		      m->num, c.state);
		s_cmd_answer(hs, &c);
		return;
	}
	if (kind != KP_BOOKING && kind != KP_ACTIVITY) {
		snprintf(
		    c.reason, sizeof c.reason,
		    "a request adds a booking or an activity, not \"%.20s\"",
		    m->kind);
	} else if (kp_codec_decode(m->data, m->len, &op.rec) ||
		   !json_is_object(op.rec)) {
		snprintf(c.reason, sizeof c.reason,
			 "the request's fields are not a map of fields");
	} else {
		rc = kp_op_add_with(hs->store, kind, &op, s_cmd_accepted, &c);
		if (rc == KP_EEXIST) {
			/* Recorded meanwhile: answer what was recorded. */
			kp_op_free(&op);
			if ((rc = kp_store_read(hs->store, s_cmd_get_fn, &c)))
				goto store_failed;
			s_cmd_answer(hs, &c);
			return;
		}
		if (rc == KP_OK) {
			s_log(hs,
			      "request q%" PRIu64 " from central: %s %s "
			      "added",
			      m->num, m->kind, c.rid);
			kp_op_free(&op);
			s_cmd_answer(hs, &c);
			return;
		}
		if (rc != KP_EINVAL && rc != KP_ENOTFOUND && rc != KP_ECLASH &&
		    rc != KP_EPOLICE) {
			kp_op_free(&op);
			goto store_failed;
		}
		snprintf(c.reason, sizeof c.reason, "%s",
			 op.err[0] ? op.err : kp_strerror(rc));
	}
	kp_op_free(&op);
	c.state = "refused";
	c.rid[0] = 0;
	kp_utf8_clean(c.reason);
	rc = kp_store_write(hs->store, s_cmd_refused_fn, &c);
	if (rc == KP_EEXIST)
		rc = kp_store_read(hs->store, s_cmd_get_fn, &c);
	if (rc)
		goto store_failed;
	s_log(hs, "request q%" PRIu64 " from central refused: %s", m->num,
	      c.reason);
	s_cmd_answer(hs, &c);
	return;
store_failed:
	s_log(hs,
	      "cannot execute request q%" PRIu64 " now: %s (%s); central "
	      "sends it again",
	      m->num, kp_strerror(rc), kp_store_detail(hs->store));
	hs->stats.errors++;
}

/* ---- receiving ---- */

static void s_handle(kp_hubsync *hs, const void *data, size_t len)
{
	char err[KP_ERR_MAX];
	struct kp_msg m;
	int rc = kp_wire_decode(data, len, &m, err);

	if (rc == KP_EVERSION) {
		char why[KP_ERR_MAX + 80];
		snprintf(why, sizeof why,
			 "central speaks another protocol (%s): upgrade "
			 "knutepunkt here or there",
			 err);
		s_lost(hs, why, false);
		return;
	}
	if (rc) {
		s_log(hs, "dropped a message from central: %s", err);
		hs->stats.errors++;
		return;
	}
	if (m.type == KP_MSG_REFUSE) {
		hs->stats.errors++;
		if (hs->state == S_DISCONNECTED ||
		    (m.session != hs->session &&
		     !(m.session == 0 && hs->state == S_WAITING)))
			return;
		char why[KP_REASON_MAX + 40];
		snprintf(why, sizeof why, "refused by central: %s", m.reason);
		/* With CurveZMQ a new connection asks central about the key
		 * again (a revoked one is then refused at the handshake). */
		s_lost(hs, why, hs->curve);
		return;
	}
	if (hs->state == S_DISCONNECTED || m.session != hs->session)
		return; /* a message of a session that ended */
	hs->last_rx = s_mono_ms();
	s_contact(hs);
	switch (m.type) {
	case KP_MSG_WELCOME:
		s_on_welcome(hs, &m);
		break;
	case KP_MSG_ACK:
		s_on_ack(hs, &m);
		break;
	case KP_MSG_DOWN:
		s_on_down(hs, &m);
		break;
	case KP_MSG_RESTORE:
		s_on_restore(hs, &m);
		break;
	case KP_MSG_PING:
		break;
	case KP_MSG_COMMAND:
		s_on_command(hs, &m);
		break;
	default:
		s_log(hs, "central sent %s, which a hub does not take",
		      kp_wire_type_name(m.type));
		break;
	}
}

/* Take the messages waiting, up to S_DRAIN_MAX. */
static void s_drain(kp_hubsync *hs)
{
	for (int i = 0; i < S_DRAIN_MAX && !hs->fatal; i++) {
		void *sock = hs->sock;
		zmq_msg_t part;
		bool ok = true;

		zmq_msg_init(&part);
		if (zmq_msg_recv(&part, sock, ZMQ_DONTWAIT) < 0) {
			zmq_msg_close(&part);
			return;
		}
		/* One frame is one message; of anything longer the last
		 * frame counts (an empty delimiter may come first). */
		while (zmq_msg_more(&part)) {
			zmq_msg_close(&part);
			zmq_msg_init(&part);
			if (zmq_msg_recv(&part, sock, 0) < 0) {
				ok = false;
				break;
			}
		}
		if (ok) {
			hs->stats.msgs_in++;
			s_handle(hs, zmq_msg_data(&part), zmq_msg_size(&part));
		}
		zmq_msg_close(&part);
		if (hs->sock != sock)
			return; /* the socket was renewed */
	}
}

/* ---- pruning ---- */

struct s_prune {
	uint64_t acked;
	int64_t cutoff;
	uint64_t first, last, n;
	struct kp_fp fp;
	bool more;
};

static int s_prune_one(const void *k, size_t klen, const void *v, size_t vlen,
		       void *arg)
{
	struct s_prune *p = arg;
	struct s_head h;
	uint64_t seq;

	if (klen != 8)
		return KP_ECORRUPT;
	seq = kp_be64_get(k);
	if (seq > p->acked || !s_peek(v, vlen, &h) || h.at >= p->cutoff)
		return S_ABORT;
	if (!p->n)
		p->first = seq;
	p->last = seq;
	p->fp.seq = seq;
	p->fp.at = h.at;
	snprintf(p->fp.id, sizeof p->fp.id, "%.*s", (int)h.idlen, h.id);
	if (++p->n == S_PRUNE_CHUNK) {
		p->more = true;
		return S_ABORT;
	}
	return KP_OK;
}

static int s_prune_fn(kp_txn *txn, void *arg)
{
	struct s_prune *p = arg;
	uint8_t key[8];
	int rc;

	p->n = 0;
	p->more = false;
	rc = kp_txn_teach(txn, KP_T_OPLOG, NULL, 0, NULL, 0, s_prune_one, p);
	if (rc < 0)
		return rc;
	if (!p->n)
		return KP_OK;
	for (uint64_t seq = p->first; seq <= p->last; seq++) {
		kp_be64_put(key, seq);
		if ((rc = kp_txn_tdel(txn, KP_T_OPLOG, key, 8)))
			return rc;
	}
	return s_meta_put_fp(txn, "pruned", &p->fp);
}

static void s_prune(kp_hubsync *hs, int64_t now)
{
	struct s_prune p = {.acked = hs->acked,
			    .cutoff = kp_now() - hs->retention};
	int rc;

	hs->next_prune = now + S_PRUNE_MS;
	if (!hs->acked)
		return;
	if ((rc = kp_store_write(hs->store, s_prune_fn, &p))) {
		s_log(hs, "cannot prune the oplog: %s (%s)", kp_strerror(rc),
		      kp_store_detail(hs->store));
		return;
	}
	hs->pruned_run += p.n;
	if (p.n)
		hs->pruned_last = p.last;
	if (p.more) {
		hs->next_prune = now + 10; /* the rest soon, between turns */
		return;
	}
	if (hs->pruned_run)
		s_log(hs,
		      "pruned %" PRIu64 " oplog %s up to seq %" PRIu64
		      " (acknowledged by central, older than %" PRId64 " s)",
		      hs->pruned_run, hs->pruned_run == 1 ? "entry" : "entries",
		      hs->pruned_last, hs->retention);
	hs->pruned_run = 0;
}

/* ---- the loop ---- */

static void s_inotify_drain(kp_hubsync *hs)
{
	char buf[4096]
	    __attribute__((aligned(__alignof__(struct inotify_event))));
	while (read(hs->inotify_fd, buf, sizeof buf) > 0)
		;
}

static int s_head_fn(kp_txn *txn, void *arg)
{
	*(uint64_t *)arg = kp_txn_head_seq(txn);
	return KP_OK;
}

static bool s_established(const kp_hubsync *hs)
{
	return hs->state == S_STREAMING || hs->state == S_SNAPSHOT ||
	       hs->state == S_RESTORING;
}

static void s_timers(kp_hubsync *hs, int64_t now)
{
	s_monitor(hs, now);
	if (hs->state != S_DISCONNECTED && now - hs->last_rx > S_SILENCE_MS) {
		s_lost(hs,
		       hs->state == S_WAITING
			   ? "central did not answer HELLO within 3 s"
			   : "no word from central for 3 s",
		       true);
		return;
	}
	if (((hs->state == S_STREAMING && hs->ninflight) ||
	     (hs->state == S_SNAPSHOT && hs->snap_sent > hs->snap_acked)) &&
	    now - hs->last_progress > S_STALL_MS) {
		s_restart(hs, "central acknowledged nothing for 5 s: starting "
			      "a new session");
	}
	if (s_established(hs) && now >= hs->next_ping) {
		struct kp_msg p = {.type = KP_MSG_PING, .seq = hs->head};
		s_send(hs, &p);
		hs->next_ping = now + S_PING_MS;
	}
	if (hs->recheck_ms && now >= hs->recheck_due) {
		/* Every millisecond for the first few, then less often. */
		if (hs->state == S_STREAMING)
			hs->caught_up = false;
		if (++hs->rechecks > 4)
			hs->recheck_ms *= 2;
		hs->recheck_due = now + hs->recheck_ms;
		if (hs->recheck_ms > S_RECHECK_MAX)
			hs->recheck_ms = 0;
	}
	if (now >= hs->next_headcheck) {
		hs->next_headcheck = now + S_HEADCHECK_MS;
		if (hs->state == S_STREAMING)
			hs->caught_up = false;
		else
			kp_store_read(hs->store, s_head_fn, &hs->head);
	}
	if (hs->down_ack_pending && s_established(hs))
		s_send_down_ack(hs);
	if (hs->rs_ack_pending && hs->state == S_RESTORING)
		s_send_restore_ack(hs);
	if (hs->send_blocked && s_writable(hs))
		hs->send_blocked = false;
	if (now >= hs->next_prune)
		s_prune(hs, now);
	if (hs->meta_dirty && now - hs->meta_flushed >= S_META_MS)
		s_meta_flush(hs, now);
	if (hs->state == S_DISCONNECTED && now >= hs->hello_due) {
		if (s_writable(hs)) {
			s_hello(hs);
		} else if (now >= hs->unreach_due) {
			/* Retries grow to every 5 s (ZeroMQ reconnects by
			 * itself); the log says so, then once a minute. */
			bool quiet = hs->backoff_ms >= S_BACKOFF_MAX;
			if (quiet)
				s_log(hs,
				      "central at %s still unreachable (for "
				      "%" PRId64 " s)",
				      hs->central,
				      (now - hs->unreach_since) / 1000);
			else
				s_log(hs,
				      "central at %s unreachable, retrying in "
				      "%.1f s",
				      hs->central,
				      (double)hs->backoff_ms / 1000);
			hs->unreach_due =
			    now + (quiet ? S_QUIET_MS : hs->backoff_ms);
			if (hs->backoff_ms < S_BACKOFF_MAX)
				hs->backoff_ms =
				    hs->backoff_ms * 2 > S_BACKOFF_MAX
					? S_BACKOFF_MAX
					: hs->backoff_ms * 2;
		}
	}
}

static int64_t s_min(int64_t a, int64_t b)
{
	return a < b ? a : b;
}

/* Milliseconds until the next timer, at most one second. */
static long s_timeout(const kp_hubsync *hs, int64_t now)
{
	int64_t t = now + 1000;
	if (hs->state == S_DISCONNECTED) {
		if (hs->hello_due > now)
			t = s_min(t, hs->hello_due);
		t = s_min(t, hs->unreach_due);
	} else {
		t = s_min(t, hs->last_rx + S_SILENCE_MS + 1);
	}
	if (s_established(hs))
		t = s_min(t, hs->next_ping);
	if (hs->state == S_STREAMING && hs->ninflight)
		t = s_min(t, hs->last_progress + S_STALL_MS + 1);
	t = s_min(t, hs->next_headcheck);
	if (hs->recheck_ms)
		t = s_min(t, hs->recheck_due);
	t = s_min(t, hs->next_prune);
	if (hs->meta_dirty)
		t = s_min(t, hs->meta_flushed + S_META_MS);
	if (hs->snap_pending ||
	    (hs->state == S_STREAMING && !hs->caught_up &&
	     hs->ninflight < KP_WINDOW && !hs->send_blocked))
		t = now;
	return t > now ? (long)(t - now) : 0;
}

static bool s_want_out(const kp_hubsync *hs, int64_t now)
{
	return (hs->state == S_DISCONNECTED && now >= hs->hello_due) ||
	       hs->send_blocked || hs->down_ack_pending || hs->rs_ack_pending;
}

int kp_hubsync_run(kp_hubsync *hs, int stop_fd)
{
	int64_t now = s_mono_ms();

	hs->stop_fd = stop_fd;
	hs->stopping = false;
	hs->state = S_DISCONNECTED;
	hs->backoff_ms = S_BACKOFF_MIN;
	hs->hello_due = now;
	hs->unreach_since = now;
	hs->unreach_due = now + 1000;
	hs->next_headcheck = now + S_HEADCHECK_MS;
	hs->next_prune = now + 1000;
	hs->meta_flushed = now;
	kp_store_read(hs->store, s_head_fn, &hs->head);
	s_log(hs,
	      "started: oplog head %" PRIu64 ", acked %" PRIu64 ", central %s",
	      hs->head, hs->acked, hs->central);
	while (!hs->stopping && !hs->fatal) {
		zmq_pollitem_t items[4] = {
		    {hs->sock, 0, ZMQ_POLLIN, 0},
		    {NULL, hs->inotify_fd, ZMQ_POLLIN, 0},
		    {NULL, stop_fd, ZMQ_POLLIN, 0},
		    {NULL, hs->http ? kp_http_fd(hs->http) : -1, ZMQ_POLLIN, 0},
		};
		int n = 0;
		long timeout;

		now = s_mono_ms();
		if (s_want_out(hs, now))
			items[0].events |= ZMQ_POLLOUT;
		/* The stop descriptor is always items[n - 1]. */
		if (hs->inotify_fd >= 0)
			n = 3;
		else
			items[1] = items[2], n = 2;
		if (hs->http) {
			zmq_pollitem_t stop = items[n - 1];
			items[n - 1] = items[3];
			items[n++] = stop;
		}
		timeout = s_timeout(hs, now);
		if (hs->http)
			timeout = kp_http_timeout(hs->http, timeout);
		if (zmq_poll(items, n, timeout) < 0 && zmq_errno() != EINTR) {
			s_log(hs, "cannot wait for events: %s",
			      zmq_strerror(zmq_errno()));
			hs->fatal = KP_EIO;
			break;
		}
		if (items[n - 1].revents)
			hs->stopping = true;
		if (hs->http)
			kp_http_run(hs->http);
		if (n == 3 && items[1].revents) {
			/* A write to the data file. The writer makes its
			 * commit visible to readers just after its last
			 * write (LMDB sets the lock file's txnid then), so a
			 * look now may come too early: more follow, every
			 * millisecond at first, up to half a second later. */
			s_inotify_drain(hs);
			if (hs->state == S_STREAMING)
				hs->caught_up = false;
			hs->recheck_ms = 1;
			hs->rechecks = 0;
			hs->recheck_due = s_mono_ms() + 1;
		}
		if (items[0].revents & ZMQ_POLLIN)
			s_drain(hs);
		if (hs->stopping || hs->fatal)
			break;
		now = s_mono_ms();
		s_timers(hs, now);
		if (hs->snap_pending && hs->state == S_SNAPSHOT)
			s_snapshot(hs);
		s_pump(hs);
	}
	if (hs->session_up) {
		hs->session_up = false;
		hs->meta_dirty = true;
	}
	s_meta_flush(hs, s_mono_ms());
	return hs->fatal;
}

/* ---- opening and closing ---- */

struct s_open {
	kp_hubsync *hs;
	int64_t retention; /* < 0: from the store */
};

static int s_open_fn(kp_txn *txn, void *arg)
{
	struct s_open *o = arg;
	kp_hubsync *hs = o->hs;
	char buf[32];
	int rc;

	/* The hub's key pair, for stores made before keys existed. */
	if ((rc = kp_txn_curve_keys(txn, NULL, NULL)) ||
	    (rc = kp_txn_meta_put(txn, "central_addr", hs->central)) ||
	    (rc = kp_txn_meta_put(txn, "central_session", "down")) ||
	    (rc = kp_txn_meta_u64(txn, "acked_seq", &hs->acked)))
		return rc;
	if (o->retention >= 0) {
		hs->retention = o->retention;
		return s_meta_put_i64(txn, "retention", o->retention);
	}
	rc = kp_txn_meta_get(txn, "retention", buf, sizeof buf);
	if (rc && rc != KP_ENOTFOUND)
		return rc;
	hs->retention = rc ? KP_RETENTION_DEFAULT : strtoll(buf, NULL, 10);
	if (hs->retention < 0)
		hs->retention = KP_RETENTION_DEFAULT;
	return KP_OK;
}

int kp_hubsync_open(const struct kp_hubsync_opts *opts, kp_hubsync **out,
		    char *err)
{
	struct s_open o = {.retention = opts->retention};
	char path[1100];
	kp_hubsync *hs;
	int rc;

	*out = NULL;
	if (!(hs = calloc(1, sizeof *hs))) {
		snprintf(err, KP_ERR_MAX, "out of memory");
		return KP_ENOMEM;
	}
	hs->inotify_fd = -1;
	o.hs = hs;
	snprintf(hs->dir, sizeof hs->dir, "%s", opts->data);
	snprintf(hs->central, sizeof hs->central, "%s", opts->central);
	rc = kp_store_open(opts->data, &hs->store);
	if (rc == KP_ENOINIT) {
		snprintf(err, KP_ERR_MAX,
			 "%s holds no knutepunkt store: run knute init --data "
			 "%s --hub ID --name NAME first",
			 opts->data, opts->data);
		goto out_free;
	}
	if (rc) {
		snprintf(err, KP_ERR_MAX, "cannot open the store in %s: %s%s%s",
			 opts->data, kp_strerror(rc),
			 kp_store_detail(hs->store)[0] ? ": " : "",
			 kp_store_detail(hs->store));
		goto out_free;
	}
	if (kp_store_is_central(hs->store)) {
		snprintf(err, KP_ERR_MAX,
			 "%s holds central's store, not a hub's: run "
			 "knute-central there, or give knute-hub a hub's "
			 "directory (knute init --data DIR --hub ID --name "
			 "NAME)",
			 opts->data);
		rc = KP_EINVAL;
		goto out_free;
	}
	snprintf(hs->hub, sizeof hs->hub, "%s", kp_store_hub(hs->store));
	/* The web server first: a bad --http leaves the store untouched. */
	if (opts->http) {
		char root[1100], host[64];
		const char *dir =
		    kp_http_webroot(opts->webroot, root, sizeof root);
		hs->web.hs = hs;
		if ((rc = kp_http_start(opts->http, dir, "hub.html",
					hubweb_handle, &hs->web, &hs->http,
					err)))
			goto out_free;
		s_log(hs, "web pages on http://%s:%d/ (from %s)",
		      kp_http_host(opts->http, host, sizeof host),
		      kp_http_port(hs->http), dir);
	}
	if ((rc = kp_store_write(hs->store, s_open_fn, &o))) {
		snprintf(err, KP_ERR_MAX,
			 "cannot write to the store in %s: %s%s%s", opts->data,
			 kp_strerror(rc),
			 kp_store_detail(hs->store)[0] ? ": " : "",
			 kp_store_detail(hs->store));
		goto out_free;
	}
	if (!(hs->zctx = zmq_ctx_new())) {
		snprintf(err, KP_ERR_MAX, "cannot start ZeroMQ: %s",
			 zmq_strerror(zmq_errno()));
		rc = KP_ENOMEM;
		goto out_free;
	}
	if ((rc = s_socket_open(hs, err)))
		goto out_free;
	/* New oplog entries from other processes (the knute command line)
	 * show as writes to the data file. Without inotify the once-a-second
	 * look at the head still finds them. */
	hs->inotify_fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
	snprintf(path, sizeof path, "%s/data.mdb", opts->data);
	if (hs->inotify_fd >= 0 &&
	    inotify_add_watch(hs->inotify_fd, path, IN_MODIFY) < 0) {
		close(hs->inotify_fd);
		hs->inotify_fd = -1;
	}
	*out = hs;
	return KP_OK;

out_free:
	kp_hubsync_destroy(&hs);
	return rc;
}

const char *kp_hubsync_hub(const kp_hubsync *hs)
{
	return hs->hub;
}

uint64_t kp_hubsync_acked(const kp_hubsync *hs)
{
	return hs->acked;
}

void kp_hubsync_stats(const kp_hubsync *hs, struct kp_hub_stats *out)
{
	*out = hs->stats;
	out->connected = s_established(hs);
	out->last_contact = hs->contact_s;
	out->head = hs->head;
	out->acked = hs->acked;
}

kp_store *kp_hubsync_store(kp_hubsync *hs)
{
	return hs->store;
}

void kp_hubsync_destroy(kp_hubsync **hsp)
{
	kp_hubsync *hs;
	if (!hsp || !*hsp)
		return;
	hs = *hsp;
	kp_http_stop(&hs->http);
	if (hs->sock)
		zmq_close(hs->sock);
	if (hs->mon)
		zmq_close(hs->mon);
	if (hs->zctx)
		zmq_ctx_term(hs->zctx);
	if (hs->inotify_fd >= 0)
		close(hs->inotify_fd);
	kp_store_close(&hs->store);
	kp_buf_free(&hs->batch.buf);
	kp_buf_free(&hs->out);
	kp_buf_free(&hs->tmp);
	free(hs);
	*hsp = NULL;
}
