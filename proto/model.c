/*
 * model.c - kinds, ids, keys and the record schema (see model.h).
 *
 * The schema is a table per kind: each row names a field, its type, whether
 * it is required and its limits. One generic checker walks the table, so a
 * new field is one row, and the error messages all read the same way.
 */
#include "model.h"

#include <msgpack.h>
#include <sodium.h>

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "codec.h"
#include "knute/error.h"
#include "knute/ktime.h"

const char kp_kinds[] = {
    KP_ROOM,	   KP_BOOKING, KP_ACTIVITY, KP_VOLUNTEER, KP_ASSIGNMENT,
    KP_ATTENDANCE, 0};

const char *const kp_categories[] = {"leksehjelp",   "språkkafé", "møteplass",
				     "ungdomsklubb", "trening",	  "kultur",
				     "annet",	     NULL};
const char *const kp_targets[] = {"barn",  "ungdom", "voksne",
				  "eldre", "alle",   NULL};
const char *const kp_booking_states[] = {"confirmed", "pending", "cancelled",
					 NULL};
const char *const kp_attendance_states[] = {"present", "no-show", "excused",
					    NULL};
static const char *const s_activity_states[] = {"active", "cancelled", NULL};
const char *const kp_personal_fields[] = {"name",	"phone",  "email",
					  "birth_year", "police", NULL};

const char *kp_kind_name(char kind)
{
	switch (kind) {
	case KP_ROOM:
		return "room";
	case KP_BOOKING:
		return "booking";
	case KP_ACTIVITY:
		return "activity";
	case KP_VOLUNTEER:
		return "volunteer";
	case KP_ASSIGNMENT:
		return "assignment";
	case KP_ATTENDANCE:
		return "attendance";
	}
	return NULL;
}

char kp_kind_from_name(const char *name)
{
	for (const char *k = kp_kinds; *k; k++)
		if (!strcmp(kp_kind_name(*k), name))
			return *k;
	return 0;
}

bool kp_in_list(const char *const *list, const char *value)
{
	for (; value && *list; list++)
		if (!strcmp(*list, value))
			return true;
	return false;
}

bool kp_hub_id_valid(const char *hub)
{
	size_t len = strlen(hub);
	if (len == 0 || len > KP_HUB_ID_MAX || hub[0] == '-')
		return false;
	for (size_t i = 0; i < len; i++) {
		char c = hub[i];
		if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
		      c == '-'))
			return false;
	}
	return true;
}

int kp_id_parse(const char *text, const char *local_hub, char want_kind,
		struct kp_id *id, char *err)
{
	const char *colon = strchr(text, ':');
	const char *local = colon ? colon + 1 : text;
	size_t hublen = colon ? (size_t)(colon - text) : 0;
	const char *want = want_kind ? kp_kind_name(want_kind) : "record";

	memset(id, 0, sizeof *id);
	if (colon) {
		if (hublen == 0 || hublen > KP_HUB_ID_MAX)
			goto out_bad;
		memcpy(id->hub, text, hublen);
		if (!kp_hub_id_valid(id->hub))
			goto out_bad;
	} else if (local_hub) {
		snprintf(id->hub, sizeof id->hub, "%s", local_hub);
	} else {
		goto out_bad;
	}
	if (!kp_kind_name(local[0]) || local[1] < '1' || local[1] > '9')
		goto out_bad;
	id->kind = local[0];
	for (const char *p = local + 1; *p; p++) {
		if (*p < '0' || *p > '9' || id->n > (UINT64_MAX - 9) / 10)
			goto out_bad;
		id->n = id->n * 10 + (uint64_t)(*p - '0');
	}
	if (want_kind && id->kind != want_kind) {
		const char *have = kp_kind_name(id->kind);
		snprintf(err, KP_ERR_MAX, "'%s' is %s %s id, not %s %s id",
			 text, strchr("aeiou", have[0]) ? "an" : "a", have,
			 strchr("aeiou", want[0]) ? "an" : "a", want);
		return KP_EINVAL;
	}
	return KP_OK;
out_bad:
	snprintf(err, KP_ERR_MAX,
		 "'%.64s' is not a %s id: ids look like 'fjell:%c12' (hub, "
		 "colon, letter, number) or '%c12' at the local hub",
		 text, want, want_kind ? want_kind : 'b',
		 want_kind ? want_kind : 'b');
	return KP_EINVAL;
}

