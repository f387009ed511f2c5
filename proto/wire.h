/*
 * wire.h - the sync protocol's messages, the one definition hub and
 * central both compile (docs/protocol.md is the reference).
 *
 * A message is one ZeroMQ frame holding one msgpack map with at least "v"
 * (the protocol version) and "t" (the type). Batches of entries or records
 * travel as one msgpack bin holding the entries' msgpack maps one after
 * another, so a receiver can keep an entry's bytes as they came (central
 * stores them as they are) and walk them with kp_wire_next().
 *
 * kp_wire_decode() checks everything a peer could get wrong: the version,
 * the type, the type and range of every field the type needs, the sizes.
 * Decoding never allocates: text fields are copied into the struct, and
 * `data` points into the frame, which must outlive the struct.
 */
#ifndef KNUTE_WIRE_H
#define KNUTE_WIRE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "codec.h"
#include "knute/store.h"
#include "model.h"

#define KP_PROTO_VERSION 1
#define KP_WIRE_MAX	 (16u << 20)  /* largest frame anyone sends: 16 MiB */
#define KP_BATCH_ENTRIES 1000	      /* entries per CHANGES / DOWN batch */
#define KP_BATCH_BYTES	 (512u << 10) /* ... or this many bytes */
#define KP_WINDOW	 32	      /* batches in flight, each way */
#define KP_REASON_MAX	 KP_ERR_MAX   /* a refusal's sentence, with NUL */
#define KP_TOKEN_LEN	 32	      /* hex digits of a request's token */

enum kp_msg_type {
	KP_MSG_NONE,
	KP_MSG_HELLO,	 /* hub -> central: who I am, how far I got */
	KP_MSG_WELCOME,	 /* central -> hub: resume, snapshot or restore */
	KP_MSG_REFUSE,	 /* central -> hub: the session cannot go on */
	KP_MSG_CHANGES,	 /* hub -> central: a batch of oplog entries */
	KP_MSG_ACK,	 /* central -> hub: highest durable seq */
	KP_MSG_DIVERGED, /* hub -> central: central's check failed here */
	KP_MSG_SNAP,	 /* hub -> central: a batch of the whole partition */
	KP_MSG_RESTORE,	 /* central -> hub: a batch of what central holds */
	KP_MSG_DOWN,	 /* central -> hub: municipality log for the mirror */
	KP_MSG_DOWN_ACK, /* hub -> central: mirror durable up to gseq */
	KP_MSG_PING,	 /* both ways, every second */
	KP_MSG_VERIFY,	 /* anyone -> central: hashes of a hub's partition */
	KP_MSG_VERIFY_R, /* central -> asker: a batch of (id, hash) */
	KP_MSG_RESTORE_ACK,    /* hub -> central: seq RESTORE batches applied */
	KP_MSG_COMMAND,	       /* central -> hub: execute a central request */
	KP_MSG_COMMAND_RESULT, /* hub -> central: what became of it */
	KP_MSG_NTYPES
};

enum kp_welcome_mode {
	KP_RESUME = 1, /* send from `from` */
	KP_SNAPSHOT,   /* send every record (SNAP batches) */
	KP_RESTORE,    /* receive central's copy first (RESTORE batches) */
};

/* A fingerprint of one log entry: enough to tell two histories apart at
 * one seq. seq 0 means "nothing yet". */
struct kp_fp {
	uint64_t seq;
	int64_t at;
	char id[KP_ID_STRLEN];
};

struct kp_msg {
	enum kp_msg_type type;
	uint64_t session; /* every message but HELLO's reply to nothing */

	/* HELLO */
	char hub[KP_HUB_ID_MAX + 1];
	char inc[KP_INCARNATION_LEN + 1];
	uint64_t head;	   /* highest oplog seq (PING from a hub, too) */
	uint64_t oldest;   /* lowest seq still in the oplog; head + 1 if none */
	struct kp_fp down; /* the mirror's cursor: gseq and its fingerprint */
	char cinc[KP_INCARNATION_LEN + 1]; /* central the mirror follows */
	char name[KP_NAME_MAX + 1]; /* the hub's name; "" from older hubs */

	/* WELCOME */
	enum kp_welcome_mode mode;
	uint64_t from;	    /* first seq central wants */
	struct kp_fp check; /* WELCOME: central's entry at from - 1, to
			       compare; SNAP: the hub's entry at head */
	bool down_reset;    /* the mirror will be sent whole */

	/* CHANGES, SNAP, RESTORE, DOWN, VERIFY_R: a batch */
	uint64_t first, last; /* seqs (CHANGES) or gseqs (DOWN) */
	uint32_t count;	      /* entries in data */
	const uint8_t *data;  /* count msgpack maps, back to back */
	size_t len;
	bool end;	    /* the last batch of a SNAP/RESTORE/VERIFY_R
			       or of a DOWN reset */
	uint64_t total;	    /* SNAP/RESTORE end: records in all */
	uint8_t digest[16]; /* SNAP end: kp_digest of the records */

