/*
 * wire.c - the sync protocol's messages to msgpack and back (see wire.h).
 *
 * NOTES ON THE DESIGN
 *
 * Every field is described once, in s_fields: its key on the wire, its
 * type, where it lives in struct kp_msg and which message types carry it
 * (and which must). Encoding and decoding both walk that table, so a field
 * cannot be written under one name and read under another, and a message
 * missing a field its type needs is refused by the decoder with the field's
 * name. Unknown keys are skipped, so a newer peer may add fields.
 */
#include "wire.h"

#include <msgpack.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "knute/error.h"

static const char *const s_type_names[KP_MSG_NTYPES] = {
    [KP_MSG_NONE] = "NONE",
    [KP_MSG_HELLO] = "HELLO",
    [KP_MSG_WELCOME] = "WELCOME",
    [KP_MSG_REFUSE] = "REFUSE",
    [KP_MSG_CHANGES] = "CHANGES",
    [KP_MSG_ACK] = "ACK",
    [KP_MSG_DIVERGED] = "DIVERGED",
    [KP_MSG_SNAP] = "SNAP",
    [KP_MSG_RESTORE] = "RESTORE",
    [KP_MSG_DOWN] = "DOWN",
    [KP_MSG_DOWN_ACK] = "DOWN_ACK",
    [KP_MSG_PING] = "PING",
    [KP_MSG_VERIFY] = "VERIFY",
    [KP_MSG_VERIFY_R] = "VERIFY_R",
    [KP_MSG_RESTORE_ACK] = "RESTORE_ACK",
    [KP_MSG_COMMAND] = "COMMAND",
    [KP_MSG_COMMAND_RESULT] = "COMMAND_RESULT",
};

const char *kp_wire_type_name(enum kp_msg_type type)
{
	return type > KP_MSG_NONE && type < KP_MSG_NTYPES ? s_type_names[type]
							  : "unknown";
}

static const char *const s_mode_names[] = {
    [KP_RESUME] = "resume",
    [KP_SNAPSHOT] = "snapshot",
    [KP_RESTORE] = "restore",
};

enum s_ftype {
	F_U64,	  /* uint64_t */
	F_I64,	  /* int64_t */
	F_U32,	  /* uint32_t */
	F_BOOL,	  /* bool */
	F_TEXT,	  /* char[size], NUL-terminated, no NUL inside */
	F_HUB,	  /* char[], a valid hub id */
	F_BIN,	  /* data + len */
	F_DIGEST, /* uint8_t[16] */
	F_MODE,	  /* enum kp_welcome_mode as its name */
};

#define B(t)   (1u << (t))
#define OFF(f) offsetof(struct kp_msg, f)
#define SZ(f)  sizeof(((struct kp_msg *)0)->f)

struct s_field {
	const char *key;
	enum s_ftype type;
	size_t off, size;
	unsigned carried; /* types that send it */
	unsigned needed;  /* types that must have it */
};

#define BATCHES                                                                \
	(B(KP_MSG_CHANGES) | B(KP_MSG_SNAP) | B(KP_MSG_RESTORE) |              \
	 B(KP_MSG_DOWN) | B(KP_MSG_VERIFY_R))
#define ENDS	 (B(KP_MSG_SNAP) | B(KP_MSG_RESTORE) | B(KP_MSG_VERIFY_R))
#define COMMANDS (B(KP_MSG_COMMAND) | B(KP_MSG_COMMAND_RESULT))
#define SESSIONED                                                              \
	(~(B(KP_MSG_HELLO) | B(KP_MSG_REFUSE) | B(KP_MSG_VERIFY) |             \
	   B(KP_MSG_VERIFY_R)) &                                               \
	 ((1u << KP_MSG_NTYPES) - 1))

