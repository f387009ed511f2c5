/*
 * test_rules.c - the hub's rules over a real store: the clash rule for
 * single bookings and weekly series (with --skip-clashes), opening hours,
 * closures, daylight-saving changes, releasing slots, the police
 * certificate rule, weekly containment and erasure of a volunteer.
 *
 * Expected instants are written out as numbers (computed independently
 * from the tz database), so a mistake in ktime.c shows up here too.
 */
#include <dirent.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "check.h"
#include "knute/error.h"
#include "knute/ktime.h"
#include "knute/store.h"
#include "rules.h"

/* Europe/Oslo instants used below. */
#define T_2026_12_01_1700 1796140800LL /* a Tuesday, CET (UTC+1) */
#define T_2026_12_08_1700 1796745600LL
#define T_2026_12_22_1700 1797955200LL
#define T_2026_10_20_1700 1792508400LL /* CEST: 15:00 UTC */
#define T_2026_10_27_1700 1793116800LL /* CET after 25 Oct: 16:00 UTC */
#define T_2026_11_03_1700 1793721600LL
#define T_2027_03_23_1700 1805817600LL /* CET: 16:00 UTC */
#define T_2027_03_30_1700 1806418800LL /* CEST after 28 Mar: 15:00 UTC */
#define T_2027_04_06_1700 1807023600LL
#define HOUR		  3600LL
#define DAY		  (24 * HOUR)
#define WEEK		  (7 * DAY)

/* ---- a store to test in ---- */

static char s_dir[64];

static void s_rmtree(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	char path[512];
	if (!d)
		return;
	while ((e = readdir(d))) {
		if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
			continue;
		snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
		unlink(path);
	}
	closedir(d);
	rmdir(dir);
}

struct s_room_add {
	const char *name, *open;
	json_t *closures;
	struct kp_id id;
};

static int s_room_txn(kp_txn *txn, void *arg)
{
	struct s_room_add *r = arg;
	json_t *rec = json_pack("{sssi}", "name", r->name, "capacity", 30);
	int rc;
	if (r->open)
		json_object_set_new(rec, "open", json_string(r->open));
	if (r->closures)
		json_object_set(rec, "closures", r->closures);
	if (!(rc = kp_txn_new_id(txn, KP_ROOM, &r->id)))
		rc = kp_txn_put(txn, &r->id, rec);
	json_decref(rec);
	return rc;
}

/*
 * A fresh store at hub fjell with three rooms:
 *   fjell:r1  Storsalen, open at all times
 *   fjell:r2  Møterommet, open mon-fri 08:00-22:00, closed 24-26 Dec 2026
 *   fjell:r3  Kjøkkenet, open at all times
 */
static kp_store *s_fresh(void)
{
	kp_store *store = NULL;
	struct s_room_add r1 = {"Storsalen", NULL, NULL, {{0}, 0, 0}};
	struct s_room_add r2 = {
	    "Møterommet", "mon-fri 08:00-22:00", NULL, {{0}, 0, 0}};
	struct s_room_add r3 = {"Kjøkkenet", NULL, NULL, {{0}, 0, 0}};
	snprintf(s_dir, sizeof s_dir, "/tmp/knute-test-rules-XXXXXX");
	if (!mkdtemp(s_dir) ||
	    kp_store_create(s_dir, "fjell", "Knutepunkt Fjell") ||
	    kp_store_open(s_dir, &store)) {
		printf("  cannot make a store in %s\n", s_dir);
		check_failed_now = 1;
		return NULL;
	}
	r2.closures = json_pack("[{ssssss}]", "from", "2026-12-24", "to",
				"2026-12-26", "reason", "Julestengt");
	CHECK_INT(kp_store_write(store, s_room_txn, &r1), KP_OK);
	CHECK_INT(kp_store_write(store, s_room_txn, &r2), KP_OK);
	CHECK_INT(kp_store_write(store, s_room_txn, &r3), KP_OK);
	CHECK_INT(r2.id.n, 2);
	json_decref(r2.closures);
	return store;
}

static void s_done(kp_store **store)
{
	kp_store_close(store);
	s_rmtree(s_dir);
}

/* ---- booking through the rules ---- */

struct s_book {
	/* in */
	const char *room, *org;
	int64_t start, end;
	bool weekly, skip;
	const char *days, *until;
	/* out */
	struct kp_id id;
	struct kp_clashes clashes;
	json_t *rec;
};

static int s_book_txn(kp_txn *txn, void *arg)
{
	struct s_book *b = arg;
	json_t *rec =
	    json_pack("{sssssssIsI}", "room", b->room, "org", b->org, "status",
		      "confirmed", "start", (json_int_t)b->start, "end",
		      (json_int_t)b->end);
	int rc;
	kp_clashes_free(&b->clashes);
	if (b->weekly) {
		json_object_set_new(rec, "weekly", json_true());
		json_object_set_new(rec, "until", json_string(b->until));
		if (b->days)
			json_object_set_new(rec, "days", json_string(b->days));
	}
	if ((rc = kp_txn_new_id(txn, KP_BOOKING, &b->id)) ||
	    (rc = kp_hold_room(txn, &b->id, rec, b->skip, &b->clashes)) ||
	    (rc = kp_txn_put(txn, &b->id, rec))) {
		json_decref(rec);
		return rc;
	}
	json_decref(b->rec);
	b->rec = rec;
	return KP_OK;
}

