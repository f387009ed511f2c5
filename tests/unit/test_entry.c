/*
 * test_entry.c - central's fast entry check (kp_entry_read() in
 * proto/wire.c, kp_model_check_packed() in proto/model.c) against the
 * JSON path that gives the reason for a refusal (kp_entry_check() in
 * proto/wire.c: kp_codec_decode() and kp_model_validate_shared()).
 *
 * Central applies whatever the fast path takes, byte for byte. So whatever
 * the JSON path refuses, the fast path must refuse too, or central stores
 * a record its own schema forbids; and a valid entry must pass both. The
 * entries are packed by hand with msgpack-c's packer, so that a test can
 * put bytes into them that no JSON value could hold: NUL inside a text,
 * broken UTF-8, keys that are not text, integers above INT64_MAX.
 */
#include <msgpack.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "codec.h"
#include "knute/error.h"
#include "model.h"
#include "wire.h"

/* The one reader every case uses, as central keeps one per loop. */
static struct kp_entry_reader *s_reader;

/* ---- packing ---- */

static int s_write(void *data, const char *bytes, size_t len)
{
	return kp_buf_append(data, bytes, len) ? -1 : 0;
}

static void s_bytes(msgpack_packer *pk, const char *s, size_t len)
{
	msgpack_pack_str(pk, len);
	msgpack_pack_str_body(pk, s, len);
}

static void s_str(msgpack_packer *pk, const char *s)
{
	s_bytes(pk, s, strlen(s));
}

/* One change to a record as it is packed: the field gets these bytes as a
 * msgpack str, or, with raw set, these msgpack bytes as its whole value;
 * a field the record lacks is added at the end. With pair set instead of
 * field, these msgpack bytes (a key and a value, whatever their types)
 * are added at the end as one more pair. */
struct s_patch {
	const char *field;
	const char *str;
	size_t len;
	const uint8_t *raw;
	size_t rawlen;
	const uint8_t *pair;
	size_t pairlen;
};

static json_t *s_load(const char *text)
{
	json_error_t e;
	json_t *v = json_loads(text, 0, &e);
	if (!v)
		printf("  bad test JSON: %s: %s\n", e.text, text);
	return v;
}

static void s_pack_value(msgpack_packer *pk, struct kp_buf *b,
			 const struct s_patch *patch)
{
	if (patch->raw)
		kp_buf_append(b, patch->raw, patch->rawlen);
	else
		s_bytes(pk, patch->str, patch->len);
}

/* Append the record rec, changed by patch (or NULL), as a msgpack map. */
static void s_pack_rec(struct kp_buf *b, const json_t *rec,
		       const struct s_patch *patch)
{
	msgpack_packer pk;
	const char *key;
	json_t *v;
	const char *field = patch ? patch->field : NULL;
	bool added = field && !json_object_get(rec, field);
	bool pair = patch && patch->pair;

	msgpack_packer_init(&pk, b, s_write);
	msgpack_pack_map(&pk, json_object_size(rec) + added + pair);
	json_object_foreach((json_t *)rec, key, v)
	{
		s_str(&pk, key);
		if (field && !strcmp(key, field))
			s_pack_value(&pk, b, patch);
		else
			kp_codec_encode(v, b);
	}
	if (added) {
		s_str(&pk, field);
		s_pack_value(&pk, b, patch);
	}
	if (pair)
		kp_buf_append(b, patch->pair, patch->pairlen);
}

/* An oplog entry {seq, op, id, at, rec} as a hub's store writes it; no
 * rec when rec is NULL (a del). */
static void s_pack_entry(struct kp_buf *b, uint64_t seq, const char *op,
			 const char *id, int64_t at, const json_t *rec,
			 const struct s_patch *patch)
{
	msgpack_packer pk;

	b->len = 0;
	msgpack_packer_init(&pk, b, s_write);
	msgpack_pack_map(&pk, rec ? 5 : 4);
	s_str(&pk, "seq");
	msgpack_pack_uint64(&pk, seq);
	s_str(&pk, "op");
	s_str(&pk, op);
	s_str(&pk, "id");
	s_str(&pk, id);
	s_str(&pk, "at");
	msgpack_pack_int64(&pk, at);
	if (rec) {
		s_str(&pk, "rec");
		s_pack_rec(b, rec, patch);
	}
}

/* ---- the two verdicts ---- */

/* The fast path: KP_OK or KP_EINVAL from kp_entry_read(). */
static int s_fast(const struct kp_buf *b, const char *hub, struct kp_entry *e)
{
	struct kp_entry scratch;
	return kp_entry_read(s_reader, b->data, b->len, hub, e ? e : &scratch);
}

/* The JSON path (kp_entry_check(), what central uses to name a dead
 * letter's reason and for volunteers): KP_OK, or KP_EINVAL with the
 * reason in why. */
static int s_json(const struct kp_buf *b, const char *hub, char *why)
{
	struct kp_entry_json e;
	int rc;

	snprintf(why, KP_ERR_MAX, "accepted");
	rc = kp_entry_check(hub, b->data, b->len, &e, why);
	json_decref(e.root);
	return rc;
}

/* Print bytes as a C string literal, for a message about a mismatch. */
static void s_show(const char *what, const char *p, size_t n)
{
	printf("  %s \"", what);
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)p[i];
		if (c >= 0x20 && c < 0x7f && c != '"' && c != '\\')
			putchar(c);
		else
			printf("\\x%02X", c);
	}
	printf("\" (%zu bytes)\n", n);
}

/* Both paths take the entry in b. */
static void s_both_take(const char *what, const struct kp_buf *b,
			const char *hub)
{
	char why[KP_ERR_MAX];
	int fast = s_fast(b, hub, NULL), slow = s_json(b, hub, why);
	if (fast != KP_OK || slow != KP_OK) {
		printf("  %s: fast path %d, JSON path %d (%s)\n", what, fast,
		       slow, why);
		check_failed_now = 1;
	}
}

/* Both paths refuse the entry in b. */
static void s_both_refuse(const char *what, const struct kp_buf *b,
			  const char *hub)
{
	char why[KP_ERR_MAX];
	int fast = s_fast(b, hub, NULL), slow = s_json(b, hub, why);
	if (fast != KP_EINVAL || slow == KP_OK) {
		printf("  %s: fast path %d, JSON path %d (%s)\n", what, fast,
		       slow, why);
		s_show("entry", b->data, b->len);
		check_failed_now = 1;
	}
}