static const struct s_field s_fields[] = {
    {"s", F_U64, OFF(session), SZ(session), ~0u, SESSIONED},
    {"hub", F_HUB, OFF(hub), SZ(hub), B(KP_MSG_HELLO) | B(KP_MSG_VERIFY),
     B(KP_MSG_HELLO) | B(KP_MSG_VERIFY)},
    {"inc", F_TEXT, OFF(inc), SZ(inc), B(KP_MSG_HELLO) | B(KP_MSG_SNAP),
     B(KP_MSG_HELLO) | B(KP_MSG_SNAP)},
    {"head", F_U64, OFF(head), SZ(head), B(KP_MSG_HELLO) | B(KP_MSG_SNAP),
     B(KP_MSG_HELLO) | B(KP_MSG_SNAP)},
    {"oldest", F_U64, OFF(oldest), SZ(oldest), B(KP_MSG_HELLO),
     B(KP_MSG_HELLO)},
    {"dseq", F_U64, OFF(down.seq), SZ(down.seq), B(KP_MSG_HELLO),
     B(KP_MSG_HELLO)},
    {"dat", F_I64, OFF(down.at), SZ(down.at), B(KP_MSG_HELLO), B(KP_MSG_HELLO)},
    {"did", F_TEXT, OFF(down.id), SZ(down.id), B(KP_MSG_HELLO),
     B(KP_MSG_HELLO)},
    {"name", F_TEXT, OFF(name), SZ(name), B(KP_MSG_HELLO), 0},
    {"cinc", F_TEXT, OFF(cinc), SZ(cinc), B(KP_MSG_HELLO) | B(KP_MSG_WELCOME),
     B(KP_MSG_WELCOME)},
    {"mode", F_MODE, OFF(mode), SZ(mode), B(KP_MSG_WELCOME), B(KP_MSG_WELCOME)},
    {"from", F_U64, OFF(from), SZ(from), B(KP_MSG_WELCOME), B(KP_MSG_WELCOME)},
    {"cseq", F_U64, OFF(check.seq), SZ(check.seq),
     B(KP_MSG_WELCOME) | B(KP_MSG_SNAP), B(KP_MSG_WELCOME)},
    {"cat", F_I64, OFF(check.at), SZ(check.at),
     B(KP_MSG_WELCOME) | B(KP_MSG_SNAP), B(KP_MSG_WELCOME)},
    {"cid", F_TEXT, OFF(check.id), SZ(check.id),
     B(KP_MSG_WELCOME) | B(KP_MSG_SNAP), B(KP_MSG_WELCOME)},
    {"dreset", F_BOOL, OFF(down_reset), SZ(down_reset),
     B(KP_MSG_WELCOME) | B(KP_MSG_DOWN), 0},
    {"first", F_U64, OFF(first), SZ(first), B(KP_MSG_CHANGES) | B(KP_MSG_DOWN),
     B(KP_MSG_CHANGES) | B(KP_MSG_DOWN)},
    {"last", F_U64, OFF(last), SZ(last), B(KP_MSG_CHANGES) | B(KP_MSG_DOWN),
     B(KP_MSG_CHANGES) | B(KP_MSG_DOWN)},
    {"n", F_U32, OFF(count), SZ(count), BATCHES, BATCHES},
    {"e", F_BIN, OFF(data), 0, BATCHES, BATCHES},
    {"end", F_BOOL, OFF(end), SZ(end), ENDS | B(KP_MSG_DOWN), 0},
    {"total", F_U64, OFF(total), SZ(total), ENDS, 0},
    {"digest", F_DIGEST, OFF(digest), SZ(digest), B(KP_MSG_SNAP), 0},
    {"seq", F_U64, OFF(seq), SZ(seq),
     B(KP_MSG_ACK) | B(KP_MSG_DOWN_ACK) | B(KP_MSG_PING) |
	 B(KP_MSG_RESTORE_ACK),
     B(KP_MSG_ACK) | B(KP_MSG_DOWN_ACK) | B(KP_MSG_PING) |
	 B(KP_MSG_RESTORE_ACK)},
    {"gap", F_BOOL, OFF(gap), SZ(gap), B(KP_MSG_ACK), 0},
    {"reason", F_TEXT, OFF(reason), SZ(reason),
     B(KP_MSG_REFUSE) | B(KP_MSG_DIVERGED) | B(KP_MSG_COMMAND_RESULT),
     B(KP_MSG_REFUSE) | B(KP_MSG_DIVERGED)},
    {"tok", F_TEXT, OFF(token), SZ(token), COMMANDS, COMMANDS},
    {"num", F_U64, OFF(num), SZ(num), COMMANDS, COMMANDS},
    {"kind", F_TEXT, OFF(kind), SZ(kind), B(KP_MSG_COMMAND), B(KP_MSG_COMMAND)},
    {"rec", F_BIN, OFF(data), 0, B(KP_MSG_COMMAND), B(KP_MSG_COMMAND)},
    {"state", F_TEXT, OFF(state), SZ(state), B(KP_MSG_COMMAND_RESULT),
     B(KP_MSG_COMMAND_RESULT)},
    {"rid", F_TEXT, OFF(rid), SZ(rid), B(KP_MSG_COMMAND_RESULT), 0},
};
#define NFIELDS (sizeof s_fields / sizeof s_fields[0])
/* s_decode_map() keeps one bit per field. */
_Static_assert(NFIELDS <= 64, "too many wire fields for the seen mask");
_Static_assert(KP_MSG_NTYPES <= 32, "too many message types for the masks");