	/* ACK (seq), DOWN_ACK (seq = gseq), PING (seq = head or gseq) */
	uint64_t seq;
	bool gap; /* ACK: the batch did not start at seq + 1 */

	/* REFUSE, DIVERGED, COMMAND_RESULT (why it was refused) */
	char reason[KP_REASON_MAX];

	/* COMMAND, COMMAND_RESULT: a central request, known at the hub by
	 * its token (the idempotency key); num is the number central shows
	 * people. COMMAND: kind ("booking" or "activity") and in data/len
	 * the record's fields as one msgpack map. COMMAND_RESULT: state
	 * ("accepted" or "refused") and the new record's id. */
	char token[KP_TOKEN_LEN + 1];
	uint64_t num;
	char kind[16];
	char state[16];
	char rid[KP_ID_STRLEN];
};

/* Append msg's msgpack form to buf. */
int kp_wire_encode(const struct kp_msg *msg, struct kp_buf *buf);
/* Decode one frame. KP_EPROTO (with a sentence in err, KP_ERR_MAX bytes)
 * for anything malformed; KP_EVERSION for another protocol version. */
int kp_wire_decode(const void *frame, size_t len, struct kp_msg *msg,
		   char *err);
const char *kp_wire_type_name(enum kp_msg_type type);

/* Walk a batch: the entry that starts at *off, its bytes in
 * [*off, *off + *elen). KP_OK and *off moved past it; KP_ENOTFOUND at the
 * end; KP_EPROTO when the bytes are not a sequence of maps. */
int kp_wire_next(const uint8_t *data, size_t len, size_t *off,
		 const uint8_t **entry, size_t *elen);

/* Batches are built by appending entries to a buffer; the message then
 * points at it. */
struct kp_batch {
	struct kp_buf buf;
	uint32_t count;
	uint64_t first, last;
};
void kp_batch_reset(struct kp_batch *b);
int kp_batch_add(struct kp_batch *b, uint64_t seq, const void *entry,
		 size_t len);
bool kp_batch_full(const struct kp_batch *b);
/* VERIFY_R entries: {id, h} with h the 16-byte record hash as a bin. */
int kp_batch_add_hash(struct kp_batch *b, const char *id, const uint8_t h[16]);
int kp_wire_hash_entry(const void *entry, size_t len, char *id, uint8_t h[16]);

/* A fingerprint from an oplog entry's bytes ({seq, op, id, at, rec}). */
int kp_wire_entry_fp(const void *entry, size_t len, struct kp_fp *fp);
bool kp_fp_equal(const struct kp_fp *a, const struct kp_fp *b);

/* Reading an oplog entry as central applies it, without JSON. */
struct kp_entry {
	uint64_t seq; /* 0 when the entry has none */
	int64_t at;
	bool del;
	char idtext[KP_ID_STRLEN];
	struct kp_id id;
	const void *rec; /* the record (a msgpack_object); NULL for del */
};
struct kp_entry_reader; /* memory reused from entry to entry */
struct kp_entry_reader *kp_entry_reader_new(void);
void kp_entry_reader_free(struct kp_entry_reader *r);
/* Read bytes as an entry of hub. KP_OK when it is well-formed, of hub,
 * and its record valid as central takes it (kp_model_check_packed);
 * KP_EINVAL otherwise: the caller decodes it to JSON for the reason. e
 * and the record stay valid until the next read. */
int kp_entry_read(struct kp_entry_reader *r, const void *bytes, size_t len,
		  const char *hub, struct kp_entry *e);

/* The same checks as kp_entry_read(), on JSON, with the reason: what
 * central keeps as a dead letter, and the path volunteers take (their
 * projection). e->root is set whenever the bytes are a map (the caller
 * frees it); KP_EINVAL with a sentence in why when refused. */
struct kp_entry_json {
	uint64_t seq;
	const char *op;
	char idtext[KP_ID_STRLEN];
	struct kp_id id;
	int64_t at;
	json_t *rec;  /* borrowed from root; NULL for a delete */
	json_t *root; /* the whole entry */
};
int kp_entry_check(const char *hub, const void *bytes, size_t len,
		   struct kp_entry_json *e, char *why);
/* A record as central takes it from hub: a map whose id parses, is
 * hub's, and which kp_model_validate_shared() takes; *id is its id. */
int kp_record_check(const char *hub, json_t *rec, struct kp_id *id, char *why);
/* Append the municipality log entry {g, op, id, at, rec} of e to out,
 * its record as other hubs' mirrors see it. With e->rec NULL and e->del
 * false, only {g, op: "put", id, at}: the form central keeps in its log,
 * whose record is read from central's records when it is sent. */
int kp_entry_mlog(const struct kp_entry *e, uint64_t g, int64_t at_ms,
		  struct kp_buf *out);

#endif
