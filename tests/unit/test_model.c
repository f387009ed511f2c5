/*
 * test_model.c - kinds, ids, keys and the record schema.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "knute/error.h"
#include "knute/ktime.h"
#include "model.h"

static json_t *s_load(const char *text)
{
	json_error_t e;
	json_t *v = json_loads(text, 0, &e);
	if (!v)
		printf("  bad test JSON: %s: %s\n", e.text, text);
	return v;
}

/* Validate text as kind: KP_OK, or KP_EINVAL with err naming field. */
static void s_valid(char kind, const char *text)
{
	char err[KP_ERR_MAX] = "";
	json_t *rec = s_load(text);
	int rc = kp_model_validate(kind, rec, err);
	if (rc != KP_OK) {
		printf("  refused (%s): %s\n", err, text);
		check_failed_now = 1;
	}
	json_decref(rec);
}

static void s_invalid(char kind, const char *text, const char *field)
{
	char err[KP_ERR_MAX] = "";
	json_t *rec = s_load(text);
	int rc = kp_model_validate(kind, rec, err);
	if (rc != KP_EINVAL) {
		printf("  accepted (rc %d): %s\n", rc, text);
		check_failed_now = 1;
	} else if (!strstr(err, field)) {
		printf("  message '%s' does not name '%s'\n", err, field);
		check_failed_now = 1;
	}
	json_decref(rec);
}

/* ---- kinds and hub ids ---- */

static void test_kind_names(void)
{
	CHECK_STR(kp_kind_name('r'), "room");
	CHECK_STR(kp_kind_name('b'), "booking");
	CHECK_STR(kp_kind_name('a'), "activity");
	CHECK_STR(kp_kind_name('v'), "volunteer");
	CHECK_STR(kp_kind_name('s'), "assignment");
	CHECK_STR(kp_kind_name('t'), "attendance");
	CHECK(kp_kind_name('x') == NULL);
	CHECK(kp_kind_name(0) == NULL);
	CHECK_INT(kp_kind_from_name("booking"), 'b');
	CHECK_INT(kp_kind_from_name("volunteer"), 'v');
	CHECK_INT(kp_kind_from_name("bookings"), 0);
	CHECK_INT(kp_kind_from_name(""), 0);
	CHECK_INT(strlen(kp_kinds), KP_NKINDS);
}

static void test_hub_id_valid(void)
{
	CHECK(kp_hub_id_valid("fjell"));
	CHECK(kp_hub_id_valid("assiden"));
	CHECK(kp_hub_id_valid("stromso-2"));
	CHECK(kp_hub_id_valid("a"));
	CHECK(kp_hub_id_valid("abcdefghijabcdefghijabcdefghij12")); /* 32 */
	CHECK(!kp_hub_id_valid("abcdefghijabcdefghijabcdefghij123"));
	CHECK(!kp_hub_id_valid(""));
	CHECK(!kp_hub_id_valid("-fjell"));
	CHECK(!kp_hub_id_valid("Fjell"));
	CHECK(!kp_hub_id_valid("åssiden"));
	CHECK(!kp_hub_id_valid("fjell nord"));
	CHECK(!kp_hub_id_valid("fjell:b1"));
}

static void test_in_list(void)
{
	CHECK(kp_in_list(kp_categories, "språkkafé"));
	CHECK(kp_in_list(kp_categories, "møteplass"));
	CHECK(!kp_in_list(kp_categories, "sprakkafe"));
	CHECK(!kp_in_list(kp_categories, NULL));
	CHECK(kp_in_list(kp_targets, "eldre"));
	CHECK(kp_in_list(kp_booking_states, "pending"));
	CHECK(kp_in_list(kp_attendance_states, "no-show"));
	CHECK(kp_in_list(kp_personal_fields, "phone"));
	CHECK(!kp_in_list(kp_personal_fields, "skills"));
}

/* ---- ids ---- */