/* ---- encoding ---- */

static int s_write(void *data, const char *bytes, size_t len)
{
	return kp_buf_append(data, bytes, len) ? -1 : 0;
}

static int s_pack_text(msgpack_packer *pk, const char *s)
{
	size_t n = strlen(s);
	return msgpack_pack_str(pk, n) || msgpack_pack_str_body(pk, s, n);
}

static int s_pack_field(msgpack_packer *pk, const struct s_field *f,
			const struct kp_msg *msg)
{
	const char *p = (const char *)msg + f->off;
	if (s_pack_text(pk, f->key))
		return -1;
	switch (f->type) {
	case F_U64:
		return msgpack_pack_uint64(pk, *(const uint64_t *)p);
	case F_I64:
		return msgpack_pack_int64(pk, *(const int64_t *)p);
	case F_U32:
		return msgpack_pack_uint32(pk, *(const uint32_t *)p);
	case F_BOOL:
		return *(const bool *)p ? msgpack_pack_true(pk)
					: msgpack_pack_false(pk);
	case F_TEXT:
	case F_HUB:
		return s_pack_text(pk, p);
	case F_BIN:
		return msgpack_pack_bin(pk, msg->len) ||
		       msgpack_pack_bin_body(pk, msg->data, msg->len);
	case F_DIGEST:
		return msgpack_pack_bin(pk, 16) ||
		       msgpack_pack_bin_body(pk, p, 16);
	case F_MODE:
		if (msg->mode < KP_RESUME || msg->mode > KP_RESTORE)
			return -1;
		return s_pack_text(pk, s_mode_names[msg->mode]);
	}
	return -1;
}

int kp_wire_encode(const struct kp_msg *msg, struct kp_buf *buf)
{
	msgpack_packer pk;
	uint32_t n = 2;

	if (msg->type <= KP_MSG_NONE || msg->type >= KP_MSG_NTYPES)
		return KP_EINVAL;
	for (size_t i = 0; i < NFIELDS; i++)
		n += !!(s_fields[i].carried & B(msg->type));
	msgpack_packer_init(&pk, buf, s_write);
	if (msgpack_pack_map(&pk, n) || s_pack_text(&pk, "v") ||
	    msgpack_pack_uint32(&pk, KP_PROTO_VERSION) ||
	    s_pack_text(&pk, "t") || s_pack_text(&pk, s_type_names[msg->type]))
		return KP_ENOMEM;
	for (size_t i = 0; i < NFIELDS; i++) {
		if (!(s_fields[i].carried & B(msg->type)))
			continue;
		if (s_pack_field(&pk, &s_fields[i], msg))
			return msg->type == KP_MSG_WELCOME ? KP_EINVAL
							   : KP_ENOMEM;
	}
	return KP_OK;
}

/* ---- decoding ---- */

static bool s_key_is(const msgpack_object *k, const char *name)
{
	size_t n = strlen(name);
	return k->type == MSGPACK_OBJECT_STR && k->via.str.size == n &&
	       !memcmp(k->via.str.ptr, name, n);
}

static int s_u64(const msgpack_object *o, uint64_t *v)
{
	if (o->type != MSGPACK_OBJECT_POSITIVE_INTEGER)
		return -1;
	*v = o->via.u64;
	return 0;
}

static int s_take(const struct s_field *f, const msgpack_object *o,
		  struct kp_msg *msg, char *err)
{
	char *p = (char *)msg + f->off;
	uint64_t u;