void kp_id_format(const struct kp_id *id, char *buf)
{
	snprintf(buf, KP_ID_STRLEN, "%s:%c%" PRIu64, id->hub, id->kind, id->n);
}

size_t kp_id_key(const struct kp_id *id, uint8_t *key)
{
	size_t len = strlen(id->hub);
	memcpy(key, id->hub, len);
	key[len++] = 0;
	key[len++] = (uint8_t)id->kind;
	for (int i = 7; i >= 0; i--)
		key[len++] = (uint8_t)(id->n >> (i * 8));
	return len;
}

int kp_key_id(const void *key, size_t len, struct kp_id *id)
{
	const uint8_t *k = key;
	const uint8_t *nul = memchr(k, 0, len);
	size_t hublen;

	if (!nul)
		return KP_ECORRUPT;
	hublen = (size_t)(nul - k);
	if (hublen == 0 || hublen > KP_HUB_ID_MAX || len != hublen + 10)
		return KP_ECORRUPT;
	memset(id, 0, sizeof *id);
	memcpy(id->hub, k, hublen);
	id->kind = (char)k[hublen + 1];
	if (!kp_kind_name(id->kind))
		return KP_ECORRUPT;
	for (size_t i = hublen + 2; i < len; i++)
		id->n = (id->n << 8) | k[i];
	return KP_OK;
}

/* ---- schema ---- */

/* The longest coded text (a choice, a date, weekdays, a record id) the
 * checks read, with its NUL. */
#define S_CODED_MAX (KP_ID_STRLEN + 16)

enum s_type {
	S_TEXT, /* string up to max bytes */
	S_INT,	/* integer from min to max */
	S_BOOL,
	S_ENUM,	    /* string from a list */
	S_LIST,	    /* array of up to KP_LIST_MAX strings of max bytes */
	S_DATE,	    /* "YYYY-MM-DD" */
	S_WEEK,	    /* weekly hours spec */
	S_DAYS,	    /* "tue,thu" */
	S_REF,	    /* an id of kind ref */
	S_INSTANTS, /* array of integers (cancelled occurrences) */
	S_CLOSURES, /* array of {from, to, reason} */
	S_POLICE,   /* {role, shown} */
	S_CONSENT,  /* {share, date} */
};

struct s_field {
	const char *name;
	enum s_type type;
	bool required;
	int64_t min, max;
	const char *const *choices; /* S_ENUM */
	char ref;		    /* S_REF */
};

#define TEXT(n, req, max)                                                      \
	{                                                                      \
		n, S_TEXT, req, 0, max, NULL, 0                                \
	}
#define INT(n, req, lo, hi)                                                    \
	{                                                                      \
		n, S_INT, req, lo, hi, NULL, 0                                 \
	}
#define BOOL(n)                                                                \
	{                                                                      \
		n, S_BOOL, false, 0, 0, NULL, 0                                \
	}
#define ENUM(n, req, list)                                                     \
	{                                                                      \
		n, S_ENUM, req, 0, 0, list, 0                                  \
	}
#define LIST(n)                                                                \
	{                                                                      \
		n, S_LIST, false, 0, 100, NULL, 0                              \
	}
#define REF(n, req, kind)                                                      \
	{                                                                      \
		n, S_REF, req, 0, 0, NULL, kind                                \
	}
#define OF(n, t)                                                               \
	{                                                                      \
		n, t, false, 0, 0, NULL, 0                                     \
	}
/* Instants from 1970 to 2200 are all a hub will ever book. */
#define INSTANT(n, req) INT(n, req, 0, 7258118400LL)

#define SERIES_FIELDS                                                          \
	INSTANT("start", true), INSTANT("end", true), BOOL("weekly"),          \
	    OF("days", S_DAYS), OF("until", S_DATE),                           \
	    OF("cancelled", S_INSTANTS)

static const struct s_field s_room[] = {
    TEXT("name", true, KP_NAME_MAX),
    INT("capacity", true, 0, 100000),
    LIST("facilities"),
    OF("open", S_WEEK),
    OF("closures", S_CLOSURES),
    TEXT("notes", false, KP_TEXT_MAX),
    {0},
};

static const struct s_field s_booking[] = {
    REF("room", true, KP_ROOM),
    TEXT("org", true, KP_NAME_MAX),
    TEXT("contact", false, KP_NAME_MAX),
    TEXT("purpose", false, KP_TEXT_MAX),
    ENUM("status", true, kp_booking_states),
    REF("activity", false, KP_ACTIVITY),
    SERIES_FIELDS,
    {0},
};

