/*
 * cmd_sync.c - knute hubs | overview | deadletters | verify, and what
 * status and the list commands' --all-hubs show of sync (cmd_sync.h).
 *
 * These commands read the meta keys and tables the daemons write
 * (docs/protocol.md, "Storage") and never write: they work while the
 * daemons run, and while they do not. verify is the one that talks to
 * central, with a DEALER socket of its own (DESIGN.md section 5).
 */
#include "cmd_sync.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <zmq.h>

#include "codec.h"
#include "hubsync.h"
#include "knute/error.h"
#include "knute/ktime.h"
#include "model.h"
#include "rules.h"
#include "wire.h"

#define S_REACHABLE_S	   5  /* central is reachable this long after */
#define S_ONLINE_S	   6  /* a hub seen this recently is online */
#define S_NAME_MAX	   50 /* ids verify names per kind of difference */
#define S_VERIFY_TIMEOUT_S 10 /* seconds central may be silent */

/* ---- meta and time ---- */

/* A meta value that is a whole number; 0 when unset or not a number. */
static uint64_t s_meta_u64(kp_txn *txn, const char *key)
{
	char buf[32], *end;
	unsigned long long v;
	if (kp_txn_meta_get(txn, key, buf, sizeof buf) || !buf[0])
		return 0;
	v = strtoull(buf, &end, 10);
	return *end || buf[0] == '-' ? 0 : (uint64_t)v;
}

static void s_meta_text(kp_txn *txn, const char *key, char *buf, size_t len)
{
	if (kp_txn_meta_get(txn, key, buf, len))
		buf[0] = 0;
}

const char *cli_zone(void)
{
	const char *tz = getenv("TZ");
	return tz && tz[0] ? tz : KP_TZ_DEFAULT;
}

void cli_time_secs(int64_t t, char *buf)
{
	size_t n;
	kp_time_format(t, buf);
	n = strlen(buf);
	/* Every zone in use has whole-minute offsets, so the local second
	 * is the UTC one. */
	if (n + 4 <= KP_TIME_STRLEN && strcmp(buf, "?"))
		snprintf(buf + n, KP_TIME_STRLEN - n, ":%02d",
			 (int)(((t % 60) + 60) % 60));
}

/* An instant as ISO UTC text in a new JSON string, or null for 0. */
static json_t *s_iso_or_null(int64_t t)
{
	char buf[KP_TIME_STRLEN];
	if (t <= 0)
		return json_null();
	kp_time_format_utc(t, buf);
	return json_string(buf);
}

/* ---- the link to central and the mirror, at a hub ---- */

/* Counts the distinct hubs of the mirror by jumping from one hub's first
 * key past all its keys, so a mirror of a million records costs a few
 * lookups per hub. */
struct s_first_key {
	uint8_t next[KP_KEY_MAX + 2];
	size_t nlen;
	bool found;
};

static int s_first_key(const void *key, size_t klen, const void *val,
		       size_t vlen, void *arg)
{
	struct s_first_key *f = arg;
	const uint8_t *nul = memchr(key, 0, klen);
	(void)val;
	(void)vlen;
	if (nul && (size_t)(nul - (const uint8_t *)key) <= KP_HUB_ID_MAX) {
		/* hub, then 0x01: sorts after every key "hub\0...". */
		f->nlen = (size_t)(nul - (const uint8_t *)key);
		memcpy(f->next, key, f->nlen);
		f->next[f->nlen++] = 1;
	} else if (klen <= KP_KEY_MAX) {
		/* Not a record key: step to the key just after it. */
		memcpy(f->next, key, klen);
		f->next[klen] = 0;
		f->nlen = klen + 1;
	} else {
		return KP_ECORRUPT;
	}
	f->found = true;
	return 1;
}

static int s_mirror_hubs(kp_txn *txn, uint64_t *hubs)
{
	struct s_first_key f = {.nlen = 0};
	int rc;

	*hubs = 0;
	for (;;) {
		f.found = false;
		rc = kp_txn_teach(txn, KP_T_MIRROR, f.nlen ? f.next : NULL,
				  f.nlen, NULL, 0, s_first_key, &f);
		if (rc < 0)
			return rc;
		if (!f.found)
			return KP_OK;
		++*hubs;
	}
}

int cli_link_read(kp_txn *txn, struct cli_link *l)
{
	int rc;
	int64_t now = kp_now();

	memset(l, 0, sizeof *l);
	s_meta_text(txn, "central_addr", l->central_addr,
		    sizeof l->central_addr);
	s_meta_text(txn, "central_session", l->session, sizeof l->session);
	s_meta_text(txn, "mirror_state", l->mirror_state,
		    sizeof l->mirror_state);
	l->contact = (int64_t)s_meta_u64(txn, "central_contact");
	l->reachable = !strcmp(l->session, "up") && l->contact > 0 &&
		       now - l->contact <= S_REACHABLE_S;
	l->head = kp_txn_head_seq(txn);
	l->acked = s_meta_u64(txn, "acked_seq");
	l->down_seq = s_meta_u64(txn, "down_seq");
	l->mirror_at = (int64_t)s_meta_u64(txn, "mirror_at");
	if ((rc = kp_txn_tcount(txn, KP_T_MIRROR, &l->mirror_records)) ||
	    (rc = s_mirror_hubs(txn, &l->mirror_hubs)) ||
	    (rc = kp_txn_tcount(txn, KP_T_DEAD, &l->dead)))
		return rc;
	return KP_OK;
}

static const char *s_plural(uint64_t n, const char *one, const char *many)
{
	return n == 1 ? one : many;
}

void cli_mirror_note(const struct cli_link *l, char *buf, size_t len)
{
	char at[KP_TIME_STRLEN];

	if (!l->mirror_at && !l->down_seq && !l->mirror_records) {
		snprintf(buf, len, "mirror: never received from central yet");
		return;
	}
	if (l->mirror_at)
		kp_time_format(l->mirror_at, at);
	else
		snprintf(at, sizeof at, "at an unknown time");
	snprintf(buf, len,
		 "mirror of other districts: updated %s (%s), %" PRIu64
		 " %s, %" PRIu64 " %s%s",
		 at, cli_zone(), l->mirror_hubs,
		 s_plural(l->mirror_hubs, "hub", "hubs"), l->mirror_records,
		 s_plural(l->mirror_records, "record", "records"),
		 !strcmp(l->mirror_state, "rebuilding")
		     ? "; being rebuilt by central, incomplete until it is done"
		     : "");
}