	switch (f->type) {
	case F_U64:
		if (s_u64(o, &u))
			goto bad;
		*(uint64_t *)p = u;
		return 0;
	case F_U32:
		if (s_u64(o, &u) || u > UINT32_MAX)
			goto bad;
		*(uint32_t *)p = (uint32_t)u;
		return 0;
	case F_I64:
		if (o->type == MSGPACK_OBJECT_POSITIVE_INTEGER &&
		    o->via.u64 <= INT64_MAX)
			*(int64_t *)p = (int64_t)o->via.u64;
		else if (o->type == MSGPACK_OBJECT_NEGATIVE_INTEGER)
			*(int64_t *)p = o->via.i64;
		else
			goto bad;
		return 0;
	case F_BOOL:
		if (o->type != MSGPACK_OBJECT_BOOLEAN)
			goto bad;
		*(bool *)p = o->via.boolean;
		return 0;
	case F_TEXT:
	case F_HUB:
		if (o->type != MSGPACK_OBJECT_STR ||
		    o->via.str.size >= f->size ||
		    memchr(o->via.str.ptr, 0, o->via.str.size))
			goto bad;
		memcpy(p, o->via.str.ptr, o->via.str.size);
		p[o->via.str.size] = 0;
		if (f->type == F_HUB && !kp_hub_id_valid(p))
			goto bad;
		return 0;
	case F_BIN:
		if (o->type != MSGPACK_OBJECT_BIN)
			goto bad;
		msg->data = (const uint8_t *)o->via.bin.ptr;
		msg->len = o->via.bin.size;
		return 0;
	case F_DIGEST:
		if (o->type != MSGPACK_OBJECT_BIN || o->via.bin.size != 16)
			goto bad;
		memcpy(p, o->via.bin.ptr, 16);
		return 0;
	case F_MODE:
		for (int m = KP_RESUME; m <= KP_RESTORE; m++) {
			if (s_key_is(o, s_mode_names[m])) {
				msg->mode = (enum kp_welcome_mode)m;
				return 0;
			}
		}
		goto bad;
	}
bad:
	snprintf(err, KP_ERR_MAX, "field \"%s\" of %s has a wrong type or size",
		 f->key, s_type_names[msg->type]);
	return -1;
}

static int s_decode_map(const msgpack_object *root, struct kp_msg *msg,
			char *err)
{
	const msgpack_object *type = NULL, *version = NULL;
	uint64_t seen = 0; /* bit i: s_fields[i] was present */

	if (root->type != MSGPACK_OBJECT_MAP) {
		snprintf(err, KP_ERR_MAX, "a message must be a map");
		return KP_EPROTO;
	}
	for (uint32_t i = 0; i < root->via.map.size; i++) {
		const msgpack_object_kv *kv = &root->via.map.ptr[i];
		if (s_key_is(&kv->key, "v"))
			version = &kv->val;
		else if (s_key_is(&kv->key, "t"))
			type = &kv->val;
	}
	if (!version || version->type != MSGPACK_OBJECT_POSITIVE_INTEGER) {
		snprintf(err, KP_ERR_MAX, "the message has no version \"v\"");
		return KP_EPROTO;
	}
	if (version->via.u64 != KP_PROTO_VERSION) {
		snprintf(err, KP_ERR_MAX,
			 "protocol version %llu; this node speaks version %d",
			 (unsigned long long)version->via.u64,
			 KP_PROTO_VERSION);
		return KP_EVERSION;
	}
	if (!type || type->type != MSGPACK_OBJECT_STR) {
		snprintf(err, KP_ERR_MAX, "the message has no type \"t\"");
		return KP_EPROTO;
	}
	for (int t = KP_MSG_NONE + 1; t < KP_MSG_NTYPES; t++)
		if (s_key_is(type, s_type_names[t]))
			msg->type = (enum kp_msg_type)t;
	if (msg->type == KP_MSG_NONE) {
		snprintf(
		    err, KP_ERR_MAX, "unknown message type \"%.*s\"",
		    (int)(type->via.str.size > 40 ? 40 : type->via.str.size),
		    type->via.str.ptr);
		return KP_EPROTO;
	}
	for (uint32_t i = 0; i < root->via.map.size; i++) {
		const msgpack_object_kv *kv = &root->via.map.ptr[i];
		for (size_t f = 0; f < NFIELDS; f++) {
			if (!(s_fields[f].carried & B(msg->type)) ||
			    !s_key_is(&kv->key, s_fields[f].key))
				continue;
			if (s_take(&s_fields[f], &kv->val, msg, err))
				return KP_EPROTO;
			seen |= 1ull << f;
		}
	}
	for (size_t f = 0; f < NFIELDS; f++) {
		if ((s_fields[f].needed & B(msg->type)) &&
		    !(seen & (1ull << f))) {
			snprintf(err, KP_ERR_MAX, "%s lacks the field \"%s\"",
				 s_type_names[msg->type], s_fields[f].key);
			return KP_EPROTO;
		}
	}
	return KP_OK;
}