/* ---- records ---- */

/* Valid records of Fjell, one of each kind central takes from a hub. */
static const char *const s_room_json =
    "{\"id\": \"fjell:r1\", \"kind\": \"room\", \"hub\": \"fjell\","
    " \"name\": \"Storsalen på Fjell bydelshus\", \"capacity\": 80,"
    " \"facilities\": [\"prosjektør\", \"kjøkken\", \"rullestolrampe\"],"
    " \"open\": \"mon-fri 08:00-22:00, sat 10:00-16:00\","
    " \"closures\": [{\"from\": \"2026-12-24\", \"to\": \"2026-12-26\","
    " \"reason\": \"Julestengt\"}],"
    " \"notes\": \"Nøkkelen henter du hos vaktmesteren i første etasje.\"}";

static const char *const s_activity_json =
    "{\"id\": \"fjell:a3\", \"kind\": \"activity\", \"hub\": \"fjell\","
    " \"title\": \"Leksehjelp for ungdom\", \"organiser\": \"Røde Kors\","
    " \"category\": \"leksehjelp\", \"target\": \"ungdom\","
    " \"room\": \"fjell:r1\", \"volunteers_needed\": 4,"
    " \"skills\": [\"matematikk\", \"norsk\"], \"police_required\": true,"
    " \"status\": \"active\","
    " \"description\": \"Hjelp med lekser, kaffe og vafler på Fjell.\","
    " \"start\": 1796140800, \"end\": 1796148000, \"weekly\": true,"
    " \"days\": \"tue,thu\", \"until\": \"2027-06-15\"}";

static const char *const s_booking_json =
    "{\"id\": \"fjell:b42\", \"kind\": \"booking\", \"hub\": \"fjell\","
    " \"room\": \"fjell:r1\", \"org\": \"Kirkens Bymisjon\","
    " \"contact\": \"Åse Strømsø\", \"purpose\": \"Språkkafé på Åssiden\","
    " \"status\": \"confirmed\", \"activity\": \"fjell:a3\","
    " \"start\": 1796140800, \"end\": 1796148000, \"weekly\": true,"
    " \"days\": \"tue\", \"until\": \"2027-06-15\","
    " \"cancelled\": [1796745600]}";

/* As a volunteer travels without consent: no personal fields. */
static const char *const s_volunteer_json =
    "{\"id\": \"fjell:v7\", \"kind\": \"volunteer\", \"hub\": \"fjell\","
    " \"org\": \"Frivilligsentralen\", \"skills\": [\"leksehjelp\"],"
    " \"languages\": [\"norsk\", \"arabisk\", \"tigrinja\"],"
    " \"availability\": \"tue 17:00-19:00\","
    " \"consent\": {\"share\": false}}";

/* With consent, the personal fields travel too. */
static const char *const s_consented_json =
    "{\"id\": \"fjell:v8\", \"kind\": \"volunteer\", \"hub\": \"fjell\","
    " \"name\": \"Bjørn Ødegård\", \"phone\": \"+47 912 34 567\","
    " \"email\": \"bjorn@blakors.no\", \"birth_year\": 1961,"
    " \"org\": \"Blå Kors\", \"skills\": [\"gitar\"],"
    " \"police\": {\"role\": \"Ungdomsklubb\", \"shown\": \"2026-01-12\"},"
    " \"consent\": {\"share\": true, \"date\": \"2026-01-12\"}}";

/* Pack a put of rec (patched) as entry seq at Fjell, and tell whether
 * both paths refuse it. */
static void s_refuse_put(const char *what, const json_t *rec,
			 const struct s_patch *patch)
{
	struct kp_buf b = {0};
	s_pack_entry(&b, 7, "put", kp_rec_str(rec, "id", ""), 1796140800, rec,
		     patch);
	s_both_refuse(what, &b, "fjell");
	kp_buf_free(&b);
}

/* The same with the booking's field set to the text bytes s[0..n). */
static void s_refuse_text(const char *what, const char *field, const char *s,
			  size_t n)
{
	json_t *rec = s_load(s_booking_json);
	struct s_patch p = {.field = field, .str = s, .len = n};
	s_refuse_put(what, rec, &p);
	json_decref(rec);
}

