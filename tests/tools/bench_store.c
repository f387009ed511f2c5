/*
 * bench_store.c - how fast the hub's store writes, on this file system.
 *
 *   bench_store [--dir DIR] [--knute PATH] [--records N] [--writes N]
 *               [--rounds N] [--bulk-rounds N] [--keep] [--json]
 *   bench_store --gen FILE --records N      (only write the import file)
 *
 * Three figures, measured in one run in one temporary directory (under
 * DIR, default /tmp), so they share the file system and its flush cost:
 *
 *   booking_writes_per_s    durable single-booking writes through the store
 *                           API, one kp_store_write() per booking with the
 *                           clash check, as 'knute booking add' does them
 *   raw_lmdb_commits_per_s  the reference: one mdb_put of a record of the
 *                           same size per durable LMDB commit (default
 *                           sync flags)
 *   bulk_inserts_per_s      'knute import' of a generated JSON Lines file
 *                           of rooms, bookings and weekly activities (none
 *                           clashing), timed from exec to exit of the real
 *                           knute process, durable at the end
 *
 * The single writes run in rounds (--rounds of --writes each), booking and
 * raw rounds taking turns, and each figure is the median round. The import
 * runs --bulk-rounds times (default 1), each into a fresh store.
 */
#include <errno.h>
#include <inttypes.h>
#include <lmdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "knute/error.h"
#include "knute/ktime.h"
#include "knute/store.h"
#include "rules.h"

#define HUB	       "fjell"
#define BOOKING_ROOMS  100 /* rooms that take the single bookings */
#define ACTIVITY_ROOMS 20  /* rooms that take the weekly activities */
#define FIRST_HOUR     8   /* slots are hourly from 08:00 ... */
#define HOURS_A_DAY    14  /* ... to 22:00 */
#define ACTIVITY_WEEKS 4   /* occurrences of each weekly activity */
#define MAX_ROUNDS     99

struct opts {
	const char *dir;
	const char *knute;
	const char *gen;
	long records, writes, rounds, bulk_rounds;
	bool json, keep;
};

static double s_now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int s_cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