/*
 * msgpack_unpack_next() for bytes from outside. msgpack-c makes room for
 * every item a header claims before it reads them, so the bytes are
 * walked by kp_codec_check() first: five bytes must not cost gigabytes.
 */
static int s_unpack_next(msgpack_unpacked *u, const void *data, size_t len,
			 size_t *off)
{
	size_t end = *off;
	int rc = kp_codec_check(data, len, &end);
	if (rc)
		return rc == KP_ENOTFOUND ? MSGPACK_UNPACK_CONTINUE
					  : MSGPACK_UNPACK_PARSE_ERROR;
	return msgpack_unpack_next(u, data, len, off);
}

int kp_wire_decode(const void *frame, size_t len, struct kp_msg *msg, char *err)
{
	msgpack_unpacked u;
	size_t off = 0;
	int rc;

	memset(msg, 0, sizeof *msg);
	if (len == 0 || len > KP_WIRE_MAX) {
		snprintf(err, KP_ERR_MAX, "a frame of %zu bytes (1 to %u)", len,
			 KP_WIRE_MAX);
		return KP_EPROTO;
	}
	msgpack_unpacked_init(&u);
	rc = s_unpack_next(&u, frame, len, &off);
	if (rc != MSGPACK_UNPACK_SUCCESS || off != len) {
		snprintf(err, KP_ERR_MAX, "%s",
			 rc == MSGPACK_UNPACK_CONTINUE ? "a truncated message"
			 : rc == MSGPACK_UNPACK_SUCCESS
			     ? "bytes after the end of the message"
			     : "bytes that are not msgpack");
		msgpack_unpacked_destroy(&u);
		return KP_EPROTO;
	}
	rc = s_decode_map(&u.data, msg, err);
	msgpack_unpacked_destroy(&u);
	return rc;
}

int kp_wire_next(const uint8_t *data, size_t len, size_t *off,
		 const uint8_t **entry, size_t *elen)
{
	size_t start = *off, end = start;
	uint8_t b;

	if (start >= len)
		return KP_ENOTFOUND;
	/* The walk is all it takes: nothing is built. */
	b = data[start];
	if (((b & 0xf0) != 0x80 && b != 0xde && b != 0xdf) ||
	    kp_codec_check(data, len, &end))
		return KP_EPROTO;
	*off = end;
	*entry = data + start;
	*elen = end - start;
	return KP_OK;
}

/* ---- batches ---- */

void kp_batch_reset(struct kp_batch *b)
{
	b->buf.len = 0;
	b->count = 0;
	b->first = b->last = 0;
}

int kp_batch_add(struct kp_batch *b, uint64_t seq, const void *entry,
		 size_t len)
{
	int rc = kp_buf_append(&b->buf, entry, len);
	if (rc)
		return rc;
	if (b->count++ == 0)
		b->first = seq;
	b->last = seq;
	return KP_OK;
}

bool kp_batch_full(const struct kp_batch *b)
{
	return b->count >= KP_BATCH_ENTRIES || b->buf.len >= KP_BATCH_BYTES;
}

int kp_batch_add_hash(struct kp_batch *b, const char *id, const uint8_t h[16])
{
	msgpack_packer pk;
	msgpack_packer_init(&pk, &b->buf, s_write);
	if (msgpack_pack_map(&pk, 2) || s_pack_text(&pk, "id") ||
	    s_pack_text(&pk, id) || s_pack_text(&pk, "h") ||
	    msgpack_pack_bin(&pk, 16) || msgpack_pack_bin_body(&pk, h, 16))
		return KP_ENOMEM;
	b->count++;
	return KP_OK;
}