#define S_REFUSE_TEXT(field, lit)                                              \
	s_refuse_text(#lit, field, lit, sizeof lit - 1)

/* ---- valid entries ---- */

static void s_take_put(const char *json, uint64_t seq, int64_t at)
{
	json_t *rec = s_load(json);
	struct kp_buf b = {0};
	struct kp_entry e;
	char err[KP_ERR_MAX] = "";
	const char *id = kp_rec_str(rec, "id", "");
	json_t *root = NULL;

	s_pack_entry(&b, seq, "put", id, at, rec, NULL);
	s_both_take(id, &b, "fjell");
	CHECK_INT(s_fast(&b, "fjell", &e), KP_OK);
	CHECK_INT(e.seq, seq);
	CHECK_INT(e.at, at);
	CHECK(!e.del);
	CHECK_STR(e.idtext, id);
	CHECK_STR(e.id.hub, "fjell");
	CHECK_INT(e.id.kind, id[6]);
	CHECK(e.rec != NULL);
	CHECK_INT(kp_model_check_packed(e.id.kind, e.rec, true), KP_OK);
	/* The record as the JSON path decodes it is the record packed, and
	 * valid as it is shared. */
	CHECK_INT(kp_codec_decode(b.data, b.len, &root), KP_OK);
	CHECK(json_equal(json_object_get(root, "rec"), rec));
	CHECK_INT(kp_model_validate_shared(e.id.kind,
					   json_object_get(root, "rec"), err),
		  KP_OK);
	if (*err)
		printf("  %s: %s\n", id, err);
	json_decref(root);
	kp_buf_free(&b);
	json_decref(rec);
}

static void test_valid_room(void)
{
	s_take_put(s_room_json, 1, 1796140800);
}

static void test_valid_activity(void)
{
	s_take_put(s_activity_json, 2, 1796140801);
}

static void test_valid_booking(void)
{
	s_take_put(s_booking_json, 3, 1796140802);
}

static void test_valid_volunteer_shared(void)
{
	s_take_put(s_volunteer_json, 4, 1796140803);
	s_take_put(s_consented_json, 5, 1796140804);
}

/* An entry's seq may be any positive 64-bit number, its instant negative
 * (before 1970) or large. */
static void test_valid_extreme_seq_and_at(void)
{
	s_take_put(s_booking_json, (uint64_t)INT64_MAX, INT64_MAX);
	s_take_put(s_booking_json, 1, -1);
	s_take_put(s_booking_json, 0x100000000ULL, INT64_MIN);
}

/* A text of exactly its schema's maximum is taken: 100 times "ø" is the
 * 200 bytes of KP_NAME_MAX. */
static void test_valid_text_at_maximum(void)
{
	char org[KP_NAME_MAX + 1] = "";
	json_t *rec = s_load(s_booking_json);
	struct kp_buf b = {0};

	for (int i = 0; i < KP_NAME_MAX / 2; i++)
		strcat(org, "ø");
	CHECK_INT(strlen(org), KP_NAME_MAX);
	json_object_set_new(rec, "org", json_string(org));
	s_pack_entry(&b, 9, "put", "fjell:b42", 1796140800, rec, NULL);
	s_both_take("org of 200 bytes", &b, "fjell");
	kp_buf_free(&b);
	json_decref(rec);
}

static void test_valid_del(void)
{
	struct kp_buf b = {0};
	struct kp_entry e;

	s_pack_entry(&b, 11, "del", "fjell:b42", 1796148000, NULL, NULL);
	s_both_take("del", &b, "fjell");
	CHECK_INT(s_fast(&b, "fjell", &e), KP_OK);
	CHECK_INT(e.seq, 11);
	CHECK_INT(e.at, 1796148000);
	CHECK(e.del);
	CHECK_STR(e.idtext, "fjell:b42");
	CHECK_INT(e.id.kind, KP_BOOKING);
	CHECK_INT(e.id.n, 42);
	CHECK(e.rec == NULL);
	kp_buf_free(&b);
}

/* Fields the schema does not know are kept: they pass both paths. */
static void test_valid_unknown_fields(void)
{
	json_t *rec = s_load(s_booking_json);
	struct kp_buf b = {0};

	json_object_set_new(rec, "merknad_fra_nyere_versjon",
			    s_load("{\"tekst\": \"Blå Kors, Strømsø\", "
				   "\"liste\": [1, -2, 2.5, null, false]}"));
	s_pack_entry(&b, 12, "put", "fjell:b42", 1796140800, rec, NULL);
	s_both_take("unknown fields", &b, "fjell");
	kp_buf_free(&b);
	json_decref(rec);
}

/* ---- refused by both ---- */

static void test_refuses_nul_in_text(void)
{
	S_REFUSE_TEXT("org", "Røde\0Kors");
	S_REFUSE_TEXT("org", "\0Røde Kors");
	S_REFUSE_TEXT("org", "Røde Kors\0");
	S_REFUSE_TEXT("org", "\0");
	S_REFUSE_TEXT("purpose", "Språkkafé\0 på Åssiden");
	S_REFUSE_TEXT("contact", "Åse\0");
}

static void test_refuses_lone_continuation_byte(void)
{
	S_REFUSE_TEXT("org", "\x80");
	S_REFUSE_TEXT("org", "Frivilligsentralen \xBF");
	S_REFUSE_TEXT("purpose", "Bl\xA5 Kors");
}

static void test_refuses_overlong_form(void)
{
	S_REFUSE_TEXT("org", "\xC0\xAF");
	S_REFUSE_TEXT("org", "\xC1\xBF");
	S_REFUSE_TEXT("org", "\xE0\x80\xAF");
	S_REFUSE_TEXT("org", "\xF0\x80\x80\xAF");
	S_REFUSE_TEXT("org", "\xC0\x80"); /* the "modified UTF-8" NUL */
}

static void test_refuses_surrogate(void)
{
	S_REFUSE_TEXT("org", "\xED\xA0\x80");
	S_REFUSE_TEXT("org", "\xED\xBF\xBF");
	S_REFUSE_TEXT("purpose", "Åssiden \xED\xA0\xBD\xED\xB8\x80");
}

static void test_refuses_above_u10ffff(void)
{
	S_REFUSE_TEXT("org", "\xF4\x90\x80\x80");
	S_REFUSE_TEXT("org", "\xF5\x80\x80\x80");
	S_REFUSE_TEXT("org", "\xF7\xBF\xBF\xBF");
	S_REFUSE_TEXT("org", "\xFE");
	S_REFUSE_TEXT("org", "\xFF");
}

static void test_refuses_truncated_multibyte_at_end(void)
{
	S_REFUSE_TEXT("org", "Bl\xC3");
	S_REFUSE_TEXT("org", "Strøms\xC3\xB8\xE2\x82");
	S_REFUSE_TEXT("org", "Konnerud \xF0\x9F\x98");
	S_REFUSE_TEXT("org",
		      "\xC3\x28"); /* a lead byte before a non-continuation */
}

static void test_refuses_key_not_text(void)
{
	static const uint8_t int_key[] = {0x07, 0xa1, 'x'}; /* 7: "x" */
	static const uint8_t nil_key[] = {0xc0, 0x07};	    /* nil: 7 */
	static const uint8_t map_key[] = {0x80, 0x07};	    /* {}: 7 */
	static const uint8_t bin_key[] = {0xc4, 0x03, 'o', 'r', 'g', 0x07};
	static const uint8_t nested[] = {0x81, 0x07, 0x07}; /* {7: 7} */
	json_t *rec = s_load(s_booking_json);
	struct s_patch p = {.pair = int_key, .pairlen = sizeof int_key};

	s_refuse_put("integer key in the record", rec, &p);
	p.pair = nil_key;
	p.pairlen = sizeof nil_key;
	s_refuse_put("nil key in the record", rec, &p);
	p.pair = map_key;
	p.pairlen = sizeof map_key;
	s_refuse_put("map key in the record", rec, &p);
	p.pair = bin_key;
	p.pairlen = sizeof bin_key;
	s_refuse_put("bin key \"org\" in the record", rec, &p);
	memset(&p, 0, sizeof p);
	p.field = "merknad";
	p.raw = nested;
	p.rawlen = sizeof nested;
	s_refuse_put("integer key in a nested map", rec, &p);
	json_decref(rec);
}

static void test_refuses_wrong_type(void)
{
	static const uint8_t forty_two[] = {0x2a};
	static const uint8_t yes[] = {0xa2, 'j', 'a'};
	static const uint8_t float_80[] = {0xcb, 0x40, 0x54, 0, 0, 0, 0, 0, 0};
	static const uint8_t list_of_int[] = {0x91, 0x01};
	static const uint8_t bin[] = {0xc4, 0x01, 'x'};
	json_t *booking = s_load(s_booking_json);
	json_t *room = s_load(s_room_json);
	json_t *volunteer = s_load(s_volunteer_json);
	struct s_patch p = {.field = "org", .raw = forty_two, .rawlen = 1};

	s_refuse_put("org: 42", booking, &p);
	p.field = "weekly";
	p.raw = yes;
	p.rawlen = sizeof yes;
	s_refuse_put("weekly: \"ja\"", booking, &p);
	p.field = "start";
	s_refuse_put("start: \"ja\"", booking, &p);
	p.field = "capacity";
	p.raw = float_80;
	p.rawlen = sizeof float_80;
	s_refuse_put("capacity: 80.0", room, &p);
	p.field = "facilities";
	p.raw = list_of_int;
	p.rawlen = sizeof list_of_int;
	s_refuse_put("facilities: [1]", room, &p);
	p.field = "skills";
	s_refuse_put("skills: [1]", volunteer, &p);
	p.field = "consent";
	p.raw = yes;
	p.rawlen = sizeof yes;
	s_refuse_put("consent: \"ja\"", volunteer, &p);
	p.field = "status";
	p.raw = forty_two;
	p.rawlen = 1;
	s_refuse_put("status: 42", booking, &p);
	/* A bin anywhere in a record has no JSON form. */
	p.field = "vedlegg";
	p.raw = bin;
	p.rawlen = sizeof bin;
	s_refuse_put("an unknown field holding a bin", booking, &p);
	json_decref(booking);
	json_decref(room);
	json_decref(volunteer);
}

static void test_refuses_text_over_maximum(void)
{
	char org[KP_NAME_MAX + 2] = "", purpose[KP_TEXT_MAX + 2];

	for (int i = 0; i < KP_NAME_MAX / 2; i++)
		strcat(org, "ø");
	strcat(org, "a");
	s_refuse_text("org of 201 bytes", "org", org, strlen(org));
	memset(purpose, 'x', sizeof purpose);
	s_refuse_text("purpose of 2001 bytes", "purpose", purpose,
		      KP_TEXT_MAX + 1);
	/* A volunteer's phone is at most 40 bytes. */
	{
		json_t *rec = s_load(s_consented_json);
		struct s_patch p = {
		    .field = "phone", .str = purpose, .len = 41};
		s_refuse_put("phone of 41 bytes", rec, &p);
		json_decref(rec);
	}
}

static void test_refuses_unknown_kind(void)
{
	json_t *rec = s_load(s_booking_json);
	struct kp_buf b = {0};
	msgpack_zone zone;
	msgpack_object obj;
	size_t off = 0;
	char err[KP_ERR_MAX];

	json_object_set_new(rec, "id", json_string("fjell:x42"));
	s_pack_entry(&b, 7, "put", "fjell:x42", 1796140800, rec, NULL);
	s_both_refuse("kind x", &b, "fjell");
	s_pack_entry(&b, 7, "del", "fjell:x42", 1796140800, NULL, NULL);
	s_both_refuse("del of kind x", &b, "fjell");

	/* Asked directly, both schema checks know no kind 'x'. */
	b.len = 0;
	s_pack_rec(&b, rec, NULL);
	msgpack_zone_init(&zone, 2048);
	CHECK(msgpack_unpack(b.data, b.len, &off, &zone, &obj) ==
	      MSGPACK_UNPACK_SUCCESS);
	CHECK_INT(kp_model_check_packed('x', &obj, true), KP_EINVAL);
	CHECK_INT(kp_model_check_packed(0, &obj, true), KP_EINVAL);
	CHECK_INT(kp_model_validate_shared('x', rec, err), KP_EINVAL);
	CHECK_INT(kp_model_check_packed(KP_BOOKING, &obj, true), KP_OK);
	msgpack_zone_destroy(&zone);
	kp_buf_free(&b);
	json_decref(rec);
}

static void test_refuses_another_hubs_id(void)
{
	json_t *rec = s_load(s_booking_json);
	struct kp_buf b = {0};

	/* Konnerud's record, sent on Fjell's session. */
	json_object_set_new(rec, "id", json_string("konnerud:b42"));
	s_pack_entry(&b, 7, "put", "konnerud:b42", 1796140800, rec, NULL);
	s_both_refuse("konnerud's put", &b, "fjell");
	s_pack_entry(&b, 7, "del", "konnerud:b42", 1796140800, NULL, NULL);
	s_both_refuse("konnerud's del", &b, "fjell");
	/* Fjell's own entry, read as Strømsø's (hub "stromso"). */
	s_pack_entry(&b, 7, "del", "fjell:b42", 1796140800, NULL, NULL);
	s_both_refuse("fjell's del as stromso", &b, "stromso");
	/* A hub whose id is a prefix of the sender's is another hub. */
	s_pack_entry(&b, 7, "del", "fjel:b42", 1796140800, NULL, NULL);
	s_both_refuse("fjel's del as fjell", &b, "fjell");
	/* Ids that are no ids at all. */
	s_pack_entry(&b, 7, "del", "b42", 1796140800, NULL, NULL);
	s_both_refuse("id without a hub", &b, "fjell");
	s_pack_entry(&b, 7, "del", "fjell:b042", 1796140800, NULL, NULL);
	s_both_refuse("id with a leading zero", &b, "fjell");
	s_pack_entry(&b, 7, "del", "Fjell:b42", 1796140800, NULL, NULL);
	s_both_refuse("hub id in capitals", &b, "fjell");
	s_pack_entry(&b, 7, "del", "", 1796140800, NULL, NULL);
	s_both_refuse("empty id", &b, "fjell");
	kp_buf_free(&b);
	json_decref(rec);
}

static void test_refuses_record_id_not_the_entrys(void)
{
	json_t *rec = s_load(s_booking_json);
	struct kp_buf b = {0};
	static const uint8_t nil[] = {0xc0};
	struct s_patch p = {.field = "id", .raw = nil, .rawlen = 1};

	s_pack_entry(&b, 7, "put", "fjell:b43", 1796140800, rec, NULL);
	s_both_refuse("entry b43, record b42", &b, "fjell");
	s_pack_entry(&b, 7, "put", "fjell:r42", 1796140800, rec, NULL);
	s_both_refuse("entry r42, record b42", &b, "fjell");
	json_object_set_new(rec, "id", json_string("konnerud:b42"));
	s_pack_entry(&b, 7, "put", "fjell:b42", 1796140800, rec, NULL);
	s_both_refuse("entry fjell:b42, record konnerud:b42", &b, "fjell");
	json_object_set_new(rec, "id", json_string("fjell:b42"));
	s_pack_entry(&b, 7, "put", "fjell:b42", 1796140800, rec, &p);
	s_both_refuse("record id nil", &b, "fjell");
	kp_buf_free(&b);
	json_decref(rec);
}

/*
 * A put whose record has no "id" at all: the fast path must not take a
 * record that does not name itself (the JSON path cannot parse its id).
 */
static void test_refuses_record_without_id(void)
{
	json_t *rec = s_load(s_booking_json);
	struct kp_buf b = {0};

	json_object_del(rec, "id");
	s_pack_entry(&b, 7, "put", "fjell:b42", 1796140800, rec, NULL);
	s_both_refuse("record without id", &b, "fjell");
	kp_buf_free(&b);
	json_decref(rec);
}

/* A put without a record, or with one that is not a map. */
static void test_refuses_put_without_record(void)
{
	json_t *rec = s_load(s_booking_json);
	struct kp_buf b = {0};
	msgpack_packer pk;

	s_pack_entry(&b, 7, "put", "fjell:b42", 1796140800, NULL, NULL);
	s_both_refuse("put without rec", &b, "fjell");
	s_pack_entry(&b, 7, "put", "fjell:b42", 1796140800, NULL, NULL);
	b.data[0]++; /* a fixmap of 5 */
	msgpack_packer_init(&pk, &b, s_write);
	s_str(&pk, "rec");
	msgpack_pack_array(&pk, 0);
	s_both_refuse("rec: []", &b, "fjell");
	kp_buf_free(&b);
	json_decref(rec);
}

/* An entry with the given seq packed as msgpack bytes seq[0..n), or
 * with no seq when n is 0. */
static void s_refuse_seq(const char *what, const uint8_t *seq, size_t n)
{
	struct kp_buf b = {0};
	msgpack_packer pk;

	msgpack_packer_init(&pk, &b, s_write);
	msgpack_pack_map(&pk, n ? 4 : 3);
	if (n) {
		s_str(&pk, "seq");
		kp_buf_append(&b, seq, n);
	}
	s_str(&pk, "op");
	s_str(&pk, "del");
	s_str(&pk, "id");
	s_str(&pk, "fjell:b42");
	s_str(&pk, "at");
	msgpack_pack_int64(&pk, 1796140800);
	s_both_refuse(what, &b, "fjell");
	kp_buf_free(&b);
}

static void test_refuses_seq_zero_or_missing(void)
{
	static const uint8_t zero[] = {0x00};
	static const uint8_t zero64[] = {0xcf, 0, 0, 0, 0, 0, 0, 0, 0};
	static const uint8_t minus_one[] = {0xff};
	static const uint8_t text[] = {0xa1, '7'};
	static const uint8_t nil[] = {0xc0};
	static const uint8_t seven_f[] = {0xcb, 0x40, 0x1c, 0, 0, 0, 0, 0, 0};

	s_refuse_seq("seq 0", zero, sizeof zero);
	s_refuse_seq("seq 0 as uint 64", zero64, sizeof zero64);
	s_refuse_seq("no seq", NULL, 0);
	s_refuse_seq("seq -1", minus_one, sizeof minus_one);
	s_refuse_seq("seq \"7\"", text, sizeof text);
	s_refuse_seq("seq nil", nil, sizeof nil);
	s_refuse_seq("seq 7.0", seven_f, sizeof seven_f);
}

static void test_refuses_bad_op(void)
{
	struct kp_buf b = {0};
	msgpack_packer pk;
	json_t *rec = s_load(s_booking_json);
	static const char *const ops[] = {"upsert", "PUT", "",
					  "del ",   "de",  "slett"};

	for (size_t i = 0; i < sizeof ops / sizeof ops[0]; i++) {
		s_pack_entry(&b, 7, ops[i], "fjell:b42", 1796140800, rec, NULL);
		s_both_refuse(ops[i], &b, "fjell");
	}
	/* No op, and an op that is not text. */
	b.len = 0;
	msgpack_packer_init(&pk, &b, s_write);
	msgpack_pack_map(&pk, 3);
	s_str(&pk, "seq");
	msgpack_pack_uint64(&pk, 7);
	s_str(&pk, "id");
	s_str(&pk, "fjell:b42");
	s_str(&pk, "at");
	msgpack_pack_int64(&pk, 1796140800);
	s_both_refuse("no op", &b, "fjell");
	b.len = 0;
	msgpack_pack_map(&pk, 3);
	s_str(&pk, "seq");
	msgpack_pack_uint64(&pk, 7);
	s_str(&pk, "op");
	msgpack_pack_int(&pk, 1);
	s_str(&pk, "id");
	s_str(&pk, "fjell:b42");
	s_both_refuse("op 1", &b, "fjell");
	kp_buf_free(&b);
	json_decref(rec);
}

/*
 * op "del" followed by a NUL (four bytes): neither path may read it as
 * "del" (a NUL in any text of the entry is refused).
 */
static void test_refuses_op_with_nul(void)
{
	struct kp_buf b = {0};
	msgpack_packer pk;

	msgpack_packer_init(&pk, &b, s_write);
	msgpack_pack_map(&pk, 4);
	s_str(&pk, "seq");
	msgpack_pack_uint64(&pk, 7);
	s_str(&pk, "op");
	s_bytes(&pk, "del\0", 4);
	s_str(&pk, "id");
	s_str(&pk, "fjell:b42");
	s_str(&pk, "at");
	msgpack_pack_int64(&pk, 1796140800);
	s_both_refuse("op \"del\\0\"", &b, "fjell");
	kp_buf_free(&b);
}

/*
 * An entry whose instant "at" is not an integer: refused by both (the
 * JSON path may not fall back to 0).
 */
static void test_refuses_at_not_integer(void)
{
	struct kp_buf b = {0};
	msgpack_packer pk;

	msgpack_packer_init(&pk, &b, s_write);
	msgpack_pack_map(&pk, 4);
	s_str(&pk, "seq");
	msgpack_pack_uint64(&pk, 7);
	s_str(&pk, "op");
	s_str(&pk, "del");
	s_str(&pk, "id");
	s_str(&pk, "fjell:b42");
	s_str(&pk, "at");
	s_str(&pk, "2026-12-01 17:00");
	s_both_refuse("at \"2026-12-01 17:00\"", &b, "fjell");
	kp_buf_free(&b);
}

static void test_refuses_entry_not_a_map(void)
{
	static const uint8_t nil[] = {0xc0};
	static const uint8_t array[] = {0x93, 0x07, 0xa3, 'd', 'e', 'l', 0x01};
	static const uint8_t text[] = {0xa9, 'f', 'j', 'e', 'l',
				       'l',  ':', 'b', '4', '2'};
	static const uint8_t seven[] = {0x07};
	static const uint8_t bin[] = {0xc4, 0x01, 0x81};
	static const uint8_t cut[] = {0x84, 0xa3, 's', 'e', 'q', 0x07};
	static const uint8_t never[] = {0xc1};
	static const struct {
		const char *what;
		const uint8_t *p;
		size_t n;
	} cases[] = {
	    {"nil", nil, sizeof nil},
	    {"an array", array, sizeof array},
	    {"a text", text, sizeof text},
	    {"an integer", seven, sizeof seven},
	    {"a bin holding a map head", bin, sizeof bin},
	    {"a truncated map", cut, sizeof cut},
	    {"the byte 0xc1", never, sizeof never},
	    {"no bytes", never, 0},
	};
	struct kp_buf b = {0};

	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		b.len = 0;
		kp_buf_append(&b, cases[i].p, cases[i].n);
		s_both_refuse(cases[i].what, &b, "fjell");
	}
	kp_buf_free(&b);
}