static double s_median(double *v, long n)
{
	qsort(v, (size_t)n, sizeof *v, s_cmp_double);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

static int s_die(const char *what, int code)
{
	fprintf(stderr, "bench_store: %s: %s\n", what, kp_strerror(code));
	return 1;
}

/* ---- dates for the generated data ---- */

/* The civil date of day number z (days since 1970-01-01). */
static void s_civil(int64_t z, int *y, int *m, int *d)
{
	z += 719468;
	int64_t era = (z >= 0 ? z : z - 146096) / 146097;
	int64_t doe = z - era * 146097;
	int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	int64_t mp = (5 * doy + 2) / 153;
	*d = (int)(doy - (153 * mp + 2) / 5 + 1);
	*m = (int)(mp < 10 ? mp + 3 : mp - 9);
	*y = (int)(yoe + era * 400 + (*m <= 2));
}

/* Day number of 2027-01-04, a Monday: the first day of the data. */
#define BASE_DAY 20822

/* The instant of hour:00 local time on day number day. */
static int64_t s_local(int64_t day, int hour)
{
	int y, m, d;
	int64_t t = 0;
	s_civil(day, &y, &m, &d);
	kp_local_make(y, m, d, hour * 60, &t);
	return t;
}

/* ---- (c) the import file ---- */

static const char *const s_orgs[] = {
    "Røde Kors",
    "Frivilligsentralen Drammen",
    "Kirkens Bymisjon",
    "Blå Kors",
    "Fjell Idrettslag",
    "Åssiden Skolekorps",
    "Konnerud Sanitetsforening",
    "Strømsø Velforening",
};
#define NORGS (sizeof s_orgs / sizeof *s_orgs)

static const char *const s_titles[][4] = {
    {"Leksehjelp for 5.-7. trinn", "leksehjelp", "barn", "norsk,matte"},
    {"Språkkafé på norsk", "språkkafé", "voksne", "norsk"},
    {"Møteplass for seniorer", "møteplass", "eldre", ""},
    {"Ungdomsklubben", "ungdomsklubb", "ungdom", "førstehjelp"},
    {"Trim for alle", "trening", "alle", ""},
};
#define NTITLES (sizeof s_titles / sizeof *s_titles)

static void s_gen_rooms(FILE *f)
{
	for (int r = 1; r <= BOOKING_ROOMS + ACTIVITY_ROOMS; r++)
		fprintf(
		    f,
		    "{\"id\":\"" HUB ":r%d\",\"kind\":\"room\",\"hub\":\"" HUB
		    "\",\"name\":\"%s %d\",\"capacity\":%d,"
		    "\"facilities\":[\"projektor\",\"kjøkken\"],"
		    "\"open\":\"mon-sun 08:00-22:00\"}\n",
		    r,
		    r <= BOOKING_ROOMS ? "Fjell skole, rom" : "Aktivitetssal",
		    r, 10 + r % 60);
}

/* Booking number k (from 0) takes the k-th free hour of its room. */
static void s_gen_booking(FILE *f, long k)
{
	long room = k % BOOKING_ROOMS, idx = k / BOOKING_ROOMS;
	int64_t day = BASE_DAY + idx / HOURS_A_DAY;
	int hour = FIRST_HOUR + (int)(idx % HOURS_A_DAY);
	int64_t start = s_local(day, hour);
	fprintf(f,
		"{\"id\":\"" HUB ":b%ld\",\"kind\":\"booking\",\"hub\":\"" HUB
		"\",\"room\":\"" HUB ":r%ld\",\"org\":\"%s\",\"contact\":"
		"\"Kari Nordmann\",\"purpose\":\"Styremøte og dugnad\","
		"\"status\":\"confirmed\",\"start\":%" PRId64
		",\"end\":%" PRId64 "}\n",
		k + 1, room + 1, s_orgs[k % NORGS], start,
		s_local(day, hour + 1));
}

/* Activity number j (from 0): weekly, ACTIVITY_WEEKS occurrences, in a
 * weekday and hour of its room that no other activity uses those weeks. */
static void s_gen_activity(FILE *f, long j)
{
	long room = j % ACTIVITY_ROOMS, idx = j / ACTIVITY_ROOMS;
	long block = idx / (7 * HOURS_A_DAY), slot = idx % (7 * HOURS_A_DAY);
	int64_t day =
	    BASE_DAY + block * ACTIVITY_WEEKS * 7 + slot / HOURS_A_DAY;
	int hour = FIRST_HOUR + (int)(slot % HOURS_A_DAY);
	const char *const *t = s_titles[j % NTITLES];
	int y, m, d;
	char skills[64] = "";

	s_civil(day + (ACTIVITY_WEEKS - 1) * 7, &y, &m, &d);
	if (t[3][0]) {
		const char *comma = strchr(t[3], ',');
		if (comma)
			snprintf(skills, sizeof skills,
				 ",\"skills\":[\"%.*s\",\"%s\"]",
				 (int)(comma - t[3]), t[3], comma + 1);
		else
			snprintf(skills, sizeof skills, ",\"skills\":[\"%s\"]",
				 t[3]);
	}
	fprintf(
	    f,
	    "{\"id\":\"" HUB ":a%ld\",\"kind\":\"activity\",\"hub\":\"" HUB
	    "\",\"title\":\"%s\",\"organiser\":\"%s\",\"category\":\"%s\","
	    "\"target\":\"%s\",\"room\":\"" HUB ":r%ld\",\"weekly\":true,"
	    "\"days\":\"%s\",\"until\":\"%04d-%02d-%02d\",\"start\":%" PRId64
	    ",\"end\":%" PRId64
	    ",\"volunteers_needed\":%ld%s,\"police_required\":%s}\n",
	    j + 1, t[0], s_orgs[j % NORGS], t[1], t[2],
	    BOOKING_ROOMS + room + 1,
	    kp_weekday_name((int)(slot / HOURS_A_DAY)), y, m, d,
	    s_local(day, hour), s_local(day, hour + 1), 1 + j % 4, skills,
	    j % 2 ? "true" : "false");
}

/* Write the import file: the rooms first, then bookings with every tenth
 * record a weekly activity, records in all. */
static int s_gen(const char *path, long records)
{
	FILE *f = fopen(path, "w");
	long bookings = 0, activities = 0;
	if (!f) {
		fprintf(stderr, "bench_store: cannot write %s: %s\n", path,
			strerror(errno));
		return -1;
	}
	s_gen_rooms(f);
	for (long i = BOOKING_ROOMS + ACTIVITY_ROOMS; i < records; i++) {
		if (i % 10 == 9)
			s_gen_activity(f, activities++);
		else
			s_gen_booking(f, bookings++);
	}
	if (fclose(f)) {
		fprintf(stderr, "bench_store: cannot write %s\n", path);
		return -1;
	}
	return 0;
}

/* ---- running knute ---- */

/* Run argv, its output to /dev/null; the seconds from exec to exit, or
 * a negative number when it failed. */
static double s_run(char *const argv[])
{
	double t0 = s_now();
	int status;
	pid_t pid = fork();
	if (pid < 0)
		return -1;
	if (pid == 0) {
		if (!freopen("/dev/null", "w", stdout))
			_exit(127);
		execv(argv[0], argv);
		_exit(127);
	}
	if (waitpid(pid, &status, 0) != pid)
		return -1;
	if (!WIFEXITED(status) || WEXITSTATUS(status)) {
		fprintf(stderr,
			"bench_store: '%s %s %s %s' failed (status %d)\n",
			argv[0], argv[1], argv[2], argv[3],
			WIFEXITED(status) ? WEXITSTATUS(status) : -1);
		return -1;
	}
	return s_now() - t0;
}

static int s_init_store(const struct opts *o, const char *dir)
{
	char *argv[] = {(char *)o->knute,
			"init",
			"--data",
			(char *)dir,
			"--hub",
			HUB,
			"--name",
			"Knutepunkt Fjell",
			NULL};
	return s_run(argv) < 0 ? -1 : 0;
}

/* ---- (a) single bookings through the store ---- */

struct s_add {
	json_t *rec;
	struct kp_id id;
	struct kp_clashes clashes;
};

/* The transaction of 'knute booking add' (hub/cmd_booking.c). */
static int s_add_txn(kp_txn *txn, void *arg)
{
	struct s_add *a = arg;
	json_t *rec = json_deep_copy(a->rec);
	int rc;
	kp_clashes_free(&a->clashes);
	if (!rec)
		return KP_ENOMEM;
	if ((rc = kp_txn_new_id(txn, KP_BOOKING, &a->id)) ||
	    (rc = kp_hold_room(txn, &a->id, rec, false, &a->clashes)) ||
	    (rc = kp_txn_put(txn, &a->id, rec))) {
		json_decref(rec);
		return rc;
	}
	json_decref(rec);
	return KP_OK;
}

static int s_rooms_txn(kp_txn *txn, void *arg)
{
	(void)arg;
	for (int r = 0; r < 10; r++) {
		struct kp_id id;
		json_t *room =
		    json_pack("{sssiss}", "name", "Storsalen", "capacity", 80,
			      "open", "mon-sun 08:00-22:00");
		int rc = room ? kp_txn_new_id(txn, KP_ROOM, &id) : KP_ENOMEM;
		if (rc == KP_OK)
			rc = kp_txn_put(txn, &id, room);
		json_decref(room);
		if (rc)
			return rc;
	}
	return KP_OK;
}

/* One round: n bookings, each one durable write; the seconds taken. */
static double s_booking_round(kp_store *store, long *next, long n)
{
	char room[KP_ID_STRLEN];
	double t0 = s_now();
	for (long i = 0; i < n; i++, ++*next) {
		long k = *next, idx = k / 10;
		int64_t day = BASE_DAY + idx / HOURS_A_DAY;
		int hour = FIRST_HOUR + (int)(idx % HOURS_A_DAY);
		struct s_add a = {0};
		char err[KP_ERR_MAX];
		int rc;
		snprintf(room, sizeof room, HUB ":r%ld", k % 10 + 1);
		a.rec = json_pack("{sssssssIsI}", "room", room, "org",
				  s_orgs[k % NORGS], "status", "confirmed",
				  "start", (json_int_t)s_local(day, hour),
				  "end", (json_int_t)s_local(day, hour + 1));
		rc = a.rec ? kp_model_validate(KP_BOOKING, a.rec, err)
			   : KP_ENOMEM;
		if (rc == KP_OK)
			rc = kp_store_write(store, s_add_txn, &a);
		json_decref(a.rec);
		kp_clashes_free(&a.clashes);
		if (rc) {
			s_die("booking write", rc);
			return -1;
		}
	}
	return s_now() - t0;
}

/* ---- (b) raw LMDB ---- */

static double s_raw_round(MDB_env *env, MDB_dbi dbi, long *next, long n,
			  size_t vlen)
{
	char value[512];
	double t0 = s_now();
	memset(value, 'x', sizeof value);
	for (long i = 0; i < n; i++, ++*next) {
		uint64_t key = __builtin_bswap64((uint64_t)*next + 1);
		MDB_val k = {sizeof key, &key}, v = {vlen, value};
		MDB_txn *txn;
		int rc = mdb_txn_begin(env, NULL, 0, &txn);
		if (rc == 0 && (rc = mdb_put(txn, dbi, &k, &v, 0)))
			mdb_txn_abort(txn);
		else if (rc == 0)
			rc = mdb_txn_commit(txn);
		if (rc) {
			fprintf(stderr, "bench_store: raw LMDB: %s\n",
				mdb_strerror(rc));
			return -1;
		}
	}
	return s_now() - t0;
}

static int s_raw_open(const char *dir, MDB_env **env, MDB_dbi *dbi)
{
	MDB_txn *txn;
	int rc;
	if (mkdir(dir, 0775) && errno != EEXIST)
		return errno;
	if ((rc = mdb_env_create(env)) ||
	    (rc = mdb_env_set_mapsize(*env, 1ULL << 30)) ||
	    (rc = mdb_env_open(*env, dir, 0, 0664)))
		return rc;
	if ((rc = mdb_txn_begin(*env, NULL, 0, &txn)))
		return rc;
	if ((rc = mdb_dbi_open(txn, NULL, 0, dbi))) {
		mdb_txn_abort(txn);
		return rc;
	}
	return mdb_txn_commit(txn);
}

/* ---- main ---- */

static int s_usage(void)
{
	fputs("usage: bench_store [--dir DIR] [--knute PATH] [--records N] "
	      "[--writes N] [--rounds N] [--bulk-rounds N] [--keep] [--json]\n"
	      "       bench_store --gen FILE [--records N]\n",
	      stderr);
	return 2;
}

static int s_opts(int argc, char **argv, struct opts *o)
{
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		const char *v = i + 1 < argc ? argv[i + 1] : NULL;
		long *num = NULL;
		if (!strcmp(a, "--json")) {
			o->json = true;
			continue;
		}
		if (!strcmp(a, "--keep")) {
			o->keep = true;
			continue;
		}
		if (!v)
			return -1;
		i++;
		if (!strcmp(a, "--dir"))
			o->dir = v;
		else if (!strcmp(a, "--knute"))
			o->knute = v;
		else if (!strcmp(a, "--gen"))
			o->gen = v;
		else if (!strcmp(a, "--records"))
			num = &o->records;
		else if (!strcmp(a, "--writes"))
			num = &o->writes;
		else if (!strcmp(a, "--rounds"))
			num = &o->rounds;
		else if (!strcmp(a, "--bulk-rounds"))
			num = &o->bulk_rounds;
		else
			return -1;
		if (num) {
			char *end;
			*num = strtol(v, &end, 10);
			if (*end || *num < 1)
				return -1;
		}
	}
	if (o->rounds > MAX_ROUNDS || o->bulk_rounds > MAX_ROUNDS)
		return -1;
	if (o->records < BOOKING_ROOMS + ACTIVITY_ROOMS + 10)
		o->records = BOOKING_ROOMS + ACTIVITY_ROOMS + 10;
	return 0;
}