int kp_wire_hash_entry(const void *entry, size_t len, char *id, uint8_t h[16])
{
	msgpack_unpacked u;
	size_t off = 0;
	int found = 0;

	msgpack_unpacked_init(&u);
	if (s_unpack_next(&u, entry, len, &off) == MSGPACK_UNPACK_SUCCESS &&
	    u.data.type == MSGPACK_OBJECT_MAP) {
		for (uint32_t i = 0; i < u.data.via.map.size; i++) {
			const msgpack_object_kv *kv = &u.data.via.map.ptr[i];
			const msgpack_object *v = &kv->val;
			if (s_key_is(&kv->key, "id") &&
			    v->type == MSGPACK_OBJECT_STR &&
			    v->via.str.size < KP_ID_STRLEN) {
				memcpy(id, v->via.str.ptr, v->via.str.size);
				id[v->via.str.size] = 0;
				found |= 1;
			} else if (s_key_is(&kv->key, "h") &&
				   v->type == MSGPACK_OBJECT_BIN &&
				   v->via.bin.size == 16) {
				memcpy(h, v->via.bin.ptr, 16);
				found |= 2;
			}
		}
	}
	msgpack_unpacked_destroy(&u);
	return found == 3 ? KP_OK : KP_EPROTO;
}

/* ---- fingerprints ---- */

int kp_wire_entry_fp(const void *entry, size_t len, struct kp_fp *fp)
{
	msgpack_unpacked u;
	size_t off = 0;
	int rc = KP_ECORRUPT;

	memset(fp, 0, sizeof *fp);
	msgpack_unpacked_init(&u);
	if (s_unpack_next(&u, entry, len, &off) != MSGPACK_UNPACK_SUCCESS ||
	    u.data.type != MSGPACK_OBJECT_MAP)
		goto out;
	for (uint32_t i = 0; i < u.data.via.map.size; i++) {
		const msgpack_object_kv *kv = &u.data.via.map.ptr[i];
		const msgpack_object *v = &kv->val;
		if (s_key_is(&kv->key, "seq") &&
		    v->type == MSGPACK_OBJECT_POSITIVE_INTEGER)
			fp->seq = v->via.u64;
		else if (s_key_is(&kv->key, "at") &&
			 v->type == MSGPACK_OBJECT_POSITIVE_INTEGER)
			fp->at = (int64_t)v->via.u64;
		else if (s_key_is(&kv->key, "at") &&
			 v->type == MSGPACK_OBJECT_NEGATIVE_INTEGER)
			fp->at = v->via.i64;
		else if (s_key_is(&kv->key, "id") &&
			 v->type == MSGPACK_OBJECT_STR &&
			 v->via.str.size < sizeof fp->id) {
			memcpy(fp->id, v->via.str.ptr, v->via.str.size);
			fp->id[v->via.str.size] = 0;
		}
	}
	rc = fp->seq ? KP_OK : KP_ECORRUPT;
out:
	msgpack_unpacked_destroy(&u);
	return rc;
}

bool kp_fp_equal(const struct kp_fp *a, const struct kp_fp *b)
{
	return a->seq == b->seq && a->at == b->at && !strcmp(a->id, b->id);
}

/* ---- entries on central's hot path ---- */

struct kp_entry_reader {
	msgpack_zone zone;
	msgpack_object root;
};

struct kp_entry_reader *kp_entry_reader_new(void)
{
	struct kp_entry_reader *r = calloc(1, sizeof *r);
	if (r && !msgpack_zone_init(&r->zone, 8192)) {
		free(r);
		return NULL;
	}
	return r;
}

void kp_entry_reader_free(struct kp_entry_reader *r)
{
	if (!r)
		return;
	msgpack_zone_destroy(&r->zone);
	free(r);
}

