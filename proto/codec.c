/*
 * codec.c - JSON values to msgpack and back (see codec.h).
 *
 * Encoding streams through msgpack-c's packer straight into a kp_buf.
 * Decoding uses msgpack-c's zone-based unpacker and then walks the object
 * tree; every value from outside is checked before it becomes JSON.
 */
#include "codec.h"

#include <msgpack.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "knute/error.h"

void kp_buf_free(struct kp_buf *buf)
{
	if (!buf)
		return;
	free(buf->data);
	buf->data = NULL;
	buf->len = buf->cap = 0;
}

static int s_buf_write(void *data, const char *bytes, size_t len)
{
	struct kp_buf *buf = data;
	if (buf->len + len > buf->cap) {
		size_t cap = buf->cap ? buf->cap : 256;
		while (cap < buf->len + len)
			cap *= 2;
		char *grown = realloc(buf->data, cap);
		if (!grown)
			return -1;
		buf->data = grown;
		buf->cap = cap;
	}
	if (len) /* an empty bin has no bytes, and maybe no pointer */
		memcpy(buf->data + buf->len, bytes, len);
	buf->len += len;
	return 0;
}

int kp_buf_append(struct kp_buf *buf, const void *bytes, size_t len)
{
	return s_buf_write(buf, bytes, len) ? KP_ENOMEM : KP_OK;
}

static int s_pack(msgpack_packer *pk, const json_t *v)
{
	switch (json_typeof(v)) {
	case JSON_NULL:
		return msgpack_pack_nil(pk);
	case JSON_TRUE:
		return msgpack_pack_true(pk);
	case JSON_FALSE:
		return msgpack_pack_false(pk);
	case JSON_INTEGER:
		return msgpack_pack_int64(pk, json_integer_value(v));
	case JSON_REAL:
		return msgpack_pack_double(pk, json_real_value(v));
	case JSON_STRING: {
		size_t len = json_string_length(v);
		if (msgpack_pack_str(pk, len))
			return -1;
		return msgpack_pack_str_body(pk, json_string_value(v), len);
	}
	case JSON_ARRAY: {
		size_t n = json_array_size(v);
		if (msgpack_pack_array(pk, n))
			return -1;
		for (size_t i = 0; i < n; i++)
			if (s_pack(pk, json_array_get(v, i)))
				return -1;
		return 0;
	}
	case JSON_OBJECT: {
		const char *key;
		json_t *item;
		if (msgpack_pack_map(pk, json_object_size(v)))
			return -1;
		json_object_foreach((json_t *)v, key, item)
		{
			size_t klen = strlen(key);
			if (msgpack_pack_str(pk, klen) ||
			    msgpack_pack_str_body(pk, key, klen) ||
			    s_pack(pk, item))
				return -1;
		}
		return 0;
	}
	}
	return -1;
}

int kp_codec_encode(const json_t *value, struct kp_buf *buf)
{
	msgpack_packer pk;
	msgpack_packer_init(&pk, buf, s_buf_write);
	return s_pack(&pk, value) ? KP_ENOMEM : KP_OK;
}

static json_t *s_unpack(const msgpack_object *o, int depth)
{
	if (depth > KP_CODEC_MAX_DEPTH)
		return NULL;
	switch (o->type) {
	case MSGPACK_OBJECT_NIL:
		return json_null();
	case MSGPACK_OBJECT_BOOLEAN:
		return json_boolean(o->via.boolean);
	case MSGPACK_OBJECT_POSITIVE_INTEGER:
		if (o->via.u64 > (uint64_t)INT64_MAX)
			return NULL;
		return json_integer((json_int_t)o->via.u64);
	case MSGPACK_OBJECT_NEGATIVE_INTEGER:
		return json_integer((json_int_t)o->via.i64);
	case MSGPACK_OBJECT_FLOAT32:
	case MSGPACK_OBJECT_FLOAT64:
		return json_real(o->via.f64);
	case MSGPACK_OBJECT_STR:
		/* json_stringn refuses text that is not UTF-8. msgpack-c
		 * gives an empty text a NULL pointer at the end of the
		 * bytes. */
		return json_stringn(o->via.str.size ? o->via.str.ptr : "",
				    o->via.str.size);
	case MSGPACK_OBJECT_ARRAY: {
		json_t *a = json_array();
		if (!a)
			return NULL;
		for (uint32_t i = 0; i < o->via.array.size; i++) {
			json_t *item =
			    s_unpack(&o->via.array.ptr[i], depth + 1);
			if (!item || json_array_append_new(a, item)) {
				json_decref(a);
				return NULL;
			}
		}
		return a;
	}
	case MSGPACK_OBJECT_MAP: {
		json_t *m = json_object();
		if (!m)
			return NULL;
		for (uint32_t i = 0; i < o->via.map.size; i++) {
			const msgpack_object_kv *kv = &o->via.map.ptr[i];
			json_t *item;
			const char *key;
			if (kv->key.type != MSGPACK_OBJECT_STR) {
				json_decref(m);
				return NULL;
			}
			key = kv->key.via.str.size ? kv->key.via.str.ptr : "";
			if (memchr(key, 0, kv->key.via.str.size) ||
			    !(item = s_unpack(&kv->val, depth + 1)) ||
			    json_object_setn_new(m, key, kv->key.via.str.size,
						 item)) {
				json_decref(m);
				return NULL;
			}
		}
		return m;
	}
	default: /* bin and ext carry nothing a record may hold */
		return NULL;
	}
}