static void test_refuses_trailing_bytes(void)
{
	static const uint8_t tails[][2] = {{0xc0}, {0x00}, {0x80}, {0xc1}};
	json_t *rec = s_load(s_booking_json);
	struct kp_buf b = {0};

	for (size_t i = 0; i < sizeof tails / sizeof tails[0]; i++) {
		s_pack_entry(&b, 7, "put", "fjell:b42", 1796140800, rec, NULL);
		kp_buf_append(&b, tails[i], 1);
		s_both_refuse("a put and one byte more", &b, "fjell");
	}
	/* Two whole entries in one: the second is trailing bytes. */
	s_pack_entry(&b, 7, "del", "fjell:b42", 1796140800, NULL, NULL);
	kp_buf_append(&b, b.data, b.len);
	s_both_refuse("two dels back to back", &b, "fjell");
	kp_buf_free(&b);
	json_decref(rec);
}

/* 2^63 and 2^64 - 1 as msgpack uint 64. */
static const uint8_t s_2p63[] = {0xcf, 0x80, 0, 0, 0, 0, 0, 0, 0};
static const uint8_t s_max64[] = {0xcf, 0xff, 0xff, 0xff, 0xff,
				  0xff, 0xff, 0xff, 0xff};

static void test_refuses_integer_above_int64_max(void)
{
	json_t *booking = s_load(s_booking_json);
	json_t *room = s_load(s_room_json);
	static const uint8_t list[] = {0x92, 0x01, 0xcf, 0x80, 0, 0,
				       0,    0,	   0,	 0,    0};
	struct s_patch p = {
	    .field = "end", .raw = s_2p63, .rawlen = sizeof s_2p63};
	struct kp_buf b = {0};
	msgpack_packer pk;

	s_refuse_put("end 2^63", booking, &p);
	p.field = "cancelled";
	p.raw = list;
	p.rawlen = sizeof list;
	s_refuse_put("cancelled [1, 2^63]", booking, &p);
	p.field = "capacity";
	p.raw = s_max64;
	p.rawlen = sizeof s_max64;
	s_refuse_put("capacity 2^64 - 1", room, &p);
	p.field = "antall_fra_nyere_versjon";
	s_refuse_put("unknown field 2^64 - 1", room, &p);

	/* The entry's own instant. */
	msgpack_packer_init(&pk, &b, s_write);
	msgpack_pack_map(&pk, 4);
	s_str(&pk, "seq");
	msgpack_pack_uint64(&pk, 7);
	s_str(&pk, "op");
	s_str(&pk, "del");
	s_str(&pk, "id");
	s_str(&pk, "fjell:b42");
	s_str(&pk, "at");
	msgpack_pack_uint64(&pk, (uint64_t)INT64_MAX + 1);
	s_both_refuse("at 2^63", &b, "fjell");
	kp_buf_free(&b);
	json_decref(booking);
	json_decref(room);
}