int kp_entry_read(struct kp_entry_reader *r, const void *bytes, size_t len,
		  const char *hub, struct kp_entry *e)
{
	const msgpack_object *rec = NULL;
	char err[KP_ERR_MAX];
	bool has_op = false;
	size_t off = 0;

	memset(e, 0, sizeof *e);
	msgpack_zone_clear(&r->zone);
	if (msgpack_unpack(bytes, len, &off, &r->zone, &r->root) !=
		MSGPACK_UNPACK_SUCCESS ||
	    off != len || r->root.type != MSGPACK_OBJECT_MAP)
		return KP_EINVAL;
	/* The same verdict as the JSON path (kp_codec_decode and the checks
	 * of central/csync.c): every key a text, every value something JSON
	 * holds, and of a key given twice the last one counts. */
	for (uint32_t i = 0; i < r->root.via.map.size; i++) {
		const msgpack_object_kv *kv = &r->root.via.map.ptr[i];
		const msgpack_object *v = &kv->val;
		if (!kp_model_text_packed(&kv->key) ||
		    (!s_key_is(&kv->key, "rec") && !kp_model_sane_packed(v, 1)))
			return KP_EINVAL;
		if (s_key_is(&kv->key, "seq")) {
			if (s_u64(v, &e->seq) || e->seq > (uint64_t)INT64_MAX)
				return KP_EINVAL;
		} else if (s_key_is(&kv->key, "at")) {
			if (v->type == MSGPACK_OBJECT_POSITIVE_INTEGER &&
			    v->via.u64 <= INT64_MAX)
				e->at = (int64_t)v->via.u64;
			else if (v->type == MSGPACK_OBJECT_NEGATIVE_INTEGER)
				e->at = v->via.i64;
			else
				return KP_EINVAL;
		} else if (s_key_is(&kv->key, "op")) {
			has_op = true;
			if (s_key_is(v, "del"))
				e->del = true;
			else if (s_key_is(v, "put"))
				e->del = false;
			else
				return KP_EINVAL;
		} else if (s_key_is(&kv->key, "id")) {
			if (v->type != MSGPACK_OBJECT_STR ||
			    v->via.str.size >= sizeof e->idtext)
				return KP_EINVAL;
			memcpy(e->idtext, v->via.str.ptr, v->via.str.size);
			e->idtext[v->via.str.size] = 0;
		} else if (s_key_is(&kv->key, "rec")) {
			rec = v;
		}
	}
	if (!e->seq || !has_op ||
	    kp_id_parse(e->idtext, NULL, 0, &e->id, err) ||
	    strcmp(e->id.hub, hub))
		return KP_EINVAL;
	if (e->del)
		return KP_OK;
	if (!rec || rec->type != MSGPACK_OBJECT_MAP ||
	    kp_model_check_packed(e->id.kind, rec, true))
		return KP_EINVAL;
	/* The record names itself as the entry does. */
	bool named = false;
	for (uint32_t i = 0; i < rec->via.map.size; i++) {
		const msgpack_object_kv *kv = &rec->via.map.ptr[i];
		if (!s_key_is(&kv->key, "id"))
			continue;
		if (!(kv->val.type == MSGPACK_OBJECT_STR &&
		      kv->val.via.str.size == strlen(e->idtext) &&
		      !memcmp(kv->val.via.str.ptr, e->idtext,
			      kv->val.via.str.size)))
			return KP_EINVAL;
		named = true;
	}
	if (!named)
		return KP_EINVAL;
	e->rec = rec;
	return KP_OK;
}

int kp_entry_mlog(const struct kp_entry *e, uint64_t g, int64_t at_ms,
		  struct kp_buf *out)
{
	const msgpack_object *rec = e->rec;
	msgpack_packer pk;
	uint32_t keep = 0;

	msgpack_packer_init(&pk, out, s_write);
	if (msgpack_pack_map(&pk, e->del || !rec ? 4 : 5) ||
	    s_pack_text(&pk, "g") || msgpack_pack_uint64(&pk, g) ||
	    s_pack_text(&pk, "op") ||
	    s_pack_text(&pk, e->del ? "del" : "put") ||
	    s_pack_text(&pk, "id") || s_pack_text(&pk, e->idtext) ||
	    s_pack_text(&pk, "at") || msgpack_pack_int64(&pk, at_ms))
		return KP_ENOMEM;
	if (e->del || !rec)
		return KP_OK;
	for (uint32_t i = 0; i < rec->via.map.size; i++) {
		const msgpack_object *k = &rec->via.map.ptr[i].key;
		keep += !kp_model_mirror_hides(e->id.kind, k->via.str.ptr,
					       k->via.str.size);
	}
	if (s_pack_text(&pk, "rec") || msgpack_pack_map(&pk, keep))
		return KP_ENOMEM;
	for (uint32_t i = 0; i < rec->via.map.size; i++) {
		const msgpack_object_kv *kv = &rec->via.map.ptr[i];
		if (kp_model_mirror_hides(e->id.kind, kv->key.via.str.ptr,
					  kv->key.via.str.size))
			continue;
		if (msgpack_pack_object(&pk, kv->key) ||
		    msgpack_pack_object(&pk, kv->val))
			return KP_ENOMEM;
	}
	return KP_OK;
}