/* ---- --all-hubs ---- */

struct s_mirror_walk {
	char kind;
	const char *own;
	kp_record_fn fn;
	void *arg;
};

static int s_mirror_row(const void *key, size_t klen, const void *val,
			size_t vlen, void *arg)
{
	struct s_mirror_walk *w = arg;
	struct kp_id id;
	json_t *rec;
	int rc;

	if ((rc = kp_key_id(key, klen, &id)))
		return rc;
	if (id.kind != w->kind || !strcmp(id.hub, w->own))
		return KP_OK;
	if ((rc = kp_codec_decode(val, vlen, &rec)))
		return rc;
	rc = json_is_object(rec) ? w->fn(&id, rec, w->arg) : KP_ECORRUPT;
	json_decref(rec);
	return rc;
}

int cli_sync_each(struct cli *cli, kp_txn *txn, char kind, kp_record_fn fn,
		  void *arg)
{
	struct s_mirror_walk w = {kind, kp_store_hub(cli->store), fn, arg};
	int rc;

	if (!cli_flag(cli, "all-hubs"))
		return kp_txn_each(txn, kind, fn, arg);
	if (kp_store_is_central(cli->store))
		return cli_fail(cli, KP_EINVAL,
				"--all-hubs is for a hub's store; central "
				"holds every district's records: 'knute "
				"overview' shows them");
	if (!cli->json) {
		struct cli_link link;
		char note[300];
		if ((rc = cli_link_read(txn, &link)))
			return rc;
		cli_mirror_note(&link, note, sizeof note);
		fprintf(stderr, "%s%s\n", note,
			link.mirror_records ? ""
					    : " (only this hub's records are "
					      "shown)");
	}
	if ((rc = kp_txn_each(txn, kind, fn, arg)))
		return rc;
	return kp_txn_teach(txn, KP_T_MIRROR, NULL, 0, NULL, 0, s_mirror_row,
			    &w);
}

/* ---- hubs (at central) ---- */

static int s_need_central(struct cli *cli, const char *what)
{
	if (kp_store_is_central(cli->store))
		return KP_OK;
	return cli_fail(cli, KP_EINVAL,
			"%s is a central command, and %s is hub %s's store: "
			"give --data the directory of central's store (made "
			"with 'knute init --central'); at a hub 'knute status' "
			"shows the link to central",
			what, cli->data, kp_store_hub(cli->store));
}

static int s_need_hub(struct cli *cli, const char *what, const char *fix)
{
	if (!kp_store_is_central(cli->store))
		return KP_OK;
	return cli_fail(cli, KP_EINVAL,
			"%s runs at a hub, and %s is central's store: give "
			"--data the directory of a hub's store%s",
			what, cli->data, fix);
}

struct s_hubs {
	int64_t now;
	int online_s;
	bool extra;
	json_t *out;
};

/* A registry number: 0 when absent or negative. */
static uint64_t s_reg_u64(const json_t *o, const char *field)
{
	int64_t v = kp_rec_int(o, field, 0);
	return v > 0 ? (uint64_t)v : 0;
}

static int s_hubs_row(const void *key, size_t klen, const void *val,
		      size_t vlen, void *arg)
{
	struct s_hubs *h = arg;
	char id[KP_HUB_ID_MAX + 1];
	uint64_t head, app, dl;
	int64_t seen;
	bool online;
	json_t *o, *row;

	if (klen == 0 || klen > KP_HUB_ID_MAX || memchr(key, 0, klen))
		return KP_ECORRUPT;
	memcpy(id, key, klen);
	id[klen] = 0;
	if (kp_codec_decode(val, vlen, &o))
		return KP_ECORRUPT;
	if (!json_is_object(o)) {
		json_decref(o);
		return KP_ECORRUPT;
	}
	head = s_reg_u64(o, "head");
	app = s_reg_u64(o, "applied");
	dl = s_reg_u64(o, "dead");
	seen = kp_rec_int(o, "seen", 0);
	online = seen > 0 && h->now - seen <= h->online_s;
	row = json_pack("{sssssbsosIsIsIsIsIss}", "id", id, "name",
			kp_rec_str(o, "name", id), "online", online,
			"last_seen", s_iso_or_null(seen), "applied_seq",
			(json_int_t)app, "head_seq", (json_int_t)head,
			"backlog", (json_int_t)(head > app ? head - app : 0),
			"dead_letters", (json_int_t)dl, "mirror_seq",
			(json_int_t)s_reg_u64(o, "dseq"), "incarnation",
			kp_rec_str(o, "inc", ""));
	if (row && h->extra &&
	    (json_object_set_new(row, "seen_s",
				 json_integer(seen > 0 ? seen : 0)) ||
	     json_object_set_new(
		 row, "up_s", json_integer((json_int_t)s_reg_u64(o, "up"))))) {
		json_decref(row);
		row = NULL;
	}
	json_decref(o);
	if (!row || json_array_append_new(h->out, row))
		return KP_ENOMEM;
	return KP_OK;
}

int cli_hubs_json(kp_txn *txn, int64_t now, int online_s, bool extra,
		  json_t *rows)
{
	struct s_hubs h = {now, online_s, extra, rows};
	return kp_txn_teach(txn, KP_T_HUBS, NULL, 0, NULL, 0, s_hubs_row, &h);
}

static int s_hubs_txn(kp_txn *txn, void *arg)
{
	return cli_hubs_json(txn, kp_now(), S_ONLINE_S, false, arg);
}

/* One row of the hubs table, from the row of hubs --json. */
static void s_hubs_table_row(struct cli_table *table, const json_t *row)
{
	char seen_text[KP_TIME_STRLEN], applied[24], backlog[24], dead[24];
	const char *id = kp_rec_str(row, "id", "");
	const char *seen_iso = kp_rec_str(row, "last_seen", "");
	int64_t seen;

	if (seen_iso[0] && kp_time_parse(seen_iso, &seen) == KP_OK)
		cli_time_secs(seen, seen_text);
	else
		snprintf(seen_text, sizeof seen_text, "never");
	snprintf(applied, sizeof applied, "%lld",
		 (long long)kp_rec_int(row, "applied_seq", 0));
	snprintf(backlog, sizeof backlog, "%lld",
		 (long long)kp_rec_int(row, "backlog", 0));
	snprintf(dead, sizeof dead, "%lld",
		 (long long)kp_rec_int(row, "dead_letters", 0));
	const char *cells[] = {id,
			       kp_rec_str(row, "name", id),
			       kp_rec_bool(row, "online", false) ? "online"
								 : "offline",
			       seen_text,
			       applied,
			       backlog,
			       dead};
	cli_table_row(table, cells);
}

