/*
 * cmd_export.c - exports for calendars and spreadsheets, and the
 * spreadsheet import.
 *
 *   knute booking export --format ics|csv [--room ID] [--hub ID]
 *   knute activity export --format ics|csv [--room ID] [--hub ID]
 *   knute room export --format csv [--hub ID]
 *   knute volunteer export --format csv [--include-personal]
 *   knute import-csv --kind room|activity|volunteer FILE [--new-ids]
 *
 * NOTES ON THE DESIGN
 *
 * Columns. The CSV columns of each kind are one table (s_room_cols,
 * s_booking_cols, s_activity_cols, s_volunteer_cols): the column's name,
 * its type and the record field it holds. The export writes a record's
 * cells from the table and the import reads them back through the same
 * table, so a file the export wrote imports unchanged, and the columns
 * docs/cli.md lists are these tables.
 *
 * iCalendar (RFC 5545). A booking or activity is one VEVENT. A weekly
 * series is DTSTART/DTEND of its first date plus RRULE:FREQ=WEEKLY with
 * BYDAY and UNTIL. Knutepunkt's series keep the wall-clock time of the
 * first occurrence (knute/ktime.h), and so does an RRULE whose DTSTART
 * carries TZID=Europe/Oslo: a series at 17:00 stays at 17:00 across the
 * change to summer time. Three details make the two agree:
 *   - DTSTART is the first date the series really has. With days
 *     (tue,thu) the date of "start" is a date of the series only when its
 *     weekday is among them, but RFC 5545 always counts DTSTART as the
 *     first instance;
 *   - UNTIL is inclusive and, with a TZID'd DTSTART, must be UTC: it is
 *     the last second of the until date, local time;
 *   - EXDATE lists the cancelled starts that are dates of the series
 *     (a "cancelled" entry left over from an older schedule is not).
 * Times are always written in Europe/Oslo, with its VTIMEZONE (the EU
 * rules as yearly RRULEs), whatever --tz says; calendars show them in
 * their reader's zone. Lines end in CRLF and are folded at 75 octets,
 * never inside a UTF-8 character; TEXT values are escaped.
 *
 * Output is built in memory and written when it is complete, so an
 * export that fails prints nothing on stdout.
 *
 * Import, in three steps:
 *   1. read    the file is split into rows (RFC 4180: quoted cells,
 *              doubled quotes, line breaks inside quotes; the separator
 *              ',' ';' or tab, whichever the header row uses; a UTF-8
 *              byte-order mark skipped), the header row mapped to the
 *              kind's columns, and every cell parsed by its column's type
 *              into a patch per row (column -> JSON value, null for an
 *              empty cell);
 *   2. apply   in one write transaction, in row order: a row with the
 *              id of a stored record replaces it (columns the file does
 *              not have keep their stored values), any other gets a new
 *              record; each record is checked as the commands check it
 *              (kp_model_validate, the series, the police certificate)
 *              and an activity with a room holds it through
 *              kp_hold_room(), the clash rule of every other write. The
 *              old slots of every replaced activity are freed first, so
 *              a row may move into the time another row gives up;
 *   3. commit  only when no row had a problem; otherwise the transaction
 *              is aborted and every problem listed with its row number
 *              (the header is row 1, as a spreadsheet numbers them).
 */
#include "cmd_export.h"

#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "cli.h"
#include "codec.h"
#include "knute/error.h"
#include "knute/ktime.h"
#include "rules.h"

#define S_FILE_MAX     (64u << 20) /* bytes in a file to import */
#define S_PROBLEMS_MAX 20	   /* problems listed before "and N more" */
#define S_ICS_TZ       "Europe/Oslo"

/* ---- a growing text buffer ---- */

struct s_buf {
	char *data; /* NUL-terminated when not NULL */
	size_t len, cap;
	bool failed; /* out of memory: later appends are dropped */
};

static void s_put(struct s_buf *b, const char *s, size_t n)
{
	if (b->failed)
		return;
	if (b->len + n + 1 > b->cap) {
		size_t cap = b->cap ? b->cap : 256;
		char *grown;
		while (cap < b->len + n + 1)
			cap *= 2;
		if (!(grown = realloc(b->data, cap))) {
			b->failed = true;
			return;
		}
		b->data = grown;
		b->cap = cap;
	}
	memcpy(b->data + b->len, s, n);
	b->len += n;
	b->data[b->len] = 0;
}

static void s_puts(struct s_buf *b, const char *s)
{
	s_put(b, s, strlen(s));
}