/* ---- entries checked on JSON, with the reason ---- */

int kp_record_check(const char *hub, json_t *rec, struct kp_id *id, char *why)
{
	char err[KP_ERR_MAX];
	const char *idtext = kp_rec_str(rec, "id", "");
	if (!json_is_object(rec)) {
		snprintf(why, KP_ERR_MAX, "the record is not a map");
		return KP_EINVAL;
	}
	if (kp_id_parse(idtext, NULL, 0, id, err)) {
		snprintf(why, KP_ERR_MAX, "bad id: %.400s", err);
		return KP_EINVAL;
	}
	if (strcmp(id->hub, hub)) {
		snprintf(why, KP_ERR_MAX,
			 "the record %s belongs to hub %s, not to the sending "
			 "hub %s",
			 idtext, id->hub, hub);
		return KP_EINVAL;
	}
	if (kp_model_validate_shared(id->kind, rec, err)) {
		snprintf(why, KP_ERR_MAX, "%s", err);
		return KP_EINVAL;
	}
	return KP_OK;
}

int kp_entry_check(const char *hub, const void *bytes, size_t len,
		   struct kp_entry_json *e, char *why)
{
	char err[KP_ERR_MAX];
	json_t *v;

	memset(e, 0, sizeof *e);
	if (kp_codec_decode(bytes, len, &e->root) || !json_is_object(e->root)) {
		json_decref(e->root);
		e->root = NULL;
		snprintf(why, KP_ERR_MAX, "the entry is not a msgpack map");
		return KP_EINVAL;
	}
	v = json_object_get(e->root, "seq");
	if (json_is_integer(v) && json_integer_value(v) > 0)
		e->seq = (uint64_t)json_integer_value(v);
	e->at = kp_rec_int(e->root, "at", 0);
	if (kp_model_has_nul(e->root)) {
		snprintf(why, KP_ERR_MAX,
			 "a text of the entry holds a NUL character");
		return KP_EINVAL;
	}
	if ((v = json_object_get(e->root, "at")) && !json_is_integer(v)) {
		snprintf(why, KP_ERR_MAX,
			 "at must be an integer (seconds since 1970, UTC)");
		return KP_EINVAL;
	}
	snprintf(e->idtext, sizeof e->idtext, "%s",
		 kp_rec_str(e->root, "id", ""));
	e->op = kp_rec_str(e->root, "op", "");
	if (!e->seq) {
		snprintf(why, KP_ERR_MAX, "the entry has no seq");
		return KP_EINVAL;
	}
	if (strcmp(e->op, "put") && strcmp(e->op, "del")) {
		snprintf(why, KP_ERR_MAX, "op must be put or del");
		return KP_EINVAL;
	}
	if (kp_id_parse(e->idtext, NULL, 0, &e->id, err)) {
		snprintf(why, KP_ERR_MAX, "bad id: %.400s", err);
		return KP_EINVAL;
	}
	if (!strcmp(e->op, "del")) {
		if (strcmp(e->id.hub, hub)) {
			snprintf(why, KP_ERR_MAX,
				 "the record %s belongs to hub %s, not to the "
				 "sending hub %s",
				 e->idtext, e->id.hub, hub);
			return KP_EINVAL;
		}
		return KP_OK;
	}
	e->rec = json_object_get(e->root, "rec");
	struct kp_id rid;
	if (kp_record_check(hub, e->rec, &rid, why))
		return KP_EINVAL;
	if (memcmp(&rid, &e->id, sizeof rid) != 0 &&
	    (strcmp(rid.hub, e->id.hub) || rid.kind != e->id.kind ||
	     rid.n != e->id.n)) {
		snprintf(why, KP_ERR_MAX, "the record's id is not the entry's");
		return KP_EINVAL;
	}
	return KP_OK;
}