/*
 * A seq above INT64_MAX: kp_codec_decode() cannot hold it, so the fast
 * path must not take it either (central would store an entry and a
 * cursor its own decoder cannot read back).
 */
static void test_refuses_seq_above_int64_max(void)
{
	s_refuse_seq("seq 2^63", s_2p63, sizeof s_2p63);
	s_refuse_seq("seq 2^64 - 1", s_max64, sizeof s_max64);
}

/*
 * Fields of the entry itself beside seq, op, id, at and rec that are not
 * JSON (a key that is not text, broken UTF-8, a NUL in a key, a bin, an
 * integer above INT64_MAX): central stores an entry's bytes as they came,
 * so the fast path must look at every field, not only the ones it reads.
 */
static void test_refuses_bad_entry_level_extras(void)
{
	static const struct {
		const char *what;
		uint8_t kv[12];
		size_t n;
	} extras[] = {
	    {"key 7", {0x07, 0x07}, 2},
	    {"value with a lone continuation byte", {0xa1, 'x', 0xa1, 0x80}, 4},
	    {"key \"x\\0\"", {0xa2, 'x', 0x00, 0x07}, 4},
	    {"key with an overlong form", {0xa2, 0xc0, 0xaf, 0x07}, 4},
	    {"value bin", {0xa1, 'x', 0xc4, 0x01, 0x00}, 5},
	    {"value 2^63", {0xa1, 'x', 0xcf, 0x80, 0, 0, 0, 0, 0, 0, 0}, 11},
	};
	struct kp_buf b = {0};

	for (size_t i = 0; i < sizeof extras / sizeof extras[0]; i++) {
		s_pack_entry(&b, 7, "del", "fjell:b42", 1796140800, NULL, NULL);
		b.data[0]++; /* a fixmap of 5 */
		kp_buf_append(&b, extras[i].kv, extras[i].n);
		s_both_refuse(extras[i].what, &b, "fjell");
	}
	kp_buf_free(&b);
}