static void s_printf(struct s_buf *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static void s_printf(struct s_buf *b, const char *fmt, ...)
{
	char small[256];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(small, sizeof small, fmt, ap);
	va_end(ap);
	if (n < 0) {
		b->failed = true;
		return;
	}
	if ((size_t)n < sizeof small) {
		s_put(b, small, (size_t)n);
		return;
	}
	{
		char *big = malloc((size_t)n + 1);
		if (!big) {
			b->failed = true;
			return;
		}
		va_start(ap, fmt);
		vsnprintf(big, (size_t)n + 1, fmt, ap);
		va_end(ap);
		s_put(b, big, (size_t)n);
		free(big);
	}
}

static void s_reset(struct s_buf *b)
{
	b->len = 0;
	if (b->data)
		b->data[0] = 0;
}

static const char *s_str(const struct s_buf *b)
{
	return b->data ? b->data : "";
}

static void s_buf_free(struct s_buf *b)
{
	free(b->data);
	memset(b, 0, sizeof *b);
}

/* ---- columns ---- */

enum s_type {
	C_ID,		/* the record's id */
	C_TEXT,		/* text of at most max bytes */
	C_EMAIL,	/* C_TEXT holding an '@' */
	C_INT,		/* whole number min..max (max < 0: this year) */
	C_BOOL,		/* yes or no */
	C_ENUM,		/* one of choices */
	C_LIST,		/* comma-separated words */
	C_TIME,		/* an instant, as local time */
	C_DATE,		/* a date */
	C_WEEK,		/* weekly hours */
	C_DAYS,		/* weekdays */
	C_INSTANTS,	/* cancelled starts, local times, comma-separated */
	C_CLOSURES,	/* "FROM to TO: reason; ..." */
	C_ROOM,		/* a room id (on import also a room's name) */
	C_ROOM_NAME,	/* the room's name */
	C_POLICE_ROLE,	/* police.role */
	C_POLICE_SHOWN, /* police.shown, a date not in the future */
	C_CONSENT,	/* consent.share, yes or no */
	C_CONSENT_DATE, /* consent.date, a date not in the future */
};

struct s_col {
	const char *name; /* the header, and the record field */
	enum s_type type;
	int64_t min, max;	    /* C_TEXT: max bytes; C_INT: the range */
	const char *const *choices; /* C_ENUM */
	bool required;		    /* a new record needs it */
	bool personal;		    /* a volunteer's personal field */
};

static const char *const s_activity_states[] = {"active", "cancelled", NULL};

static const struct s_col s_room_cols[] = {
    {.name = "id", .type = C_ID},
    {.name = "name", .type = C_TEXT, .max = KP_NAME_MAX, .required = true},
    {.name = "capacity",
     .type = C_INT,
     .min = 0,
     .max = 100000,
     .required = true},
    {.name = "facilities", .type = C_LIST},
    {.name = "open", .type = C_WEEK},
    {.name = "closures", .type = C_CLOSURES},
    {.name = "notes", .type = C_TEXT, .max = KP_TEXT_MAX},
    {0},
};

static const struct s_col s_booking_cols[] = {
    {.name = "id", .type = C_ID},
    {.name = "room", .type = C_ROOM},
    {.name = "room_name", .type = C_ROOM_NAME},
    {.name = "org", .type = C_TEXT, .max = KP_NAME_MAX},
    {.name = "contact", .type = C_TEXT, .max = KP_NAME_MAX},
    {.name = "purpose", .type = C_TEXT, .max = KP_TEXT_MAX},
    {.name = "status", .type = C_ENUM, .choices = kp_booking_states},
    {.name = "start", .type = C_TIME},
    {.name = "end", .type = C_TIME},
    {.name = "weekly", .type = C_BOOL},
    {.name = "days", .type = C_DAYS},
    {.name = "until", .type = C_DATE},
    {.name = "cancelled", .type = C_INSTANTS},
    {0},
};

static const struct s_col s_activity_cols[] = {
    {.name = "id", .type = C_ID},
    {.name = "title", .type = C_TEXT, .max = KP_NAME_MAX, .required = true},
    {.name = "organiser", .type = C_TEXT, .max = KP_NAME_MAX, .required = true},
    {.name = "category",
     .type = C_ENUM,
     .choices = kp_categories,
     .required = true},
    {.name = "target", .type = C_ENUM, .choices = kp_targets, .required = true},
    {.name = "room", .type = C_ROOM},
    {.name = "room_name", .type = C_ROOM_NAME},
    {.name = "start", .type = C_TIME, .required = true},
    {.name = "end", .type = C_TIME, .required = true},
    {.name = "weekly", .type = C_BOOL},
    {.name = "days", .type = C_DAYS},
    {.name = "until", .type = C_DATE},
    {.name = "cancelled", .type = C_INSTANTS},
    {.name = "volunteers_needed", .type = C_INT, .min = 0, .max = 1000},
    {.name = "skills", .type = C_LIST},
    {.name = "police_required", .type = C_BOOL},
    {.name = "status", .type = C_ENUM, .choices = s_activity_states},
    {.name = "description", .type = C_TEXT, .max = KP_TEXT_MAX},
    {0},
};

static const struct s_col s_volunteer_cols[] = {
    {.name = "id", .type = C_ID},
    {.name = "name",
     .type = C_TEXT,
     .max = KP_NAME_MAX,
     .required = true,
     .personal = true},
    {.name = "phone", .type = C_TEXT, .max = 40, .personal = true},
    {.name = "email", .type = C_EMAIL, .max = KP_NAME_MAX, .personal = true},
    {.name = "birth_year",
     .type = C_INT,
     .min = 1900,
     .max = -1,
     .personal = true},
    {.name = "org", .type = C_TEXT, .max = KP_NAME_MAX},
    {.name = "skills", .type = C_LIST},
    {.name = "languages", .type = C_LIST},
    {.name = "availability", .type = C_WEEK},
    {.name = "police_role",
     .type = C_POLICE_ROLE,
     .max = KP_NAME_MAX,
     .personal = true},
    {.name = "police_shown", .type = C_POLICE_SHOWN, .personal = true},
    {.name = "consent", .type = C_CONSENT},
    {.name = "consent_date", .type = C_CONSENT_DATE},
    {0},
};

static const struct s_col *s_cols_of(char kind)
{
	switch (kind) {
	case KP_ROOM:
		return s_room_cols;
	case KP_BOOKING:
		return s_booking_cols;
	case KP_ACTIVITY:
		return s_activity_cols;
	case KP_VOLUNTEER:
		return s_volunteer_cols;
	}
	return NULL;
}

/* "rooms", "activities", ... */
static const char *s_plural(char kind, size_t n)
{
	switch (kind) {
	case KP_ROOM:
		return n == 1 ? "room" : "rooms";
	case KP_ACTIVITY:
		return n == 1 ? "activity" : "activities";
	case KP_VOLUNTEER:
		return n == 1 ? "volunteer" : "volunteers";
	case KP_BOOKING:
		return n == 1 ? "booking" : "bookings";
	}
	return "records";
}

/* ---- records of this node ---- */

/*
 * The records an export covers. At a hub they are its own (kp_txn_each).
 * Central keeps every hub's records in its records table, each as the
 * oplog entry that last wrote it ({seq, op, id, at, rec}; docs/protocol.md,
 * "Storage"); there the walk takes the records of every hub, or of --hub.
 */
struct s_walk {
	char kind;
	const char *hub; /* central: only this hub's records; NULL all */
	kp_record_fn fn;
	void *arg;
};

static int s_central_row(const void *key, size_t klen, const void *val,
			 size_t vlen, void *arg)
{
	struct s_walk *w = arg;
	struct kp_id id;
	json_t *entry, *rec;
	int rc = KP_OK;

	if (kp_key_id(key, klen, &id))
		return KP_ECORRUPT;
	if (id.kind != w->kind || (w->hub && strcmp(id.hub, w->hub)))
		return KP_OK;
	if (kp_codec_decode(val, vlen, &entry))
		return KP_ECORRUPT;
	rec = json_object_get(entry, "rec");
	if (!json_is_object(rec))
		rec = json_object_get(entry, "kind") ? entry : NULL;
	if (rec && strcmp(kp_rec_str(entry, "op", "put"), "del"))
		rc = w->fn(&id, rec, w->arg);
	json_decref(entry);
	return rc;
}

static int s_each(kp_store *store, kp_txn *txn, char kind, const char *hub,
		  kp_record_fn fn, void *arg)
{
	struct s_walk w = {kind, hub, fn, arg};
	if (!kp_store_is_central(store))
		return kp_txn_each(txn, kind, fn, arg);
	return kp_txn_teach(txn, KP_T_RECORDS, NULL, 0, NULL, 0, s_central_row,
			    &w);
}

/* ---- shared by the exports ---- */

struct s_export {
	kp_store *store;
	char kind;
	bool ics;
	bool personal;		 /* volunteer: --include-personal */
	const char *hub;	 /* central: --hub, or NULL */
	char room[KP_ID_STRLEN]; /* --room, or "" */
	json_t *rooms;		 /* room id -> room record */
	struct s_buf out;	 /* the whole output */
	struct s_buf line;	 /* scratch: one line or cell */
	struct s_buf cell;	 /* scratch */
	int64_t now;
	size_t count;
};

static int s_room_row(const struct kp_id *id, json_t *rec, void *arg)
{
	struct s_export *e = arg;
	char text[KP_ID_STRLEN];
	kp_id_format(id, text);
	return json_object_set(e->rooms, text, rec) ? KP_ENOMEM : KP_OK;
}

static const char *s_room_name(const struct s_export *e, const json_t *rec)
{
	const char *room = kp_rec_str(rec, "room", "");
	return room[0] ? kp_rec_str(json_object_get(e->rooms, room), "name", "")
		       : "";
}

/* True when instant t is in the record's "cancelled" list. */
static bool s_is_cancelled(const json_t *rec, int64_t t)
{
	size_t i;
	json_t *c;
	json_array_foreach(json_object_get(rec, "cancelled"), i, c)
	{
		if (json_is_integer(c) && json_integer_value(c) == t)
			return true;
	}
	return false;
}

/* Every occurrence of rec's series, cancelled ones included. */
struct s_occ {
	int64_t start, end;
};
struct s_occs {
	struct s_occ *v;
	size_t n, cap;
};

static int s_occ_add(int64_t start, int64_t end, void *arg)
{
	struct s_occs *o = arg;
	if (o->n == o->cap) {
		size_t cap = o->cap ? o->cap * 2 : 16;
		struct s_occ *grown = realloc(o->v, cap * sizeof *grown);
		if (!grown)
			return KP_ENOMEM;
		o->v = grown;
		o->cap = cap;
	}
	o->v[o->n].start = start;
	o->v[o->n].end = end;
	o->n++;
	return KP_OK;
}

/* The occurrences of rec's series, none left out; KP_EINVAL for a series
 * that is not valid. The caller frees o->v. */
static int s_occurrences(const json_t *rec, struct s_occs *o)
{
	struct kp_series s;
	int64_t *cancelled;
	int rc = kp_series_of(rec, &s, &cancelled);

	memset(o, 0, sizeof *o);
	free(cancelled);
	if (rc)
		return rc;
	s.cancelled = NULL;
	s.ncancelled = 0;
	rc = kp_series_each(&s, s_occ_add, o);
	if (rc) {
		free(o->v);
		memset(o, 0, sizeof *o);
	}
	return rc;
}

/* ---- iCalendar ---- */

/* Append line (len octets, no line end) to out folded at 75 octets, a
 * fold never splitting a UTF-8 character, and end it with CRLF. */
static void s_ics_fold(struct s_buf *out, const char *line, size_t len)
{
	size_t pos = 0, limit = 75;

	while (len - pos > limit) {
		size_t cut = pos + limit;
		/* line[cut] starts the next piece: not inside a character. */
		while (cut > pos && ((unsigned char)line[cut] & 0xC0) == 0x80)
			cut--;
		s_put(out, line + pos, cut - pos);
		s_put(out, "\r\n ", 3);
		pos = cut;
		limit = 74; /* the leading space is one of the 75 */
	}
	s_put(out, line + pos, len - pos);
	s_put(out, "\r\n", 2);
}

/* NAME:VALUE with value as it is. */
static void s_ics_prop(struct s_export *e, const char *name, const char *value)
{
	s_reset(&e->line);
	s_puts(&e->line, name);
	s_put(&e->line, ":", 1);
	s_puts(&e->line, value);
	s_ics_fold(&e->out, s_str(&e->line), e->line.len);
}

/* NAME:TEXT with text escaped as RFC 5545 TEXT (3.3.11): backslash,
 * semicolon, comma and line breaks; other control characters, which TEXT
 * may not hold, become spaces. */
static void s_ics_text(struct s_export *e, const char *name, const char *text)
{
	s_reset(&e->line);
	s_puts(&e->line, name);
	s_put(&e->line, ":", 1);
	for (const char *p = text; *p; p++) {
		unsigned char c = (unsigned char)*p;
		if (c == '\\' || c == ';' || c == ',') {
			s_put(&e->line, "\\", 1);
			s_put(&e->line, p, 1);
		} else if (c == '\r') {
			if (p[1] != '\n')
				s_put(&e->line, "\\n", 2);
		} else if (c == '\n') {
			s_put(&e->line, "\\n", 2);
		} else if ((c < 0x20 && c != '\t') || c == 0x7f) {
			s_put(&e->line, " ", 1);
		} else {
			s_put(&e->line, p, 1);
		}
	}
	s_ics_fold(&e->out, s_str(&e->line), e->line.len);
}

/* "20261201T170000": the local (Europe/Oslo) date-time of t. */
static void s_ics_local(int64_t t, char *buf)
{
	int y, m, d, min;
	kp_local_parts(t, &y, &m, &d, NULL, &min);
	snprintf(buf, KP_TIME_STRLEN, "%04d%02d%02dT%02d%02d%02d", y, m, d,
		 min / 60, min % 60, (int)(((t % 60) + 60) % 60));
}

/* "20261201T160000Z". */
static void s_ics_utc(int64_t t, char *buf)
{
	char iso[KP_TIME_STRLEN];
	size_t n = 0;
	kp_time_format_utc(t, iso);
	for (const char *p = iso; *p && n + 1 < KP_TIME_STRLEN; p++)
		if (*p != '-' && *p != ':')
			buf[n++] = *p;
	buf[n] = 0;
}

static void s_ics_time_prop(struct s_export *e, const char *name, int64_t t)
{
	char value[KP_TIME_STRLEN], prop[64];
	s_ics_local(t, value);
	snprintf(prop, sizeof prop, "%s;TZID=%s", name, S_ICS_TZ);
	s_ics_prop(e, prop, value);
}

static void s_ics_begin(struct s_export *e, const char *calname)
{
	static const char *const tz[] = {
	    "BEGIN:VTIMEZONE",
	    "TZID:" S_ICS_TZ,
	    "X-LIC-LOCATION:" S_ICS_TZ,
	    "BEGIN:DAYLIGHT",
	    "TZOFFSETFROM:+0100",
	    "TZOFFSETTO:+0200",
	    "TZNAME:CEST",
	    "DTSTART:19700329T020000",
	    "RRULE:FREQ=YEARLY;BYMONTH=3;BYDAY=-1SU",
	    "END:DAYLIGHT",
	    "BEGIN:STANDARD",
	    "TZOFFSETFROM:+0200",
	    "TZOFFSETTO:+0100",
	    "TZNAME:CET",
	    "DTSTART:19701025T030000",
	    "RRULE:FREQ=YEARLY;BYMONTH=10;BYDAY=-1SU",
	    "END:STANDARD",
	    "END:VTIMEZONE",
	    NULL,
	};
	s_ics_prop(e, "BEGIN", "VCALENDAR");
	s_ics_prop(e, "VERSION", "2.0");
	s_ics_prop(e, "PRODID", "-//knutepunkt//knute export//NB");
	s_ics_prop(e, "CALSCALE", "GREGORIAN");
	s_ics_prop(e, "METHOD", "PUBLISH");
	s_ics_text(e, "X-WR-CALNAME", calname);
	s_ics_prop(e, "X-WR-TIMEZONE", S_ICS_TZ);
	for (const char *const *l = tz; *l; l++)
		s_ics_fold(&e->out, *l, strlen(*l));
}

/* BYDAY of a days mask: "TU,TH". */
static void s_ics_byday(uint8_t mask, char *buf, size_t len)
{
	static const char *const names[] = {"MO", "TU", "WE", "TH",
					    "FR", "SA", "SU"};
	size_t used = 0;
	buf[0] = 0;
	for (int i = 0; i < 7; i++)
		if (mask & (1u << i))
			used += (size_t)snprintf(buf + used, len - used, "%s%s",
						 used ? "," : "", names[i]);
}

/* The VEVENT of one booking or activity. */
static int s_ics_event(struct s_export *e, const struct kp_id *id,
		       const json_t *rec)
{
	char text[KP_ID_STRLEN], stamp[KP_TIME_STRLEN], until[KP_TIME_STRLEN];
	char rrule[160], byday[40];
	const char *status = kp_rec_str(rec, "status", "");
	const char *ics_status;
	const char *room_name = s_room_name(e, rec);
	struct s_occs occ;
	int64_t start = kp_rec_int(rec, "start", 0);
	int64_t end = kp_rec_int(rec, "end", 0);
	bool weekly = kp_rec_bool(rec, "weekly", false);
	bool series_ok;
	int rc;

	kp_id_format(id, text);
	rc = s_occurrences(rec, &occ);
	if (rc == KP_ENOMEM)
		return rc;
	series_ok = rc == KP_OK && occ.n > 0;
	if (!series_ok)
		fprintf(stderr,
			"knute: %s %s has a schedule that is not valid; it is "
			"exported as its first date only ('knute %s show %s' "
			"shows it)\n",
			kp_kind_name(id->kind), text, kp_kind_name(id->kind),
			text);
	if (series_ok) {
		/* RFC 5545 counts DTSTART as the first instance: make it the
		 * first date the series has. */
		start = occ.v[0].start;
		end = occ.v[0].end;
	}

	if (!strcmp(status, "cancelled") ||
	    (!weekly && s_is_cancelled(rec, start)))
		ics_status = "CANCELLED";
	else if (!strcmp(status, "pending"))
		ics_status = "TENTATIVE";
	else
		ics_status = "CONFIRMED";

	s_ics_prop(e, "BEGIN", "VEVENT");
	s_reset(&e->cell);
	s_printf(&e->cell, "%s@knutepunkt", text);
	s_ics_text(e, "UID", s_str(&e->cell));
	s_ics_utc(e->now, stamp);
	s_ics_prop(e, "DTSTAMP", stamp);
	s_ics_time_prop(e, "DTSTART", start);
	s_ics_time_prop(e, "DTEND", end);
	if (weekly && series_ok) {
		struct kp_series s;
		int64_t *cancelled, last;
		uint8_t mask;

		rc = kp_series_of(rec, &s, &cancelled);
		free(cancelled);
		if (rc)
			return rc; /* it was read above already */
		mask = s.days_mask;
		if (!mask) {
			int wd;
			kp_local_parts(kp_rec_int(rec, "start", 0), NULL, NULL,
				       NULL, &wd, NULL);
			mask = (uint8_t)(1u << wd);
		}
		s_ics_byday(mask, byday, sizeof byday);
		/* UNTIL is inclusive and in UTC: the last second of the
		 * until date, local time. */
		if ((rc = kp_local_make(s.until_year, s.until_month,
					s.until_day, 1440, &last)))
			return rc;
		s_ics_utc(last - 1, until);
		snprintf(rrule, sizeof rrule,
			 "FREQ=WEEKLY;WKST=MO;BYDAY=%s;UNTIL=%s", byday, until);
		s_ics_prop(e, "RRULE", rrule);
		for (size_t i = 0; i < occ.n; i++)
			if (s_is_cancelled(rec, occ.v[i].start))
				s_ics_time_prop(e, "EXDATE", occ.v[i].start);
	}
	free(occ.v);

	s_reset(&e->cell);
	if (id->kind == KP_BOOKING) {
		const char *purpose = kp_rec_str(rec, "purpose", "");
		s_puts(&e->cell, kp_rec_str(rec, "org", ""));
		if (purpose[0])
			s_printf(&e->cell, ": %s", purpose);
	} else {
		s_printf(&e->cell, "%s (%s)", kp_rec_str(rec, "title", ""),
			 kp_rec_str(rec, "organiser", ""));
	}
	s_ics_text(e, "SUMMARY", s_str(&e->cell));
	if (room_name[0])
		s_ics_text(e, "LOCATION", room_name);
	if (id->kind == KP_ACTIVITY) {
		const char *descr = kp_rec_str(rec, "description", "");
		if (descr[0])
			s_ics_text(e, "DESCRIPTION", descr);
		s_ics_text(e, "CATEGORIES", kp_rec_str(rec, "category", ""));
	}
	s_ics_prop(e, "STATUS", ics_status);
	s_reset(&e->cell);
	/* Records carry no revision counter yet; "rev" is read when one
	 * does. */
	s_printf(&e->cell, "%lld",
		 (long long)(kp_rec_int(rec, "rev", 0) > 0
				 ? kp_rec_int(rec, "rev", 0)
				 : 0));
	s_ics_prop(e, "SEQUENCE", s_str(&e->cell));
	s_ics_prop(e, "END", "VEVENT");
	return e->out.failed ? KP_ENOMEM : KP_OK;
}

/* ---- CSV ---- */

/* Append one cell to out, quoted when it holds a separator, a quote or a
 * line break (RFC 4180). */
static void s_csv_cell(struct s_buf *out, const char *s, bool first)
{
	if (!first)
		s_put(out, ",", 1);
	if (!strpbrk(s, ",\"\r\n;")) {
		s_puts(out, s);
		return;
	}
	s_put(out, "\"", 1);
	for (const char *p = s; *p; p++) {
		if (*p == '"')
			s_put(out, "\"", 1);
		s_put(out, p, 1);
	}
	s_put(out, "\"", 1);
}

/* The words of a list joined with ", ". */
static void s_join(struct s_buf *b, const json_t *list)
{
	size_t i;
	json_t *w;
	json_array_foreach(list, i, w)
	{
		if (i)
			s_puts(b, ", ");
		s_puts(b, json_string_value(w) ? json_string_value(w) : "");
	}
}

/* The text of column c of rec into e->cell. */
static void s_cell_text(struct s_export *e, const struct s_col *c,
			const json_t *rec)
{
	const json_t *v = json_object_get(rec, c->name);
	const json_t *obj;
	char t[KP_TIME_STRLEN];

	s_reset(&e->cell);
	switch (c->type) {
	case C_ID:
	case C_TEXT:
	case C_EMAIL:
	case C_ENUM:
	case C_DATE:
	case C_WEEK:
	case C_DAYS:
	case C_ROOM:
		if (json_is_string(v))
			s_puts(&e->cell, json_string_value(v));
		break;
	case C_INT:
		if (json_is_integer(v))
			s_printf(&e->cell, "%lld",
				 (long long)json_integer_value(v));
		break;
	case C_BOOL:
		if (json_is_boolean(v))
			s_puts(&e->cell, json_is_true(v) ? "yes" : "no");
		break;
	case C_LIST:
		s_join(&e->cell, v);
		break;
	case C_TIME:
		if (json_is_integer(v)) {
			kp_time_format(json_integer_value(v), t);
			s_puts(&e->cell, t);
		}
		break;
	case C_INSTANTS: {
		/* Only the cancelled starts that are dates of the series:
		 * the import checks that each one is. */
		struct s_occs occ;
		bool first = true;
		if (s_occurrences(rec, &occ))
			break;
		for (size_t i = 0; i < occ.n; i++) {
			if (!s_is_cancelled(rec, occ.v[i].start))
				continue;
			kp_time_format(occ.v[i].start, t);
			s_printf(&e->cell, "%s%s", first ? "" : ", ", t);
			first = false;
		}
		free(occ.v);
		break;
	}
	case C_CLOSURES: {
		size_t i;
		json_t *cl;
		json_array_foreach(v, i, cl)
		{
			const char *reason = kp_rec_str(cl, "reason", "");
			s_printf(&e->cell, "%s%s to %s", i ? "; " : "",
				 kp_rec_str(cl, "from", ""),
				 kp_rec_str(cl, "to", ""));
			if (reason[0])
				s_printf(&e->cell, ": %s", reason);
		}
		break;
	}
	case C_ROOM_NAME:
		s_puts(&e->cell, s_room_name(e, rec));
		break;
	case C_POLICE_ROLE:
	case C_POLICE_SHOWN:
		obj = json_object_get(rec, "police");
		s_puts(&e->cell,
		       kp_rec_str(obj,
				  c->type == C_POLICE_ROLE ? "role" : "shown",
				  ""));
		break;
	case C_CONSENT:
		/* "" when never asked ({"share": false} without a date). */
		obj = json_object_get(rec, "consent");
		if (kp_rec_bool(obj, "share", false))
			s_puts(&e->cell, "yes");
		else if (json_object_get(obj, "date"))
			s_puts(&e->cell, "no");
		break;
	case C_CONSENT_DATE:
		s_puts(&e->cell,
		       kp_rec_str(json_object_get(rec, "consent"), "date", ""));
		break;
	}
}

static bool s_col_shown(const struct s_export *e, const struct s_col *c)
{
	return !c->personal || e->personal;
}

static void s_csv_header(struct s_export *e)
{
	bool first = true;
	for (const struct s_col *c = s_cols_of(e->kind); c->name; c++) {
		if (!s_col_shown(e, c))
			continue;
		s_csv_cell(&e->out, c->name, first);
		first = false;
	}
	s_put(&e->out, "\r\n", 2);
}

static int s_csv_row(struct s_export *e, const json_t *rec)
{
	bool first = true;
	for (const struct s_col *c = s_cols_of(e->kind); c->name; c++) {
		if (!s_col_shown(e, c))
			continue;
		s_cell_text(e, c, rec);
		s_csv_cell(&e->out, s_str(&e->cell), first);
		first = false;
	}
	s_put(&e->out, "\r\n", 2);
	return e->out.failed || e->cell.failed ? KP_ENOMEM : KP_OK;
}

/* ---- the export commands ---- */

static int s_export_row(const struct kp_id *id, json_t *rec, void *arg)
{
	struct s_export *e = arg;
	if (e->room[0] && strcmp(kp_rec_str(rec, "room", ""), e->room))
		return KP_OK;
	e->count++;
	return e->ics ? s_ics_event(e, id, rec) : s_csv_row(e, rec);
}

static int s_export_txn(kp_txn *txn, void *arg)
{
	struct s_export *e = arg;
	int rc;

	s_reset(&e->out);
	e->count = 0;
	json_object_clear(e->rooms);
	if ((rc = s_each(e->store, txn, KP_ROOM, e->hub, s_room_row, e)))
		return rc;
	if (e->room[0] && !json_object_get(e->rooms, e->room))
		return KP_ENOTFOUND;
	if (e->ics) {
		struct s_buf name = {0};
		const json_t *room = json_object_get(e->rooms, e->room);
		if (room)
			s_printf(&name, "%s, %s", kp_rec_str(room, "name", ""),
				 kp_store_name(kp_txn_store(txn)));
		else
			s_printf(
			    &name, "%s: %s", kp_store_name(kp_txn_store(txn)),
			    e->kind == KP_BOOKING ? "bookings" : "activities");
		s_ics_begin(e, s_str(&name));
		rc = name.failed ? KP_ENOMEM : KP_OK;
		s_buf_free(&name);
		if (rc)
			return rc;
	} else {
		s_csv_header(e);
	}
	if ((rc = s_each(e->store, txn, e->kind, e->hub, s_export_row, e)))
		return rc;
	if (e->ics)
		s_ics_prop(e, "END", "VCALENDAR");
	return e->out.failed || e->line.failed ? KP_ENOMEM : KP_OK;
}

int kp_export_write(kp_store *store, const struct kp_export *x, FILE *out)
{
	struct s_export e = {.store = store,
			     .kind = x->kind,
			     .ics = x->ics,
			     .personal = x->personal,
			     .hub = x->hub,
			     .rooms = json_object()};
	char *zone = NULL;
	int rc;

	if (!e.rooms)
		return KP_ENOMEM;
	if (x->ics && x->kind != KP_BOOKING && x->kind != KP_ACTIVITY) {
		rc = KP_EINVAL;
		goto out;
	}
	if (x->room)
		snprintf(e.room, sizeof e.room, "%s", x->room);
	if (e.ics) {
		/* The VTIMEZONE written is Europe/Oslo's: the times must be
		 * too, whatever --tz or KNUTE_TZ said. The zone in use is put
		 * back afterwards, for a daemon that goes on with it. */
		const char *was = getenv("TZ");
		if (was && !(zone = strdup(was))) {
			rc = KP_ENOMEM;
			goto out;
		}
		if ((rc = kp_tz_set(S_ICS_TZ)))
			goto out;
	}
	e.now = kp_now();
	rc = kp_store_read(store, s_export_txn, &e);
	if (rc == KP_OK && e.out.len &&
	    fwrite(e.out.data, 1, e.out.len, out) != e.out.len)
		rc = KP_EIO;
	if (e.ics) {
		if (zone) {
			setenv("TZ", zone, 1);
		} else {
			unsetenv("TZ");
		}
		tzset();
	}
out:
	free(zone);
	json_decref(e.rooms);
	s_buf_free(&e.out);
	s_buf_free(&e.line);
	s_buf_free(&e.cell);
	return rc;
}

static int s_export(struct cli *cli, char kind)
{
	struct kp_export x = {.kind = kind};
	const char *format = cli_opt(cli, "format");
	const char *room = cli_opt(cli, "room");
	char room_text[KP_ID_STRLEN];
	int rc;

	if (cli->npos)
		return cli_fail(cli, KP_EINVAL, "unexpected argument '%s'",
				cli->pos[0]);
	if (cli->json)
		return cli_fail(cli, KP_EINVAL,
				"export writes iCalendar or CSV, not JSON: "
				"drop --json ('knute %s list --json' gives "
				"JSON)",
				cli->cmd->noun);
	if (!format)
		return cli_fail(cli, KP_EINVAL, "say which format: --format %s",
				kind == KP_BOOKING || kind == KP_ACTIVITY
				    ? "ics (iCalendar) or --format csv"
				    : "csv");
	if (!strcmp(format, "ics") &&
	    (kind == KP_BOOKING || kind == KP_ACTIVITY)) {
		x.ics = true;
	} else if (strcmp(format, "csv")) {
		return cli_fail(cli, KP_EINVAL, "--format '%.40s' is not %s",
				format,
				kind == KP_BOOKING || kind == KP_ACTIVITY
				    ? "ics or csv"
				    : "csv (the only format of this export)");
	}
	x.personal = cli_flag(cli, "include-personal");
	if (x.personal && kp_store_is_central(cli->store))
		return cli_fail(cli, KP_EINVAL,
				"personal fields are exported only at the "
				"volunteer's own hub, and %s is central's "
				"store: run the export with --data of the "
				"hub's store, or drop --include-personal",
				cli->data);
	x.hub = cli_opt(cli, "hub");
	if (x.hub && !kp_store_is_central(cli->store))
		return cli_fail(cli, KP_EINVAL,
				"--hub is for central's store; a hub exports "
				"its own records: drop --hub");
	if (x.hub && !kp_hub_id_valid(x.hub))
		return cli_fail(cli, KP_EINVAL,
				"--hub '%.40s' is not a hub id (a-z, 0-9, '-')",
				x.hub);
	if (room) {
		char err[KP_ERR_MAX];
		struct kp_id rid;
		const char *hub = kp_store_hub(cli->store);
		if (kp_id_parse(room, hub[0] ? hub : NULL, KP_ROOM, &rid, err))
			return cli_fail(cli, KP_EINVAL, "--room: %s", err);
		kp_id_format(&rid, room_text);
		x.room = room_text;
	}
	rc = kp_export_write(cli->store, &x, stdout);
	if (rc == KP_ENOTFOUND)
		return cli_fail(cli, rc,
				"no room %s here: 'knute room list' shows the "
				"rooms",
				x.room);
	return rc;
}

static int s_booking_export(struct cli *cli)
{
	return s_export(cli, KP_BOOKING);
}

static int s_activity_export(struct cli *cli)
{
	return s_export(cli, KP_ACTIVITY);
}

static int s_room_export(struct cli *cli)
{
	return s_export(cli, KP_ROOM);
}

static int s_volunteer_export(struct cli *cli)
{
	return s_export(cli, KP_VOLUNTEER);
}

/* ---- import: problems ---- */

struct s_problem {
	int row;
	int code;
	size_t order; /* keeps a row's problems in the order found */
	char *text;
};

struct s_problems {
	struct s_problem *v;
	size_t n, cap;
	bool nomem;
};

static void s_problem(struct s_problems *p, int row, int code, const char *fmt,
		      ...) __attribute__((format(printf, 4, 5)));
static void s_problem(struct s_problems *p, int row, int code, const char *fmt,
		      ...)
{
	char text[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(text, sizeof text, fmt, ap);
	va_end(ap);
	if (p->n == p->cap) {
		size_t cap = p->cap ? p->cap * 2 : 16;
		struct s_problem *grown = realloc(p->v, cap * sizeof *grown);
		if (!grown) {
			p->nomem = true;
			return;
		}
		p->v = grown;
		p->cap = cap;
	}
	if (!(p->v[p->n].text = strdup(text))) {
		p->nomem = true;
		return;
	}
	p->v[p->n].row = row;
	p->v[p->n].code = code;
	p->v[p->n].order = p->n;
	p->n++;
}

static void s_problems_clear(struct s_problems *p)
{
	for (size_t i = 0; i < p->n; i++)
		free(p->v[i].text);
	p->n = 0;
	p->nomem = false;
}

static void s_problems_free(struct s_problems *p)
{
	s_problems_clear(p);
	free(p->v);
	memset(p, 0, sizeof *p);
}

static int s_problem_cmp(const void *a, const void *b)
{
	const struct s_problem *x = a, *y = b;
	if (x->row != y->row)
		return x->row < y->row ? -1 : 1;
	return x->order < y->order ? -1 : x->order > y->order;
}

/* ---- import: the file ---- */

/* One row's cells: offsets into text, each cell NUL-terminated there. */
struct s_cells {
	struct s_buf text;
	size_t *off;
	size_t n, cap;
};

struct s_csv {
	const char *p, *end;
	char sep;
};

static int s_cells_push(struct s_cells *c, size_t off)
{
	if (c->n == c->cap) {
		size_t cap = c->cap ? c->cap * 2 : 32;
		size_t *grown = realloc(c->off, cap * sizeof *grown);
		if (!grown)
			return KP_ENOMEM;
		c->off = grown;
		c->cap = cap;
	}
	c->off[c->n++] = off;
	s_put(&c->text, "", 1); /* the cell's NUL */
	return c->text.failed ? KP_ENOMEM : KP_OK;
}

static const char *s_cell(const struct s_cells *c, size_t i)
{
	return i < c->n ? c->text.data + c->off[i] : "";
}

/* Read the next row into cells: 1 when one was read, 0 at the end of the
 * file, KP_EINVAL when a quoted cell is not closed. A quoted cell may
 * hold separators, doubled quotes and line breaks (a CRLF inside quotes
 * becomes LF); text after a closing quote is kept as it is. */
static int s_csv_next(struct s_csv *c, struct s_cells *cells)
{
	cells->n = 0;
	s_reset(&cells->text);
	if (c->p >= c->end)
		return 0;
	for (;;) {
		size_t off = cells->text.len;
		if (c->p < c->end && *c->p == '"') {
			c->p++;
			for (;;) {
				if (c->p >= c->end)
					return KP_EINVAL;
				if (*c->p == '"') {
					if (c->p + 1 < c->end &&
					    c->p[1] == '"') {
						s_put(&cells->text, "\"", 1);
						c->p += 2;
						continue;
					}
					c->p++;
					break;
				}
				if (*c->p == '\r' && c->p + 1 < c->end &&
				    c->p[1] == '\n') {
					c->p++;
					continue;
				}
				s_put(&cells->text, c->p, 1);
				c->p++;
			}
		}
		while (c->p < c->end && *c->p != c->sep && *c->p != '\n' &&
		       *c->p != '\r') {
			s_put(&cells->text, c->p, 1);
			c->p++;
		}
		/* A NUL inside a cell would cut it short: keep its place
		 * known by the length, checked by s_cell_bad(). */
		if (s_cells_push(cells, off))
			return KP_ENOMEM;
		if (c->p >= c->end)
			return 1;
		if (*c->p == c->sep) {
			c->p++;
			continue;
		}
		if (*c->p == '\r' && c->p + 1 < c->end && c->p[1] == '\n')
			c->p++;
		c->p++;
		return 1;
	}
}

/* The separator the header row uses: ',' ';' or tab, the one it has most
 * of outside quotes (',' when it has none). */
static char s_csv_sep(const char *p, const char *end)
{
	size_t comma = 0, semi = 0, tab = 0;
	bool quoted = false;
	for (; p < end; p++) {
		if (*p == '"')
			quoted = !quoted;
		else if (!quoted && (*p == '\n' || *p == '\r'))
			break;
		else if (!quoted && *p == ',')
			comma++;
		else if (!quoted && *p == ';')
			semi++;
		else if (!quoted && *p == '\t')
			tab++;
	}
	if (semi > comma && semi >= tab)
		return ';';
	if (tab > comma && tab > semi)
		return '\t';
	return ',';
}

/* The byte offset of the first byte that is not valid UTF-8 (or a NUL)
 * in s (len bytes), or -1 when it is all valid. */
static long s_utf8_bad(const char *s, size_t len)
{
	const unsigned char *u = (const unsigned char *)s;
	size_t i = 0;
	while (i < len) {
		unsigned char c = u[i];
		size_t n;
		uint32_t cp;
		if (c == 0)
			return (long)i;
		if (c < 0x80) {
			i++;
			continue;
		}
		if (c >= 0xC2 && c <= 0xDF) {
			n = 1;
			cp = c & 0x1F;
		} else if (c >= 0xE0 && c <= 0xEF) {
			n = 2;
			cp = c & 0x0F;
		} else if (c >= 0xF0 && c <= 0xF4) {
			n = 3;
			cp = c & 0x07;
		} else {
			return (long)i;
		}
		for (size_t k = 1; k <= n; k++) {
			if (i + k >= len || (u[i + k] & 0xC0) != 0x80)
				return (long)i;
			cp = (cp << 6) | (u[i + k] & 0x3F);
		}
		if ((n == 2 && cp < 0x800) || (n == 3 && cp < 0x10000) ||
		    cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
			return (long)i;
		i += n + 1;
	}
	return -1;
}

/* "A", "B", ... "Z", "AA": the spreadsheet's name of column i (from 0). */
static void s_letter(size_t i, char *buf)
{
	char tmp[16];
	int n = 0;
	for (i++; i && n < 15; i /= 26) {
		i--;
		tmp[n++] = (char)('A' + i % 26);
	}
	for (int k = 0; k < n; k++)
		buf[k] = tmp[n - 1 - k];
	buf[n] = 0;
}

/* A header as a column name: trimmed, a-z lower case, ' ' and '-' as
 * '_' ("Birth year" -> "birth_year"). */
static void s_header_norm(const char *in, char *out, size_t len)
{
	size_t n = 0;
	while (*in == ' ' || *in == '\t')
		in++;
	for (; *in && n + 1 < len; in++) {
		char c = *in;
		if (c == ' ' || c == '-')
			c = '_';
		out[n++] = (char)tolower((unsigned char)c);
	}
	while (n && out[n - 1] == '_')
		n--;
	out[n] = 0;
}

/* ---- import: cells ---- */

struct s_row {
	int number;    /* in the spreadsheet: the header is row 1 */
	json_t *patch; /* column name -> value; null for an empty cell */
	bool bad;      /* a cell had a problem */
	bool has_id;
	struct kp_id id;
	json_t *old; /* in the transaction: the stored record, or NULL */
};

struct s_imp {
	struct cli *cli;
	char kind;
	const struct s_col *cols;
	const char *hub;
	bool new_ids;
	size_t nfile;  /* columns in the header row */
	int *map;      /* file column -> index in cols, or -1 (unnamed) */
	bool have[32]; /* cols[i] is in the file */
	struct s_row *rows;
	size_t nrows, caprows;
	size_t seen; /* data rows in the file, blank ones not counted */
	struct s_problems early; /* found reading the file */
	struct s_problems late;	 /* found in the transaction */
	char today[KP_TIME_STRLEN];
	int this_year;
	/* in the transaction */
	json_t *room_ids;   /* room id -> name */
	json_t *room_names; /* name -> room id, or "" when two share it */
	json_t *row_of;	    /* id written -> its row */
	json_t *ids;	    /* the ids written, in row order */
	size_t created, replaced;
};

static void s_cell_problem(struct s_imp *imp, int row, size_t filecol,
			   const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static void s_cell_problem(struct s_imp *imp, int row, size_t filecol,
			   const char *fmt, ...)
{
	char text[900], letter[16];
	va_list ap;
	int i = imp->map[filecol];

	va_start(ap, fmt);
	vsnprintf(text, sizeof text, fmt, ap);
	va_end(ap);
	s_letter(filecol, letter);
	s_problem(&imp->early, row, KP_EINVAL, "column %s (%s): %s", letter,
		  i >= 0 ? imp->cols[i].name : "no name", text);
}

/* A date written "1.12.2026" or "01.12.2026", as spreadsheets in Norway
 * show dates, into "2026-12-01", and the rest of text after it; other
 * text is copied as it is. */
static void s_norm_date(const char *in, char *out, size_t len)
{
	int d, m, y, n = 0;
	if (sscanf(in, "%2d.%2d.%4d%n", &d, &m, &y, &n) == 3 && n >= 8 &&
	    isdigit((unsigned char)in[n - 1]) &&
	    (in[n] == 0 || in[n] == ' ' || in[n] == 'T')) {
		snprintf(out, len, "%04d-%02d-%02d%s", y, m, d, in + n);
		return;
	}
	snprintf(out, len, "%s", in);
}

static int s_parse_time(const char *text, int64_t *out)
{
	char norm[80];
	s_norm_date(text, norm, sizeof norm);
	return kp_time_parse(norm, out);
}

/* A date into canonical "YYYY-MM-DD" (buf KP_TIME_STRLEN bytes). */
static int s_parse_date(const char *text, char *buf)
{
	char norm[80];
	int y, m, d;
	s_norm_date(text, norm, sizeof norm);
	if (kp_date_parse(norm, &y, &m, &d))
		return KP_EINVAL;
	kp_date_format(y, m, d, buf);
	return KP_OK;
}

static int s_parse_bool(const char *text, bool *out)
{
	static const char *const yes[] = {"yes", "ja", "true", "1",
					  "y",	 "x",  NULL};
	static const char *const no[] = {"no", "nei", "false", "0", "n", NULL};
	for (const char *const *w = yes; *w; w++)
		if (!strcasecmp(text, *w))
			return *out = true, KP_OK;
	for (const char *const *w = no; *w; w++)
		if (!strcasecmp(text, *w))
			return *out = false, KP_OK;
	return KP_EINVAL;
}

/* Split text at commas into trimmed, non-empty pieces; fn per piece. */
typedef int (*s_piece_fn)(const char *piece, void *arg);
static int s_split(const char *text, s_piece_fn fn, void *arg)
{
	char piece[KP_TEXT_MAX + 1];
	const char *p = text;
	for (;;) {
		const char *comma = strchr(p, ',');
		const char *a = p, *b = comma ? comma : p + strlen(p);
		int rc;
		while (a < b && (*a == ' ' || *a == '\t'))
			a++;
		while (b > a && (b[-1] == ' ' || b[-1] == '\t'))
			b--;
		if (b > a) {
			if ((size_t)(b - a) > KP_TEXT_MAX)
				return KP_EINVAL;
			memcpy(piece, a, (size_t)(b - a));
			piece[b - a] = 0;
			if ((rc = fn(piece, arg)))
				return rc;
		}
		if (!comma)
			return KP_OK;
		p = comma + 1;
	}
}

static int s_list_word(const char *piece, void *arg)
{
	json_t *list = arg;
	if (strlen(piece) > 100 || json_array_size(list) >= KP_LIST_MAX)
		return KP_EINVAL;
	return json_array_append_new(list, json_string(piece)) ? KP_ENOMEM
							       : KP_OK;
}

struct s_instants {
	json_t *list;
	char bad[80]; /* the piece that is no time */
};

static int s_instant_piece(const char *piece, void *arg)
{
	struct s_instants *in = arg;
	int64_t t;
	if (s_parse_time(piece, &t)) {
		snprintf(in->bad, sizeof in->bad, "%s", piece);
		return KP_EINVAL;
	}
	return json_array_append_new(in->list, json_integer(t)) ? KP_ENOMEM
								: KP_OK;
}

/* "2026-12-24 to 2027-01-01: julestengt; 2027-04-01 to 2027-04-05" into a
 * list of {from, to, reason}. A closure starts at the beginning or after
 * a ';' that a date follows, so a reason may hold ';' itself. One date
 * alone is a closure of that day. KP_EINVAL with why (len bytes). */
static int s_parse_closures(const char *text, json_t *list, char *why,
			    size_t len)
{
	const char *p = text;
	while (*p) {
		char from[KP_TIME_STRLEN], to[KP_TIME_STRLEN], date[16];
		const char *next = p, *reason_end;
		json_t *c;

		while (*p == ' ' || *p == ';')
			p++;
		if (!*p)
			break;
		/* The next ';' that a date follows ends this closure. */
		for (next = strchr(p, ';'); next;
		     next = strchr(next + 1, ';')) {
			const char *q = next + 1;
			int y, m, d, n = 0;
			while (*q == ' ')
				q++;
			if (sscanf(q, "%4d-%2d-%2d%n", &y, &m, &d, &n) == 3 &&
			    n == 10)
				break;
		}
		snprintf(date, sizeof date, "%.10s", p);
		if (strlen(date) < 10 || s_parse_date(date, from)) {
			snprintf(why, len,
				 "'%.40s' does not start with a date "
				 "YYYY-MM-DD: write 'FROM to TO: reason', "
				 "closures separated by ';'",
				 p);
			return KP_EINVAL;
		}
		p += 10;
		snprintf(to, sizeof to, "%s", from);
		while (*p == ' ')
			p++;
		if (!strncmp(p, "to ", 3) || !strncmp(p, "til ", 4) ||
		    *p == '-') {
			p += *p == '-' ? 1 : (p[1] == 'o' ? 3 : 4);
			while (*p == ' ')
				p++;
			snprintf(date, sizeof date, "%.10s", p);
			if (strlen(date) < 10 || s_parse_date(date, to)) {
				snprintf(why, len,
					 "the closure from %s has no end date "
					 "YYYY-MM-DD after 'to'",
					 from);
				return KP_EINVAL;
			}
			p += 10;
		}
		if (strcmp(from, to) > 0) {
			snprintf(why, len,
				 "the closure from %s ends before it starts "
				 "(%s)",
				 from, to);
			return KP_EINVAL;
		}
		reason_end = next ? next : p + strlen(p);
		while (*p == ' ' || *p == ':')
			p++;
		while (reason_end > p &&
		       (reason_end[-1] == ' ' || reason_end[-1] == '\t'))
			reason_end--;
		if (reason_end > p + KP_NAME_MAX) {
			snprintf(why, len,
				 "the reason of the closure from %s is longer "
				 "than %d bytes",
				 from, KP_NAME_MAX);
			return KP_EINVAL;
		}
		c = json_pack("{ssss}", "from", from, "to", to);
		if (!c)
			return KP_ENOMEM;
		if (reason_end > p)
			json_object_set_new(
			    c, "reason",
			    json_stringn(p, (size_t)(reason_end - p)));
		if (json_array_append_new(list, c))
			return KP_ENOMEM;
		p = next ? next : p + strlen(p);
	}
	return KP_OK;
}

/* Parse the cell text of column c into *out (null for an empty cell). A
 * bad value is a problem of the row: KP_EINVAL. */
static int s_cell_parse(struct s_imp *imp, int row, size_t filecol,
			const struct s_col *c, const char *text, json_t **out)
{
	char buf[KP_TIME_STRLEN], err[KP_ERR_MAX];
	int64_t t;
	bool b;

	*out = NULL;
	if (!text[0]) {
		*out = json_null();
		return KP_OK;
	}
	switch (c->type) {
	case C_ID: {
		struct kp_id id;
		if (kp_id_parse(text, imp->hub, imp->kind, &id, err)) {
			s_cell_problem(imp, row, filecol, "%s", err);
			return KP_EINVAL;
		}
		if (!imp->new_ids && strcmp(id.hub, imp->hub)) {
			char idtext[KP_ID_STRLEN];
			kp_id_format(&id, idtext);
			s_cell_problem(imp, row, filecol,
				       "the id %s is of hub %s, not of this "
				       "hub (%s): clear the id column, or "
				       "give --new-ids, to import the rows "
				       "as new records",
				       idtext, id.hub, imp->hub);
			return KP_EINVAL;
		}
		kp_id_format(&id, buf);
		*out = json_string(buf);
		break;
	}
	case C_TEXT:
	case C_EMAIL:
	case C_POLICE_ROLE:
		if (strlen(text) > (size_t)c->max) {
			s_cell_problem(imp, row, filecol,
				       "%zu bytes long; the limit is %lld: "
				       "shorten it",
				       strlen(text), (long long)c->max);
			return KP_EINVAL;
		}
		if (c->type == C_EMAIL && !strchr(text, '@')) {
			s_cell_problem(imp, row, filecol,
				       "'%.60s' is not an e-mail address "
				       "(name@example.no)",
				       text);
			return KP_EINVAL;
		}
		*out = json_string(text);
		break;
	case C_INT: {
		char *end;
		long long n;
		int64_t max = c->max < 0 ? imp->this_year : c->max;
		errno = 0;
		n = strtoll(text, &end, 10);
		if (*end || errno || n < c->min || n > max) {
			s_cell_problem(imp, row, filecol,
				       "'%.40s' is not a whole number from "
				       "%lld to %lld",
				       text, (long long)c->min, (long long)max);
			return KP_EINVAL;
		}
		*out = json_integer(n);
		break;
	}
	case C_BOOL:
	case C_CONSENT:
		if (s_parse_bool(text, &b)) {
			s_cell_problem(imp, row, filecol,
				       "'%.40s' is not yes or no", text);
			return KP_EINVAL;
		}
		*out = json_boolean(b);
		break;
	case C_ENUM: {
		char lower[64], choices[256] = "";
		size_t n = 0;
		for (const char *p = text; *p && n + 1 < sizeof lower; p++)
			lower[n++] = (char)tolower((unsigned char)*p);
		lower[n] = 0;
		if (kp_in_list(c->choices, text) ||
		    kp_in_list(c->choices, lower)) {
			*out = json_string(
			    kp_in_list(c->choices, text) ? text : lower);
			break;
		}
		for (const char *const *w = c->choices; *w; w++) {
			size_t used = strlen(choices);
			snprintf(choices + used, sizeof choices - used, "%s%s",
				 w == c->choices ? "" : ", ", *w);
		}
		s_cell_problem(imp, row, filecol, "'%.40s' is not one of %s",
			       text, choices);
		return KP_EINVAL;
	}
	case C_LIST: {
		int rc;
		if (!(*out = json_array()))
			return KP_ENOMEM;
		rc = s_split(text, s_list_word, *out);
		if (rc == KP_ENOMEM)
			return rc;
		if (rc) {
			s_cell_problem(imp, row, filecol,
				       "takes at most %d comma-separated "
				       "words of at most 100 bytes",
				       KP_LIST_MAX);
			json_decref(*out);
			*out = NULL;
			return KP_EINVAL;
		}
		break;
	}
	case C_TIME:
		if (s_parse_time(text, &t)) {
			s_cell_problem(imp, row, filecol,
				       "'%.40s' is not a local time: write "
				       "'YYYY-MM-DD HH:MM', e.g. '2026-12-01 "
				       "17:00' (a time skipped when summer "
				       "time starts does not exist)",
				       text);
			return KP_EINVAL;
		}
		*out = json_integer(t);
		break;
	case C_DATE:
	case C_POLICE_SHOWN:
	case C_CONSENT_DATE:
		if (s_parse_date(text, buf)) {
			s_cell_problem(imp, row, filecol,
				       "'%.40s' is not a date: write "
				       "YYYY-MM-DD, e.g. 2027-06-15",
				       text);
			return KP_EINVAL;
		}
		if (c->type != C_DATE && strcmp(buf, imp->today) > 0) {
			s_cell_problem(imp, row, filecol,
				       "%s is in the future: give the date "
				       "it happened (today is %s)",
				       buf, imp->today);
			return KP_EINVAL;
		}
		*out = json_string(buf);
		break;
	case C_WEEK: {
		struct kp_week week;
		char canon[KP_TEXT_MAX + 1];
		if (kp_week_parse(text, &week, err, sizeof err)) {
			s_cell_problem(imp, row, filecol, "%s", err);
			return KP_EINVAL;
		}
		if (kp_week_format(&week, canon, sizeof canon)) {
			s_cell_problem(imp, row, filecol, "has too many spans");
			return KP_EINVAL;
		}
		*out = canon[0] ? json_string(canon) : json_null();
		break;
	}
	case C_DAYS: {
		uint8_t mask;
		char canon[40];
		if (kp_days_parse(text, &mask)) {
			s_cell_problem(imp, row, filecol,
				       "'%.40s' is not a list of weekdays: "
				       "write e.g. 'tue,thu' or 'mon-fri'",
				       text);
			return KP_EINVAL;
		}
		kp_days_format(mask, canon);
		*out = json_string(canon);
		break;
	}
	case C_INSTANTS: {
		struct s_instants in = {.list = json_array()};
		int rc;
		if (!in.list)
			return KP_ENOMEM;
		rc = s_split(text, s_instant_piece, &in);
		if (rc == KP_ENOMEM) {
			json_decref(in.list);
			return rc;
		}
		if (rc) {
			s_cell_problem(imp, row, filecol,
				       "'%.40s' is not a local time: list the "
				       "cancelled dates as 'YYYY-MM-DD HH:MM', "
				       "separated by commas",
				       in.bad);
			json_decref(in.list);
			return KP_EINVAL;
		}
		*out = in.list;
		break;
	}
	case C_CLOSURES: {
		json_t *list = json_array();
		int rc;
		if (!list)
			return KP_ENOMEM;
		rc = s_parse_closures(text, list, err, sizeof err);
		if (rc) {
			json_decref(list);
			if (rc == KP_ENOMEM)
				return rc;
			s_cell_problem(imp, row, filecol, "%s", err);
			return KP_EINVAL;
		}
		*out = list;
		break;
	}
	case C_ROOM:
	case C_ROOM_NAME:
		*out = json_string(text);
		break;
	}
	return *out ? KP_OK : KP_ENOMEM;
}

/* Map the header row to the kind's columns; problems are of row 1. */
static int s_header(struct s_imp *imp, const struct s_cells *cells)
{
	char names[600] = "", norm[80], letter[16];
	size_t ncols = 0;

	for (const struct s_col *c = imp->cols; c->name; c++, ncols++) {
		size_t used = strlen(names);
		snprintf(names + used, sizeof names - used, "%s%s",
			 c == imp->cols ? "" : ", ", c->name);
	}
	if (ncols > sizeof imp->have / sizeof imp->have[0])
		return KP_EINTERNAL; /* a column table outgrew have[] */
	imp->nfile = cells->n;
	if (!(imp->map = calloc(cells->n ? cells->n : 1, sizeof *imp->map)))
		return KP_ENOMEM;
	for (size_t i = 0; i < cells->n; i++) {
		size_t k;
		s_letter(i, letter);
		s_header_norm(s_cell(cells, i), norm, sizeof norm);
		imp->map[i] = -1;
		if (!norm[0])
			continue; /* a column without a name must be empty */
		for (k = 0; k < ncols; k++)
			if (!strcmp(imp->cols[k].name, norm))
				break;
		if (k == ncols) {
			s_problem(&imp->early, 1, KP_EINVAL,
				  "column %s: '%.40s' is not a %s column: "
				  "the columns are %s (rename the column, or "
				  "delete it)",
				  letter, s_cell(cells, i),
				  kp_kind_name(imp->kind), names);
			continue;
		}
		if (imp->have[k]) {
			s_problem(&imp->early, 1, KP_EINVAL,
				  "column %s: '%s' is a second %s column: "
				  "delete one of them",
				  letter, imp->cols[k].name, imp->cols[k].name);
			continue;
		}
		imp->have[k] = true;
		imp->map[i] = (int)k;
	}
	/* Columns that only make sense together. */
	for (size_t k = 0; k < ncols; k++) {
		const struct s_col *c = &imp->cols[k];
		if (c->type == C_POLICE_ROLE || c->type == C_POLICE_SHOWN) {
			for (size_t j = 0; j < ncols; j++) {
				enum s_type other = c->type == C_POLICE_ROLE
							? C_POLICE_SHOWN
							: C_POLICE_ROLE;
				if (imp->cols[j].type == other &&
				    imp->have[k] && !imp->have[j])
					s_problem(&imp->early, 1, KP_EINVAL,
						  "the file has a %s column "
						  "but no %s column: a police "
						  "certificate needs both",
						  c->name, imp->cols[j].name);
			}
		}
		if (c->type == C_CONSENT_DATE && imp->have[k]) {
			bool consent = false;
			for (size_t j = 0; j < ncols; j++)
				if (imp->cols[j].type == C_CONSENT &&
				    imp->have[j])
					consent = true;
			if (!consent)
				s_problem(&imp->early, 1, KP_EINVAL,
					  "the file has a consent_date column "
					  "but no consent column (yes or no): "
					  "add it");
		}
	}
	return imp->early.nomem ? KP_ENOMEM : KP_OK;
}

/* True when every cell of the row is empty (spreadsheets leave such rows
 * at the end). */
static bool s_blank(const struct s_cells *cells)
{
	for (size_t i = 0; i < cells->n; i++) {
		for (const char *p = s_cell(cells, i); *p; p++)
			if (*p != ' ' && *p != '\t')
				return false;
	}
	return true;
}

/* Trim a cell in place: spaces and tabs at both ends. */
static const char *s_trim(char *s)
{
	size_t n;
	while (*s == ' ' || *s == '\t')
		s++;
	n = strlen(s);
	while (n && (s[n - 1] == ' ' || s[n - 1] == '\t'))
		s[--n] = 0;
	return s;
}

/* Parse one data row into a new s_row. */
static int s_row_read(struct s_imp *imp, struct s_cells *cells, int number,
		      size_t *celllen)
{
	struct s_row *row;
	char letter[16];
	int rc;

	if (imp->nrows == imp->caprows) {
		size_t cap = imp->caprows ? imp->caprows * 2 : 64;
		struct s_row *grown = realloc(imp->rows, cap * sizeof *grown);
		if (!grown)
			return KP_ENOMEM;
		imp->rows = grown;
		imp->caprows = cap;
	}
	row = &imp->rows[imp->nrows++];
	memset(row, 0, sizeof *row);
	row->number = number;
	if (!(row->patch = json_object()))
		return KP_ENOMEM;
	for (size_t i = 0; i < cells->n; i++) {
		char *raw = cells->text.data + cells->off[i];
		const char *text;
		json_t *v;
		long bad = s_utf8_bad(raw, celllen[i]);
		int k = i < imp->nfile ? imp->map[i] : -1;

		s_letter(i, letter);
		if (bad >= 0) {
			s_problem(&imp->early, number, KP_EINVAL,
				  "column %s (%s): byte %ld of the cell is "
				  "not valid UTF-8 (0x%02x): save the file "
				  "as UTF-8 ('CSV UTF-8' in Excel)",
				  letter,
				  k >= 0 ? imp->cols[k].name : "no name",
				  bad + 1, (unsigned char)raw[bad]);
			row->bad = true;
			continue;
		}
		text = s_trim(raw);
		if (k >= 0 && imp->cols[k].type == C_ID && imp->new_ids)
			continue; /* --new-ids: every row is a new record */
		if (k < 0) {
			if (text[0]) {
				s_problem(&imp->early, number, KP_EINVAL,
					  "column %s has no name in the "
					  "header row but holds '%.40s': name "
					  "the column or clear it",
					  letter, text);
				row->bad = true;
			}
			continue;
		}
		rc = s_cell_parse(imp, number, i, &imp->cols[k], text, &v);
		if (rc == KP_ENOMEM)
			return rc;
		if (rc) {
			row->bad = true;
			continue;
		}
		json_object_set_new(row->patch, imp->cols[k].name, v);
		if (imp->cols[k].type == C_ID && json_is_string(v)) {
			char err[KP_ERR_MAX];
			row->has_id =
			    kp_id_parse(json_string_value(v), NULL, imp->kind,
					&row->id, err) == KP_OK;
		}
	}
	return imp->early.nomem ? KP_ENOMEM : KP_OK;
}

/* Ids given twice in the file. */
static void s_ids_twice(struct s_imp *imp)
{
	json_t *seen = json_object();
	char text[KP_ID_STRLEN];
	if (!seen) {
		imp->early.nomem = true;
		return;
	}
	for (size_t i = 0; i < imp->nrows; i++) {
		struct s_row *row = &imp->rows[i];
		json_t *first;
		if (!row->has_id)
			continue;
		kp_id_format(&row->id, text);
		first = json_object_get(seen, text);
		if (first) {
			s_problem(&imp->early, row->number, KP_EINVAL,
				  "the id %s was given on row %lld already: "
				  "give each record its own id, or clear the "
				  "cell for a new record",
				  text, (long long)json_integer_value(first));
			row->bad = true;
			continue;
		}
		json_object_set_new(seen, text, json_integer(row->number));
	}
	json_decref(seen);
}

/* Read the whole file (or standard input for "-"). */
static int s_read_file(struct cli *cli, const char *path, char **data,
		       size_t *len)
{
	FILE *f = strcmp(path, "-") ? fopen(path, "rb") : stdin;
	struct s_buf b = {0};
	char chunk[65536];
	size_t n;

	*data = NULL;
	*len = 0;
	if (!f)
		return cli_fail(cli, errno == ENOENT ? KP_ENOTFOUND : KP_EIO,
				"cannot read %s: %s: check the path", path,
				strerror(errno));
	while ((n = fread(chunk, 1, sizeof chunk, f)) > 0) {
		if (b.len + n > S_FILE_MAX) {
			if (f != stdin)
				fclose(f);
			s_buf_free(&b);
			return cli_fail(cli, KP_EINVAL,
					"%s is larger than %u MiB: split it "
					"into smaller files",
					path, S_FILE_MAX >> 20);
		}
		s_put(&b, chunk, n);
	}
	if (ferror(f)) {
		int err = errno;
		if (f != stdin)
			fclose(f);
		s_buf_free(&b);
		return cli_fail(cli, KP_EIO, "cannot read %s: %s", path,
				strerror(err));
	}
	if (f != stdin)
		fclose(f);
	if (b.failed) {
		s_buf_free(&b);
		return KP_ENOMEM;
	}
	*data = b.data;
	*len = b.len;
	return KP_OK;
}

/* Step 1: the rows of the file, each cell parsed. */
static int s_read_rows(struct s_imp *imp, const char *data, size_t len)
{
	struct s_csv csv = {data, data + len, ','};
	struct s_cells cells = {0};
	size_t *celllen = NULL;
	int number = 0, rc;

	if (len >= 3 && !memcmp(data, "\xEF\xBB\xBF", 3))
		csv.p += 3; /* the byte-order mark Excel writes */
	csv.sep = s_csv_sep(csv.p, csv.end);
	for (;;) {
		rc = s_csv_next(&csv, &cells);
		if (rc == 0)
			break;
		number++;
		if (rc == KP_EINVAL) {
			imp->seen += number > 1;
			s_problem(&imp->early, number, KP_EINVAL,
				  "a quoted cell is not closed: the file ends "
				  "inside quotes (a '\"' is missing)");
			rc = KP_OK;
			break;
		}
		if (rc < 0)
			goto out;
		free(celllen);
		if (!(celllen =
			  malloc((cells.n ? cells.n : 1) * sizeof *celllen))) {
			rc = KP_ENOMEM;
			goto out;
		}
		for (size_t i = 0; i < cells.n; i++)
			celllen[i] = (i + 1 < cells.n ? cells.off[i + 1]
						      : cells.text.len) -
				     cells.off[i] - 1;
		if (number == 1) {
			if ((rc = s_header(imp, &cells)))
				goto out;
			if (imp->early.n)
				break; /* rows mean nothing without it */
			continue;
		}
		if (s_blank(&cells))
			continue;
		imp->seen++;
		if ((rc = s_row_read(imp, &cells, number, celllen)))
			goto out;
	}
	rc = KP_OK;
	if (number == 0)
		s_problem(&imp->early, 1, KP_EINVAL,
			  "the file is empty: the first row names the "
			  "columns ('knute %s export --format csv' writes "
			  "such a file)",
			  kp_kind_name(imp->kind));
	s_ids_twice(imp);
	if (imp->early.nomem)
		rc = KP_ENOMEM;
out:
	free(celllen);
	free(cells.off);
	s_buf_free(&cells.text);
	return rc;
}

/* ---- import: the transaction ---- */

#define S_ROW_BAD 1 /* the row had a problem; go on with the next */

static void s_row_problem(struct s_imp *imp, const struct s_row *row, int code,
			  const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static void s_row_problem(struct s_imp *imp, const struct s_row *row, int code,
			  const char *fmt, ...)
{
	char text[900];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(text, sizeof text, fmt, ap);
	va_end(ap);
	s_problem(&imp->late, row->number, code, "%s", text);
}

static int s_room_index(const struct kp_id *id, json_t *rec, void *arg)
{
	struct s_imp *imp = arg;
	char text[KP_ID_STRLEN];
	const char *name = kp_rec_str(rec, "name", "");

	kp_id_format(id, text);
	if (json_object_set_new(imp->room_ids, text, json_string(name)))
		return KP_ENOMEM;
	/* Two rooms of one name: "" marks the name as ambiguous. */
	return json_object_set_new(
		   imp->room_names, name,
		   json_string(json_object_get(imp->room_names, name) ? ""
								      : text))
		   ? KP_ENOMEM
		   : KP_OK;
}

/* The room a name stands for: exact, else the one equal ignoring the case
 * of a-z. NULL when none; "" when several. */
static const char *s_room_by_name(struct s_imp *imp, const char *name)
{
	const char *key, *found = NULL;
	json_t *v = json_object_get(imp->room_names, name);
	if (v)
		return json_string_value(v);
	json_object_foreach(imp->room_names, key, v)
	{
		if (strcasecmp(key, name))
			continue;
		if (found)
			return "";
		found = json_string_value(v);
		if (!found[0])
			return "";
	}
	return found;
}

/* Resolve the room of an activity row into rec: the room column holds a
 * room id of this hub or a room's name; an id of another hub (a file
 * exported there) is looked up by room_name. */
static int s_resolve_room(struct s_imp *imp, const struct s_row *row,
			  json_t *rec)
{
	const json_t *room = json_object_get(row->patch, "room");
	const json_t *name = json_object_get(row->patch, "room_name");
	const char *by_name = NULL, *found;
	char err[KP_ERR_MAX], text[KP_ID_STRLEN];
	struct kp_id id;

	if (!room && !name)
		return KP_OK; /* the stored record's room stays */
	if (json_is_string(room)) {
		const char *v = json_string_value(room);
		if (kp_id_parse(v, imp->hub, KP_ROOM, &id, err) == KP_OK) {
			kp_id_format(&id, text);
			if (!strcmp(id.hub, imp->hub)) {
				if (!json_object_get(imp->room_ids, text)) {
					s_row_problem(
					    imp, row, KP_ENOTFOUND,
					    "no room %s at this hub: import "
					    "the rooms first (knute import-csv "
					    "--kind room), or write the room's "
					    "name",
					    text);
					return S_ROW_BAD;
				}
				json_object_set_new(rec, "room",
						    json_string(text));
				return KP_OK;
			}
			if (!json_is_string(name)) {
				s_row_problem(imp, row, KP_EINVAL,
					      "room %s is of hub %s, not of "
					      "this hub (%s): write the name "
					      "of a room here in room_name",
					      text, id.hub, imp->hub);
				return S_ROW_BAD;
			}
			by_name = json_string_value(name);
		} else {
			by_name = v; /* not an id: a room's name */
		}
	} else if (json_is_string(name)) {
		by_name = json_string_value(name);
	}
	if (!by_name) {
		json_object_del(rec, "room"); /* both cells empty */
		return KP_OK;
	}
	found = s_room_by_name(imp, by_name);
	if (!found) {
		s_row_problem(imp, row, KP_ENOTFOUND,
			      "no room named '%.60s' at this hub: 'knute room "
			      "list' shows the rooms",
			      by_name);
		return S_ROW_BAD;
	}
	if (!found[0]) {
		s_row_problem(imp, row, KP_EINVAL,
			      "two rooms here are named '%.60s': write the "
			      "room's id instead ('knute room list' shows "
			      "them)",
			      by_name);
		return S_ROW_BAD;
	}
	json_object_set_new(rec, "room", json_string(found));
	return KP_OK;
}

/* Merge the row's plain columns into rec: a value sets the field, an
 * empty cell removes it. */
static void s_merge(struct s_imp *imp, const struct s_row *row, json_t *rec)
{
	for (const struct s_col *c = imp->cols; c->name; c++) {
		json_t *v = json_object_get(row->patch, c->name);
		if (!v)
			continue;
		switch (c->type) {
		case C_ID:
		case C_ROOM:
		case C_ROOM_NAME:
		case C_POLICE_ROLE:
		case C_POLICE_SHOWN:
		case C_CONSENT:
		case C_CONSENT_DATE:
			break; /* below, by kind */
		default:
			if (json_is_null(v))
				json_object_del(rec, c->name);
			else
				json_object_set(rec, c->name, v);
		}
	}
}

/* The columns a new record needs. */
static int s_required(struct s_imp *imp, const struct s_row *row,
		      const json_t *rec)
{
	for (const struct s_col *c = imp->cols; c->name; c++) {
		const json_t *v = json_object_get(rec, c->name);
		if (!c->required ||
		    (v && !(json_is_string(v) && !json_string_length(v))))
			continue;
		if (imp->have[c - imp->cols])
			s_row_problem(imp, row, KP_EINVAL,
				      "column %s is empty: a %s needs it",
				      c->name, kp_kind_name(imp->kind));
		else
			s_row_problem(imp, row, KP_EINVAL,
				      "the file has no column %s, which a new "
				      "%s needs: add the column%s",
				      c->name, kp_kind_name(imp->kind),
				      c->personal ? " (a volunteer export "
						    "has it with "
						    "--include-personal)"
						  : "");
		return S_ROW_BAD;
	}
	return KP_OK;
}

/* An activity's series: weekly and days follow until, end after start,
 * at least one date, the cancelled starts dates of the series. */
static int s_series(struct s_imp *imp, const struct s_row *row, json_t *rec)
{
	const json_t *weekly_cell = json_object_get(row->patch, "weekly");
	bool weekly = kp_rec_bool(rec, "weekly", false);
	char a[KP_TIME_STRLEN], b[KP_TIME_STRLEN];
	struct s_occs occ;
	size_t i;
	json_t *c;
	int rc;

	if (kp_rec_int(rec, "end", 0) <= kp_rec_int(rec, "start", 0)) {
		kp_time_format(kp_rec_int(rec, "start", 0), a);
		kp_time_format(kp_rec_int(rec, "end", 0), b);
		s_row_problem(imp, row, KP_EINVAL,
			      "the end (%s) must be after the start (%s)", b,
			      a);
		return S_ROW_BAD;
	}
	if (!weekly) {
		bool given =
		    json_is_string(json_object_get(row->patch, "until")) ||
		    json_is_string(json_object_get(row->patch, "days"));
		if (given && json_is_false(weekly_cell)) {
			s_row_problem(imp, row, KP_EINVAL,
				      "until and days are for a weekly "
				      "series, and weekly says no: clear "
				      "them or write yes");
			return S_ROW_BAD;
		}
		if (given) {
			/* An until date makes a weekly series. */
			json_object_set_new(rec, "weekly", json_true());
			weekly = true;
		} else {
			json_object_del(rec, "until");
			json_object_del(rec, "days");
		}
	}
	if (weekly && !json_object_get(rec, "until")) {
		s_row_problem(imp, row, KP_EINVAL,
			      "a weekly series needs its last date: fill in "
			      "until (YYYY-MM-DD)");
		return S_ROW_BAD;
	}
	if (weekly && !json_object_get(rec, "days")) {
		int wd;
		kp_local_parts(kp_rec_int(rec, "start", 0), NULL, NULL, NULL,
			       &wd, NULL);
		json_object_set_new(rec, "days",
				    json_string(kp_weekday_name(wd)));
	}
	rc = s_occurrences(rec, &occ);
	if (rc == KP_ENOMEM)
		return rc;
	if (rc || occ.n == 0) {
		free(occ.v);
		s_row_problem(imp, row, KP_EINVAL, "%s",
			      rc ? "the schedule is not valid: until must not "
				   "be before the first date, and a series has "
				   "at most 1000 dates"
				 : "the schedule has no dates: check start, "
				   "days and until");
		return S_ROW_BAD;
	}
	/* Cancelled starts: from the file each must be a date of the
	 * series; kept from the stored record, those that are not any more
	 * are dropped. */
	c = json_object_get(rec, "cancelled");
	if (json_is_array(c)) {
		bool from_file =
		    json_object_get(row->patch, "cancelled") != NULL;
		json_t *kept = json_array();
		json_t *item;
		if (!kept) {
			free(occ.v);
			return KP_ENOMEM;
		}
		json_array_foreach(c, i, item)
		{
			bool found = false;
			for (size_t k = 0; k < occ.n && !found; k++)
				found =
				    occ.v[k].start == json_integer_value(item);
			if (found) {
				json_array_append(kept, item);
				continue;
			}
			if (from_file) {
				kp_time_format(json_integer_value(item), a);
				s_row_problem(imp, row, KP_EINVAL,
					      "cancelled %s is not a date of "
					      "the series: list only its dates",
					      a);
				json_decref(kept);
				free(occ.v);
				return S_ROW_BAD;
			}
		}
		if (json_array_size(kept))
			json_object_set_new(rec, "cancelled", kept);
		else {
			json_decref(kept);
			json_object_del(rec, "cancelled");
		}
	}
	free(occ.v);
	return KP_OK;
}

/* Police certificate and consent of a volunteer row. */
static int s_volunteer_fields(struct s_imp *imp, const struct s_row *row,
			      json_t *rec)
{
	json_t *role = json_object_get(row->patch, "police_role");
	json_t *shown = json_object_get(row->patch, "police_shown");
	json_t *consent = json_object_get(row->patch, "consent");
	json_t *date = json_object_get(row->patch, "consent_date");

	if (role || shown) { /* the header has both columns */
		if (json_is_null(role) && json_is_null(shown)) {
			json_object_del(rec, "police");
		} else if (json_is_null(role) || json_is_null(shown)) {
			s_row_problem(imp, row, KP_EINVAL,
				      "a police certificate needs the role "
				      "and the date it was shown: fill in "
				      "both police_role and police_shown, or "
				      "neither");
			return S_ROW_BAD;
		} else {
			json_object_set_new(
			    rec, "police",
			    json_pack("{sOsO}", "role", role, "shown", shown));
		}
	}
	if (consent) {
		if (json_is_null(consent)) {
			if (json_is_string(date)) {
				s_row_problem(imp, row, KP_EINVAL,
					      "consent_date goes with consent "
					      "yes or no: fill in consent, or "
					      "clear the date");
				return S_ROW_BAD;
			}
			json_object_set_new(rec, "consent",
					    json_pack("{sb}", "share", 0));
		} else {
			json_object_set_new(
			    rec, "consent",
			    json_pack("{sbss}", "share", json_is_true(consent),
				      "date",
				      json_is_string(date)
					  ? json_string_value(date)
					  : imp->today));
		}
	} else if (!json_object_get(rec, "consent")) {
		/* As 'volunteer add' without --consent: not asked. */
		json_object_set_new(rec, "consent",
				    json_pack("{sb}", "share", 0));
	}
	return KP_OK;
}

/* Checks of a replaced record against its assignments, as 'activity
 * update' and 'activity assign' check: single-date assignments need their
 * date in the new schedule, and a police certificate must stay shown
 * while an activity that requires one has the volunteer. */
struct s_assign_check {
	struct s_imp *imp;
	const struct s_row *row;
	kp_txn *txn;
	const char *id;
	const json_t *rec;
	bool bad;
};

static int s_assign_row(const struct kp_id *aid, json_t *a, void *arg)
{
	struct s_assign_check *ck = arg;
	struct s_imp *imp = ck->imp;
	char t[KP_TIME_STRLEN];
	(void)aid;

	if (ck->bad)
		return KP_OK;
	if (imp->kind == KP_ACTIVITY) {
		const json_t *occ = json_object_get(a, "occurrence");
		if (strcmp(kp_rec_str(a, "activity", ""), ck->id))
			return KP_OK;
		if (json_is_integer(occ)) {
			int y, m, d;
			int64_t start, end;
			kp_local_parts(json_integer_value(occ), &y, &m, &d,
				       NULL, NULL);
			if (kp_occurrence_on(ck->rec, y, m, d, &start, &end) !=
				KP_OK ||
			    start != json_integer_value(occ)) {
				kp_time_format(json_integer_value(occ), t);
				s_row_problem(
				    imp, ck->row, KP_EINVAL,
				    "activity %s has volunteer %s assigned to "
				    "%s, which the new schedule does not "
				    "have: change the schedule with 'knute "
				    "activity update %s' (it moves such "
				    "assignments)",
				    ck->id, kp_rec_str(a, "volunteer", "?"), t,
				    ck->id);
				ck->bad = true;
				return KP_OK;
			}
		}
		if (kp_rec_bool(ck->rec, "police_required", false)) {
			struct kp_id vid;
			char err[KP_ERR_MAX];
			json_t *vol;
			int rc;
			if (kp_id_parse(kp_rec_str(a, "volunteer", ""), NULL,
					KP_VOLUNTEER, &vid, err))
				return KP_OK;
			rc = kp_txn_get(ck->txn, &vid, &vol);
			if (rc == KP_ENOTFOUND)
				return KP_OK;
			if (rc)
				return rc;
			if (kp_police_check(vol, ck->rec) == KP_EPOLICE) {
				s_row_problem(
				    imp, ck->row, KP_EINVAL,
				    "activity %s cannot require a police "
				    "certificate while volunteer %s (%s), "
				    "who has shown none, is assigned: "
				    "record it with 'knute volunteer update "
				    "%s --police-role ROLE --police-shown "
				    "DATE', or unassign them",
				    ck->id, kp_rec_str(a, "volunteer", ""),
				    kp_rec_str(vol, "name", ""),
				    kp_rec_str(a, "volunteer", ""));
				ck->bad = true;
			}
			json_decref(vol);
		}
		return KP_OK;
	}
	/* A volunteer whose certificate the file clears. */
	if (strcmp(kp_rec_str(a, "volunteer", ""), ck->id) == 0) {
		struct kp_id act_id;
		char err[KP_ERR_MAX];
		json_t *act;
		int rc;
		if (kp_id_parse(kp_rec_str(a, "activity", ""), NULL,
				KP_ACTIVITY, &act_id, err))
			return KP_OK;
		rc = kp_txn_get(ck->txn, &act_id, &act);
		if (rc == KP_ENOTFOUND)
			return KP_OK;
		if (rc)
			return rc;
		if (kp_police_check(ck->rec, act) == KP_EPOLICE) {
			s_row_problem(imp, ck->row, KP_EINVAL,
				      "volunteer %s is assigned to activity "
				      "%s (%s), which requires a police "
				      "certificate: keep police_role and "
				      "police_shown, or unassign them first",
				      ck->id, kp_rec_str(a, "activity", ""),
				      kp_rec_str(act, "title", ""));
			ck->bad = true;
		}
		json_decref(act);
	}
	return KP_OK;
}

static int s_assign_checks(struct s_imp *imp, kp_txn *txn,
			   const struct s_row *row, const json_t *rec)
{
	char id[KP_ID_STRLEN];
	struct s_assign_check ck = {imp, row, txn, id, rec, false};
	int rc;

	if (!row->old)
		return KP_OK;
	if (imp->kind == KP_VOLUNTEER && (json_object_get(rec, "police") ||
					  !json_object_get(row->old, "police")))
		return KP_OK;
	kp_id_format(&row->id, id);
	rc = kp_txn_each(txn, KP_ASSIGNMENT, s_assign_row, &ck);
	if (rc)
		return rc;
	return ck.bad ? S_ROW_BAD : KP_OK;
}

/* "2026-12-01 17:00-19:00", with the end's date when it differs. */
static void s_span(int64_t start, int64_t end, char *buf, size_t len)
{
	char a[KP_TIME_STRLEN], b[KP_TIME_STRLEN];
	kp_time_format(start, a);
	kp_time_format(end, b);
	if (!strncmp(a, b, 10))
		snprintf(buf, len, "%s-%s", a, b + 11);
	else
		snprintf(buf, len, "%s - %s", a, b);
}

/* The clash lines of a refused activity. A clash with a row written
 * earlier in this transaction names the row: its id will not exist, as
 * nothing is written. */
static void s_clash_problems(struct s_imp *imp, const struct s_row *row,
			     const struct kp_clashes *c)
{
	for (size_t i = 0; i < c->n; i++) {
		const struct kp_clash *cl = &c->items[i];
		char line[600], other[KP_ID_STRLEN], a[80], b[80];
		json_t *r = NULL;
		if (cl->why == KP_CLASH_BOOKED) {
			kp_id_format(&cl->with.owner, other);
			r = json_object_get(imp->row_of, other);
		}
		if (!r) {
			kp_clash_describe(cl, line, sizeof line);
			s_row_problem(imp, row, KP_ECLASH, "%s", line);
			continue;
		}
		s_span(cl->start, cl->end, a, sizeof a);
		s_span(cl->with.start, cl->with.end, b, sizeof b);
		s_row_problem(imp, row, KP_ECLASH,
			      "%s clashes with the activity on row %lld of "
			      "the file (%s, %s)",
			      a, (long long)json_integer_value(r), cl->with_org,
			      b);
	}
}

/* Step 2 for one row: merge, check, hold the room, write. KP_OK or
 * S_ROW_BAD (a problem recorded), or a store error. */
static int s_apply_row(struct s_imp *imp, kp_txn *txn, struct s_row *row)
{
	json_t *rec = row->old ? json_deep_copy(row->old) : json_object();
	struct kp_clashes clashes = {0};
	char err[KP_ERR_MAX], text[KP_ID_STRLEN];
	struct kp_id id;
	int rc;

	if (!rec)
		return KP_ENOMEM;
	s_merge(imp, row, rec);
	if (imp->kind == KP_ACTIVITY && !row->old) {
		if (!json_object_get(rec, "status"))
			json_object_set_new(rec, "status",
					    json_string("active"));
		if (!json_object_get(rec, "police_required"))
			json_object_set_new(rec, "police_required",
					    json_false());
	}
	if ((rc = s_required(imp, row, rec)))
		goto out;
	if (imp->kind == KP_ACTIVITY && ((rc = s_series(imp, row, rec)) ||
					 (rc = s_resolve_room(imp, row, rec))))
		goto out;
	if (imp->kind == KP_VOLUNTEER &&
	    (rc = s_volunteer_fields(imp, row, rec)))
		goto out;
	if (kp_model_validate(imp->kind, rec, err)) {
		s_row_problem(imp, row, KP_EINVAL, "%s", err);
		rc = S_ROW_BAD;
		goto out;
	}
	if ((rc = s_assign_checks(imp, txn, row, rec)))
		goto out;
	if (row->has_id)
		id = row->id;
	else if ((rc = kp_txn_new_id(txn, imp->kind, &id)))
		goto out;
	if (imp->kind == KP_ACTIVITY && json_object_get(rec, "room") &&
	    strcmp(kp_rec_str(rec, "status", ""), "cancelled")) {
		rc = kp_hold_room(txn, &id, rec, false, &clashes);
		if (rc == KP_ECLASH) {
			s_clash_problems(imp, row, &clashes);
			rc = S_ROW_BAD;
			goto out;
		}
		if (rc == KP_ENOTFOUND || rc == KP_EINVAL) {
			s_row_problem(imp, row, KP_ENOTFOUND,
				      "no room %s at this hub",
				      kp_rec_str(rec, "room", "?"));
			rc = S_ROW_BAD;
			goto out;
		}
		if (rc)
			goto out;
	}
	if ((rc = kp_txn_put(txn, &id, rec)))
		goto out;
	kp_id_format(&id, text);
	if (json_object_set_new(imp->row_of, text, json_integer(row->number)) ||
	    json_array_append_new(imp->ids, json_string(text))) {
		rc = KP_ENOMEM;
		goto out;
	}
	if (row->old)
		imp->replaced++;
	else
		imp->created++;
out:
	kp_clashes_free(&clashes);
	json_decref(rec);
	return rc;
}

static int s_import_txn(kp_txn *txn, void *arg)
{
	struct s_imp *imp = arg;
	int rc;

	/* The store may run this again (a map grown): start afresh. */
	s_problems_clear(&imp->late);
	imp->created = imp->replaced = 0;
	json_object_clear(imp->room_ids);
	json_object_clear(imp->room_names);
	json_object_clear(imp->row_of);
	json_array_clear(imp->ids);
	for (size_t i = 0; i < imp->nrows; i++) {
		json_decref(imp->rows[i].old);
		imp->rows[i].old = NULL;
	}
	if (imp->kind == KP_ACTIVITY &&
	    (rc = kp_txn_each(txn, KP_ROOM, s_room_index, imp)))
		return rc;
	/* Ids the file gives: the stored record they replace, or a fresh
	 * id the counters must move past before new ids are handed out. */
	for (size_t i = 0; i < imp->nrows; i++) {
		struct s_row *row = &imp->rows[i];
		bool fresh;
		if (!row->has_id)
			continue;
		rc = kp_txn_get(txn, &row->id, &row->old);
		if (rc == KP_ENOTFOUND)
			rc = kp_txn_id_seen(txn, &row->id, &fresh);
		if (rc)
			return rc;
	}
	/* The slots of replaced activities are freed before any row holds
	 * new ones. */
	for (size_t i = 0; i < imp->nrows; i++) {
		struct s_row *row = &imp->rows[i];
		if (imp->kind != KP_ACTIVITY || row->bad || !row->old ||
		    !json_object_get(row->old, "room") ||
		    !strcmp(kp_rec_str(row->old, "status", ""), "cancelled"))
			continue;
		if ((rc = kp_release_room(txn, &row->id, row->old)))
			return rc;
	}
	for (size_t i = 0; i < imp->nrows; i++) {
		if (imp->rows[i].bad)
			continue;
		rc = s_apply_row(imp, txn, &imp->rows[i]);
		if (rc && rc != S_ROW_BAD)
			return rc;
	}
	if (imp->late.nomem)
		return KP_ENOMEM;
	/* Written whole or not at all. */
	return imp->early.n || imp->late.n ? KP_ECLASH : KP_OK;
}

/* List the problems; returns the exit code of the first. */
static int s_refuse(struct s_imp *imp, const char *path)
{
	struct s_problems all = {0};
	size_t bad_rows = 0;
	int last_row = -1, code;

	for (size_t i = 0; i < imp->early.n; i++)
		s_problem(&all, imp->early.v[i].row, imp->early.v[i].code, "%s",
			  imp->early.v[i].text);
	for (size_t i = 0; i < imp->late.n; i++)
		s_problem(&all, imp->late.v[i].row, imp->late.v[i].code, "%s",
			  imp->late.v[i].text);
	if (all.nomem) {
		s_problems_free(&all);
		return KP_ENOMEM;
	}
	qsort(all.v, all.n, sizeof *all.v, s_problem_cmp);
	for (size_t i = 0; i < all.n; i++)
		if (all.v[i].row != last_row) {
			bad_rows++;
			last_row = all.v[i].row;
		}
	code = all.v[0].code;
	if (all.v[0].row == 1 && imp->seen == 0)
		cli_fail(imp->cli, code,
			 "import-csv refused, nothing was written: the header "
			 "row of %s has %s (fix %s and run the import again):",
			 path, all.n == 1 ? "a problem" : "problems",
			 all.n == 1 ? "it" : "them");
	else
		cli_fail(imp->cli, code,
			 "import-csv refused, nothing was written: %zu of %zu "
			 "rows %s (fix %s and run the import again):",
			 bad_rows, imp->seen,
			 bad_rows == 1 ? "has a problem" : "have problems",
			 bad_rows == 1 ? "it" : "them");
	for (size_t i = 0; i < all.n && i < S_PROBLEMS_MAX; i++)
		fprintf(stderr, "  row %d: %s\n", all.v[i].row, all.v[i].text);
	if (all.n > S_PROBLEMS_MAX)
		fprintf(stderr, "  and %zu more\n", all.n - S_PROBLEMS_MAX);
	s_problems_free(&all);
	return code;
}

static int s_import_csv(struct cli *cli)
{
	struct s_imp imp = {.cli = cli};
	const char *kind = cli_opt(cli, "kind");
	char *data = NULL;
	size_t len = 0;
	int rc, y, m, d;

	if (kp_store_is_central(cli->store))
		return cli_fail(cli, KP_EINVAL,
				"import-csv runs at a hub, and %s is central's "
				"store: give --data the directory of a hub's "
				"store",
				cli->data);
	if (!kind)
		return cli_fail(cli, KP_EINVAL,
				"say what the file holds: --kind room, "
				"--kind activity or --kind volunteer");
	imp.kind = kp_kind_from_name(kind);
	if (imp.kind != KP_ROOM && imp.kind != KP_ACTIVITY &&
	    imp.kind != KP_VOLUNTEER)
		return cli_fail(cli, KP_EINVAL,
				"--kind '%.40s' cannot be imported from CSV: "
				"give room, activity or volunteer (bookings "
				"go through 'knute booking add' or 'knute "
				"import')",
				kind);
	if (cli->npos == 0)
		return cli_fail(cli, KP_EINVAL,
				"say which file: knute import-csv --kind %s "
				"FILE.csv ('-' reads standard input)",
				kind);
	if (cli->npos > 1)
		return cli_fail(cli, KP_EINVAL,
				"unexpected argument '%s': give one file",
				cli->pos[1]);
	imp.cols = s_cols_of(imp.kind);
	imp.hub = kp_store_hub(cli->store);
	imp.new_ids = cli_flag(cli, "new-ids");
	kp_local_parts(kp_now(), &y, &m, &d, NULL, NULL);
	kp_date_format(y, m, d, imp.today);
	imp.this_year = y;
	imp.room_ids = json_object();
	imp.room_names = json_object();
	imp.row_of = json_object();
	imp.ids = json_array();
	if (!imp.room_ids || !imp.room_names || !imp.row_of || !imp.ids) {
		rc = KP_ENOMEM;
		goto out;
	}
	if ((rc = s_read_file(cli, cli->pos[0], &data, &len)))
		goto out;
	if ((rc = s_read_rows(&imp, data, len)))
		goto out;
	if (imp.early.n && imp.nrows == 0) {
		rc = s_refuse(&imp, cli->pos[0]);
		goto out;
	}
	rc = kp_store_write(cli->store, s_import_txn, &imp);
	if (rc == KP_ECLASH && (imp.early.n || imp.late.n)) {
		rc = s_refuse(&imp, cli->pos[0]);
		goto out;
	}
	if (rc)
		goto out;
	if (cli->json) {
		cli_print_json(json_pack(
		    "{sIsssIsIsIsO}", "imported",
		    (json_int_t)(imp.created + imp.replaced), "kind",
		    kp_kind_name(imp.kind), "created", (json_int_t)imp.created,
		    "replaced", (json_int_t)imp.replaced, "rows",
		    (json_int_t)imp.nrows, "ids", imp.ids));
	} else {
		printf("imported %zu %s (%zu new, %zu replaced)\n",
		       imp.created + imp.replaced,
		       s_plural(imp.kind, imp.created + imp.replaced),
		       imp.created, imp.replaced);
	}
out:
	for (size_t i = 0; i < imp.nrows; i++) {
		json_decref(imp.rows[i].patch);
		json_decref(imp.rows[i].old);
	}
	free(imp.rows);
	free(imp.map);
	free(data);
	s_problems_free(&imp.early);
	s_problems_free(&imp.late);
	json_decref(imp.room_ids);
	json_decref(imp.room_names);
	json_decref(imp.row_of);
	json_decref(imp.ids);
	return rc;
}

/* ---- the command table ---- */

#define S_EXPORT_HELP                                                          \
	"Times are local, Europe/Oslo: in iCalendar always (with its "         \
	"VTIMEZONE), in CSV unless --tz. Output goes to stdout.\n"

const struct cli_command cli_export_commands[] = {
    {"booking", "export", s_booking_export, "format room hub",
     "booking export --format ics|csv [--room ID]",
     "Write the hub's bookings as an iCalendar feed (RFC 5545: one VEVENT "
     "per booking, weekly series as RRULE, cancelled dates as EXDATE, "
     "STATUS TENTATIVE for pending) or as CSV with a header row.\n"
     "  --room ID   only the bookings of that room\n"
     "  --hub ID    at central: only that hub's bookings\n" S_EXPORT_HELP,
     false},
    {"activity", "export", s_activity_export, "format room hub",
     "activity export --format ics|csv [--room ID]",
     "Write the hub's activities as an iCalendar feed or as CSV (the "
     "columns 'knute import-csv --kind activity' reads).\n"
     "  --room ID   only the activities in that room\n"
     "  --hub ID    at central: only that hub's activities\n" S_EXPORT_HELP,
     false},
    {"room", "export", s_room_export, "format hub", "room export --format csv",
     "Write the hub's rooms as CSV (the columns 'knute import-csv --kind "
     "room' reads).",
     false},
    {"volunteer", "export", s_volunteer_export, "format include-personal",
     "volunteer export --format csv [--include-personal]",
     "Write the hub's volunteers as CSV. The personal fields (name, "
     "phone, email, birth_year, police_role, police_shown) are written "
     "only with --include-personal, and only at the volunteer's own hub "
     "(refused at central).",
     false},
    {"import-csv", NULL, s_import_csv, "kind new-ids",
     "import-csv --kind room|activity|volunteer FILE [--new-ids]",
     "Import rooms, activities or volunteers from a spreadsheet saved as "
     "CSV (UTF-8; ',' ';' or tab between cells). The first row names the "
     "columns, as the exports write them; times are local "
     "\"YYYY-MM-DD HH:MM\". A row whose id is stored replaces that "
     "record (columns the file lacks keep their values); other rows are "
     "new records. Every row is checked first, with the rules of the "
     "commands (activities with a room under the clash rule): one bad "
     "row refuses the whole file, listed by row number, and nothing is "
     "written.\n"
     "  --new-ids   ignore the id column: every row is a new record (a "
     "file exported at another hub; rooms are then found by room_name)",
     false},
    {0},
};
