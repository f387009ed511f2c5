/*
 * test_codec.c - JSON to msgpack and back: round trips that keep every
 * value and every unknown field, and bytes from outside that must be
 * refused with KP_ECORRUPT rather than crash or half-decode.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "codec.h"
#include "knute/error.h"

/* A booking as a newer hub might send it: nested, Norwegian text, limits
 * of int64, reals, null, booleans, arrays, fields this version does not
 * know. */
static const char *const s_record =
    "{\"id\": \"fjell:b42\", \"kind\": \"booking\", \"hub\": \"fjell\","
    " \"room\": \"fjell:r1\", \"org\": \"Røde Kors Åssiden\","
    " \"purpose\": \"Språkkafé og leksehjelp på Strømsø\","
    " \"start\": 1796140800, \"end\": 1796148000,"
    " \"big\": 9223372036854775807, \"big_less\": 9223372036854775806,"
    " \"small\": -9223372036854775808, \"small_more\": -9223372036854775807,"
    " \"zero\": 0, \"minus_one\": -1, \"u32\": 4294967296,"
    " \"ratio\": 0.25, \"neg_real\": -1234.5, \"huge_real\": 1e300,"
    " \"tiny_real\": 5e-324,"
    " \"contact\": null, \"weekly\": true, \"confirmed\": false,"
    " \"cancelled\": [1796745600, 1797350400],"
    " \"empty_list\": [], \"empty_map\": {},"
    " \"framtidig_felt\": {\"nivå\": [1, \"to\", 3.5, null, true,"
    "   {\"dypt\": {\"dypere\": [[[\"bunn æøå ÆØÅ\"]]]}}]},"
    " \"\": \"empty key\"}";

static json_t *s_load(const char *text)
{
	json_error_t e;
	json_t *v = json_loads(text, JSON_DECODE_ANY, &e);
	if (!v)
		printf("  bad test JSON: %s\n", e.text);
	return v;
}

/* Encode v, decode it back and return the copy (NULL on any failure). */
static json_t *s_round_trip(const json_t *v)
{
	struct kp_buf buf = {0};
	json_t *back = NULL;
	if (kp_codec_encode(v, &buf) == KP_OK &&
	    kp_codec_decode(buf.data, buf.len, &back) != KP_OK)
		back = NULL;
	kp_buf_free(&buf);
	return back;
}

static void test_round_trip_nested_record(void)
{
	json_t *rec = s_load(s_record);
	json_t *back = s_round_trip(rec);
	CHECK(rec != NULL);
	CHECK(back != NULL);
	CHECK(json_equal(rec, back));
	CHECK_STR(json_string_value(json_object_get(back, "org")),
		  "Røde Kors Åssiden");
	CHECK(json_is_integer(json_object_get(back, "big")));
	CHECK_INT(json_integer_value(json_object_get(back, "big")), INT64_MAX);
	CHECK_INT(json_integer_value(json_object_get(back, "small")),
		  INT64_MIN);
	CHECK_INT(json_integer_value(json_object_get(back, "u32")),
		  4294967296LL);
	CHECK_INT(json_integer_value(json_object_get(back, "minus_one")), -1);
	CHECK(json_is_real(json_object_get(back, "ratio")));
	CHECK(json_real_value(json_object_get(back, "ratio")) == 0.25);
	CHECK(json_real_value(json_object_get(back, "huge_real")) == 1e300);
	CHECK(json_real_value(json_object_get(back, "tiny_real")) == 5e-324);
	CHECK(json_is_null(json_object_get(back, "contact")));
	CHECK(json_is_true(json_object_get(back, "weekly")));
	CHECK(json_is_false(json_object_get(back, "confirmed")));
	CHECK_INT(json_array_size(json_object_get(back, "empty_list")), 0);
	CHECK(json_is_object(json_object_get(back, "empty_map")));
	json_decref(rec);
	json_decref(back);
}