/* Book once; the caller frees b->clashes and b->rec via s_book_free. */
static int s_book(kp_store *store, struct s_book *b)
{
	return kp_store_write(store, s_book_txn, b);
}

static void s_book_free(struct s_book *b)
{
	kp_clashes_free(&b->clashes);
	json_decref(b->rec);
	b->rec = NULL;
}

/* A single booking in room from start for hours; returns the rc. */
static int s_single(kp_store *store, const char *room, const char *org,
		    int64_t start, int64_t end)
{
	struct s_book b = {
	    .room = room, .org = org, .start = start, .end = end};
	int rc = s_book(store, &b);
	s_book_free(&b);
	return rc;
}

static int s_head_txn(kp_txn *txn, void *arg)
{
	*(uint64_t *)arg = kp_txn_head_seq(txn);
	return KP_OK;
}

static uint64_t s_head(kp_store *store)
{
	uint64_t head = 999999;
	kp_store_read(store, s_head_txn, &head);
	return head;
}

/* Is [start, end) of room free? If not, *owner is the holder's number. */
struct s_probe {
	uint64_t room;
	int64_t start, end;
	struct kp_slot clash;
};

static int s_probe_txn(kp_txn *txn, void *arg)
{
	struct s_probe *p = arg;
	return kp_txn_slot_find(txn, p->room, p->start, p->end, &p->clash);
}

/* 0 when free, else the owner's number (the owner is always a booking). */
static long long s_holder(kp_store *store, uint64_t room, int64_t start,
			  int64_t end)
{
	struct s_probe p = {room, start, end, {0, 0, {{0}, 0, 0}}};
	int rc = kp_store_read(store, s_probe_txn, &p);
	if (rc == KP_OK)
		return 0;
	if (rc != KP_ECLASH)
		return -1;
	return (long long)p.clash.owner.n;
}

/* ---- the clash rule, single bookings ---- */

static void test_single_clash(void)
{
	kp_store *store = s_fresh();
	struct s_book b = {.room = "fjell:r1", .org = "Kirkens Bymisjon"};
	const int64_t a = T_2026_12_01_1700, e = a + 2 * HOUR;
	char line[512];
	uint64_t head;
	if (!store)
		return;
	CHECK_INT(s_single(store, "fjell:r1", "Røde Kors", a, e), KP_OK);
	head = s_head(store);

	/* 18:00-20:00 overlaps 17:00-19:00. */
	b.start = a + HOUR;
	b.end = e + HOUR;
	CHECK_INT(s_book(store, &b), KP_ECLASH);
	CHECK_INT(b.clashes.n, 1);
	CHECK_INT(b.clashes.booked, 0);
	if (b.clashes.n == 1) {
		const struct kp_clash *c = &b.clashes.items[0];
		CHECK_INT(c->why, KP_CLASH_BOOKED);
		CHECK_INT(c->start, a + HOUR);
		CHECK_INT(c->end, e + HOUR);
		CHECK_STR(c->with.owner.hub, "fjell");
		CHECK_INT(c->with.owner.kind, 'b');
		CHECK_INT(c->with.owner.n, 1);
		CHECK_INT(c->with.start, a);
		CHECK_INT(c->with.end, e);
		CHECK_STR(c->with_org, "Røde Kors");
		kp_clash_describe(c, line, sizeof line);
		CHECK_STR(line, "2026-12-01 18:00-20:00 clashes with booking "
				"fjell:b1 (Røde Kors, 2026-12-01 17:00-19:00)");
	}
	/* Nothing was written by the refusal. */
	CHECK_INT(s_head(store), head);
	s_book_free(&b);

	/* Half-open: back to back on either side is fine. */
	CHECK_INT(s_single(store, "fjell:r1", "Blå Kors", e, e + HOUR), KP_OK);
	CHECK_INT(s_single(store, "fjell:r1", "Blå Kors", a - HOUR, a), KP_OK);
	/* One second of overlap is not. */
	CHECK_INT(
	    s_single(store, "fjell:r1", "Blå Kors", e + HOUR - 1, e + 2 * HOUR),
	    KP_ECLASH);
	/* Containing and contained. */
	CHECK_INT(s_single(store, "fjell:r1", "X", a - 2 * HOUR, e + 3 * HOUR),
		  KP_ECLASH);
	CHECK_INT(s_single(store, "fjell:r1", "X", a + 60, a + 120), KP_ECLASH);
	/* Another room at the same time is free. */
	CHECK_INT(s_single(store, "fjell:r3", "Frivilligsentralen", a, e),
		  KP_OK);
	CHECK_INT(s_head(store), head + 3);
	s_done(&store);
}