/* The big-endian number of n bytes at p. */
static uint64_t s_be(const uint8_t *p, size_t n)
{
	uint64_t v = 0;
	for (size_t i = 0; i < n; i++)
		v = (v << 8) | p[i];
	return v;
}

/*
 * Walk one msgpack object at *off without building it: true when it is
 * complete, nests at most KP_CODEC_MAX_DEPTH deep and no array or map
 * claims more items than there are bytes left (each item takes at least
 * one). msgpack-c allocates room for every item a header claims before it
 * reads them, so without this a five-byte message could make it allocate
 * gigabytes.
 */
static const uint8_t s_fixed_sizes[] = {4, 8, 1, 2, 4, 8, 1, 2,
					4, 8, 2, 3, 5, 9, 17};

/* A failure of s_sane() because the bytes ended too soon. */
static bool s_short(bool *cut)
{
	*cut = true;
	return false;
}

static bool s_sane(const uint8_t *p, size_t len, size_t *off, int depth,
		   bool *cut)
{
	uint8_t b;
	size_t lenbytes = 0;
	uint64_t body = 0, items = 0;

	if (depth > KP_CODEC_MAX_DEPTH)
		return false;
	if (*off >= len)
		return s_short(cut);
	b = p[(*off)++];
	if (b <= 0x7f || b >= 0xe0 || b == 0xc0 || b == 0xc2 || b == 0xc3)
		return true;
	if (b >= 0x80 && b <= 0x8f)
		items = 2 * (uint64_t)(b & 0x0f);
	else if (b >= 0x90 && b <= 0x9f)
		items = b & 0x0f;
	else if (b >= 0xa0 && b <= 0xbf)
		body = b & 0x1f;
	else if (b >= 0xca && b <= 0xd8)
		/* float32, float64, (u)int 8 to 64, fixext 1 to 16 (+ type) */
		body = s_fixed_sizes[b - 0xca];
	else if (b >= 0xc4 && b <= 0xc9) /* bin 8/16/32, ext 8/16/32 */
		lenbytes = (size_t)1 << ((b - 0xc4) % 3);
	else if (b >= 0xd9 && b <= 0xdb) /* str 8/16/32 */
		lenbytes = (size_t)1 << (b - 0xd9);
	else if (b >= 0xdc && b <= 0xdf) /* array 16/32, map 16/32 */
		lenbytes = b & 1 ? 4 : 2;
	else
		return false; /* 0xc1 is never used */
	if (lenbytes) {
		uint64_t n;
		size_t head = b >= 0xc7 && b <= 0xc9; /* ext's type byte */
		if (len - *off < lenbytes)
			return s_short(cut);
		n = s_be(p + *off, lenbytes);
		*off += lenbytes;
		if (b == 0xdc || b == 0xdd)
			items = n;
		else if (b == 0xde || b == 0xdf)
			items = 2 * n;
		else
			body = head + n;
	}
	if (items) {
		if (items > len - *off)
			return s_short(cut);
		for (uint64_t i = 0; i < items; i++)
			if (!s_sane(p, len, off, depth + 1, cut))
				return false;
		return true;
	}
	if (body > len - *off)
		return s_short(cut);
	*off += (size_t)body;
	return true;
}