static const struct s_field s_activity[] = {
    TEXT("title", true, KP_NAME_MAX),
    TEXT("organiser", true, KP_NAME_MAX),
    ENUM("category", true, kp_categories),
    ENUM("target", true, kp_targets),
    REF("room", false, KP_ROOM),
    INT("volunteers_needed", false, 0, 1000),
    LIST("skills"),
    BOOL("police_required"),
    ENUM("status", false, s_activity_states),
    TEXT("description", false, KP_TEXT_MAX),
    SERIES_FIELDS,
    {0},
};

static const struct s_field s_volunteer[] = {
    TEXT("name", true, KP_NAME_MAX),
    TEXT("phone", false, 40),
    TEXT("email", false, KP_NAME_MAX),
    INT("birth_year", false, 1900, 2100),
    TEXT("org", false, KP_NAME_MAX),
    LIST("skills"),
    LIST("languages"),
    OF("availability", S_WEEK),
    OF("police", S_POLICE),
    OF("consent", S_CONSENT),
    {0},
};

static const struct s_field s_assignment[] = {
    REF("volunteer", true, KP_VOLUNTEER),
    REF("activity", true, KP_ACTIVITY),
    INSTANT("occurrence", false),
    {0},
};

static const struct s_field s_attendance[] = {
    REF("volunteer", true, KP_VOLUNTEER),
    REF("activity", true, KP_ACTIVITY),
    INSTANT("occurrence", true),
    ENUM("status", true, kp_attendance_states),
    {0},
};

static const struct s_field *s_schema(char kind)
{
	switch (kind) {
	case KP_ROOM:
		return s_room;
	case KP_BOOKING:
		return s_booking;
	case KP_ACTIVITY:
		return s_activity;
	case KP_VOLUNTEER:
		return s_volunteer;
	case KP_ASSIGNMENT:
		return s_assignment;
	case KP_ATTENDANCE:
		return s_attendance;
	}
	return NULL;
}

static bool s_text_ok(const json_t *v, size_t max)
{
	return json_is_string(v) && json_string_length(v) <= max &&
	       !memchr(json_string_value(v), 0, json_string_length(v));
}

static bool s_date_ok(const json_t *v)
{
	int y, m, d;
	return json_is_string(v) &&
	       kp_date_parse(json_string_value(v), &y, &m, &d) == KP_OK;
}