static void test_hold_room_unknown_room(void)
{
	kp_store *store = s_fresh();
	const int64_t a = T_2026_12_01_1700;
	if (!store)
		return;
	CHECK_INT(s_single(store, "fjell:r99", "Røde Kors", a, a + HOUR),
		  KP_ENOTFOUND);
	/* A room of another hub is not ours to book. */
	CHECK_INT(s_single(store, "konnerud:r1", "Røde Kors", a, a + HOUR),
		  KP_EINVAL);
	CHECK_INT(s_head(store), 3);
	s_done(&store);
}

/* ---- weekly series ---- */

static void test_series_clash_lists_every_date(void)
{
	kp_store *store = s_fresh();
	struct s_book b = {.room = "fjell:r1",
			   .org = "Frivilligsentralen",
			   .start = T_2026_12_01_1700,
			   .end = T_2026_12_01_1700 + 2 * HOUR,
			   .weekly = true,
			   .until = "2027-01-05"};
	uint64_t head;
	if (!store)
		return;
	/* Two single bookings on the 8th and the 22nd, 17:30-18:30. */
	CHECK_INT(s_single(store, "fjell:r1", "Røde Kors",
			   T_2026_12_08_1700 + 1800, T_2026_12_08_1700 + 5400),
		  KP_OK);
	CHECK_INT(s_single(store, "fjell:r1", "Blå Kors",
			   T_2026_12_22_1700 + 1800, T_2026_12_22_1700 + 5400),
		  KP_OK);
	head = s_head(store);
	CHECK_INT(s_book(store, &b), KP_ECLASH);
	CHECK_INT(b.clashes.n, 2);
	if (b.clashes.n == 2) {
		CHECK_INT(b.clashes.items[0].start, T_2026_12_08_1700);
		CHECK_INT(b.clashes.items[0].with.owner.n, 1);
		CHECK_STR(b.clashes.items[0].with_org, "Røde Kors");
		CHECK_INT(b.clashes.items[1].start, T_2026_12_22_1700);
		CHECK_INT(b.clashes.items[1].end, T_2026_12_22_1700 + 2 * HOUR);
		CHECK_INT(b.clashes.items[1].with.owner.n, 2);
		CHECK_STR(b.clashes.items[1].with_org, "Blå Kors");
	}
	/* Refused whole: no slot of the series was taken. */
	CHECK_INT(s_head(store), head);
	CHECK_INT(
	    s_holder(store, 1, T_2026_12_01_1700, T_2026_12_01_1700 + 2 * HOUR),
	    0);
	CHECK_INT(s_holder(store, 1, T_2026_12_01_1700 + 2 * WEEK,
			   T_2026_12_01_1700 + 2 * WEEK + 2 * HOUR),
		  0);
	s_book_free(&b);
	s_done(&store);
}

static void test_series_days_and_until(void)
{
	kp_store *store = s_fresh();
	/* Tuesdays and Thursdays 17:00-19:00 from 1 Dec to 10 Dec. */
	struct s_book b = {.room = "fjell:r1",
			   .org = "Frivilligsentralen",
			   .start = T_2026_12_01_1700,
			   .end = T_2026_12_01_1700 + 2 * HOUR,
			   .weekly = true,
			   .days = "tue,thu",
			   .until = "2026-12-10"};
	if (!store)
		return;
	CHECK_INT(s_book(store, &b), KP_OK);
	CHECK_INT(b.clashes.n, 0);
	CHECK_INT(b.clashes.booked, 4);
	CHECK_INT(s_holder(store, 1, T_2026_12_01_1700 + 2 * DAY,
			   T_2026_12_01_1700 + 2 * DAY + 1),
		  (long long)b.id.n);
	CHECK_INT(s_holder(store, 1, T_2026_12_01_1700 + 9 * DAY,
			   T_2026_12_01_1700 + 9 * DAY + 1),
		  (long long)b.id.n);
	/* Not on the Wednesday, and not after the until date. */
	CHECK_INT(s_holder(store, 1, T_2026_12_01_1700 + DAY,
			   T_2026_12_01_1700 + DAY + 2 * HOUR),
		  0);
	CHECK_INT(s_holder(store, 1, T_2026_12_01_1700 + 14 * DAY,
			   T_2026_12_01_1700 + 16 * DAY + 2 * HOUR),
		  0);
	s_book_free(&b);
	s_done(&store);
}