static void test_round_trip_scalars_at_top(void)
{
	static const char *const values[] = {
	    "null",
	    "true",
	    "false",
	    "0",
	    "-1",
	    "127",
	    "128",
	    "-32",
	    "-33",
	    "255",
	    "256",
	    "65535",
	    "65536",
	    "-2147483648",
	    "9223372036854775807",
	    "-9223372036854775808",
	    "1.5",
	    "\"\"",
	    "\"æøå\"",
	    "[]",
	    "{}",
	    /* An empty text last in the bytes (msgpack-c hands it over
	     * with a NULL pointer). */
	    "[\"\"]",
	    "{\"notes\": \"\"}",
	    "{\"\": \"\"}",
	    NULL,
	};
	for (const char *const *t = values; *t; t++) {
		json_t *v = s_load(*t);
		json_t *back = s_round_trip(v);
		if (!back || !json_equal(v, back)) {
			printf("  %s did not survive the round trip\n", *t);
			check_failed_now = 1;
		}
		json_decref(v);
		json_decref(back);
	}
}

/* A long text (str 16 and str 32 headers) and a long array. */
static void test_round_trip_long_values(void)
{
	size_t n = 70000;
	char *text = malloc(n + 1);
	json_t *rec = json_object(), *list = json_array(), *back;
	for (size_t i = 0; i < n; i += 2)
		memcpy(text + i, "ø", 2);
	text[n] = 0;
	json_object_set_new(rec, "notes", json_string(text));
	for (int i = 0; i < 70000; i++)
		json_array_append_new(list, json_integer(i * 7));
	json_object_set_new(rec, "list", list);
	back = s_round_trip(rec);
	CHECK(back != NULL);
	CHECK(json_equal(rec, back));
	free(text);
	json_decref(rec);
	json_decref(back);
}

static void test_unknown_fields_kept(void)
{
	json_t *rec = s_load("{\"kind\": \"room\", \"name\": \"Storsalen\","
			     " \"capacity\": 80, \"ny_versjon\": {\"a\": [1]},"
			     " \"lydanlegg\": \"Bose\"}");
	json_t *back = s_round_trip(rec);
	CHECK(back != NULL);
	CHECK_INT(json_object_size(back), 5);
	CHECK_STR(json_string_value(json_object_get(back, "lydanlegg")),
		  "Bose");
	CHECK_INT(
	    json_integer_value(json_array_get(
		json_object_get(json_object_get(back, "ny_versjon"), "a"), 0)),
	    1);
	json_decref(rec);
	json_decref(back);
}

/* kp_codec_encode appends; a reset buffer is reused. */
static void test_buffer_appends_and_reuses(void)
{
	struct kp_buf buf = {0};
	json_t *a = json_string("Fjell"), *back = NULL;
	size_t one;
	CHECK_INT(kp_codec_encode(a, &buf), KP_OK);
	one = buf.len;
	CHECK_INT(kp_codec_encode(a, &buf), KP_OK);
	CHECK_INT(buf.len, 2 * one);
	/* Two values back to back are trailing garbage for decode. */
	CHECK_INT(kp_codec_decode(buf.data, buf.len, &back), KP_ECORRUPT);
	CHECK(back == NULL);
	buf.len = 0;
	CHECK_INT(kp_codec_encode(a, &buf), KP_OK);
	CHECK_INT(buf.len, one);
	CHECK_INT(kp_codec_decode(buf.data, buf.len, &back), KP_OK);
	CHECK(json_equal(a, back));
	kp_buf_free(&buf);
	kp_buf_free(&buf); /* safe twice */
	CHECK(buf.data == NULL);
	json_decref(a);
	json_decref(back);
}

static void test_truncated_bytes(void)
{
	json_t *rec = s_load(s_record), *out;
	struct kp_buf buf = {0};
	int good = 0;
	CHECK_INT(kp_codec_encode(rec, &buf), KP_OK);
	CHECK(buf.len > 100);
	/* Every proper prefix, including the empty one, is refused. */
	for (size_t len = 0; len < buf.len; len++) {
		out = (json_t *)1;
		if (kp_codec_decode(buf.data, len, &out) != KP_ECORRUPT ||
		    out != NULL) {
			printf("  prefix of %zu bytes was not refused\n", len);
			check_failed_now = 1;
			json_decref(out != (json_t *)1 ? out : NULL);
			break;
		}
		good++;
	}
	CHECK_INT(good, (long long)buf.len);
	kp_buf_free(&buf);
	json_decref(rec);
}