static void test_id_parse_full(void)
{
	struct kp_id id;
	char err[KP_ERR_MAX], text[KP_ID_STRLEN];
	CHECK_INT(kp_id_parse("fjell:b42", NULL, 0, &id, err), KP_OK);
	CHECK_STR(id.hub, "fjell");
	CHECK_INT(id.kind, 'b');
	CHECK_INT(id.n, 42);
	kp_id_format(&id, text);
	CHECK_STR(text, "fjell:b42");
	/* A full id is taken as written even with a local hub. */
	CHECK_INT(kp_id_parse("konnerud:r7", "fjell", KP_ROOM, &id, err),
		  KP_OK);
	CHECK_STR(id.hub, "konnerud");
	CHECK_INT(id.n, 7);
	CHECK_INT(
	    kp_id_parse("stromso-2:v1234567890", NULL, KP_VOLUNTEER, &id, err),
	    KP_OK);
	CHECK_STR(id.hub, "stromso-2");
	CHECK_INT(id.n, 1234567890);
	kp_id_format(&id, text);
	CHECK_STR(text, "stromso-2:v1234567890");
	/* A large number within range. */
	CHECK_INT(kp_id_parse("fjell:b1844674407370955161", NULL, 0, &id, err),
		  KP_OK);
	CHECK(id.n == 1844674407370955161ULL);
}

static void test_id_parse_local(void)
{
	struct kp_id id;
	char err[KP_ERR_MAX], text[KP_ID_STRLEN];
	CHECK_INT(kp_id_parse("b42", "fjell", KP_BOOKING, &id, err), KP_OK);
	CHECK_STR(id.hub, "fjell");
	CHECK_INT(id.kind, 'b');
	CHECK_INT(id.n, 42);
	kp_id_format(&id, text);
	CHECK_STR(text, "fjell:b42");
	/* Without a local hub the short form means nothing. */
	CHECK_INT(kp_id_parse("b42", NULL, KP_BOOKING, &id, err), KP_EINVAL);
	CHECK(strstr(err, "b42") != NULL);
}

static void test_id_parse_bad_forms(void)
{
	static const char *const bad[] = {
	    "fjell:",
	    ":b1",
	    "fjell:x1",
	    "fjell:b0",
	    "fjell:b01",
	    "FJELL:b1",
	    "Fjell:b1",
	    "fjell:b",
	    "fjell:b-1",
	    "fjell:b+1",
	    "fjell:b1x",
	    "fjell:b 1",
	    "fjell:b1 ",
	    " fjell:b1",
	    "fjell::b1",
	    "fjell:b1:2",
	    "-fjell:b1",
	    "fjell nord:b1",
	    "åssiden:b1",
	    "",
	    "b",
	    "42",
	    ":",
	    /* Numbers that do not fit in 64 bits. */
	    "fjell:b18446744073709551616",
	    "fjell:b99999999999999999999",
	    "fjell:b123456789012345678901234567890",
	    /* A hub id one byte too long. */
	    "abcdefghijabcdefghijabcdefghij123:b1",
	    NULL,
	};
	for (const char *const *t = bad; *t; t++) {
		struct kp_id id;
		char err[KP_ERR_MAX] = "";
		int rc = kp_id_parse(*t, "fjell", 0, &id, err);
		if (rc != KP_EINVAL || !err[0]) {
			printf("  '%s' was accepted\n", *t);
			check_failed_now = 1;
		}
	}
}

static void test_id_wrong_kind(void)
{
	struct kp_id id;
	char err[KP_ERR_MAX] = "";
	CHECK_INT(kp_id_parse("fjell:r1", NULL, KP_BOOKING, &id, err),
		  KP_EINVAL);
	CHECK(strstr(err, "room") != NULL);
	CHECK(strstr(err, "booking") != NULL);
	err[0] = 0;
	CHECK_INT(kp_id_parse("a3", "fjell", KP_VOLUNTEER, &id, err),
		  KP_EINVAL);
	CHECK(strstr(err, "activity") != NULL);
	CHECK(strstr(err, "volunteer") != NULL);
	/* want_kind 0 takes any kind. */
	CHECK_INT(kp_id_parse("fjell:t9", NULL, 0, &id, err), KP_OK);
	CHECK_INT(id.kind, KP_ATTENDANCE);
}

static void test_key_round_trip(void)
{
	static const char *const ids[] = {
	    "fjell:b1",
	    "fjell:b42",
	    "fjell:r255",
	    "fjell:r256",
	    "konnerud:v1844674407370955161",
	    "abcdefghijabcdefghijabcdefghij12:t1",
	    NULL,
	};
	for (const char *const *t = ids; *t; t++) {
		struct kp_id id, back;
		uint8_t key[KP_KEY_MAX];
		char err[KP_ERR_MAX], text[KP_ID_STRLEN];
		size_t len;
		CHECK_INT(kp_id_parse(*t, NULL, 0, &id, err), KP_OK);
		len = kp_id_key(&id, key);
		CHECK_INT(len, strlen(id.hub) + 10);
		CHECK(len <= KP_KEY_MAX);
		CHECK_INT(kp_key_id(key, len, &back), KP_OK);
		kp_id_format(&back, text);
		CHECK_STR(text, *t);
	}
}