static int s_hubs(struct cli *cli)
{
	char seen_head[64];
	const char *head[] = {"HUB",	 "NAME",    "STATE", seen_head,
			      "APPLIED", "BACKLOG", "DEAD"};
	struct cli_table *table = NULL;
	json_t *rows = NULL, *row;
	size_t i;
	int rc;

	if (cli->npos)
		return cli_fail(cli, KP_EINVAL, "unexpected argument '%s'",
				cli->pos[0]);
	if ((rc = s_need_central(cli, "hubs")))
		return rc;
	snprintf(seen_head, sizeof seen_head, "LAST SEEN (%s)", cli_zone());
	rows = json_array();
	table = cli_table_new(7, head);
	if (!rows || !table) {
		rc = KP_ENOMEM;
		goto out;
	}
	rc = kp_store_read(cli->store, s_hubs_txn, rows);
	if (rc == KP_ECORRUPT)
		rc = cli_fail(cli, rc,
			      "central's hub registry holds an entry that does "
			      "not decode (%s): restore the store from a "
			      "backup",
			      cli->data);
	if (rc)
		goto out;
	if (cli->json) {
		cli_print_json(json_incref(rows));
	} else if (json_array_size(rows) == 0) {
		printf("no hub has connected to this central yet: start "
		       "'knute-hub --data DIR --central ADDR' at a district\n");
	} else {
		json_array_foreach(rows, i, row) s_hubs_table_row(table, row);
		cli_table_print(table);
	}
out:
	json_decref(rows);
	cli_table_free(&table);
	return rc;
}

/* ---- deadletters (central and hub) ---- */

struct s_dead {
	struct cli *cli;
	const char *hub; /* --hub filter, or NULL */
	json_t *out;
	struct cli_table *table;
	size_t rows;
};

static int s_dead_row(const void *key, size_t klen, const void *val,
		      size_t vlen, void *arg)
{
	struct s_dead *d = arg;
	char no[24], seq[24], at[KP_TIME_STRLEN];
	uint64_t number;
	json_t *o = NULL;

	if (klen != 8)
		return KP_ECORRUPT;
	number = kp_be64_get(key);
	/* A dead letter is kept because something about it was wrong; one
	 * that does not even decode is still listed, not skipped. */
	if (kp_codec_decode(val, vlen, &o) || !json_is_object(o)) {
		json_decref(o);
		o = json_pack("{ss}", "reason",
			      "(this dead letter does not decode)");
		if (!o)
			return KP_ENOMEM;
	}
	if (d->hub && strcmp(kp_rec_str(o, "hub", ""), d->hub)) {
		json_decref(o);
		return KP_OK;
	}
	d->rows++;
	if (d->cli->json) {
		json_t *row = json_pack(
		    "{sIsssssOsssosO?}", "number", (json_int_t)number, "id",
		    kp_rec_str(o, "id", ""), "hub", kp_rec_str(o, "hub", ""),
		    "seq", json_object_get(o, "seq") ?: json_null(), "reason",
		    kp_rec_str(o, "reason", ""), "at",
		    s_iso_or_null(kp_rec_int(o, "at", 0)), "entry",
		    json_object_get(o, "entry"));
		json_decref(o);
		if (!row || json_array_append_new(d->out, row))
			return KP_ENOMEM;
		return KP_OK;
	}
	snprintf(no, sizeof no, "%" PRIu64, number);
	if (json_is_integer(json_object_get(o, "seq")))
		snprintf(seq, sizeof seq, "%lld",
			 (long long)kp_rec_int(o, "seq", 0));
	else
		snprintf(seq, sizeof seq, "-");
	if (kp_rec_int(o, "at", 0) > 0)
		cli_time_secs(kp_rec_int(o, "at", 0), at);
	else
		snprintf(at, sizeof at, "-");
	const char *cells[] = {no,
			       at,
			       kp_rec_str(o, "hub", "-"),
			       seq,
			       kp_rec_str(o, "id", "-"),
			       kp_rec_str(o, "reason", "")};
	cli_table_row(d->table, cells);
	json_decref(o);
	return KP_OK;
}

static int s_dead_txn(kp_txn *txn, void *arg)
{
	return kp_txn_teach(txn, KP_T_DEAD, NULL, 0, NULL, 0, s_dead_row, arg);
}

static int s_deadletters(struct cli *cli)
{
	char at_head[64];
	const char *head[] = {"NO", at_head, "HUB", "SEQ", "ID", "REASON"};
	struct s_dead d = {.cli = cli, .hub = cli_opt(cli, "hub")};
	int rc;

	if (cli->npos)
		return cli_fail(cli, KP_EINVAL, "unexpected argument '%s'",
				cli->pos[0]);
	if (d.hub && !kp_hub_id_valid(d.hub))
		return cli_fail(cli, KP_EINVAL,
				"--hub '%s' is not a hub id: give one such as "
				"'fjell' ('knute hubs' lists them)",
				d.hub);
	snprintf(at_head, sizeof at_head, "AT (%s)", cli_zone());
	d.out = json_array();
	d.table = cli_table_new(6, head);
	if (!d.out || !d.table) {
		rc = KP_ENOMEM;
		goto out;
	}
	rc = kp_store_read(cli->store, s_dead_txn, &d);
	if (rc == KP_ECORRUPT)
		rc = cli_fail(cli, rc,
			      "the dead-letter table of %s has a key that is "
			      "not a number: restore the store from a backup",
			      cli->data);
	if (rc)
		goto out;
	if (cli->json)
		cli_print_json(json_incref(d.out));
	else if (d.rows == 0)
		printf("no dead letters%s%s: nothing was refused\n",
		       d.hub ? " of hub " : "", d.hub ? d.hub : "");
	else
		cli_table_print(d.table);
out:
	json_decref(d.out);
	cli_table_free(&d.table);
	return rc;
}

/* ---- overview (at central) ---- */