static void test_trailing_garbage(void)
{
	json_t *rec = s_load("{\"name\": \"Konnerud bydelshus\"}"), *out;
	struct kp_buf buf = {0};
	unsigned char bytes[64];
	CHECK_INT(kp_codec_encode(rec, &buf), KP_OK);
	CHECK(buf.len < sizeof bytes);
	memcpy(bytes, buf.data, buf.len);
	CHECK_INT(kp_codec_decode(bytes, buf.len, &out), KP_OK);
	json_decref(out);
	/* One nil byte after the map. */
	bytes[buf.len] = 0xc0;
	CHECK_INT(kp_codec_decode(bytes, buf.len + 1, &out), KP_ECORRUPT);
	CHECK(out == NULL);
	/* A byte that is no msgpack at all. */
	bytes[buf.len] = 0xc1;
	CHECK_INT(kp_codec_decode(bytes, buf.len + 1, &out), KP_ECORRUPT);
	CHECK(out == NULL);
	kp_buf_free(&buf);
	json_decref(rec);
}

static void s_refused(const char *what, const void *bytes, size_t len)
{
	json_t *out = (json_t *)1;
	int rc = kp_codec_decode(bytes, len, &out);
	if (rc != KP_ECORRUPT || out != NULL) {
		printf("  %s: got %d, expected KP_ECORRUPT\n", what, rc);
		check_failed_now = 1;
		if (out != (json_t *)1)
			json_decref(out);
	}
}

static void test_map_key_not_string(void)
{
	/* {1: "x"} */
	static const unsigned char int_key[] = {0x81, 0x01, 0xa1, 'x'};
	/* {nil: 1} */
	static const unsigned char nil_key[] = {0x81, 0xc0, 0x01};
	/* {[]: 1} */
	static const unsigned char array_key[] = {0x81, 0x90, 0x01};
	/* {bin8 "ab": 1} */
	static const unsigned char bin_key[] = {0x81, 0xc4, 0x02,
						'a',  'b',  0x01};
	/* {"a\0b": 1}: a key jansson could not hold */
	static const unsigned char nul_key[] = {0x81, 0xa3, 'a', 0, 'b', 0x01};
	/* The same inside a nested map: {"rec": {2: 3}} */
	static const unsigned char nested[] = {0x81, 0xa3, 'r',	 'e',
					       'c',  0x81, 0x02, 0x03};
	s_refused("integer key", int_key, sizeof int_key);
	s_refused("nil key", nil_key, sizeof nil_key);
	s_refused("array key", array_key, sizeof array_key);
	s_refused("bin key", bin_key, sizeof bin_key);
	s_refused("key with NUL", nul_key, sizeof nul_key);
	s_refused("nested integer key", nested, sizeof nested);
}

static void test_invalid_utf8(void)
{
	/* "\xc3(" - a lead byte without its continuation. */
	static const unsigned char bad_lead[] = {0xa2, 0xc3, 0x28};
	/* A lone continuation byte. */
	static const unsigned char lone[] = {0xa1, 0x80};
	/* 0xff never occurs in UTF-8. */
	static const unsigned char ff[] = {0xa3, 'a', 0xff, 'b'};
	/* An overlong "/" (0xc0 0xaf). */
	static const unsigned char overlong[] = {0xa2, 0xc0, 0xaf};
	/* A UTF-16 surrogate (U+D800) encoded as UTF-8. */
	static const unsigned char surrogate[] = {0xa3, 0xed, 0xa0, 0x80};
	/* Bad text as a value in a map, and as a key. */
	static const unsigned char in_value[] = {0x81, 0xa1, 'n', 0xa1, 0xfe};
	static const unsigned char in_key[] = {0x81, 0xa1, 0xfe, 0x01};
	/* Valid: "ø" is 0xc3 0xb8. */
	static const unsigned char ok[] = {0xa2, 0xc3, 0xb8};
	json_t *out;

	s_refused("bad lead byte", bad_lead, sizeof bad_lead);
	s_refused("lone continuation", lone, sizeof lone);
	s_refused("0xff", ff, sizeof ff);
	s_refused("overlong", overlong, sizeof overlong);
	s_refused("surrogate", surrogate, sizeof surrogate);
	s_refused("bad value text", in_value, sizeof in_value);
	s_refused("bad key text", in_key, sizeof in_key);
	CHECK_INT(kp_codec_decode(ok, sizeof ok, &out), KP_OK);
	CHECK_STR(json_string_value(out), "ø");
	json_decref(out);
}