static void test_series_skip_clashes(void)
{
	kp_store *store = s_fresh();
	struct s_book b = {.room = "fjell:r1",
			   .org = "Frivilligsentralen",
			   .start = T_2026_12_01_1700,
			   .end = T_2026_12_01_1700 + 2 * HOUR,
			   .weekly = true,
			   .until = "2027-01-05",
			   .skip = true};
	json_t *cancelled;
	uint64_t head;
	if (!store)
		return;
	CHECK_INT(s_single(store, "fjell:r1", "Røde Kors",
			   T_2026_12_08_1700 + 1800, T_2026_12_08_1700 + 5400),
		  KP_OK);
	CHECK_INT(s_single(store, "fjell:r1", "Blå Kors",
			   T_2026_12_22_1700 + 1800, T_2026_12_22_1700 + 5400),
		  KP_OK);
	head = s_head(store);
	/* Six Tuesdays: 1, 8, 15, 22, 29 Dec and 5 Jan; two clash. */
	CHECK_INT(s_book(store, &b), KP_OK);
	CHECK_INT(b.clashes.n, 2);
	CHECK_INT(b.clashes.booked, 4);
	CHECK_INT(s_head(store), head + 1);
	cancelled = json_object_get(b.rec, "cancelled");
	CHECK_INT(json_array_size(cancelled), 2);
	CHECK_INT(json_integer_value(json_array_get(cancelled, 0)),
		  T_2026_12_08_1700);
	CHECK_INT(json_integer_value(json_array_get(cancelled, 1)),
		  T_2026_12_22_1700);
	/* The free dates are held by the series, the skipped ones not. */
	CHECK_INT(s_holder(store, 1, T_2026_12_01_1700, T_2026_12_01_1700 + 1),
		  (long long)b.id.n);
	CHECK_INT(s_holder(store, 1, T_2026_12_01_1700 + 2 * WEEK,
			   T_2026_12_01_1700 + 2 * WEEK + 1),
		  (long long)b.id.n);
	CHECK_INT(s_holder(store, 1, T_2026_12_01_1700 + 5 * WEEK,
			   T_2026_12_01_1700 + 5 * WEEK + 1),
		  (long long)b.id.n);
	CHECK_INT(
	    s_holder(store, 1, T_2026_12_08_1700, T_2026_12_08_1700 + 1800), 0);
	CHECK_INT(s_holder(store, 1, T_2026_12_08_1700 + 5400,
			   T_2026_12_08_1700 + 7200),
		  0);
	s_book_free(&b);

	/* With every date taken, skipping books nothing and is refused. */
	b = (struct s_book){.room = "fjell:r1",
			    .org = "Blå Kors",
			    .start = T_2026_12_01_1700,
			    .end = T_2026_12_01_1700 + HOUR,
			    .weekly = true,
			    .until = "2026-12-15",
			    .skip = true};
	head = s_head(store);
	CHECK_INT(s_book(store, &b), KP_ECLASH);
	CHECK_INT(b.clashes.n, 3);
	CHECK_INT(b.clashes.booked, 0);
	CHECK_INT(s_head(store), head);
	s_book_free(&b);
	s_done(&store);
}

/* A series whose occurrences overlap each other never holds two
 * overlapping slots. */
static void test_series_overlapping_itself(void)
{
	kp_store *store = s_fresh();
	/* Mondays and Tuesdays, each 2 days long. */
	struct s_book b = {.room = "fjell:r1",
			   .org = "Kultur",
			   .start = T_2026_12_01_1700 - DAY,
			   .end = T_2026_12_01_1700 + DAY,
			   .weekly = true,
			   .days = "mon,tue",
			   .until = "2026-12-08"};
	uint64_t head;
	if (!store)
		return;
	head = s_head(store);
	CHECK_INT(s_book(store, &b), KP_ECLASH);
	CHECK_INT(s_head(store), head);
	CHECK_INT(s_holder(store, 1, 0, INT64_MAX / 2), 0);
	s_book_free(&b);
	s_done(&store);
}

/* ---- opening hours and closures ---- */

static void test_opening_hours(void)
{
	kp_store *store = s_fresh();
	const int64_t tue = T_2026_12_01_1700 - 17 * HOUR; /* 00:00 */
	struct s_book b = {.room = "fjell:r2", .org = "Røde Kors"};
	char line[512];
	if (!store)
		return;
	/* Open mon-fri 08:00-22:00. Ending exactly at closing is fine. */
	CHECK_INT(
	    s_single(store, "fjell:r2", "A", tue + 20 * HOUR, tue + 22 * HOUR),
	    KP_OK);
	/* Starting at opening is fine. */
	CHECK_INT(
	    s_single(store, "fjell:r2", "A", tue + 8 * HOUR, tue + 9 * HOUR),
	    KP_OK);
	/* Starting at closing, running past it, before opening: refused. */
	b.start = tue + 22 * HOUR;
	b.end = tue + 23 * HOUR;
	CHECK_INT(s_book(store, &b), KP_ECLASH);
	CHECK_INT(b.clashes.n, 1);
	if (b.clashes.n == 1) {
		CHECK_INT(b.clashes.items[0].why, KP_CLASH_HOURS);
		kp_clash_describe(&b.clashes.items[0], line, sizeof line);
		CHECK_STR(line, "2026-12-01 22:00-23:00 is outside the room's "
				"opening hours");
	}
	s_book_free(&b);
	CHECK_INT(s_single(store, "fjell:r2", "A", tue + 21 * HOUR,
			   tue + 22 * HOUR + 60),
		  KP_ECLASH);
	CHECK_INT(s_single(store, "fjell:r2", "A", tue + 7 * HOUR,
			   tue + 8 * HOUR + 60),
		  KP_ECLASH);
	CHECK_INT(
	    s_single(store, "fjell:r2", "A", tue + 7 * HOUR, tue + 8 * HOUR),
	    KP_ECLASH);
	/* Saturday is closed. */
	CHECK_INT(s_single(store, "fjell:r2", "A", tue + 4 * DAY + 10 * HOUR,
			   tue + 4 * DAY + 12 * HOUR),
		  KP_ECLASH);
	/* Across midnight is never inside one day's hours. */
	CHECK_INT(s_single(store, "fjell:r2", "A", tue + 21 * HOUR + DAY,
			   tue + 2 * DAY + 9 * HOUR),
		  KP_ECLASH);
	/* A room without hours is open at all times. */
	CHECK_INT(s_single(store, "fjell:r1", "A", tue + 4 * DAY + 2 * HOUR,
			   tue + 4 * DAY + 3 * HOUR),
		  KP_OK);
	s_done(&store);
}