int main(int argc, char **argv)
{
	struct opts o = {.dir = getenv("TMPDIR"),
			 .records = 1000000,
			 .writes = 500,
			 .rounds = 5,
			 .bulk_rounds = 1};
	char tmpl[4096], path[4200], knute[4200], data[4200];
	double booking[MAX_ROUNDS], raw[MAX_ROUNDS], bulk[MAX_ROUNDS];
	long next_booking = 0, next_raw = 0;
	kp_store *store = NULL;
	MDB_env *env = NULL;
	MDB_dbi dbi;
	int rc, status = 1;

	if (s_opts(argc, argv, &o))
		return s_usage();
	if (kp_tz_set(KP_TZ_DEFAULT))
		return s_die("the time zone Europe/Oslo", KP_EINVAL);
	if (o.gen)
		return s_gen(o.gen, o.records) ? 1 : 0;
	if (!o.knute) {
		/* The knute beside this program (the Makefile puts both in
		 * $(BIN)). */
		const char *slash = strrchr(argv[0], '/');
		snprintf(knute, sizeof knute, "%.*sknute",
			 slash ? (int)(slash - argv[0] + 1) : 0, argv[0]);
		o.knute = knute;
	}
	if (access(o.knute, X_OK)) {
		fprintf(stderr,
			"bench_store: no knute program at %s: give "
			"--knute PATH (build it with make)\n",
			o.knute);
		return 1;
	}
	snprintf(tmpl, sizeof tmpl, "%s/knute-bench-XXXXXX",
		 o.dir && o.dir[0] ? o.dir : "/tmp");
	if (!mkdtemp(tmpl)) {
		fprintf(stderr,
			"bench_store: cannot make a directory in %s: "
			"%s\n",
			o.dir ? o.dir : "/tmp", strerror(errno));
		return 1;
	}

	/* (a) and (b), rounds taking turns. */
	snprintf(data, sizeof data, "%s/single", tmpl);
	if (s_init_store(&o, data) || (rc = kp_store_open(data, &store))) {
		fprintf(stderr, "bench_store: cannot make the store in %s\n",
			data);
		goto out;
	}
	if ((rc = kp_store_write(store, s_rooms_txn, NULL))) {
		s_die("adding rooms", rc);
		goto out;
	}
	snprintf(path, sizeof path, "%s/raw", tmpl);
	if ((rc = s_raw_open(path, &env, &dbi))) {
		fprintf(stderr, "bench_store: raw LMDB in %s: %s\n", path,
			mdb_strerror(rc));
		goto out;
	}
	/* A warm-up write of each, so neither pays for a first page. */
	if (s_booking_round(store, &next_booking, 5) < 0 ||
	    s_raw_round(env, dbi, &next_raw, 5, 200) < 0)
		goto out;
	for (long r = 0; r < o.rounds; r++) {
		double tb = s_booking_round(store, &next_booking, o.writes);
		double tr = s_raw_round(env, dbi, &next_raw, o.writes, 200);
		if (tb < 0 || tr < 0)
			goto out;
		booking[r] = (double)o.writes / tb;
		raw[r] = (double)o.writes / tr;
	}
	kp_store_close(&store);
	mdb_env_close(env);
	env = NULL;

	/* (c) the import, each round into a new store. */
	snprintf(path, sizeof path, "%s/import.jsonl", tmpl);
	if (s_gen(path, o.records))
		goto out;
	for (long r = 0; r < o.bulk_rounds; r++) {
		double t;
		snprintf(data, sizeof data, "%s/bulk%ld", tmpl, r);
		char *argv_import[] = {(char *)o.knute, "--data", data,
				       "import",	path,	  NULL};
		if (s_init_store(&o, data) || (t = s_run(argv_import)) < 0)
			goto out;
		bulk[r] = (double)o.records / t;
	}

	{
		double b = s_median(booking, o.rounds);
		double w = s_median(raw, o.rounds);
		double k = s_median(bulk, o.bulk_rounds);
		double ratio = w / b; /* cost of a booking / cost of a commit */
		if (o.json) {
			json_t *out = json_pack(
			    "{sisisisfsisisiss}", "booking_writes_per_s",
			    (int)(b + 0.5), "raw_lmdb_commits_per_s",
			    (int)(w + 0.5), "bulk_inserts_per_s",
			    (int)(k + 0.5), "booking_cost_ratio", ratio,
			    "bulk_records", (int)o.records, "single_writes",
			    (int)o.writes, "rounds", (int)o.rounds, "dir",
			    tmpl);
			char *text = out ? json_dumps(out, JSON_COMPACT) : NULL;
			if (!text) {
				json_decref(out);
				goto out;
			}
			printf("%s\n", text);
			free(text);
			json_decref(out);
		} else {
			printf("knutepunkt store benchmark in %s\n\n", tmpl);
			printf("%-40s %14s %10s %8s\n", "measure", "per second",
			       "target", "ok");
			printf("%-40s %14.0f %10s %8s\n",
			       "durable single booking writes", b, "", "");
			printf("%-40s %14.0f %10s %8s\n",
			       "raw LMDB durable commits (reference)", w, "",
			       "");
			printf("%-40s %14.3f %10s %8s\n",
			       "booking cost / raw commit cost (ratio)", ratio,
			       "<= 1.5", ratio <= 1.5 ? "yes" : "NO");
			printf("%-40s %14.0f %10s %8s\n",
			       "bulk inserts through knute import", k,
			       ">= 300000", k >= 300000 ? "yes" : "NO");
			printf("\nsingle writes: median of %ld rounds of %ld; "
			       "import: %ld records, median of %ld runs\n",
			       o.rounds, o.writes, o.records, o.bulk_rounds);
		}
	}
	status = 0;
out:
	kp_store_close(&store);
	if (env)
		mdb_env_close(env);
	if (!o.keep) {
		char *argv_rm[] = {"/bin/rm", "-rf", tmpl, NULL};
		pid_t pid = fork();
		if (pid == 0) {
			execv(argv_rm[0], argv_rm);
			_exit(127);
		}
		if (pid > 0)
			waitpid(pid, &rc, 0);
	}
	return status;
}