static int s_check(const struct s_field *f, const json_t *v, char *err)
{
	char why[300] = "";

	switch (f->type) {
	case S_TEXT:
		if (s_text_ok(v, (size_t)f->max))
			return KP_OK;
		snprintf(why, sizeof why, "text of at most %lld bytes",
			 (long long)f->max);
		break;
	case S_INT:
		if (json_is_integer(v) && json_integer_value(v) >= f->min &&
		    json_integer_value(v) <= f->max)
			return KP_OK;
		snprintf(why, sizeof why, "a whole number from %lld to %lld",
			 (long long)f->min, (long long)f->max);
		break;
	case S_BOOL:
		if (json_is_boolean(v))
			return KP_OK;
		snprintf(why, sizeof why, "true or false");
		break;
	case S_ENUM:
		if (json_is_string(v) &&
		    kp_in_list(f->choices, json_string_value(v)))
			return KP_OK;
		snprintf(why, sizeof why, "one of:");
		for (const char *const *c = f->choices; *c; c++) {
			size_t used = strlen(why);
			snprintf(why + used, sizeof why - used, " %s", *c);
		}
		break;
	case S_LIST: {
		size_t i;
		json_t *item;
		bool ok = json_is_array(v) && json_array_size(v) <= KP_LIST_MAX;
		json_array_foreach(v, i, item) ok =
		    ok && s_text_ok(item, (size_t)f->max) &&
		    json_string_length(item) > 0;
		if (ok)
			return KP_OK;
		snprintf(why, sizeof why,
			 "a list of at most %d words of at most %lld bytes",
			 KP_LIST_MAX, (long long)f->max);
		break;
	}
	case S_DATE:
		if (s_date_ok(v))
			return KP_OK;
		snprintf(why, sizeof why, "a date YYYY-MM-DD");
		break;
	case S_WEEK: {
		struct kp_week week;
		char werr[KP_ERR_MAX];
		if (s_text_ok(v, KP_TEXT_MAX) &&
		    kp_week_parse(json_string_value(v), &week, werr,
				  sizeof werr) == KP_OK)
			return KP_OK;
		snprintf(why, sizeof why,
			 "weekly hours such as 'mon-fri 08:00-22:00, sat "
			 "10:00-16:00'");
		break;
	}
	case S_DAYS: {
		/* At most as long as the packed check reads (s_mp_field()):
		 * "mon,tue,wed,thu,fri,sat,sun" is 27 bytes. */
		uint8_t mask;
		if (json_is_string(v) && json_string_length(v) < S_CODED_MAX &&
		    kp_days_parse(json_string_value(v), &mask) == KP_OK)
			return KP_OK;
		snprintf(why, sizeof why, "weekdays such as 'tue,thu'");
		break;
	}
	case S_REF: {
		struct kp_id id;
		char rerr[KP_ERR_MAX];
		if (json_is_string(v) &&
		    kp_id_parse(json_string_value(v), NULL, f->ref, &id,
				rerr) == KP_OK)
			return KP_OK;
		snprintf(why, sizeof why, "a %s id such as 'fjell:%c1'",
			 kp_kind_name(f->ref), f->ref);
		break;
	}
	case S_INSTANTS: {
		size_t i;
		json_t *item;
		bool ok =
		    json_is_array(v) && json_array_size(v) <= KP_SERIES_MAX;
		json_array_foreach(v, i, item) ok = ok && json_is_integer(item);
		if (ok)
			return KP_OK;
		snprintf(why, sizeof why, "a list of instants (seconds)");
		break;
	}
	case S_CLOSURES: {
		size_t i;
		json_t *item;
		bool ok = json_is_array(v) && json_array_size(v) <= 500;
		json_array_foreach(v, i, item) ok =
		    ok && json_is_object(item) &&
		    s_date_ok(json_object_get(item, "from")) &&
		    s_date_ok(json_object_get(item, "to")) &&
		    strcmp(kp_rec_str(item, "from", ""),
			   kp_rec_str(item, "to", "")) <= 0 &&
		    (!json_object_get(item, "reason") ||
		     s_text_ok(json_object_get(item, "reason"), KP_NAME_MAX));
		if (ok)
			return KP_OK;
		snprintf(why, sizeof why,
			 "a list of {\"from\": DATE, \"to\": DATE, \"reason\": "
			 "TEXT} with from <= to");
		break;
	}
	case S_POLICE:
		if (json_is_null(v) ||
		    (json_is_object(v) &&
		     s_text_ok(json_object_get(v, "role"), KP_NAME_MAX) &&
		     s_date_ok(json_object_get(v, "shown"))))
			return KP_OK;
		snprintf(why, sizeof why,
			 "null or {\"role\": TEXT, \"shown\": DATE}");
		break;
	case S_CONSENT:
		if (json_is_object(v) &&
		    json_is_boolean(json_object_get(v, "share")) &&
		    (!json_object_get(v, "date") ||
		     s_date_ok(json_object_get(v, "date"))))
			return KP_OK;
		snprintf(why, sizeof why,
			 "{\"share\": true or false, \"date\": DATE}");
		break;
	}
	{
		char *seen = json_dumps(v, JSON_ENCODE_ANY | JSON_COMPACT);
		snprintf(err, KP_ERR_MAX, "field '%s' must be %s, got %.60s%s",
			 f->name, why, seen ? seen : "?",
			 seen && strlen(seen) > 60 ? "..." : "");
		free(seen);
	}
	return KP_EINVAL;
}

static bool s_personal(char kind, const char *field)
{
	return kind == KP_VOLUNTEER && kp_in_list(kp_personal_fields, field);
}