/*
 * A key given twice in a record: of the two "org" values the last counts
 * in both paths (kp_codec_decode() keeps the last), so {org: "Kirkens
 * Bymisjon", ..., org: 201 bytes} is refused by both.
 */
static void test_refuses_duplicate_record_key(void)
{
	uint8_t pair[4 + 2 + KP_NAME_MAX + 1];
	json_t *rec = s_load(s_booking_json);
	struct s_patch p = {.pair = pair, .pairlen = sizeof pair};

	/* "org": 201 bytes of 'x', after the record's own "org". */
	memcpy(pair, "\xa3org\xd9", 5);
	pair[5] = KP_NAME_MAX + 1;
	memset(pair + 6, 'x', KP_NAME_MAX + 1);
	s_refuse_put("org twice, the second 201 bytes", rec, &p);
	json_decref(rec);
}

/*
 * op given twice in an entry, "del" then "put": the last counts in both
 * paths, so it is a put without a record, refused by both.
 */
static void test_refuses_duplicate_op(void)
{
	struct kp_buf b = {0};
	msgpack_packer pk;

	s_pack_entry(&b, 7, "del", "fjell:b42", 1796140800, NULL, NULL);
	b.data[0]++; /* a fixmap of 5 */
	msgpack_packer_init(&pk, &b, s_write);
	s_str(&pk, "op");
	s_str(&pk, "put");
	s_both_refuse("op del, then op put", &b, "fjell");
	kp_buf_free(&b);
}