static int s_key_cmp(const char *a, const char *b)
{
	struct kp_id ia, ib;
	uint8_t ka[KP_KEY_MAX], kb[KP_KEY_MAX];
	char err[KP_ERR_MAX];
	size_t la, lb;
	int c;
	if (kp_id_parse(a, NULL, 0, &ia, err) ||
	    kp_id_parse(b, NULL, 0, &ib, err))
		return 99;
	la = kp_id_key(&ia, ka);
	lb = kp_id_key(&ib, kb);
	/* LMDB's default order: bytes, then the shorter first. */
	c = memcmp(ka, kb, la < lb ? la : lb);
	if (c == 0)
		c = la < lb ? -1 : la > lb;
	return c < 0 ? -1 : c > 0;
}

static void test_key_sort_order(void)
{
	/* Numbers sort as numbers, not as text. */
	CHECK_INT(s_key_cmp("fjell:b2", "fjell:b10"), -1);
	CHECK_INT(s_key_cmp("fjell:b9", "fjell:b10"), -1);
	CHECK_INT(s_key_cmp("fjell:b255", "fjell:b256"), -1);
	CHECK_INT(s_key_cmp("fjell:b65536", "fjell:b65535"), 1);
	CHECK_INT(s_key_cmp("fjell:b7", "fjell:b7"), 0);
	/* One hub's records of one kind sit together: no key of another
	 * kind or hub falls between fjell:b1 and fjell:b999999. */
	CHECK_INT(s_key_cmp("fjell:a999999", "fjell:b1"), -1);
	CHECK_INT(s_key_cmp("fjell:b999999", "fjell:r1"), -1);
	CHECK_INT(s_key_cmp("fjell:b999999", "fjell-nord:b1"), -1);
	CHECK_INT(s_key_cmp("fjel:b999999", "fjell:b1"), -1);
}

static void test_key_bad_bytes(void)
{
	struct kp_id id;
	uint8_t key[KP_KEY_MAX];
	struct kp_id good = {.hub = "fjell", .kind = 'b', .n = 3};
	size_t len = kp_id_key(&good, key);
	CHECK_INT(kp_key_id(key, len - 1, &id), KP_ECORRUPT); /* short */
	CHECK_INT(kp_key_id(key, 5, &id), KP_ECORRUPT);	      /* no NUL */
	CHECK_INT(kp_key_id(key, 0, &id), KP_ECORRUPT);
	key[len] = 0;
	CHECK_INT(kp_key_id(key, len + 1, &id), KP_ECORRUPT); /* long */
	key[6] = 'x';					      /* no kind */
	CHECK_INT(kp_key_id(key, len, &id), KP_ECORRUPT);
	key[6] = 'b';
	CHECK_INT(kp_key_id(key, len, &id), KP_OK);
	/* An empty hub. */
	key[0] = 0;
	CHECK_INT(kp_key_id(key, 10, &id), KP_ECORRUPT);
}

/* ---- schema ---- */

#define ROOM "\"name\": \"Storsalen\", \"capacity\": 80"
#define BOOKING                                                                \
	"\"room\": \"fjell:r1\", \"org\": \"Røde Kors\", \"status\": "        \
	"\"confirmed\", \"start\": 1796140800, \"end\": 1796148000"
#define ACTIVITY                                                               \
	"\"title\": \"Leksehjelp\", \"organiser\": \"Frivilligsentralen\", "   \
	"\"category\": \"leksehjelp\", \"target\": \"barn\", \"start\": "      \
	"1796140800, \"end\": 1796148000"
#define VOLUNTEER  "\"name\": \"Kari Nordmann\""
#define ASSIGNMENT "\"volunteer\": \"fjell:v1\", \"activity\": \"fjell:a1\""
#define ATTENDANCE                                                             \
	ASSIGNMENT ", \"occurrence\": 1796140800, \"status\": \"present\""

static void test_validate_minimal_records(void)
{
	s_valid(KP_ROOM, "{" ROOM "}");
	s_valid(KP_BOOKING, "{" BOOKING "}");
	s_valid(KP_ACTIVITY, "{" ACTIVITY "}");
	s_valid(KP_VOLUNTEER, "{" VOLUNTEER "}");
	s_valid(KP_ASSIGNMENT, "{" ASSIGNMENT "}");
	s_valid(KP_ATTENDANCE, "{" ATTENDANCE "}");
}