static int s_validate(char kind, const json_t *rec, bool projected, char *err)
{
	const struct s_field *schema = s_schema(kind);
	int rc;

	if (!schema) {
		snprintf(err, KP_ERR_MAX, "unknown record kind '%c'", kind);
		return KP_EINVAL;
	}
	if (!json_is_object(rec)) {
		snprintf(err, KP_ERR_MAX, "a %s must be a JSON object",
			 kp_kind_name(kind));
		return KP_EINVAL;
	}
	if (kp_model_has_nul(rec)) {
		snprintf(err, KP_ERR_MAX,
			 "a text of the %s holds a NUL character (\\u0000): "
			 "remove it",
			 kp_kind_name(kind));
		return KP_EINVAL;
	}
	for (const struct s_field *f = schema; f->name; f++) {
		const json_t *v = json_object_get(rec, f->name);
		if (!v) {
			if (f->required &&
			    !(projected && s_personal(kind, f->name))) {
				snprintf(err, KP_ERR_MAX,
					 "a %s needs the field '%s'",
					 kp_kind_name(kind), f->name);
				return KP_EINVAL;
			}
			continue;
		}
		if ((rc = s_check(f, v, err)))
			return rc;
	}
	/* The series rules hold for the kinds that have series fields;
	 * in other kinds such names are unknown fields, kept as they are. */
	if (kind != KP_BOOKING && kind != KP_ACTIVITY)
		return KP_OK;
	if (json_object_get(rec, "end") &&
	    kp_rec_int(rec, "end", 0) <= kp_rec_int(rec, "start", 0)) {
		snprintf(err, KP_ERR_MAX, "the end must be after the start");
		return KP_EINVAL;
	}
	if (kp_rec_bool(rec, "weekly", false) &&
	    !json_object_get(rec, "until")) {
		snprintf(err, KP_ERR_MAX,
			 "a weekly series needs an end date: give --until "
			 "YYYY-MM-DD");
		return KP_EINVAL;
	}
	return KP_OK;
}

const char *kp_rec_str(const json_t *rec, const char *field,
		       const char *fallback)
{
	const json_t *v = json_object_get(rec, field);
	return json_is_string(v) ? json_string_value(v) : fallback;
}

int64_t kp_rec_int(const json_t *rec, const char *field, int64_t fallback)
{
	const json_t *v = json_object_get(rec, field);
	return json_is_integer(v) ? (int64_t)json_integer_value(v) : fallback;
}

bool kp_rec_bool(const json_t *rec, const char *field, bool fallback)
{
	const json_t *v = json_object_get(rec, field);
	return json_is_boolean(v) ? json_is_true(v) : fallback;
}

bool kp_model_has_nul(const json_t *v)
{
	const char *key;
	json_t *item;
	size_t i;

	switch (json_typeof(v)) {
	case JSON_STRING:
		return strlen(json_string_value(v)) != json_string_length(v);
	case JSON_OBJECT:
		json_object_foreach((json_t *)v, key, item)
		{
			if (kp_model_has_nul(item))
				return true;
		}
		return false;
	case JSON_ARRAY:
		json_array_foreach(v, i, item)
		{
			if (kp_model_has_nul(item))
				return true;
		}
		return false;
	default:
		return false;
	}
}

int kp_model_validate(char kind, const json_t *rec, char *err)
{
	return s_validate(kind, rec, false, err);
}

int kp_model_validate_shared(char kind, const json_t *rec, char *err)
{
	bool projected =
	    kind == KP_VOLUNTEER &&
	    !kp_rec_bool(json_object_get(rec, "consent"), "share", false);
	return s_validate(kind, rec, projected, err);
}

/* The contact person of a booking is the hub's business: other hubs see
 * who holds the room, not whom to call. */
bool kp_model_mirror_hides(char kind, const char *field, size_t len)
{
	return kind == KP_BOOKING && len == 7 && !memcmp(field, "contact", 7);
}

bool kp_model_public(char kind)
{
	return kind == KP_ROOM || kind == KP_ACTIVITY || kind == KP_BOOKING;
}

bool kp_model_project(char kind, json_t *rec, enum kp_audience to)
{
	switch (kind) {
	case KP_VOLUNTEER:
		if (to == KP_TO_MIRROR)
			return false;
		if (!kp_rec_bool(json_object_get(rec, "consent"), "share",
				 false))
			for (int i = 0; kp_personal_fields[i]; i++)
				json_object_del(rec, kp_personal_fields[i]);
		return true;
	case KP_BOOKING:
		if (to == KP_TO_MIRROR)
			json_object_del(rec, "contact");
		return true;
	case KP_ROOM:
	case KP_ACTIVITY:
		return true;
	default:
		return to == KP_TO_CENTRAL;
	}
}

void kp_record_hash(const json_t *rec, uint8_t out[16])
{
	char *text = json_dumps(rec, JSON_COMPACT | JSON_SORT_KEYS);
	crypto_generichash(out, 16, (const unsigned char *)(text ? text : ""),
			   text ? strlen(text) : 0, NULL, 0);
	free(text);
}

/* ---- the same schema over msgpack objects, for central's hot path ---- */