static void test_closures(void)
{
	kp_store *store = s_fresh();
	/* 2026-12-24 is a Thursday; 00:00 local. */
	const int64_t dec24 = T_2026_12_22_1700 - 17 * HOUR + 2 * DAY;
	struct s_book b = {.room = "fjell:r2",
			   .org = "Kirkens Bymisjon",
			   .start = dec24 + 10 * HOUR,
			   .end = dec24 + 12 * HOUR};
	char line[512];
	if (!store)
		return;
	CHECK_INT(s_book(store, &b), KP_ECLASH);
	CHECK_INT(b.clashes.n, 1);
	if (b.clashes.n == 1) {
		CHECK_INT(b.clashes.items[0].why, KP_CLASH_CLOSED);
		CHECK_STR(b.clashes.items[0].reason, "Julestengt");
		kp_clash_describe(&b.clashes.items[0], line, sizeof line);
		CHECK_STR(line, "2026-12-24 10:00-12:00 falls on a closure of "
				"the room (Julestengt)");
	}
	s_book_free(&b);
	/* The last closed day too (Saturday is outside hours anyway, so
	 * use Friday the 25th), and the days either side are open. */
	CHECK_INT(s_single(store, "fjell:r2", "A", dec24 + DAY + 10 * HOUR,
			   dec24 + DAY + 12 * HOUR),
		  KP_ECLASH);
	CHECK_INT(s_single(store, "fjell:r2", "A", dec24 - DAY + 10 * HOUR,
			   dec24 - DAY + 12 * HOUR),
		  KP_OK);
	CHECK_INT(s_single(store, "fjell:r2", "A", dec24 + 4 * DAY + 10 * HOUR,
			   dec24 + 4 * DAY + 12 * HOUR),
		  KP_OK);
	/* A weekly series over the closure lists the closed Thursday. */
	b = (struct s_book){.room = "fjell:r2",
			    .org = "Røde Kors",
			    .start = dec24 - 14 * DAY + 18 * HOUR,
			    .end = dec24 - 14 * DAY + 20 * HOUR,
			    .weekly = true,
			    .until = "2027-01-07"};
	CHECK_INT(s_book(store, &b), KP_ECLASH);
	CHECK_INT(b.clashes.n, 1);
	if (b.clashes.n == 1) {
		CHECK_INT(b.clashes.items[0].start, dec24 + 18 * HOUR);
		CHECK_INT(b.clashes.items[0].why, KP_CLASH_CLOSED);
	}
	s_book_free(&b);
	s_done(&store);
}

/* ---- daylight saving ---- */

struct s_starts {
	int n;
	int64_t start[16], end[16];
};

static int s_collect(int64_t start, int64_t end, void *arg)
{
	struct s_starts *s = arg;
	if (s->n < 16) {
		s->start[s->n] = start;
		s->end[s->n] = end;
	}
	s->n++;
	return 0;
}

static void s_check_dst(int64_t first, const char *until, const int64_t *expect,
			int nexpect)
{
	kp_store *store = s_fresh();
	struct s_book b = {.room = "fjell:r1",
			   .org = "Frivilligsentralen",
			   .start = first,
			   .end = first + 2 * HOUR,
			   .weekly = true,
			   .until = until};
	struct s_starts got = {0};
	struct kp_series series;
	int64_t *cancelled = NULL;
	if (!store)
		return;
	CHECK_INT(s_book(store, &b), KP_OK);
	CHECK_INT(b.clashes.booked, nexpect);
	/* The series' own occurrences. */
	CHECK_INT(kp_series_of(b.rec, &series, &cancelled), KP_OK);
	CHECK_INT(kp_series_each(&series, s_collect, &got), KP_OK);
	CHECK_INT(got.n, nexpect);
	for (int i = 0; i < nexpect && i < got.n; i++) {
		int minute;
		CHECK_INT(got.start[i], expect[i]);
		CHECK_INT(got.end[i], expect[i] + 2 * HOUR);
		kp_local_parts(got.start[i], NULL, NULL, NULL, NULL, &minute);
		CHECK_INT(minute, 17 * 60);
		/* The slot held is exactly 17:00-19:00 local. */
		CHECK_INT(s_holder(store, 1, expect[i], expect[i] + 1),
			  (long long)b.id.n);
		CHECK_INT(s_holder(store, 1, expect[i] - HOUR, expect[i]), 0);
		CHECK_INT(s_holder(store, 1, expect[i] + 2 * HOUR,
				   expect[i] + 3 * HOUR),
			  0);
	}
	free(cancelled);
	s_book_free(&b);
	s_done(&store);
}