/* A record with an unknown field of depth nested arrays around a 1: the
 * 1 is at depth + 2 counted from the entry (the entry's map is 0, the
 * record's 1, the outermost array 2). */
static void s_nested_put(struct kp_buf *b, int depth)
{
	uint8_t raw[64];
	json_t *rec = s_load(s_booking_json);
	struct s_patch p = {.field = "merknad", .raw = raw};

	memset(raw, 0x91, (size_t)depth); /* arrays of one item */
	raw[depth] = 0x01;
	p.rawlen = (size_t)depth + 1;
	s_pack_entry(b, 7, "put", "fjell:b42", 1796140800, rec, &p);
	json_decref(rec);
}

/* Nesting up to KP_CODEC_MAX_DEPTH below the entry's map is taken. */
static void test_valid_nesting_at_limit(void)
{
	struct kp_buf b = {0};
	size_t off = 0;

	s_nested_put(&b, KP_CODEC_MAX_DEPTH - 2);
	CHECK_INT(kp_codec_check(b.data, b.len, &off), KP_OK);
	s_both_take("nested to depth 32", &b, "fjell");
	kp_buf_free(&b);
}

/*
 * One level deeper than KP_CODEC_MAX_DEPTH, counted from the entry. Both
 * refuse, though the fast path counts depth from the record
 * (s_mp_sane(rec, 0)), one level short: what refuses it there is
 * msgpack-c's own unpack stack of 32 containers (MSGPACK_EMBED_STACK_SIZE),
 * and in central kp_wire_next() walks every entry with kp_codec_check()
 * first. This check notices if either of those ever changes.
 */
static void test_refuses_nesting_over_limit(void)
{
	struct kp_buf b = {0};
	size_t off = 0;

	s_nested_put(&b, KP_CODEC_MAX_DEPTH - 1);
	CHECK_INT(kp_codec_check(b.data, b.len, &off), KP_ECORRUPT);
	s_both_refuse("nested to depth 33", &b, "fjell");
	kp_buf_free(&b);
}

/* ---- the sweep ---- */

/* Byte strings for every text field of a booking: valid UTF-8 (Norwegian,
 * the edges of the ranges), broken UTF-8, NUL, and the valid values of the
 * coded fields with a NUL after them. */
#define S_B(lit)                                                               \
	{                                                                      \
		lit, sizeof lit - 1                                            \
	}