struct s_overview {
	int64_t week_from, week_to; /* [Monday 00:00, next Monday 00:00) */
	json_t *districts;	    /* hub id -> district object */
	cli_overview_fn fn;	    /* the caller's look at every record */
	void *arg;
};

/* counts[key] += 1. */
static int s_bump(json_t *counts, const char *key)
{
	json_t *v = json_object_get(counts, key);
	return json_object_set_new(
	    counts, key, json_integer(v ? json_integer_value(v) + 1 : 1));
}

/* The district object of hub, made on first use. */
static json_t *s_district(struct s_overview *ov, const char *hub)
{
	json_t *d = json_object_get(ov->districts, hub);
	if (d)
		return d;
	d = json_pack("{s:s, s:s, s:s, s:i, s:{s:i, s:{}, s:{}}, s:i, "
		      "s:{s:i, s:{}, s:[]}}",
		      "id", hub, "hub", hub, "name", hub, "rooms", 0,
		      "activities", "count", 0, "by_category", "by_target",
		      "bookings_this_week", 0, "volunteers", "count", 0,
		      "by_skill", "consenting");
	if (!d || json_object_set_new(ov->districts, hub, d))
		return NULL;
	return d;
}

static int s_add_int(json_t *obj, const char *key, json_int_t n)
{
	json_t *v = json_object_get(obj, key);
	return json_object_set_new(
	    obj, key, json_integer((v ? json_integer_value(v) : 0) + n));
}

struct s_week_count {
	int64_t from, to;
	json_int_t n;
};

static int s_week_occurrence(int64_t start, int64_t end, void *arg)
{
	struct s_week_count *w = arg;
	(void)end;
	if (start >= w->to)
		return 1; /* in time order: nothing later counts */
	if (start >= w->from)
		w->n++;
	return 0;
}

/* The occurrences of a booking that start this week. */
static json_int_t s_booking_this_week(const struct s_overview *ov,
				      const json_t *rec)
{
	struct s_week_count w = {ov->week_from, ov->week_to, 0};
	struct kp_series s;
	int64_t *cancelled = NULL;

	if (!strcmp(kp_rec_str(rec, "status", ""), "cancelled") ||
	    kp_series_of(rec, &s, &cancelled) || s.start >= w.to) {
		free(cancelled);
		return 0;
	}
	/* A malformed series counts what it gave before the error. */
	kp_series_each(&s, s_week_occurrence, &w);
	free(cancelled);
	return w.n;
}

static int s_overview_record(struct s_overview *ov, const struct kp_id *id,
			     const json_t *rec)
{
	json_t *d = s_district(ov, id->hub), *part;
	char idtext[KP_ID_STRLEN];
	size_t i;
	json_t *item;

	if (!d)
		return KP_ENOMEM;
	switch (id->kind) {
	case KP_ROOM:
		return s_add_int(d, "rooms", 1) ? KP_ENOMEM : KP_OK;
	case KP_ACTIVITY:
		if (!strcmp(kp_rec_str(rec, "status", ""), "cancelled"))
			return KP_OK;
		part = json_object_get(d, "activities");
		if (s_add_int(part, "count", 1) ||
		    s_bump(json_object_get(part, "by_category"),
			   kp_rec_str(rec, "category", "(none)")) ||
		    s_bump(json_object_get(part, "by_target"),
			   kp_rec_str(rec, "target", "(none)")))
			return KP_ENOMEM;
		return KP_OK;
	case KP_BOOKING:
		return s_add_int(d, "bookings_this_week",
				 s_booking_this_week(ov, rec))
			   ? KP_ENOMEM
			   : KP_OK;
	case KP_VOLUNTEER:
		part = json_object_get(d, "volunteers");
		if (s_add_int(part, "count", 1))
			return KP_ENOMEM;
		json_array_foreach(json_object_get(rec, "skills"), i, item)
		{
			if (json_is_string(item) &&
			    s_bump(json_object_get(part, "by_skill"),
				   json_string_value(item)))
				return KP_ENOMEM;
		}
		/* Personal fields only of those who consented; central
		 * should not hold the others' at all, but the rule is
		 * applied here as well. */
		if (kp_rec_bool(json_object_get(rec, "consent"), "share",
				false)) {
			json_t *skills = json_object_get(rec, "skills");
			kp_id_format(id, idtext);
			json_t *who = json_pack(
			    "{ssssso}", "id", idtext, "name",
			    kp_rec_str(rec, "name", ""), "skills",
			    json_is_array(skills) ? json_incref(skills)
						  : json_array());
			if (!who ||
			    json_array_append_new(
				json_object_get(part, "consenting"), who))
				return KP_ENOMEM;
		}
		return KP_OK;
	default:
		return KP_OK;
	}
}

static int s_overview_row(const void *key, size_t klen, const void *val,
			  size_t vlen, void *arg)
{
	struct s_overview *ov = arg;
	struct kp_id id;
	json_t *v, *rec;
	int rc;

	if (kp_key_id(key, klen, &id))
		return KP_ECORRUPT;
	if (kp_codec_decode(val, vlen, &v))
		return KP_ECORRUPT;
	/* Central keeps per key the oplog entry that last wrote it
	 * ({seq, op, id, at, rec}); take the record. */
	rec = json_object_get(v, "rec");
	if (!json_is_object(rec))
		rec = json_object_get(v, "kind") ? v : NULL;
	rc = KP_OK;
	if (rec && strcmp(kp_rec_str(v, "op", "put"), "del")) {
		rc = s_overview_record(ov, &id, rec);
		if (rc == KP_OK && ov->fn)
			rc = ov->fn(&id, rec,
				    json_object_get(ov->districts, id.hub),
				    ov->arg);
	}
	json_decref(v);
	return rc;
}

static int s_overview_hub(const void *key, size_t klen, const void *val,
			  size_t vlen, void *arg)
{
	struct s_overview *ov = arg;
	char hub[KP_HUB_ID_MAX + 1];
	json_t *o, *d;

	if (klen == 0 || klen > KP_HUB_ID_MAX || memchr(key, 0, klen))
		return KP_ECORRUPT;
	memcpy(hub, key, klen);
	hub[klen] = 0;
	if (!(d = s_district(ov, hub)))
		return KP_ENOMEM;
	if (kp_codec_decode(val, vlen, &o) == KP_OK) {
		const char *name = kp_rec_str(o, "name", "");
		if (name[0])
			json_object_set_new(d, "name", json_string(name));
		json_decref(o);
	}
	return KP_OK;
}