static void test_dst_autumn(void)
{
	/* Clocks go back on Sunday 2026-10-25. */
	static const int64_t expect[] = {T_2026_10_20_1700, T_2026_10_27_1700,
					 T_2026_11_03_1700};
	CHECK_INT(T_2026_10_27_1700 - T_2026_10_20_1700, WEEK + HOUR);
	s_check_dst(T_2026_10_20_1700, "2026-11-03", expect, 3);
}

static void test_dst_spring(void)
{
	/* Clocks go forward on Sunday 2027-03-28. */
	static const int64_t expect[] = {T_2027_03_23_1700, T_2027_03_30_1700,
					 T_2027_04_06_1700};
	CHECK_INT(T_2027_03_30_1700 - T_2027_03_23_1700, WEEK - HOUR);
	s_check_dst(T_2027_03_23_1700, "2027-04-06", expect, 3);
}

static void test_occurrence_on(void)
{
	json_t *rec =
	    json_pack("{sIsIsbssss}", "start", (json_int_t)T_2026_10_20_1700,
		      "end", (json_int_t)(T_2026_10_20_1700 + 2 * HOUR),
		      "weekly", 1, "until", "2026-11-03", "days", "tue");
	int64_t start = 0, end = 0;
	CHECK_INT(kp_occurrence_on(rec, 2026, 10, 27, &start, &end), KP_OK);
	CHECK_INT(start, T_2026_10_27_1700);
	CHECK_INT(end, T_2026_10_27_1700 + 2 * HOUR);
	CHECK_INT(kp_occurrence_on(rec, 2026, 10, 28, &start, &end),
		  KP_ENOTFOUND);
	CHECK_INT(kp_occurrence_on(rec, 2026, 11, 10, &start, &end),
		  KP_ENOTFOUND);
	/* A cancelled occurrence is not there. */
	json_object_set_new(rec, "cancelled",
			    json_pack("[I]", (json_int_t)T_2026_10_27_1700));
	CHECK_INT(kp_occurrence_on(rec, 2026, 10, 27, &start, &end),
		  KP_ENOTFOUND);
	CHECK_INT(kp_occurrence_on(rec, 2026, 11, 3, &start, &end), KP_OK);
	CHECK_INT(start, T_2026_11_03_1700);
	json_decref(rec);
}

/* ---- releasing slots ---- */

struct s_release {
	struct kp_id id;
	int what; /* 0 all, 1 one, 2 after */
	int64_t start, end;
};

static int s_release_txn(kp_txn *txn, void *arg)
{
	struct s_release *r = arg;
	json_t *rec;
	int rc = kp_txn_get(txn, &r->id, &rec);
	if (rc)
		return rc;
	switch (r->what) {
	case 0:
		rc = kp_release_room(txn, &r->id, rec);
		break;
	case 1:
		rc = kp_release_one(txn, &r->id, rec, r->start, r->end);
		break;
	default:
		rc = kp_release_after(txn, &r->id, rec, r->start);
		break;
	}
	json_decref(rec);
	return rc;
}

static void test_release(void)
{
	kp_store *store = s_fresh();
	const int64_t a = T_2026_12_01_1700, e = a + 2 * HOUR;
	struct s_book b = {.room = "fjell:r1",
			   .org = "Frivilligsentralen",
			   .start = a,
			   .end = e,
			   .weekly = true,
			   .until = "2026-12-29"};
	struct s_release r = {0};
	if (!store)
		return;
	CHECK_INT(s_book(store, &b), KP_OK);
	r.id = b.id;
	/* One occurrence: the 8th is free again, the others held. */
	r.what = 1;
	r.start = a + WEEK;
	r.end = e + WEEK;
	CHECK_INT(kp_store_write(store, s_release_txn, &r), KP_OK);
	CHECK_INT(s_holder(store, 1, a + WEEK, e + WEEK), 0);
	CHECK_INT(s_holder(store, 1, a, e), (long long)b.id.n);
	CHECK_INT(s_holder(store, 1, a + 2 * WEEK, e + 2 * WEEK),
		  (long long)b.id.n);
	CHECK_INT(s_single(store, "fjell:r1", "Røde Kors", a + WEEK, e + WEEK),
		  KP_OK);
	/* From the 22nd on: the 22nd and 29th free, the 15th held. */
	r.what = 2;
	r.start = a + 3 * WEEK - 17 * HOUR;
	CHECK_INT(kp_store_write(store, s_release_txn, &r), KP_OK);
	CHECK_INT(s_holder(store, 1, a + 2 * WEEK, e + 2 * WEEK),
		  (long long)b.id.n);
	CHECK_INT(s_holder(store, 1, a + 3 * WEEK, e + 3 * WEEK), 0);
	CHECK_INT(s_holder(store, 1, a + 4 * WEEK, e + 4 * WEEK), 0);
	/* All: nothing of the series is left. */
	r.what = 0;
	CHECK_INT(kp_store_write(store, s_release_txn, &r), KP_OK);
	CHECK_INT(s_holder(store, 1, a, e), 0);
	CHECK_INT(s_holder(store, 1, a + 2 * WEEK, e + 2 * WEEK), 0);
	/* The single booking on the 8th is untouched. */
	CHECK_INT(s_holder(store, 1, a + WEEK, e + WEEK), 2);
	/* The freed series can be booked again whole. */
	s_book_free(&b);
	b = (struct s_book){.room = "fjell:r1",
			    .org = "Blå Kors",
			    .start = a,
			    .end = e,
			    .weekly = true,
			    .until = "2026-12-29",
			    .days = "tue"};
	CHECK_INT(s_book(store, &b), KP_ECLASH); /* the 8th is taken */
	CHECK_INT(b.clashes.n, 1);
	b.skip = true;
	CHECK_INT(s_book(store, &b), KP_OK);
	CHECK_INT(b.clashes.booked, 4);
	s_book_free(&b);
	s_done(&store);
}