static const struct {
	const char *p;
	size_t n;
} s_sweep_bytes[] = {
    S_B("Røde Kors"),
    S_B("Frivilligsentralen på Strømsø"),
    S_B("ÆØÅ æøå"),
    S_B(""),
    S_B(" "),
    S_B("\x7f"),
    S_B("\xC2\x80"),
    S_B("\xDF\xBF"),
    S_B("\xE0\xA0\x80"),
    S_B("€"),
    S_B("\xED\x9F\xBF"),
    S_B("\xEE\x80\x80"),
    S_B("\xEF\xBF\xBF"),
    S_B("\xF0\x90\x80\x80"),
    S_B("𝄞 Konnerud"),
    S_B("\xF4\x8F\xBF\xBF"),
    S_B("confirmed"),
    S_B("cancelled"),
    S_B("fjell:r1"),
    S_B("fjell:a3"),
    S_B("konnerud:r1"),
    S_B("tue"),
    S_B("mon-fri"),
    S_B("2027-06-15"),
    S_B("2027-02-30"),
    S_B("mon,mon,mon,mon,mon,mon,mon,mon,mon,mon,mon,mon,mon,mon,mon,mon,"
	"mon,mon,mon,mon,mon,mon,mon,mon"),
    S_B("\x80"),
    S_B("\xBF"),
    S_B("\xC0\xAF"),
    S_B("\xC1\xBF"),
    S_B("\xC0\x80"),
    S_B("\xE0\x80\xAF"),
    S_B("\xE0\x9F\xBF"),
    S_B("\xF0\x80\x80\xAF"),
    S_B("\xF0\x8F\xBF\xBF"),
    S_B("\xED\xA0\x80"),
    S_B("\xED\xBF\xBF"),
    S_B("\xF4\x90\x80\x80"),
    S_B("\xF5\x80\x80\x80"),
    S_B("\xF8\x88\x80\x80\x80"),
    S_B("\xFE"),
    S_B("\xFF"),
    S_B("Bl\xC3"),
    S_B("Bl\xC3\xA5\xE2\x82"),
    S_B("\xF0\x9F\x98"),
    S_B("\xC3\x28"),
    S_B("\xE2\x28\xA1"),
    S_B("\xC3\xA5\x80"),
    S_B("\0"),
    S_B("Røde\0Kors"),
    S_B("\0Åssiden"),
    S_B("Strømsø\0"),
    S_B("\0\xC3"),
    S_B("\xED\xA0\x80\0"),
    S_B("confirmed\0"),
    S_B("fjell:r1\0"),
    S_B("fjell:a3\0x"),
    S_B("tue\0"),
    S_B("2027-06-15\0"),
};

/* Set each of fields of the booking to each of s_sweep_bytes and compare
 * the two paths' verdicts; each mismatch is printed with the field, the
 * bytes and the JSON path's reason. */
static void s_sweep(const char *const *fields, size_t nfields)
{
	json_t *rec = s_load(s_booking_json);
	struct kp_buf b = {0};
	char why[KP_ERR_MAX];
	int mismatches = 0, taken = 0, refused = 0;

	for (size_t f = 0; f < nfields; f++) {
		for (size_t i = 0;
		     i < sizeof s_sweep_bytes / sizeof s_sweep_bytes[0]; i++) {
			struct s_patch p = {.field = fields[f],
					    .str = s_sweep_bytes[i].p,
					    .len = s_sweep_bytes[i].n};
			int fast, slow;

			s_pack_entry(&b, 7, "put", "fjell:b42", 1796140800, rec,
				     &p);
			fast = s_fast(&b, "fjell", NULL);
			slow = s_json(&b, "fjell", why);
			if ((fast == KP_OK) != (slow == KP_OK)) {
				printf("  field '%s': fast path %s, JSON path "
				       "%s (%s)\n",
				       fields[f],
				       fast == KP_OK ? "takes" : "refuses",
				       slow == KP_OK ? "takes" : "refuses",
				       why);
				s_show("bytes", p.str, p.len);
				mismatches++;
			}
			if (fast == KP_OK)
				taken++;
			else
				refused++;
		}
	}
	if (mismatches)
		check_failed_now = 1;
	/* The sweep means something only if both verdicts occur. */
	CHECK(taken > 0);
	CHECK(refused > 0);
	kp_buf_free(&b);
	json_decref(rec);
}

/* The free-text fields (S_TEXT in the schema). */
static void test_sweep_text_fields(void)
{
	static const char *const fields[] = {"org", "contact", "purpose"};
	s_sweep(fields, sizeof fields / sizeof fields[0]);
}

/*
 * The coded text fields: an enum, ids, weekdays, a date. The JSON path
 * refuses a NUL in any text as the fast path does (it would otherwise
 * read "confirmed\0" as "confirmed"), and both read weekday lists up to
 * the same length.
 */
static void test_sweep_coded_fields(void)
{
	static const char *const fields[] = {"status", "room", "activity",
					     "days", "until"};
	s_sweep(fields, sizeof fields / sizeof fields[0]);
}

/*
 * The record's common fields that the schema leaves to others ("kind",
 * "hub") and a field this version does not know: a NUL in them is
 * refused by both paths too.
 */
static void test_sweep_other_fields(void)
{
	static const char *const fields[] = {"kind", "hub",
					     "merknad_fra_nyere_versjon"};
	s_sweep(fields, sizeof fields / sizeof fields[0]);
}

int main(void)
{
	s_reader = kp_entry_reader_new();
	if (!s_reader) {
		printf("FAIL kp_entry_reader_new: out of memory\n");
		return 1;
	}
	RUN(test_valid_room);
	RUN(test_valid_activity);
	RUN(test_valid_booking);
	RUN(test_valid_volunteer_shared);
	RUN(test_valid_extreme_seq_and_at);
	RUN(test_valid_text_at_maximum);
	RUN(test_valid_del);
	RUN(test_valid_unknown_fields);
	RUN(test_refuses_nul_in_text);
	RUN(test_refuses_lone_continuation_byte);
	RUN(test_refuses_overlong_form);
	RUN(test_refuses_surrogate);
	RUN(test_refuses_above_u10ffff);
	RUN(test_refuses_truncated_multibyte_at_end);
	RUN(test_refuses_key_not_text);
	RUN(test_refuses_wrong_type);
	RUN(test_refuses_text_over_maximum);
	RUN(test_refuses_unknown_kind);
	RUN(test_refuses_another_hubs_id);
	RUN(test_refuses_record_id_not_the_entrys);
	RUN(test_refuses_record_without_id);
	RUN(test_refuses_put_without_record);
	RUN(test_refuses_seq_zero_or_missing);
	RUN(test_refuses_bad_op);
	RUN(test_refuses_op_with_nul);
	RUN(test_refuses_at_not_integer);
	RUN(test_refuses_entry_not_a_map);
	RUN(test_refuses_trailing_bytes);
	RUN(test_refuses_integer_above_int64_max);
	RUN(test_refuses_seq_above_int64_max);
	RUN(test_refuses_bad_entry_level_extras);
	RUN(test_refuses_duplicate_record_key);
	RUN(test_refuses_duplicate_op);
	RUN(test_valid_nesting_at_limit);
	RUN(test_refuses_nesting_over_limit);
	RUN(test_sweep_text_fields);
	RUN(test_sweep_coded_fields);
	RUN(test_sweep_other_fields);
	kp_entry_reader_free(s_reader);
	return check_done();
}