static int s_overview_txn(kp_txn *txn, void *arg)
{
	int rc =
	    kp_txn_teach(txn, KP_T_HUBS, NULL, 0, NULL, 0, s_overview_hub, arg);
	if (rc)
		return rc;
	return kp_txn_teach(txn, KP_T_RECORDS, NULL, 0, NULL, 0, s_overview_row,
			    arg);
}

int cli_week_of(int64_t t, struct cli_week *w)
{
	struct tm tm = {0};
	time_t day;
	char buf[8];
	int y, m, d, wd, rc;

	memset(w, 0, sizeof *w);
	kp_local_parts(t, &y, &m, &d, &wd, NULL);
	tm.tm_year = y - 1900;
	tm.tm_mon = m - 1;
	tm.tm_mday = d - wd;
	tm.tm_hour = 12;
	day = timegm(&tm); /* calendar arithmetic only: no zone involved */
	gmtime_r(&day, &tm);
	kp_date_format(tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, w->monday);
	strftime(buf, sizeof buf, "%V", &tm);
	w->number = atoi(buf);
	if ((rc = kp_date_start(tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
				&w->from)))
		return rc;
	tm.tm_mday += 6;
	day = timegm(&tm);
	gmtime_r(&day, &tm);
	kp_date_format(tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, w->sunday);
	tm.tm_mday += 1;
	day = timegm(&tm);
	gmtime_r(&day, &tm);
	return kp_date_start(tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
			     &w->to);
}