/* ---- police certificates ---- */

static void test_police_check(void)
{
	json_t *act_req =
	    json_pack("{sssb}", "title", "Leksehjelp", "police_required", 1);
	json_t *act_free =
	    json_pack("{sssb}", "title", "Møteplass", "police_required", 0);
	json_t *act_none = json_pack("{ss}", "title", "Kultur");
	json_t *shown = json_pack("{sss{ssss}}", "name", "Kari", "police",
				  "role", "leksehjelp", "shown", "2026-01-10");
	json_t *not_shown = json_pack("{ss}", "name", "Ola");
	json_t *null_shown =
	    json_pack("{ssso}", "name", "Per", "police", json_null());
	CHECK_INT(kp_police_check(shown, act_req), KP_OK);
	CHECK_INT(kp_police_check(not_shown, act_req), KP_EPOLICE);
	CHECK_INT(kp_police_check(null_shown, act_req), KP_EPOLICE);
	CHECK_INT(kp_police_check(not_shown, act_free), KP_OK);
	CHECK_INT(kp_police_check(not_shown, act_none), KP_OK);
	CHECK_INT(kp_police_check(shown, act_none), KP_OK);
	json_decref(act_req);
	json_decref(act_free);
	json_decref(act_none);
	json_decref(shown);
	json_decref(not_shown);
	json_decref(null_shown);
}

/* ---- weekly containment ---- */

static bool s_contains(const char *have, const char *want)
{
	struct kp_week h, w;
	char err[KP_ERR_MAX];
	if (kp_week_parse(have, &h, err, sizeof err) ||
	    kp_week_parse(want, &w, err, sizeof err)) {
		printf("  bad week spec: %s\n", err);
		check_failed_now = 1;
		return false;
	}
	return kp_week_contains(&h, &w);
}

static void test_week_contains(void)
{
	CHECK(s_contains("tue 17:00-19:00", "tue 17:00-19:00"));
	CHECK(s_contains("mon-fri 16:00-21:00", "tue 17:00-19:00"));
	CHECK(s_contains("mon-fri 16:00-21:00", "tue 17:00-19:00, thu "
						"16:00-21:00"));
	CHECK(!s_contains("mon-fri 16:00-21:00", "sat 17:00-19:00"));
	CHECK(!s_contains("tue 17:00-19:00", "tue 16:59-19:00"));
	CHECK(!s_contains("tue 17:00-19:00", "tue 17:00-19:01"));
	CHECK(!s_contains("tue 17:00-19:00", "wed 17:00-19:00"));
	CHECK(
	    !s_contains("tue 09:00-12:00, tue 17:00-21:00", "tue 11:00-18:00"));
	CHECK(s_contains("tue 09:00-12:00, tue 17:00-21:00",
			 "tue 10:00-11:00, tue 18:00-19:00"));
	CHECK(!s_contains("tue 17:00-19:00", "tue 17:00-19:00, thu "
					     "17:00-19:00"));
	CHECK(s_contains("sun 00:00-24:00", "sun 22:00-24:00"));
	/* Nothing wanted is always contained; nothing had contains
	 * nothing. */
	CHECK(s_contains("tue 17:00-19:00", ""));
	CHECK(!s_contains("", "tue 17:00-19:00"));
}

/* ---- erasure ---- */

struct s_vol {
	struct kp_id id, other;
	int step;
};