int kp_codec_check(const void *data, size_t len, size_t *off)
{
	bool cut = false;
	if (s_sane(data, len, off, 0, &cut))
		return KP_OK;
	return cut ? KP_ENOTFOUND : KP_ECORRUPT;
}

int kp_codec_decode(const void *data, size_t len, json_t **out)
{
	msgpack_unpacked result;
	size_t off = 0;
	int rc = KP_ECORRUPT;

	*out = NULL;
	if (kp_codec_check(data, len, &off) || off != len)
		return KP_ECORRUPT;
	off = 0;
	msgpack_unpacked_init(&result);
	if (msgpack_unpack_next(&result, data, len, &off) ==
		MSGPACK_UNPACK_SUCCESS &&
	    off == len) {
		*out = s_unpack(&result.data, 0);
		if (*out)
			rc = KP_OK;
	}
	msgpack_unpacked_destroy(&result);
	return rc;
}

/* ---- msgpack piece by piece (see codec.h) ---- */

/*
 * The heads are written here by hand, in the forms msgpack-c's packer
 * picks (msgpack/pack_template.h: the smallest that holds the value), so
 * that these bytes are the bytes of kp_codec_encode(): a bulk import makes
 * some twenty million of them, and a packer's callback for every head and
 * body cost a tenth of its time. Each function makes room first, then
 * writes through the unchecked s_w_*() helpers.
 */

/* Room for more bytes at the end of buf; false when out of memory. */
static bool s_room(struct kp_buf *buf, size_t more)
{
	size_t cap = buf->cap ? buf->cap : 256;
	char *grown;
	if (buf->cap - buf->len >= more)
		return true;
	while (cap - buf->len < more)
		cap *= 2;
	if (!(grown = realloc(buf->data, cap)))
		return false;
	buf->data = grown;
	buf->cap = cap;
	return true;
}

static uint8_t *s_w_end(const struct kp_buf *buf)
{
	return (uint8_t *)buf->data + buf->len;
}

/* The low n bytes of v, big-endian. */
static uint8_t *s_w_be(uint8_t *p, uint64_t v, int n)
{
	for (int i = n - 1; i >= 0; i--, v >>= 8)
		p[i] = (uint8_t)v;
	return p + n;
}

/* A map head (0x80 fixmap, 0xde, 0xdf) or an array head (0x90, 0xdc,
 * 0xdd) of n items: at most 5 bytes. */
static uint8_t *s_w_count(uint8_t *p, bool map, size_t n)
{
	if (n < 16) {
		*p++ = (uint8_t)((map ? 0x80 : 0x90) | n);
		return p;
	}
	if (n < 65536) {
		*p++ = map ? 0xde : 0xdc;
		return s_w_be(p, n, 2);
	}
	*p++ = map ? 0xdf : 0xdd;
	return s_w_be(p, n, 4);
}

/* A text: fixstr, str 8, 16 or 32, and its bytes (at most 5 + len). */
static uint8_t *s_w_str(uint8_t *p, const char *s, size_t len)
{
	if (len < 32) {
		*p++ = (uint8_t)(0xa0 | len);
	} else if (len < 256) {
		*p++ = 0xd9;
		*p++ = (uint8_t)len;
	} else if (len < 65536) {
		*p++ = 0xda;
		p = s_w_be(p, len, 2);
	} else {
		*p++ = 0xdb;
		p = s_w_be(p, len, 4);
	}
	if (len)
		memcpy(p, s, len);
	return p + len;
}

/* msgpack_pack_int64(): at most 9 bytes. */
static uint8_t *s_w_int(uint8_t *p, int64_t d)
{
	if (d < -(1LL << 5)) {
		if (d < -(1LL << 31)) {
			*p++ = 0xd3;
			return s_w_be(p, (uint64_t)d, 8);
		}
		if (d < -(1LL << 15)) {
			*p++ = 0xd2;
			return s_w_be(p, (uint64_t)d, 4);
		}
		if (d < -(1LL << 7)) {
			*p++ = 0xd1;
			return s_w_be(p, (uint64_t)d, 2);
		}
		*p++ = 0xd0;
		return s_w_be(p, (uint64_t)d, 1);
	}
	if (d < (1LL << 7)) { /* positive or negative fixint */
		*p++ = (uint8_t)d;
		return p;
	}
	if (d < (1LL << 8)) {
		*p++ = 0xcc;
		return s_w_be(p, (uint64_t)d, 1);
	}
	if (d < (1LL << 16)) {
		*p++ = 0xcd;
		return s_w_be(p, (uint64_t)d, 2);
	}
	if (d < (1LL << 32)) {
		*p++ = 0xce;
		return s_w_be(p, (uint64_t)d, 4);
	}
	*p++ = 0xcf;
	return s_w_be(p, (uint64_t)d, 8);
}