static void test_validate_full_records(void)
{
	s_valid(
	    KP_ROOM,
	    "{" ROOM ", \"facilities\": [\"projektor\", \"kjøkken\"],"
	    " \"open\": \"mon-fri 08:00-22:00, sat 10:00-16:00\","
	    " \"closures\": [{\"from\": \"2026-12-24\", \"to\": "
	    "\"2026-12-26\", \"reason\": \"Jul\"}, {\"from\": "
	    "\"2027-01-01\", \"to\": \"2027-01-01\"}],"
	    " \"notes\": \"Nøkkel hos vaktmester\","
	    " \"id\": \"fjell:r1\", \"kind\": \"room\", \"hub\": \"fjell\"}");
	s_valid(KP_BOOKING,
		"{" BOOKING ", \"contact\": \"Ola\", \"purpose\": \"Kurs\","
		" \"status\": \"pending\", \"activity\": \"fjell:a2\","
		" \"weekly\": true, \"days\": \"tue,thu\", \"until\": "
		"\"2027-06-15\", \"cancelled\": [1796745600]}");
	s_valid(
	    KP_ACTIVITY,
	    "{" ACTIVITY ", \"category\": \"språkkafé\", \"target\": "
	    "\"alle\", \"room\": \"fjell:r1\", \"volunteers_needed\": 3,"
	    " \"skills\": [\"norsk\"], \"police_required\": true,"
	    " \"status\": \"active\", \"description\": \"Åpent for alle\"}");
	s_valid(KP_VOLUNTEER,
		"{" VOLUNTEER ", \"phone\": \"+47 900 00 000\", \"email\": "
		"\"kari@example.no\", \"birth_year\": 1980, \"org\": "
		"\"Blå Kors\", \"skills\": [\"matte\", \"norsk\"],"
		" \"languages\": [\"norsk\", \"arabisk\"],"
		" \"availability\": \"tue 17:00-19:00\","
		" \"police\": {\"role\": \"leksehjelp\", \"shown\": "
		"\"2026-01-10\"},"
		" \"consent\": {\"share\": true, \"date\": \"2026-01-10\"}}");
	s_valid(KP_VOLUNTEER, "{" VOLUNTEER ", \"police\": null}");
	s_valid(KP_ATTENDANCE,
		"{" ASSIGNMENT ", \"occurrence\": 1796140800, \"status\": "
		"\"no-show\"}");
}

static void test_validate_missing_required(void)
{
	s_invalid(KP_ROOM, "{\"capacity\": 80}", "name");
	s_invalid(KP_ROOM, "{\"name\": \"Storsalen\"}", "capacity");
	s_invalid(KP_BOOKING,
		  "{\"org\": \"Røde Kors\", \"status\": \"confirmed\","
		  " \"start\": 1796140800, \"end\": 1796148000}",
		  "room");
	s_invalid(KP_BOOKING,
		  "{\"room\": \"fjell:r1\", \"status\": \"confirmed\","
		  " \"start\": 1796140800, \"end\": 1796148000}",
		  "org");
	s_invalid(KP_BOOKING,
		  "{\"room\": \"fjell:r1\", \"org\": \"Røde Kors\","
		  " \"start\": 1796140800, \"end\": 1796148000}",
		  "status");
	s_invalid(KP_BOOKING,
		  "{\"room\": \"fjell:r1\", \"org\": \"Røde Kors\","
		  " \"status\": \"confirmed\", \"end\": 1796148000}",
		  "start");
	s_invalid(KP_BOOKING,
		  "{\"room\": \"fjell:r1\", \"org\": \"Røde Kors\","
		  " \"status\": \"confirmed\", \"start\": 1796148000}",
		  "end");
	s_invalid(KP_ACTIVITY,
		  "{\"title\": \"Leksehjelp\", \"organiser\": \"Frivillig\", "
		  "\"target\": \"barn\", \"start\": 1, \"end\": 2}",
		  "category");
	s_invalid(KP_VOLUNTEER, "{\"phone\": \"900\"}", "name");
	s_invalid(KP_ASSIGNMENT, "{\"volunteer\": \"fjell:v1\"}", "activity");
	s_invalid(KP_ATTENDANCE, "{" ASSIGNMENT ", \"status\": \"present\"}",
		  "occurrence");
}