static int s_vol_txn(kp_txn *txn, void *arg)
{
	struct s_vol *v = arg;
	json_t *rec;
	int rc;
	switch (v->step) {
	case 0: /* two volunteers */
		rec = json_pack("{sssssssis[ss]s[s]s{ssss}s{sbss}}", "name",
				"Kari Nordmann", "phone", "+47 900 00 001",
				"email", "kari@example.no", "birth_year", 1980,
				"skills", "matte", "norsk", "languages",
				"arabisk", "police", "role", "leksehjelp",
				"shown", "2026-01-10", "consent", "share", 0,
				"date", "2026-01-10");
		if ((rc = kp_txn_new_id(txn, KP_VOLUNTEER, &v->id)) ||
		    (rc = kp_txn_put(txn, &v->id, rec))) {
			json_decref(rec);
			return rc;
		}
		json_decref(rec);
		rec = json_pack("{ssss}", "name", "Ola Hansen", "phone",
				"+47 900 00 002");
		rc = kp_txn_new_id(txn, KP_VOLUNTEER, &v->other);
		if (!rc)
			rc = kp_txn_put(txn, &v->other, rec);
		json_decref(rec);
		return rc;
	case 1: /* an update of the first */
		if ((rc = kp_txn_get(txn, &v->id, &rec)))
			return rc;
		json_object_set_new(rec, "phone",
				    json_string("+47 900 00 009"));
		rc = kp_txn_put(txn, &v->id, rec);
		json_decref(rec);
		return rc;
	default:
		return kp_volunteer_erase(txn, &v->id);
	}
}

static int s_oplog_row(uint64_t seq, json_t *entry, void *arg)
{
	(void)seq;
	return json_array_append(arg, entry) ? KP_ENOMEM : KP_OK;
}

/* The whole oplog into the array arg. */
static int s_oplog_read_txn(kp_txn *txn, void *arg)
{
	return kp_txn_oplog_each(txn, 1, s_oplog_row, arg);
}

static void test_volunteer_erase(void)
{
	kp_store *store = s_fresh();
	struct s_vol v = {0};
	char text[KP_ID_STRLEN], other[KP_ID_STRLEN];
	json_t *log = json_array(), *e;
	size_t i;
	int seen = 0;
	uint64_t head;
	if (!store)
		return;
	for (v.step = 0; v.step < 3; v.step++)
		CHECK_INT(kp_store_write(store, s_vol_txn, &v), KP_OK);
	kp_id_format(&v.id, text);
	kp_id_format(&v.other, other);
	head = s_head(store);
	CHECK_INT(head, 3 + 2 + 1 + 1); /* rooms, puts, update, delete */
	CHECK_INT(kp_store_read(store, s_oplog_read_txn, log), KP_OK);
	CHECK_INT(json_array_size(log), head);
	json_array_foreach(log, i, e)
	{
		json_t *rec = json_object_get(e, "rec");
		const char *id = kp_rec_str(e, "id", "");
		if (!strcmp(id, text)) {
			seen++;
			if (!strcmp(kp_rec_str(e, "op", ""), "del"))
				continue;
			for (const char *const *f = kp_personal_fields; *f; f++)
				if (json_object_get(rec, *f)) {
					printf("  seq %zu still has %s\n",
					       i + 1, *f);
					check_failed_now = 1;
				}
			/* What is not personal stays. */
			CHECK_STR(json_string_value(json_array_get(
				      json_object_get(rec, "skills"), 1)),
				  "norsk");
			CHECK(json_is_true(json_object_get(rec, "erased")));
			CHECK_STR(kp_rec_str(rec, "id", ""), text);
		} else if (!strcmp(id, other)) {
			CHECK_STR(kp_rec_str(rec, "name", ""), "Ola Hansen");
			CHECK_STR(kp_rec_str(rec, "phone", ""),
				  "+47 900 00 002");
		}
	}
	CHECK_INT(seen, 3); /* put, update, delete */
	/* No byte of the personal data is left anywhere in the log. */
	{
		char *dump = json_dumps(log, JSON_COMPACT);
		CHECK(dump && !strstr(dump, "Kari"));
		CHECK(dump && !strstr(dump, "900 00 001"));
		CHECK(dump && !strstr(dump, "900 00 009"));
		CHECK(dump && !strstr(dump, "kari@example.no"));
		CHECK(dump && !strstr(dump, "1980"));
		CHECK(dump && !strstr(dump, "leksehjelp"));
		CHECK(dump && strstr(dump, "Ola Hansen"));
		free(dump);
	}
	/* Erasing again: the record is gone. */
	v.step = 2;
	CHECK_INT(kp_store_write(store, s_vol_txn, &v), KP_ENOTFOUND);
	CHECK_INT(s_head(store), head);
	json_decref(log);
	s_done(&store);
}

int main(void)
{
	kp_tz_set(KP_TZ_DEFAULT);
	RUN(test_single_clash);
	RUN(test_hold_room_unknown_room);
	RUN(test_series_clash_lists_every_date);
	RUN(test_series_days_and_until);
	RUN(test_series_skip_clashes);
	RUN(test_series_overlapping_itself);
	RUN(test_opening_hours);
	RUN(test_closures);
	RUN(test_dst_autumn);
	RUN(test_dst_spring);
	RUN(test_occurrence_on);
	RUN(test_release);
	RUN(test_police_check);
	RUN(test_week_contains);
	RUN(test_volunteer_erase);
	return check_done();
}