static void test_types_without_json_form(void)
{
	/* bin8, ext, fixext, and an unsigned integer above INT64_MAX. */
	static const unsigned char bin[] = {0xc4, 0x01, 0x00};
	static const unsigned char ext[] = {0xd4, 0x01, 0x00};
	static const unsigned char ext8[] = {0xc7, 0x01, 0x05, 0x00};
	static const unsigned char u64[] = {0xcf, 0x80, 0, 0, 0, 0, 0, 0, 0};
	static const unsigned char u64max[] = {0xcf, 0xff, 0xff, 0xff, 0xff,
					       0xff, 0xff, 0xff, 0xff};
	/* A map that says it has 2 pairs but has 1. */
	static const unsigned char short_map[] = {0x82, 0xa1, 'a', 0x01};
	/* An array header claiming 2^32-1 items with none there. */
	static const unsigned char huge_array[] = {0xdd, 0xff, 0xff, 0xff,
						   0xff};
	/* A str header claiming 2^32-1 bytes with three there. */
	static const unsigned char huge_str[] = {0xdb, 0xff, 0xff, 0xff,
						 0xff, 'a',  'b',  'c'};
	s_refused("bin", bin, sizeof bin);
	s_refused("fixext", ext, sizeof ext);
	s_refused("ext8", ext8, sizeof ext8);
	s_refused("uint64 above INT64_MAX", u64, sizeof u64);
	s_refused("uint64 max", u64max, sizeof u64max);
	s_refused("short map", short_map, sizeof short_map);
	s_refused("huge array", huge_array, sizeof huge_array);
	s_refused("huge str", huge_str, sizeof huge_str);
}

/* Headers that claim more items than there are bytes are refused before
 * anything is allocated for them (msgpack-c would reserve room for every
 * claimed item first: 2^32 items are 128 GiB). */
static void test_counts_beyond_bytes(void)
{
	static const unsigned char array32[] = {0xdd, 0x10, 0x00, 0x00,
						0x00, 0xc0, 0xc0};
	static const unsigned char map32[] = {0xdf, 0xff, 0xff, 0xff,
					      0xff, 0xa1, 'a',	0xc0};
	static const unsigned char array16[] = {0xdc, 0xff, 0xff,
						0x01, 0x02, 0x03};
	static const unsigned char map16[] = {0xde, 0x00, 0x02,
					      0xa1, 'a',  0x01};
	/* Nested: a one-item array holding an array32 of 2^31 items. */
	static const unsigned char nested[] = {0x91, 0xdd, 0x80, 0x00,
					       0x00, 0x00, 0x01};
	/* A str32 and a bin32 claiming 4 GiB. */
	static const unsigned char str32[] = {0xdb, 0xff, 0xff,
					      0xff, 0xf0, 'a'};
	static const unsigned char ext32[] = {0xc9, 0xff, 0xff, 0xff,
					      0xf0, 0x01, 'a'};
	/* Exactly as many items as claimed decodes. */
	static const unsigned char ok16[] = {0xdc, 0x00, 0x03,
					     0x01, 0x02, 0x03};
	json_t *out;
	s_refused("array32 claiming 2^28", array32, sizeof array32);
	s_refused("map32 claiming 2^32-1", map32, sizeof map32);
	s_refused("array16 claiming 65535", array16, sizeof array16);
	s_refused("map16 one pair short", map16, sizeof map16);
	s_refused("nested array32", nested, sizeof nested);
	s_refused("str32 claiming 4 GiB", str32, sizeof str32);
	s_refused("ext32 claiming 4 GiB", ext32, sizeof ext32);
	CHECK_INT(kp_codec_decode(ok16, sizeof ok16, &out), KP_OK);
	CHECK_INT(json_array_size(out), 3);
	CHECK_INT(json_integer_value(json_array_get(out, 2)), 3);
	json_decref(out);
}