static void test_validate_wrong_types(void)
{
	s_invalid(KP_ROOM, "{\"name\": 5, \"capacity\": 80}", "name");
	s_invalid(KP_ROOM, "{\"name\": null, \"capacity\": 80}", "name");
	s_invalid(KP_ROOM, "{\"name\": \"A\", \"capacity\": \"80\"}",
		  "capacity");
	s_invalid(KP_ROOM, "{\"name\": \"A\", \"capacity\": 80.0}", "capacity");
	s_invalid(KP_ROOM, "{\"name\": \"A\", \"capacity\": -1}", "capacity");
	s_invalid(KP_ROOM, "{\"name\": \"A\", \"capacity\": 100001}",
		  "capacity");
	s_invalid(KP_ROOM, "{" ROOM ", \"facilities\": \"projektor\"}",
		  "facilities");
	s_invalid(KP_ROOM, "{" ROOM ", \"facilities\": [\"projektor\", 3]}",
		  "facilities");
	s_invalid(KP_ROOM, "{" ROOM ", \"facilities\": [\"\"]}", "facilities");
	s_invalid(KP_ROOM, "{" ROOM ", \"open\": 8}", "open");
	s_invalid(KP_ROOM, "{" ROOM ", \"closures\": {}}", "closures");
	s_invalid(KP_BOOKING, "{" BOOKING ", \"weekly\": \"yes\"}", "weekly");
	s_invalid(KP_BOOKING, "{" BOOKING ", \"weekly\": 1}", "weekly");
	s_invalid(KP_BOOKING,
		  "{\"room\": \"fjell:r1\", \"org\": \"R\", \"status\": "
		  "\"confirmed\", \"start\": \"2026-12-01 17:00\", \"end\": "
		  "1796148000}",
		  "start");
	s_invalid(KP_BOOKING,
		  "{\"room\": \"fjell:r1\", \"org\": \"R\", \"status\": "
		  "\"confirmed\", \"start\": -5, \"end\": 1796148000}",
		  "start");
	s_invalid(KP_BOOKING, "{" BOOKING ", \"room\": \"fjell:b1\"}", "room");
	s_invalid(KP_BOOKING, "{" BOOKING ", \"room\": \"r1\"}", "room");
	s_invalid(KP_BOOKING, "{" BOOKING ", \"room\": 1}", "room");
	s_invalid(KP_BOOKING, "{" BOOKING ", \"cancelled\": [\"x\"]}",
		  "cancelled");
	s_invalid(KP_BOOKING, "{" BOOKING ", \"cancelled\": 5}", "cancelled");
	s_invalid(KP_BOOKING,
		  "{" BOOKING ", \"weekly\": true, \"until\": \"15.06.2027\"}",
		  "until");
	s_invalid(KP_BOOKING,
		  "{" BOOKING ", \"weekly\": true, \"until\": \"2027-02-30\"}",
		  "until");
	s_invalid(KP_ACTIVITY, "{" ACTIVITY ", \"police_required\": 1}",
		  "police_required");
	s_invalid(KP_ACTIVITY, "{" ACTIVITY ", \"volunteers_needed\": -2}",
		  "volunteers_needed");
	s_invalid(KP_VOLUNTEER, "{" VOLUNTEER ", \"birth_year\": 1850}",
		  "birth_year");
	s_invalid(KP_VOLUNTEER,
		  "{" VOLUNTEER ", \"police\": {\"role\": \"x\"}}", "police");
	s_invalid(KP_VOLUNTEER, "{" VOLUNTEER ", \"police\": true}", "police");
	s_invalid(KP_VOLUNTEER,
		  "{" VOLUNTEER ", \"consent\": {\"share\": "
		  "\"yes\"}}",
		  "consent");
	s_invalid(KP_VOLUNTEER,
		  "{" VOLUNTEER ", \"consent\": {\"share\": true, \"date\": "
		  "\"i går\"}}",
		  "consent");
	s_invalid(KP_ASSIGNMENT,
		  "{\"volunteer\": \"fjell:a1\", \"activity\": \"fjell:a1\"}",
		  "volunteer");
}

