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