static int s_key_cmp(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* "leksehjelp 2, trening 1" from a counts object, largest first. */
static void s_counts_text(const json_t *counts, char *buf, size_t len)
{
	size_t n = json_object_size(counts), k = 0, used = 0;
	const char **keys = n ? malloc(n * sizeof *keys) : NULL;
	const char *key;
	json_t *v;

	buf[0] = 0;
	if (!keys)
		return;
	json_object_foreach((json_t *)counts, key, v) keys[k++] = key;
	qsort(keys, n, sizeof *keys, s_key_cmp);
	for (k = 0; k < n && used < len; k++) {
		int w = snprintf(buf + used, len - used, "%s%s %lld",
				 k ? ", " : "", keys[k],
				 (long long)json_integer_value(
				     json_object_get(counts, keys[k])));
		if (w < 0)
			break;
		used += (size_t)w;
	}
	free(keys);
}

static void s_overview_print(const json_t *list, const char *monday,
			     const char *sunday, int weekno, const char *name)
{
	char text[2048], skills[1024];
	size_t i, j;
	json_t *d, *who;

	printf("%s: %zu %s; week %d, %s to %s (%s)\n", name,
	       json_array_size(list),
	       s_plural(json_array_size(list), "district", "districts"), weekno,
	       monday, sunday, cli_zone());
	if (!json_array_size(list))
		printf("no district has sent records yet: start 'knute-hub "
		       "--central ADDR' at the districts\n");
	json_array_foreach(list, i, d)
	{
		json_t *act = json_object_get(d, "activities");
		json_t *vol = json_object_get(d, "volunteers");
		const char *id = kp_rec_str(d, "id", "");
		const char *dname = kp_rec_str(d, "name", id);

		printf("\n%s", id);
		if (strcmp(dname, id))
			printf(" (%s)", dname);
		printf("\n  rooms:               %lld\n",
		       (long long)kp_rec_int(d, "rooms", 0));
		s_counts_text(json_object_get(act, "by_category"), text,
			      sizeof text);
		printf("  activities:          %lld%s%s%s\n",
		       (long long)kp_rec_int(act, "count", 0),
		       text[0] ? " (" : "", text, text[0] ? ")" : "");
		s_counts_text(json_object_get(act, "by_target"), text,
			      sizeof text);
		if (text[0])
			printf("    by target group:   %s\n", text);
		printf("  bookings this week:  %lld\n",
		       (long long)kp_rec_int(d, "bookings_this_week", 0));
		s_counts_text(json_object_get(vol, "by_skill"), text,
			      sizeof text);
		printf("  volunteers:          %lld%s%s%s\n",
		       (long long)kp_rec_int(vol, "count", 0),
		       text[0] ? " (" : "", text, text[0] ? ")" : "");
		json_array_foreach(json_object_get(vol, "consenting"), j, who)
		{
			cli_join(json_object_get(who, "skills"), skills,
				 sizeof skills);
			printf("    %s %s (%s)%s%s\n",
			       j ? "                 " : "consented to share:",
			       kp_rec_str(who, "name", ""),
			       kp_rec_str(who, "id", ""), skills[0] ? ": " : "",
			       skills);
		}
	}
}

int cli_overview_json(kp_txn *txn, const struct cli_week *week,
		      cli_overview_fn fn, void *arg, json_t **list)
{
	struct s_overview ov = {.week_from = week->from,
				.week_to = week->to,
				.districts = json_object(),
				.fn = fn,
				.arg = arg};
	const char **keys = NULL;
	const char *key;
	json_t *v;
	size_t n, k = 0;
	int rc;

	*list = json_array();
	if (!ov.districts || !*list) {
		rc = KP_ENOMEM;
		goto out;
	}
	if ((rc = s_overview_txn(txn, &ov)))
		goto out;
	/* Districts in hub id order. */
	n = json_object_size(ov.districts);
	if (n && !(keys = malloc(n * sizeof *keys))) {
		rc = KP_ENOMEM;
		goto out;
	}
	json_object_foreach(ov.districts, key, v) keys[k++] = key;
	if (n)
		qsort(keys, n, sizeof *keys, s_key_cmp);
	for (k = 0; k < n; k++)
		if (json_array_append(*list,
				      json_object_get(ov.districts, keys[k]))) {
			rc = KP_ENOMEM;
			goto out;
		}
out:
	free(keys);
	json_decref(ov.districts);
	if (rc) {
		json_decref(*list);
		*list = NULL;
	}
	return rc;
}

struct s_overview_read {
	const struct cli_week *week;
	json_t *list;
};

static int s_overview_read(kp_txn *txn, void *arg)
{
	struct s_overview_read *r = arg;
	json_decref(r->list);
	r->list = NULL;
	return cli_overview_json(txn, r->week, NULL, NULL, &r->list);
}

static int s_overview(struct cli *cli)
{
	struct cli_week week;
	struct s_overview_read r = {.week = &week};
	int rc;

	if (cli->npos)
		return cli_fail(cli, KP_EINVAL, "unexpected argument '%s'",
				cli->pos[0]);
	if ((rc = s_need_central(cli, "overview")))
		return rc;
	if ((rc = cli_week_of(kp_now(), &week)))
		return rc;
	rc = kp_store_read(cli->store, s_overview_read, &r);
	if (rc == KP_ECORRUPT)
		rc = cli_fail(cli, rc,
			      "central's store %s holds a record or hub entry "
			      "that does not decode: restore it from a backup",
			      cli->data);
	if (rc)
		goto out;
	if (cli->json)
		cli_print_json(json_pack("{sss{ssss}sO}", "central",
					 kp_store_name(cli->store), "week",
					 "from", week.monday, "to", week.sunday,
					 "districts", r.list));
	else
		s_overview_print(r.list, week.monday, week.sunday, week.number,
				 kp_store_name(cli->store));
out:
	json_decref(r.list);
	return rc;
}

/* ---- verify (at a hub) ---- */

/*
 * The hub hashes its own records as central should hold them (projected
 * for central), asks central for the hashes of the hub's partition
 * (VERIFY, answered by VERIFY_R batches until one with end), and compares
 * the two sets id by id. Both sets are sorted arrays of (kind, number,
 * hash): 32 bytes a record, whatever the ids' length.
 */
struct s_hash {
	uint64_t n;
	char kind;
	uint8_t h[16];
};

struct s_hashes {
	struct s_hash *v;
	size_t n, cap;
	uint8_t digest[16]; /* XOR of every hash */
};

static int s_hashes_add(struct s_hashes *hs, char kind, uint64_t n,
			const uint8_t h[16])
{
	if (hs->n == hs->cap) {
		size_t cap = hs->cap ? hs->cap * 2 : 1024;
		struct s_hash *grown = realloc(hs->v, cap * sizeof *grown);
		if (!grown)
			return KP_ENOMEM;
		hs->v = grown;
		hs->cap = cap;
	}
	hs->v[hs->n].kind = kind;
	hs->v[hs->n].n = n;
	memcpy(hs->v[hs->n].h, h, 16);
	hs->n++;
	for (int i = 0; i < 16; i++)
		hs->digest[i] ^= h[i];
	return KP_OK;
}

static int s_hash_cmp(const void *a, const void *b)
{
	const struct s_hash *x = a, *y = b;
	if (x->kind != y->kind)
		return x->kind < y->kind ? -1 : 1;
	return x->n < y->n ? -1 : x->n > y->n;
}

static void s_hex(const uint8_t *h, char *out)
{
	for (int i = 0; i < 16; i++)
		snprintf(out + 2 * i, 3, "%02x", h[i]);
}

/* The ids of one kind of difference: the first S_NAME_MAX, and how many
 * in all. */
struct s_diff {
	const char *label, *key;
	json_t *ids;
	uint64_t count;
};

struct s_verify {
	struct cli *cli;
	char addr[512];
	uint64_t head, acked;
	struct s_hashes own, central;
	uint64_t received; /* entries central sent, of this hub or not */
	struct s_diff differ, missing, extra;
};

static int s_diff_add(struct s_diff *d, const char *id)
{
	if (d->count++ < S_NAME_MAX &&
	    json_array_append_new(d->ids, json_string(id)))
		return KP_ENOMEM;
	return KP_OK;
}

static int s_own_hash(const struct kp_id *id, json_t *rec, void *arg)
{
	struct s_verify *v = arg;
	uint8_t h[16];
	/* rec is the walk's own decoded copy, dropped after this call:
	 * shaping it in place for central changes nothing stored. */
	if (!kp_model_project(id->kind, rec, KP_TO_CENTRAL))
		return KP_OK;
	kp_record_hash(rec, h);
	return s_hashes_add(&v->own, id->kind, id->n, h);
}

static int s_verify_txn(kp_txn *txn, void *arg)
{
	struct s_verify *v = arg;
	int rc;

	if (!v->addr[0])
		s_meta_text(txn, "central_addr", v->addr, sizeof v->addr);
	v->head = kp_txn_head_seq(txn);
	v->acked = s_meta_u64(txn, "acked_seq");
	for (int i = 0; i < KP_NKINDS; i++)
		if ((rc = kp_txn_each(txn, kp_kinds[i], s_own_hash, v)))
			return rc;
	return KP_OK;
}

static int64_t s_mono_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Take one VERIFY_R batch. */
static int s_take_hashes(struct s_verify *v, const struct kp_msg *m)
{
	const char *own = kp_store_hub(v->cli->store);
	const uint8_t *entry;
	size_t off = 0, elen;
	char idtext[KP_ID_STRLEN], err[KP_ERR_MAX];
	uint8_t h[16];
	struct kp_id id;
	int rc;

	while ((rc = kp_wire_next(m->data, m->len, &off, &entry, &elen)) ==
	       KP_OK) {
		if (kp_wire_hash_entry(entry, elen, idtext, h))
			return KP_EPROTO;
		v->received++;
		if (kp_id_parse(idtext, NULL, 0, &id, err) ||
		    strcmp(id.hub, own)) {
			/* Not one of this hub's records: extra there. */
			if ((rc = s_diff_add(&v->extra, idtext)))
				return rc;
			continue;
		}
		if ((rc = s_hashes_add(&v->central, id.kind, id.n, h)))
			return rc;
	}
	return rc == KP_ENOTFOUND ? KP_OK : KP_EPROTO;
}

/* Ask central for the hashes of this hub's partition; central's silence
 * for timeout_s seconds is a failure. */
static int s_ask_central(struct s_verify *v, int timeout_s)
{
	struct cli *cli = v->cli;
	struct kp_msg m = {.type = KP_MSG_VERIFY};
	struct kp_buf buf = {0};
	int linger = 0, ms = timeout_s * 1000, rc = KP_OK;
	int64_t maxmsg = KP_WIRE_MAX, deadline;
	void *ctx = zmq_ctx_new(), *sock = NULL;
	char err[KP_ERR_MAX];

	if (!ctx)
		return KP_ENOMEM;
	if (!(sock = zmq_socket(ctx, ZMQ_DEALER))) {
		rc = KP_ENOMEM;
		goto out;
	}
	zmq_setsockopt(sock, ZMQ_LINGER, &linger, sizeof linger);
	zmq_setsockopt(sock, ZMQ_SNDTIMEO, &ms, sizeof ms);
	zmq_setsockopt(sock, ZMQ_MAXMSGSIZE, &maxmsg, sizeof maxmsg);
	/* Through CurveZMQ when the hub trusts a central key. */
	bool curve;
	if (kp_hubsync_curve_client(cli->store, sock, &curve, NULL)) {
		rc = cli_fail(cli, KP_EINVAL,
			      "cannot set up CurveZMQ from the keys in %s: "
			      "check them with knute keys central",
			      cli->data);
		goto out;
	}
	if (zmq_connect(sock, v->addr)) {
		rc = cli_fail(cli, KP_EINVAL,
			      "cannot connect to central at '%s' (%s): give "
			      "an address such as tcp://127.0.0.1:5570",
			      v->addr, zmq_strerror(zmq_errno()));
		goto out;
	}
	snprintf(m.hub, sizeof m.hub, "%s", kp_store_hub(cli->store));
	if ((rc = kp_wire_encode(&m, &buf)))
		goto out;
	if (zmq_send(sock, buf.data, buf.len, 0) < 0)
		goto silent;
	deadline = s_mono_ms() + ms;
	for (;;) {
		zmq_pollitem_t item = {sock, 0, ZMQ_POLLIN, 0};
		int64_t left = deadline - s_mono_ms();
		zmq_msg_t frame;
		int n;

		if (left <= 0)
			goto silent;
		n = zmq_poll(&item, 1, (long)left);
		if (n < 0 && zmq_errno() == EINTR)
			continue;
		if (n < 0) {
			rc = cli_fail(cli, KP_EUNREACH,
				      "waiting for central at %s failed: %s",
				      v->addr, zmq_strerror(zmq_errno()));
			goto out;
		}
		if (n == 0)
			goto silent;
		zmq_msg_init(&frame);
		if (zmq_msg_recv(&frame, sock, 0) < 0) {
			zmq_msg_close(&frame);
			continue;
		}
		deadline = s_mono_ms() + ms;
		if (zmq_msg_size(&frame) == 0) { /* an envelope delimiter */
			zmq_msg_close(&frame);
			continue;
		}
		rc = kp_wire_decode(zmq_msg_data(&frame), zmq_msg_size(&frame),
				    &m, err);
		if (rc == KP_OK && m.type == KP_MSG_VERIFY_R)
			rc = s_take_hashes(v, &m);
		zmq_msg_close(&frame); /* m.data pointed into it */
		if (rc == KP_EVERSION) {
			rc = cli_fail(cli, KP_EVERSION,
				      "central at %s speaks another protocol "
				      "version (%s): upgrade the older side",
				      v->addr, err);
			goto out;
		}
		if (rc) {
			rc = cli_fail(cli, KP_EPROTO,
				      "central at %s sent an answer that "
				      "does not decode%s%s: check that it runs "
				      "the same version of knutepunkt",
				      v->addr, rc == KP_EPROTO ? "" : ": ",
				      rc == KP_EPROTO ? "" : kp_strerror(rc));
			goto out;
		}
		if (m.type == KP_MSG_REFUSE) {
			rc = cli_fail(cli, KP_EPROTO,
				      "central at %s refused to verify: %s",
				      v->addr, m.reason);
			goto out;
		}
		if (m.type != KP_MSG_VERIFY_R || !m.end)
			continue;
		if (m.total && m.total != v->received) {
			rc = cli_fail(cli, KP_EPROTO,
				      "central at %s announced %" PRIu64
				      " hashes but sent %" PRIu64
				      ": run 'knute verify' again",
				      v->addr, m.total, v->received);
			goto out;
		}
		break;
	}
	goto out;
silent:
	rc = cli_fail(cli, KP_EUNREACH,
		      "central at %s did not answer within %d s: check that "
		      "knute-central runs there and listens on that address "
		      "('knute status' shows the hub's link to central)",
		      v->addr, timeout_s);
out:
	kp_buf_free(&buf);
	if (sock)
		zmq_close(sock);
	zmq_ctx_term(ctx);
	return rc;
}

/* Compare the sorted sets; name what differs. */
static int s_compare(struct s_verify *v)
{
	struct s_hashes *a = &v->own, *b = &v->central;
	const char *hub = kp_store_hub(v->cli->store);
	size_t i = 0, j = 0, w = 0;
	char idtext[KP_ID_STRLEN];
	struct kp_id id;
	int rc = KP_OK;

	qsort(a->v, a->n, sizeof *a->v, s_hash_cmp);
	qsort(b->v, b->n, sizeof *b->v, s_hash_cmp);
	/* Central should name each id once; a repeat counts once. */
	for (size_t k = 0; k < b->n; k++)
		if (w == 0 || s_hash_cmp(&b->v[w - 1], &b->v[k]))
			b->v[w++] = b->v[k];
	b->n = w;
	snprintf(id.hub, sizeof id.hub, "%s", hub);
	while (rc == KP_OK && (i < a->n || j < b->n)) {
		int c = i == a->n   ? 1
			: j == b->n ? -1
				    : s_hash_cmp(&a->v[i], &b->v[j]);
		const struct s_hash *x = c <= 0 ? &a->v[i] : &b->v[j];
		id.kind = x->kind;
		id.n = x->n;
		kp_id_format(&id, idtext);
		if (c < 0)
			rc = s_diff_add(&v->missing, idtext);
		else if (c > 0)
			rc = s_diff_add(&v->extra, idtext);
		else if (memcmp(a->v[i].h, b->v[j].h, 16))
			rc = s_diff_add(&v->differ, idtext);
		if (c <= 0)
			i++;
		if (c >= 0)
			j++;
	}
	return rc;
}

static void s_print_diff(const struct s_diff *d)
{
	size_t i;
	json_t *id;
	if (!d->count)
		return;
	printf("%s (%" PRIu64 "):\n", d->label, d->count);
	json_array_foreach(d->ids, i, id)
	    printf("  %s\n", json_string_value(id));
	if (d->count > S_NAME_MAX)
		printf("  ... and %" PRIu64 " more\n", d->count - S_NAME_MAX);
}

static int s_verify(struct cli *cli)
{
	struct s_verify v = {
	    .cli = cli,
	    .differ = {"differ from central's copy", "differ", json_array(), 0},
	    .missing = {"missing at central", "missing_at_central",
			json_array(), 0},
	    .extra = {"extra at central", "extra_at_central", json_array(), 0},
	};
	const char *addr = cli_opt(cli, "central");
	char own_hex[33], central_hex[33];
	int64_t timeout = S_VERIFY_TIMEOUT_S;
	bool equal;
	int rc;

	if (!v.differ.ids || !v.missing.ids || !v.extra.ids) {
		rc = KP_ENOMEM;
		goto out;
	}
	if ((rc = s_need_hub(cli, "verify",
			     " (verify compares that hub's records with "
			     "central's copy of them)")))
		goto out;
	/* --central is a flag for init, so "--central ADDR" leaves ADDR as
	 * an argument; "--central=ADDR" gives it as the value. */
	if (addr && !addr[0] && cli->npos == 1)
		addr = cli->pos[0];
	else if (cli->npos) {
		rc = cli_fail(cli, KP_EINVAL, "unexpected argument '%s'",
			      cli->pos[cli->npos - 1]);
		goto out;
	}
	if (addr && !addr[0]) {
		rc = cli_fail(cli, KP_EINVAL,
			      "--central needs central's address, e.g. "
			      "--central tcp://127.0.0.1:5570");
		goto out;
	}
	if (addr)
		snprintf(v.addr, sizeof v.addr, "%s", addr);
	rc = cli_int(cli, "timeout", 1, 3600, &timeout);
	if (rc && rc != KP_ENOTFOUND)
		goto out;
	if ((rc = kp_store_read(cli->store, s_verify_txn, &v)))
		goto out;
	if (!v.addr[0]) {
		rc = cli_fail(cli, KP_EINVAL,
			      "this hub does not know central's address yet: "
			      "give --central tcp://HOST:PORT, or start "
			      "'knute-hub --data %s --central tcp://HOST:PORT' "
			      "once",
			      cli->data);
		goto out;
	}
	if ((rc = s_ask_central(&v, (int)timeout)) || (rc = s_compare(&v)))
		goto out;
	equal = !v.differ.count && !v.missing.count && !v.extra.count;
	s_hex(v.own.digest, own_hex);
	s_hex(v.central.digest, central_hex);
	if (cli->json) {
		json_t *o = json_pack(
		    "{sssssssbsssssIsIsI}", "id", kp_store_hub(cli->store),
		    "hub", kp_store_hub(cli->store), "central", v.addr, "equal",
		    equal, "hub_digest", own_hex, "central_digest", central_hex,
		    "hub_records", (json_int_t)v.own.n, "central_records",
		    (json_int_t)v.received, "pending",
		    (json_int_t)(v.head > v.acked ? v.head - v.acked : 0));
		const struct s_diff *all[] = {&v.differ, &v.missing, &v.extra};
		for (int k = 0; o && k < 3; k++) {
			char count_key[64];
			snprintf(count_key, sizeof count_key, "%s_count",
				 all[k]->key);
			json_object_set(o, all[k]->key, all[k]->ids);
			json_object_set_new(
			    o, count_key,
			    json_integer((json_int_t)all[k]->count));
		}
		if (!o) {
			rc = KP_ENOMEM;
			goto out;
		}
		cli_print_json(o);
	} else {
		printf("hub digest:     %s (%zu %s at hub %s)\n", own_hex,
		       v.own.n, s_plural(v.own.n, "record", "records"),
		       kp_store_hub(cli->store));
		printf("central digest: %s (%" PRIu64 " %s at %s)\n",
		       central_hex, v.received,
		       s_plural(v.received, "record", "records"), v.addr);
		if (equal)
			printf("equal: central holds exactly this hub's "
			       "records\n");
		s_print_diff(&v.differ);
		s_print_diff(&v.missing);
		s_print_diff(&v.extra);
	}
	if (!equal)
		rc = cli_fail(
		    cli, KP_ECORRUPT,
		    "hub %s and central differ in %" PRIu64 " records%s",
		    kp_store_hub(cli->store),
		    v.differ.count + v.missing.count + v.extra.count,
		    v.head > v.acked
			? " (changes are still on the way: 'knute status' "
			  "shows them pending; verify again when none are)"
			: ": 'knute-hub' sends them in its next session; if "
			  "they stay, see 'knute deadletters' at central");
out:
	free(v.own.v);
	free(v.central.v);
	json_decref(v.differ.ids);
	json_decref(v.missing.ids);
	json_decref(v.extra.ids);
	return rc;
}

const struct cli_command cli_sync_commands[] = {
    {"hubs", NULL, s_hubs, "", "hubs",
     "At central: every hub that ever connected, online (seen within the "
     "last 6 s) or offline, when it was last seen, the highest seq central "
     "applied, its backlog (changes the hub reported that central has not "
     "applied yet) and its dead letters.\n"
     "With --json: an array of objects with id, name, online, last_seen "
     "(UTC, or null), applied_seq, head_seq, backlog, dead_letters.",
     false},
    {"overview", NULL, s_overview, "", "overview",
     "At central: the municipality per district: rooms, activities by "
     "category and by target group, booked occurrences this week (Monday "
     "to Sunday, local time), volunteers by skill, and the names of "
     "volunteers who consented to share them.\n"
     "With --json: {\"districts\": [{\"hub\", \"activities\": "
     "{\"by_category\", \"by_target\"}, \"bookings_this_week\", "
     "\"volunteers\": {\"count\", \"by_skill\", \"consenting\"}}]}.",
     false},
    {"deadletters", NULL, s_deadletters, "hub", "deadletters [--hub ID]",
     "List the dead letters: at central the entries it refused from hubs "
     "(with the reason), at a hub the records a restore from central could "
     "not put back. --hub ID shows one hub's only.",
     false},
    {"verify", NULL, s_verify, "central timeout",
     "verify [--central ADDR] [--timeout SECONDS]",
     "At a hub: compare a digest of the hub's records with central's "
     "digest of its copy of them, and name every record that differs, is "
     "missing at central or is extra there (the first 50 of each, then a "
     "count).\n"
     "ADDR defaults to the address knute-hub was last started with. "
     "Central must answer within --timeout seconds (default 10).\n"
     "Exit 0 when both hold the same records, 1 when they differ or "
     "central does not answer.",
     false},
    {0},
};
