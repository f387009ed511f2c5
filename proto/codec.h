/*
 * codec.h - records and messages between JSON values and msgpack bytes.
 *
 * In memory a record is a jansson object (json_t); on disk and on the wire
 * it is a msgpack map. The two carry the same fields, and a field this
 * version does not know passes through both untouched, so an older node can
 * carry a newer node's records. No msgpack type leaves codec.c.
 */
#ifndef KNUTE_CODEC_H
#define KNUTE_CODEC_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* A growable byte buffer that the caller owns and may reuse: reset len to
 * 0 and encode again. kp_buf_free() releases the bytes. */
struct kp_buf {
	char *data;
	size_t len;
	size_t cap;
};

void kp_buf_free(struct kp_buf *buf);
/* Append len bytes. KP_ENOMEM when they do not fit in memory. */
int kp_buf_append(struct kp_buf *buf, const void *bytes, size_t len);

/* Append the msgpack form of value to buf. KP_ENOMEM, or KP_EINVAL for a
 * value that has no msgpack form (never for values built by jansson). */
int kp_codec_encode(const json_t *value, struct kp_buf *buf);

/* Decode exactly len bytes of msgpack into a new JSON value (the caller
 * owns *out and frees it with json_decref). KP_ECORRUPT when the bytes are
 * truncated, have trailing garbage, map keys that are not strings, text
 * that is not UTF-8, or nesting deeper than KP_CODEC_MAX_DEPTH. */
#define KP_CODEC_MAX_DEPTH 32
int kp_codec_decode(const void *data, size_t len, json_t **out);

/* Walk the one msgpack object at data + *off without building it, and
 * move *off past it: KP_OK when it is whole, nests at most
 * KP_CODEC_MAX_DEPTH deep and no array or map claims more items than
 * there are bytes left; KP_ENOTFOUND when the bytes end too soon (a
 * truncated message); KP_ECORRUPT otherwise. Bytes from outside go
 * through this before msgpack-c unpacks them: it makes room for every
 * item a header claims, so five bytes could cost it gigabytes. */
int kp_codec_check(const void *data, size_t len, size_t *off);

/* ---- msgpack piece by piece ----
 *
 * For code that builds a record's bytes without a json_t (the bulk import
 * turns JSON text into msgpack directly). Each call appends one msgpack
 * head or value to buf in the form kp_codec_encode() gives it, so a record
 * built this way has the bytes of the same record encoded from a json_t.
 * A map of n pairs is its head and then n keys (texts) and values; an
 * array of n items its head and the items. KP_ENOMEM when buf cannot grow.
 */
int kp_codec_put_map(struct kp_buf *buf, size_t pairs);
int kp_codec_put_array(struct kp_buf *buf, size_t items);
int kp_codec_put_str(struct kp_buf *buf, const char *s, size_t len);
int kp_codec_put_int(struct kp_buf *buf, int64_t v);
int kp_codec_put_bool(struct kp_buf *buf, bool v);

/*
 * The oplog entry of a put, built around a record that is msgpack already
 * (the store's kp_txn_put_packed()): {seq, op: "put", id, at, rec}, where
 * rec is the map rec (len bytes) with the pair "id": id put in front, the
 * bytes kp_codec_encode() gives that entry. Appended to buf; the record
 * as it is stored (its map with the id) is the tail from *rec_at on.
 * KP_EINVAL when rec does not begin with a map head, KP_ENOMEM.
 */
int kp_codec_put_entry(struct kp_buf *buf, uint64_t seq, const char *id,
		       int64_t at, const void *rec, size_t len, size_t *rec_at);

#endif