static int s_mp_buf_write(void *data, const char *bytes, size_t len)
{
	return kp_buf_append(data, bytes, len) ? -1 : 0;
}

/* Well-formed UTF-8 (no overlong forms, no surrogates, at most U+10FFFF),
 * the text jansson accepts, and no NUL: one pass, as this runs on every
 * string of every entry central takes. */
static bool s_text_bytes(const uint8_t *p, size_t n)
{
	size_t i = 0;
	while (i < n) {
		uint8_t c = p[i];
		size_t len;
		uint32_t cp;
		if (c < 0x80) {
			if (c == 0)
				return false;
			i++;
			continue;
		} else if (c >= 0xc2 && c <= 0xdf) {
			len = 2;
			cp = c & 0x1f;
		} else if (c >= 0xe0 && c <= 0xef) {
			len = 3;
			cp = c & 0x0f;
		} else if (c >= 0xf0 && c <= 0xf4) {
			len = 4;
			cp = c & 0x07;
		} else {
			return false;
		}
		if (i + len > n)
			return false;
		for (size_t k = 1; k < len; k++) {
			if ((p[i + k] & 0xc0) != 0x80)
				return false;
			cp = (cp << 6) | (p[i + k] & 0x3f);
		}
		if ((len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000) ||
		    cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
			return false;
		i += len;
	}
	return true;
}

static bool s_mp_text(const msgpack_object *o, size_t max)
{
	return o->type == MSGPACK_OBJECT_STR && o->via.str.size <= max &&
	       s_text_bytes((const uint8_t *)o->via.str.ptr, o->via.str.size);
}

/* Everything a record may hold at all (what kp_codec_decode takes). */
static bool s_mp_sane(const msgpack_object *o, int depth)
{
	if (depth > KP_CODEC_MAX_DEPTH)
		return false;
	switch (o->type) {
	case MSGPACK_OBJECT_NIL:
	case MSGPACK_OBJECT_BOOLEAN:
	case MSGPACK_OBJECT_NEGATIVE_INTEGER:
	case MSGPACK_OBJECT_FLOAT32:
	case MSGPACK_OBJECT_FLOAT64:
		return true;
	case MSGPACK_OBJECT_POSITIVE_INTEGER:
		return o->via.u64 <= (uint64_t)INT64_MAX;
	case MSGPACK_OBJECT_STR:
		return s_mp_text(o, SIZE_MAX);
	case MSGPACK_OBJECT_ARRAY:
		for (uint32_t i = 0; i < o->via.array.size; i++)
			if (!s_mp_sane(&o->via.array.ptr[i], depth + 1))
				return false;
		return true;
	case MSGPACK_OBJECT_MAP:
		for (uint32_t i = 0; i < o->via.map.size; i++) {
			const msgpack_object_kv *kv = &o->via.map.ptr[i];
			if (!s_mp_text(&kv->key, SIZE_MAX) ||
			    !s_mp_sane(&kv->val, depth + 1))
				return false;
		}
		return true;
	default:
		return false;
	}
}

/* The value of key in map; of a key given twice the last, as jansson
 * keeps it when the same bytes are decoded to JSON. */
static const msgpack_object *s_mp_get(const msgpack_object *map,
				      const char *key)
{
	size_t n = strlen(key);
	for (uint32_t i = map->via.map.size; i-- > 0;) {
		const msgpack_object *k = &map->via.map.ptr[i].key;
		if (k->via.str.size == n && !memcmp(k->via.str.ptr, key, n))
			return &map->via.map.ptr[i].val;
	}
	return NULL;
}

static bool s_mp_int(const msgpack_object *o, int64_t *v)
{
	if (o->type == MSGPACK_OBJECT_POSITIVE_INTEGER &&
	    o->via.u64 <= (uint64_t)INT64_MAX)
		*v = (int64_t)o->via.u64;
	else if (o->type == MSGPACK_OBJECT_NEGATIVE_INTEGER)
		*v = o->via.i64;
	else
		return false;
	return true;
}

/* The text of a short string, NUL-terminated in buf; false if longer. */
static bool s_mp_cstr(const msgpack_object *o, char *buf, size_t len)
{
	if (o->type != MSGPACK_OBJECT_STR || o->via.str.size >= len)
		return false;
	if (o->via.str.size)
		memcpy(buf, o->via.str.ptr, o->via.str.size);
	buf[o->via.str.size] = 0;
	return true;
}

static bool s_mp_field(const struct s_field *f, const msgpack_object *v)
{
	char buf[S_CODED_MAX], err[KP_ERR_MAX];
	int64_t n;

	switch (f->type) {
	case S_TEXT:
		return s_mp_text(v, (size_t)f->max);
	case S_INT:
		return s_mp_int(v, &n) && n >= f->min && n <= f->max;
	case S_BOOL:
		return v->type == MSGPACK_OBJECT_BOOLEAN;
	case S_ENUM:
		return s_mp_cstr(v, buf, sizeof buf) &&
		       kp_in_list(f->choices, buf);
	case S_LIST:
		if (v->type != MSGPACK_OBJECT_ARRAY ||
		    v->via.array.size > KP_LIST_MAX)
			return false;
		for (uint32_t i = 0; i < v->via.array.size; i++) {
			const msgpack_object *item = &v->via.array.ptr[i];
			if (!s_mp_text(item, (size_t)f->max) ||
			    !item->via.str.size)
				return false;
		}
		return true;
	case S_DATE: {
		int y, m, d;
		return s_mp_cstr(v, buf, sizeof buf) &&
		       kp_date_parse(buf, &y, &m, &d) == KP_OK;
	}
	case S_DAYS: {
		uint8_t mask;
		return s_mp_cstr(v, buf, sizeof buf) &&
		       kp_days_parse(buf, &mask) == KP_OK;
	}
	case S_REF: {
		struct kp_id id;
		return s_mp_cstr(v, buf, sizeof buf) &&
		       kp_id_parse(buf, NULL, f->ref, &id, err) == KP_OK;
	}
	case S_INSTANTS:
		if (v->type != MSGPACK_OBJECT_ARRAY ||
		    v->via.array.size > KP_SERIES_MAX)
			return false;
		for (uint32_t i = 0; i < v->via.array.size; i++)
			if (!s_mp_int(&v->via.array.ptr[i], &n))
				return false;
		return true;
	default: {
		/* Nested shapes are rare and small: the JSON checks. */
		json_t *j;
		struct kp_buf b = {0};
		msgpack_packer pk;
		bool ok = false;
		msgpack_packer_init(&pk, &b, s_mp_buf_write);
		if (msgpack_pack_object(&pk, *v) == 0 &&
		    kp_codec_decode(b.data, b.len, &j) == KP_OK) {
			ok = s_check(f, j, err) == KP_OK;
			json_decref(j);
		}
		kp_buf_free(&b);
		return ok;
	}
	}
}

bool kp_model_sane_packed(const void *object, int depth)
{
	return s_mp_sane(object, depth);
}

bool kp_model_text_packed(const void *object)
{
	return s_mp_text(object, SIZE_MAX);
}

int kp_model_check_packed(char kind, const void *object, bool shared)
{
	const msgpack_object *rec = object;
	const struct s_field *schema = s_schema(kind);
	const msgpack_object *v;
	bool projected = false;

	if (!schema || rec->type != MSGPACK_OBJECT_MAP || !s_mp_sane(rec, 0))
		return KP_EINVAL;
	if (shared && kind == KP_VOLUNTEER) {
		const msgpack_object *c = s_mp_get(rec, "consent");
		const msgpack_object *share = c && c->type == MSGPACK_OBJECT_MAP
						  ? s_mp_get(c, "share")
						  : NULL;
		projected = !share || share->type != MSGPACK_OBJECT_BOOLEAN ||
			    !share->via.boolean;
	}
	for (const struct s_field *f = schema; f->name; f++) {
		if (!(v = s_mp_get(rec, f->name))) {
			if (f->required &&
			    !(projected && s_personal(kind, f->name)))
				return KP_EINVAL;
			continue;
		}
		if (!s_mp_field(f, v))
			return KP_EINVAL;
	}
	if (kind != KP_BOOKING && kind != KP_ACTIVITY)
		return KP_OK;
	int64_t start = 0, end = 0;
	if ((v = s_mp_get(rec, "start")))
		s_mp_int(v, &start);
	if ((v = s_mp_get(rec, "end")) && (!s_mp_int(v, &end) || end <= start))
		return KP_EINVAL;
	v = s_mp_get(rec, "weekly");
	if (v && v->type == MSGPACK_OBJECT_BOOLEAN && v->via.boolean &&
	    !s_mp_get(rec, "until"))
		return KP_EINVAL;
	return KP_OK;
}