static void test_validate_enums(void)
{
	static const char *const categories[] = {
	    "leksehjelp", "språkkafé", "møteplass", "ungdomsklubb",
	    "trening",	  "kultur",    "annet",	    NULL,
	};
	char text[512];
	for (const char *const *c = categories; *c; c++) {
		snprintf(text, sizeof text,
			 "{" ACTIVITY ", \"category\": \"%s\"}", *c);
		s_valid(KP_ACTIVITY, text);
	}
	/* Spelled without the accent, in capitals, or decomposed (e +
	 * combining acute) it is not the value. */
	s_invalid(KP_ACTIVITY, "{" ACTIVITY ", \"category\": \"sprakkafe\"}",
		  "category");
	s_invalid(KP_ACTIVITY, "{" ACTIVITY ", \"category\": \"språkkafe\"}",
		  "category");
	s_invalid(KP_ACTIVITY, "{" ACTIVITY ", \"category\": \"Språkkafé\"}",
		  "category");
	s_invalid(KP_ACTIVITY,
		  "{" ACTIVITY ", \"category\": \"språkkafe\\u0301\"}",
		  "category");
	s_invalid(KP_ACTIVITY, "{" ACTIVITY ", \"category\": 1}", "category");
	s_invalid(KP_ACTIVITY, "{" ACTIVITY ", \"target\": \"pensjonister\"}",
		  "target");
	s_valid(KP_ACTIVITY, "{" ACTIVITY ", \"target\": \"eldre\"}");
	s_valid(KP_ACTIVITY, "{" ACTIVITY ", \"target\": \"ungdom\"}");
	s_invalid(KP_ACTIVITY, "{" ACTIVITY ", \"status\": \"paused\"}",
		  "status");
	s_valid(KP_BOOKING, "{" BOOKING ", \"status\": \"cancelled\"}");
	s_invalid(KP_BOOKING, "{" BOOKING ", \"status\": \"maybe\"}", "status");
	s_invalid(KP_ATTENDANCE,
		  "{" ASSIGNMENT ", \"occurrence\": 1, \"status\": \"absent\"}",
		  "status");
	/* The message lists the allowed values. */
	{
		char err[KP_ERR_MAX] = "";
		json_t *rec = s_load("{" ACTIVITY ", \"category\": \"x\"}");
		CHECK_INT(kp_model_validate(KP_ACTIVITY, rec, err), KP_EINVAL);
		CHECK(strstr(err, "språkkafé") != NULL);
		CHECK(strstr(err, "\"x\"") != NULL);
		json_decref(rec);
	}
}

static void test_validate_text_limits(void)
{
	char name[KP_NAME_MAX + 2], text[KP_TEXT_MAX + 100];
	json_t *rec;
	char err[KP_ERR_MAX];

	/* Exactly at the limit, in bytes. */
	memset(name, 'a', KP_NAME_MAX);
	name[KP_NAME_MAX] = 0;
	rec = json_pack("{sssi}", "name", name, "capacity", 10);
	CHECK_INT(kp_model_validate(KP_ROOM, rec, err), KP_OK);
	json_decref(rec);
	/* One byte over. */
	name[KP_NAME_MAX] = 'a';
	name[KP_NAME_MAX + 1] = 0;
	rec = json_pack("{sssi}", "name", name, "capacity", 10);
	CHECK_INT(kp_model_validate(KP_ROOM, rec, err), KP_EINVAL);
	CHECK(strstr(err, "name") != NULL);
	CHECK(strstr(err, "200") != NULL);
	json_decref(rec);
	/* 100 'æ' are 200 bytes (fine); 101 are 202 (too long). */
	{
		char ae[2 * 101 + 1];
		for (int i = 0; i < 101; i++)
			memcpy(ae + 2 * i, "æ", 2);
		ae[200] = 0;
		rec = json_pack("{sssi}", "name", ae, "capacity", 10);
		CHECK_INT(kp_model_validate(KP_ROOM, rec, err), KP_OK);
		json_decref(rec);
		memcpy(ae + 200, "æ", 2);
		ae[202] = 0;
		rec = json_pack("{sssi}", "name", ae, "capacity", 10);
		CHECK_INT(kp_model_validate(KP_ROOM, rec, err), KP_EINVAL);
		json_decref(rec);
	}
	/* Free text: notes up to KP_TEXT_MAX. */
	memset(text, 'x', KP_TEXT_MAX);
	text[KP_TEXT_MAX] = 0;
	rec = json_pack("{sssiss}", "name", "A", "capacity", 1, "notes", text);
	CHECK_INT(kp_model_validate(KP_ROOM, rec, err), KP_OK);
	json_decref(rec);
	text[KP_TEXT_MAX] = 'x';
	text[KP_TEXT_MAX + 1] = 0;
	rec = json_pack("{sssiss}", "name", "A", "capacity", 1, "notes", text);
	CHECK_INT(kp_model_validate(KP_ROOM, rec, err), KP_EINVAL);
	CHECK(strstr(err, "notes") != NULL);
	json_decref(rec);
	/* A text with a NUL inside is refused. */
	rec = json_pack("{s:s#,s:i}", "name", "Sal\0B", (int)5, "capacity", 1);
	CHECK(rec != NULL);
	CHECK_INT(kp_model_validate(KP_ROOM, rec, err), KP_EINVAL);
	json_decref(rec);
	/* Lists: at most KP_LIST_MAX items. */
	rec = s_load("{" ROOM "}");
	{
		json_t *list = json_array();
		for (int i = 0; i < KP_LIST_MAX; i++)
			json_array_append_new(list, json_string("piano"));
		json_object_set_new(rec, "facilities", list);
		CHECK_INT(kp_model_validate(KP_ROOM, rec, err), KP_OK);
		json_array_append_new(list, json_string("piano"));
		CHECK_INT(kp_model_validate(KP_ROOM, rec, err), KP_EINVAL);
	}
	json_decref(rec);
}