static void test_float32_decodes(void)
{
	/* float32 1.5 = 0x3fc00000 */
	static const unsigned char f32[] = {0xca, 0x3f, 0xc0, 0x00, 0x00};
	json_t *out;
	CHECK_INT(kp_codec_decode(f32, sizeof f32, &out), KP_OK);
	CHECK(json_is_real(out));
	CHECK(json_real_value(out) == 1.5);
	json_decref(out);
}

/* depth nested arrays around a nil: [[[...[nil]...]]]. */
static size_t s_nested_arrays(unsigned char *bytes, int depth)
{
	for (int i = 0; i < depth; i++)
		bytes[i] = 0x91;
	bytes[depth] = 0xc0;
	return (size_t)depth + 1;
}

/* depth nested maps: {"a": {"a": ... nil}}. */
static size_t s_nested_maps(unsigned char *bytes, int depth)
{
	size_t n = 0;
	for (int i = 0; i < depth; i++) {
		bytes[n++] = 0x81;
		bytes[n++] = 0xa1;
		bytes[n++] = 'a';
	}
	bytes[n++] = 0xc0;
	return n;
}

static void test_nesting_limit(void)
{
	unsigned char bytes[3 * 5000 + 1];
	json_t *out;
	size_t len;

	/* Containers nested KP_CODEC_MAX_DEPTH deep decode. */
	len = s_nested_arrays(bytes, KP_CODEC_MAX_DEPTH);
	CHECK_INT(kp_codec_decode(bytes, len, &out), KP_OK);
	CHECK(json_is_array(out));
	json_decref(out);
	len = s_nested_maps(bytes, KP_CODEC_MAX_DEPTH);
	CHECK_INT(kp_codec_decode(bytes, len, &out), KP_OK);
	CHECK(json_is_object(out));
	json_decref(out);

	/* One level more, and far more, are refused. */
	len = s_nested_arrays(bytes, KP_CODEC_MAX_DEPTH + 1);
	s_refused("arrays one too deep", bytes, len);
	len = s_nested_maps(bytes, KP_CODEC_MAX_DEPTH + 1);
	s_refused("maps one too deep", bytes, len);
	len = s_nested_arrays(bytes, 5000);
	s_refused("arrays 5000 deep", bytes, len);
	len = s_nested_maps(bytes, 5000);
	s_refused("maps 5000 deep", bytes, len);
}

/* Random bytes never crash the decoder; what decodes re-encodes. */
static void test_random_bytes_never_crash(void)
{
	unsigned char bytes[64];
	unsigned seed = 42;
	int decoded = 0;
	for (int round = 0; round < 20000; round++) {
		size_t len = (size_t)(rand_r(&seed) % (int)sizeof bytes);
		json_t *out = NULL;
		for (size_t i = 0; i < len; i++)
			bytes[i] = (unsigned char)rand_r(&seed);
		if (kp_codec_decode(bytes, len, &out) == KP_OK) {
			json_t *back = s_round_trip(out);
			decoded++;
			CHECK(back != NULL);
			CHECK(json_equal(out, back));
			json_decref(back);
			json_decref(out);
		} else {
			CHECK(out == NULL);
		}
	}
	CHECK(decoded > 0);
}

int main(void)
{
	RUN(test_round_trip_nested_record);
	RUN(test_round_trip_scalars_at_top);
	RUN(test_round_trip_long_values);
	RUN(test_unknown_fields_kept);
	RUN(test_buffer_appends_and_reuses);
	RUN(test_truncated_bytes);
	RUN(test_trailing_garbage);
	RUN(test_map_key_not_string);
	RUN(test_invalid_utf8);
	RUN(test_types_without_json_form);
	RUN(test_counts_beyond_bytes);
	RUN(test_float32_decodes);
	RUN(test_nesting_limit);
	RUN(test_random_bytes_never_crash);
	return check_done();
}