int kp_codec_put_map(struct kp_buf *buf, size_t pairs)
{
	if (!s_room(buf, 5))
		return KP_ENOMEM;
	buf->len = (size_t)(s_w_count(s_w_end(buf), true, pairs) -
			    (uint8_t *)buf->data);
	return KP_OK;
}

int kp_codec_put_array(struct kp_buf *buf, size_t items)
{
	if (!s_room(buf, 5))
		return KP_ENOMEM;
	buf->len = (size_t)(s_w_count(s_w_end(buf), false, items) -
			    (uint8_t *)buf->data);
	return KP_OK;
}

int kp_codec_put_str(struct kp_buf *buf, const char *s, size_t len)
{
	if (len > UINT32_MAX || !s_room(buf, 5 + len))
		return KP_ENOMEM;
	buf->len =
	    (size_t)(s_w_str(s_w_end(buf), s, len) - (uint8_t *)buf->data);
	return KP_OK;
}

int kp_codec_put_int(struct kp_buf *buf, int64_t v)
{
	if (!s_room(buf, 9))
		return KP_ENOMEM;
	buf->len = (size_t)(s_w_int(s_w_end(buf), v) - (uint8_t *)buf->data);
	return KP_OK;
}

int kp_codec_put_bool(struct kp_buf *buf, bool v)
{
	if (!s_room(buf, 1))
		return KP_ENOMEM;
	buf->data[buf->len++] = (char)(v ? 0xc3 : 0xc2);
	return KP_OK;
}

/* The pair count of the map head at p (len bytes) and the head's size;
 * 0 when p holds no map head. */
static size_t s_map_head(const uint8_t *p, size_t len, uint32_t *n)
{
	if (len >= 1 && (p[0] & 0xf0) == 0x80) {
		*n = p[0] & 0x0f;
		return 1;
	}
	if (len >= 3 && p[0] == 0xde) {
		*n = (uint32_t)s_be(p + 1, 2);
		return 3;
	}
	if (len >= 5 && p[0] == 0xdf) {
		*n = (uint32_t)s_be(p + 1, 4);
		return 5;
	}
	return 0;
}

/* The bytes of the entry's keys, the same for every entry. */
static const char s_seq[] = "seq", s_op[] = "op", s_put[] = "put",
		  s_id[] = "id", s_at[] = "at", s_rec[] = "rec";

int kp_codec_put_entry(struct kp_buf *buf, uint64_t seq, const char *id,
		       int64_t at, const void *rec, size_t len, size_t *rec_at)
{
	size_t idlen = strlen(id), head;
	uint32_t n;
	uint8_t *p;

	if (!(head = s_map_head(rec, len, &n)) || n == UINT32_MAX ||
	    idlen > UINT32_MAX)
		return KP_EINVAL;
	/* Heads, keys and numbers take less than 64 bytes; the id twice. */
	if (!s_room(buf, 64 + 2 * (5 + idlen) + len))
		return KP_ENOMEM;
	p = s_w_count(s_w_end(buf), true, 5);
	p = s_w_int(s_w_str(p, s_seq, 3), (int64_t)seq);
	p = s_w_str(s_w_str(p, s_op, 2), s_put, 3);
	p = s_w_str(s_w_str(p, s_id, 2), id, idlen);
	p = s_w_int(s_w_str(p, s_at, 2), at);
	p = s_w_str(p, s_rec, 3);
	*rec_at = (size_t)(p - (uint8_t *)buf->data);
	p = s_w_count(p, true, (size_t)n + 1);
	p = s_w_str(s_w_str(p, s_id, 2), id, idlen);
	memcpy(p, (const uint8_t *)rec + head, len - head);
	buf->len = (size_t)(p + (len - head) - (uint8_t *)buf->data);
	return KP_OK;
}