static void test_validate_weekly_hours(void)
{
	s_valid(KP_ROOM, "{" ROOM ", \"open\": \"mon-fri 08:00-22:00\"}");
	s_valid(KP_ROOM, "{" ROOM ", \"open\": \"tue 09:00-12:00, tue "
			 "17:00-21:00, sun 00:00-24:00\"}");
	s_invalid(KP_ROOM, "{" ROOM ", \"open\": \"mon-fri 25:00-26:00\"}",
		  "open");
	s_invalid(KP_ROOM, "{" ROOM ", \"open\": \"mon-fri 22:00-08:00\"}",
		  "open");
	s_invalid(KP_ROOM, "{" ROOM ", \"open\": \"mandag 08:00-22:00\"}",
		  "open");
	s_invalid(KP_ROOM, "{" ROOM ", \"open\": \"mon-fri\"}", "open");
	s_invalid(KP_ROOM, "{" ROOM ", \"open\": \"mon 8-22\"}", "open");
	s_invalid(KP_VOLUNTEER,
		  "{" VOLUNTEER ", \"availability\": \"når som helst\"}",
		  "availability");
	s_valid(KP_BOOKING, "{" BOOKING ", \"weekly\": true, \"until\": "
			    "\"2027-06-15\", \"days\": \"mon-fri\"}");
	s_invalid(KP_BOOKING,
		  "{" BOOKING ", \"weekly\": true, \"until\": \"2027-06-15\", "
		  "\"days\": \"tuesday\"}",
		  "days");
	s_invalid(KP_BOOKING,
		  "{" BOOKING ", \"weekly\": true, \"until\": \"2027-06-15\", "
		  "\"days\": \"\"}",
		  "days");
}

static void test_validate_closures(void)
{
	s_valid(KP_ROOM, "{" ROOM ", \"closures\": []}");
	s_valid(KP_ROOM, "{" ROOM ", \"closures\": [{\"from\": \"2026-12-24\","
			 " \"to\": \"2026-12-24\"}]}");
	s_invalid(KP_ROOM,
		  "{" ROOM ", \"closures\": [{\"from\": \"2026-12-24\","
		  " \"to\": \"2026-12-23\"}]}",
		  "closures");
	s_invalid(KP_ROOM,
		  "{" ROOM ", \"closures\": [{\"from\": \"2026-12-31\","
		  " \"to\": \"2026-01-01\", \"reason\": \"Jul\"}]}",
		  "closures");
	s_invalid(KP_ROOM,
		  "{" ROOM ", \"closures\": [{\"from\": \"2026-02-30\","
		  " \"to\": \"2026-03-01\"}]}",
		  "closures");
	s_invalid(KP_ROOM,
		  "{" ROOM ", \"closures\": [{\"from\": \"2026-12-24\"}]}",
		  "closures");
	s_invalid(KP_ROOM,
		  "{" ROOM ", \"closures\": [{\"from\": \"2026-12-24\","
		  " \"to\": \"2026-12-26\", \"reason\": 7}]}",
		  "closures");
	s_invalid(KP_ROOM, "{" ROOM ", \"closures\": [\"2026-12-24\"]}",
		  "closures");
}

