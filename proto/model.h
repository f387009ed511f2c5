/*
 * model.h - the data model both hub and central compile: record kinds,
 * global ids and keys, and the schema every record is checked against.
 *
 * A record is a JSON object (in memory) or msgpack map (stored, sent) with
 * the common fields "id", "kind" and "hub", plus the fields of its kind
 * listed in docs/data-model.md. Fields the schema does not know are kept.
 *
 * An id is "HUB:KN": the owning hub's id, a colon, the kind's letter and a
 * number counted per hub and kind, e.g. "fjell:b42" for booking 42 at
 * Fjell. On the command line the hub part may be left out for the local
 * hub ("b42"). The stored key is the hub id, a NUL, the kind's letter and
 * the number as 8 big-endian bytes, so one hub's records of one kind sort
 * together and in creation order.
 */
#ifndef KNUTE_MODEL_H
#define KNUTE_MODEL_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define KP_HUB_ID_MAX 32   /* bytes in a hub id: a-z, 0-9 and '-' */
#define KP_NAME_MAX   200  /* bytes in a name, title or organisation */
#define KP_TEXT_MAX   2000 /* bytes in a free-text field */
#define KP_LIST_MAX   50   /* items in a list field (skills, languages) */
#define KP_ID_STRLEN  64   /* room for any formatted id, with NUL */
#define KP_KEY_MAX    (KP_HUB_ID_MAX + 1 + 1 + 8)
#define KP_ERR_MAX    512 /* room for a validation message */

enum kp_kind {
	KP_ROOM = 'r',
	KP_BOOKING = 'b',
	KP_ACTIVITY = 'a',
	KP_VOLUNTEER = 'v',
	KP_ASSIGNMENT = 's',
	KP_ATTENDANCE = 't',
};

/* All kinds, in the order status and import list them. */
extern const char kp_kinds[];
#define KP_NKINDS 6

/* "room", "booking", ...; NULL for a letter that is no kind. */
const char *kp_kind_name(char kind);
/* The kind letter for a name ("booking" -> 'b'), or 0. */
char kp_kind_from_name(const char *name);

struct kp_id {
	char hub[KP_HUB_ID_MAX + 1];
	char kind;
	uint64_t n;
};

/* True for a well-formed hub id: 1..KP_HUB_ID_MAX of a-z, 0-9, '-', not
 * starting with '-'. */
bool kp_hub_id_valid(const char *hub);

/* Parse "fjell:b42" or, with local_hub given, "b42". When want_kind is not
 * 0 the id must be of that kind. KP_EINVAL, with a sentence in err
 * (KP_ERR_MAX bytes), for anything else. */
int kp_id_parse(const char *text, const char *local_hub, char want_kind,
		struct kp_id *id, char *err);
void kp_id_format(const struct kp_id *id, char *buf);
/* The stored key of id; returns its length. */
size_t kp_id_key(const struct kp_id *id, uint8_t *key);
/* Back from a stored key; KP_ECORRUPT if it is not one. */
int kp_key_id(const void *key, size_t len, struct kp_id *id);

/*
 * Check rec against the schema of kind. Known fields must have their type,
 * range and length; texts must be UTF-8 (jansson guarantees it for values it
 * built); unknown fields are allowed. KP_EINVAL with a sentence in err
 * naming the field, the value seen and what is expected.
 */
int kp_model_validate(char kind, const json_t *rec, char *err);

/* Allowed values of enumerated fields, NULL-terminated. */
extern const char *const kp_categories[];
extern const char *const kp_targets[];
extern const char *const kp_booking_states[];
extern const char *const kp_attendance_states[];
bool kp_in_list(const char *const *list, const char *value);

/* Field helpers: the value, or fallback when absent or of another type. */
const char *kp_rec_str(const json_t *rec, const char *field,
		       const char *fallback);
int64_t kp_rec_int(const json_t *rec, const char *field, int64_t fallback);
bool kp_rec_bool(const json_t *rec, const char *field, bool fallback);

/* Volunteer fields that are personal data: never leave the owning hub
 * unless the volunteer consented (DESIGN.md section 6). NULL-terminated. */
extern const char *const kp_personal_fields[];

/* kp_model_validate() for a record as it travels to central: a volunteer
 * who did not consent to sharing comes without personal fields. */
int kp_model_validate_shared(char kind, const json_t *rec, char *err);

/* The same verdict as kp_model_validate_shared(), without the sentence,
 * on a record still in msgpack form: object is a msgpack_object (of
 * msgpack-c) holding the record map. Also checks what kp_codec_decode()
 * would: text is UTF-8, keys are text, no bin or ext. KP_OK or KP_EINVAL;
 * the caller decodes to JSON for the sentence when it needs one. */
int kp_model_check_packed(char kind, const void *object, bool shared);

/* On msgpack objects (msgpack_object *) as kp_model_check_packed() sees
 * them: a value JSON holds (every map key a text, no NUL, well-formed
 * UTF-8, integers within int64, at most KP_CODEC_MAX_DEPTH deep counting
 * from depth), and a text. */
bool kp_model_sane_packed(const void *object, int depth);
bool kp_model_text_packed(const void *object);

/* Whether a string anywhere in v holds a NUL character (JSON's \u0000):
 * kp_model_validate() refuses such records, as msgpack's path does. */
bool kp_model_has_nul(const json_t *v);

/* Kinds other hubs' mirrors get (rooms, activities, bookings). */
bool kp_model_public(char kind);

/* Fields other hubs' mirrors never get, for each kind (NULL-terminated
 * lists; see kp_model_project()). */
bool kp_model_mirror_hides(char kind, const char *field, size_t len);

/* What leaves the owning hub (DESIGN.md section 6). Shape rec, in place,
 * for central or for other hubs' mirrors; false when records of kind do
 * not go there at all. */
enum kp_audience { KP_TO_CENTRAL, KP_TO_MIRROR };
bool kp_model_project(char kind, json_t *rec, enum kp_audience to);

/* 16 bytes of BLAKE2b over the record's canonical JSON (compact, keys
 * sorted): equal records hash equal whatever their field order. */
void kp_record_hash(const json_t *rec, uint8_t out[16]);

#endif