static void test_validate_series(void)
{
	/* end <= start */
	s_invalid(KP_BOOKING,
		  "{\"room\": \"fjell:r1\", \"org\": \"R\", \"status\": "
		  "\"confirmed\", \"start\": 1796148000, \"end\": 1796140800}",
		  "end");
	s_invalid(KP_BOOKING,
		  "{\"room\": \"fjell:r1\", \"org\": \"R\", \"status\": "
		  "\"confirmed\", \"start\": 1796148000, \"end\": 1796148000}",
		  "end");
	s_invalid(KP_ACTIVITY,
		  "{\"title\": \"Kor\", \"organiser\": \"Kirkens Bymisjon\", "
		  "\"category\": \"kultur\", \"target\": \"alle\", "
		  "\"start\": 1796148000, \"end\": 1796140000}",
		  "end");
	/* weekly without until */
	s_invalid(KP_BOOKING, "{" BOOKING ", \"weekly\": true}", "until");
	s_invalid(KP_ACTIVITY, "{" ACTIVITY ", \"weekly\": true}", "until");
	s_valid(KP_BOOKING, "{" BOOKING ", \"weekly\": false}");
	s_valid(KP_BOOKING,
		"{" BOOKING ", \"weekly\": true, \"until\": \"2027-06-15\"}");
}

static void test_validate_unknown_fields_accepted(void)
{
	s_valid(KP_ROOM, "{" ROOM ", \"lydanlegg\": \"Bose\", \"etasje\": 2,"
			 " \"fremtid\": {\"a\": [1, null]}}");
	s_valid(KP_BOOKING, "{" BOOKING ", \"faktura\": \"F-2026-17\"}");
	s_valid(KP_VOLUNTEER, "{" VOLUNTEER ", \"tshirt\": \"L\"}");
	/* A newer version may give other kinds fields that are named like
	 * series fields; they are unknown there and must pass. */
	s_valid(KP_ROOM, "{" ROOM ", \"end\": \"2030-01-01\"}");
	s_valid(KP_ROOM, "{" ROOM ", \"start\": 5, \"end\": 2}");
	s_valid(KP_VOLUNTEER, "{" VOLUNTEER ", \"weekly\": true}");
}

static void test_validate_not_an_object(void)
{
	char err[KP_ERR_MAX];
	json_t *v = json_array();
	CHECK_INT(kp_model_validate(KP_ROOM, v, err), KP_EINVAL);
	CHECK(strstr(err, "room") != NULL);
	json_decref(v);
	v = json_object();
	CHECK_INT(kp_model_validate('x', v, err), KP_EINVAL);
	CHECK(strstr(err, "kind") != NULL);
	json_decref(v);
	CHECK_INT(kp_model_validate(KP_ROOM, NULL, err), KP_EINVAL);
}

static void test_field_helpers(void)
{
	json_t *rec = s_load("{\"s\": \"Åssiden\", \"i\": 42, \"b\": true,"
			     " \"r\": 1.5, \"n\": null}");
	CHECK_STR(kp_rec_str(rec, "s", "x"), "Åssiden");
	CHECK_STR(kp_rec_str(rec, "i", "x"), "x");
	CHECK_STR(kp_rec_str(rec, "missing", "x"), "x");
	CHECK(kp_rec_str(rec, "n", NULL) == NULL);
	CHECK_INT(kp_rec_int(rec, "i", -1), 42);
	CHECK_INT(kp_rec_int(rec, "r", -1), -1);
	CHECK_INT(kp_rec_int(rec, "s", -1), -1);
	CHECK(kp_rec_bool(rec, "b", false));
	CHECK(kp_rec_bool(rec, "i", false) == false);
	CHECK(kp_rec_bool(rec, "missing", true));
	json_decref(rec);
}

int main(void)
{
	kp_tz_set(KP_TZ_DEFAULT);
	RUN(test_kind_names);
	RUN(test_hub_id_valid);
	RUN(test_in_list);
	RUN(test_id_parse_full);
	RUN(test_id_parse_local);
	RUN(test_id_parse_bad_forms);
	RUN(test_id_wrong_kind);
	RUN(test_key_round_trip);
	RUN(test_key_sort_order);
	RUN(test_key_bad_bytes);
	RUN(test_validate_minimal_records);
	RUN(test_validate_full_records);
	RUN(test_validate_missing_required);
	RUN(test_validate_wrong_types);
	RUN(test_validate_enums);
	RUN(test_validate_text_limits);
	RUN(test_validate_weekly_hours);
	RUN(test_validate_closures);
	RUN(test_validate_series);
	RUN(test_validate_unknown_fields_accepted);
	RUN(test_validate_not_an_object);
	RUN(test_field_helpers);
	return check_done();
}
