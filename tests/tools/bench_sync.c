/*
 * bench_sync.c - the in-process half of scripts/bench-sync: it writes the
 * import files, reads central's registry without spawning a process per
 * look, writes the live bookings and watches the daemons' memory.
 *
 *   bench_sync gen --hub HUB --rooms R [--bookings N] --out FILE
 *   bench_sync head --data DIR
 *   bench_sync catchup --central DIR --hub DIR [--hub DIR ...]
 *                      [--timeout S] [--poll-us U] [--sample-ms M]
 *   bench_sync live --central DIR --hub DIR --room ID --writes N
 *                   [--warmup N] [--poll-us U] [--timeout S] [--out FILE]
 *
 * gen writes R rooms (HUB:r1 .. HUB:rR) as JSON Lines, or with --bookings
 * N one-hour bookings without ids, spread over those rooms, none clashing
 * (the shape of gen_bookings in tests/sync/lib.sh, with a contact person
 * and a purpose as real bookings have them).
 *
 * catchup reads every hub's oplog head (the daemons must not run yet),
 * prints "ready", and waits for one line on stdin: "go T0 PID..." with T0
 * the CLOCK_MONOTONIC second the clock started (central let go) and the
 * PIDs of the daemons to watch. It then polls central's registry (table hubs,
 * the map under each hub id, field "applied") every --poll-us (default
 * 1000) until central applied every hub's head, samples /proc/PID/status
 * of each PID every --sample-ms (default 20) for the peak RssAnon and
 * VmRSS, and prints one JSON object: the seconds from T0 to the first
 * progress and to the end, per-hub finishing times, the peaks, and the CPU
 * seconds each PID used from the "go" line on (/proc/PID/stat) and the
 * seconds its main thread waited, runnable, for a CPU (schedstat). It
 * gives up (status 3) when --timeout seconds (default 600) pass or a
 * watched process exits.
 *
 * live writes bookings into ROOM of the hub's store one at a time, each
 * through kp_store_write() with the clash check of 'knute booking add',
 * and times from the commit's return to central's registry showing the
 * write's seq applied, polling every --poll-us (default 50). It prints one
 * JSON object with the percentiles in milliseconds and the number of writes
 * that took over 100 ms; --out FILE also writes every latency, in order.
 *
 * Central's store is opened read-only with LMDB directly: the bench never
 * takes its write lock and never writes a byte there.
 */
#include <errno.h>
#include <inttypes.h>
#include <lmdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "codec.h"
#include "knute/error.h"
#include "knute/store.h"
#include "rules.h"

#define MAX_HUBS 64
#define MAX_PIDS 80
#define BASE_UTC 1799020800 /* 2027-01-04 00:00 UTC, a Monday */

static const char *const s_orgs[] = {
    "Røde Kors",   "Frivilligsentralen", "Kirkens Bymisjon",
    "Blå Kors",	   "Frelsesarmeen",	 "Mental Helse",
    "Konnerud IL", "Åssiden Skolekorps", "Strømsø Velforening",
};
#define NORGS (sizeof s_orgs / sizeof *s_orgs)

static double s_now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void s_sleep_us(long us)
{
	struct timespec ts = {us / 1000000, (us % 1000000) * 1000};
	while (nanosleep(&ts, &ts) && errno == EINTR)
		;
}

static int s_cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

/* The nearest-rank percentile p (0..100) of sorted v. */
static double s_pct(const double *v, size_t n, double p)
{
	size_t k = (size_t)((p / 100.0) * (double)n + 0.999999);
	if (k < 1)
		k = 1;
	if (k > n)
		k = n;
	return v[k - 1];
}

/* ---- options ---- */

struct opts {
	const char *central, *room, *out, *hubname, *data;
	const char *hubs[MAX_HUBS];
	int nhubs;
	long rooms, bookings, writes, warmup, poll_us, sample_ms;
	double timeout;
};

static int s_usage(void)
{
	fputs("usage: bench_sync gen --hub HUB --rooms R [--bookings N] "
	      "--out FILE\n"
	      "       bench_sync head --data DIR\n"
	      "       bench_sync catchup --central DIR --hub DIR [--hub DIR "
	      "...] [--timeout S] [--poll-us U] [--sample-ms M]\n"
	      "       bench_sync live --central DIR --hub DIR --room ID "
	      "--writes N [--warmup N] [--poll-us U] [--timeout S] "
	      "[--out FILE]\n",
	      stderr);
	return 2;
}

static int s_opts(int argc, char **argv, struct opts *o)
{
	for (int i = 2; i < argc; i++) {
		const char *a = argv[i];
		const char *v = i + 1 < argc ? argv[i + 1] : NULL;
		long *num = NULL;
		char *end;
		if (!v)
			return -1;
		i++;
		if (!strcmp(a, "--central"))
			o->central = v;
		else if (!strcmp(a, "--room"))
			o->room = v;
		else if (!strcmp(a, "--out"))
			o->out = v;
		else if (!strcmp(a, "--data"))
			o->data = v;
		else if (!strcmp(a, "--hub") && !strcmp(argv[1], "gen"))
			o->hubname = v;
		else if (!strcmp(a, "--hub")) {
			if (o->nhubs == MAX_HUBS)
				return -1;
			o->hubs[o->nhubs++] = v;
		} else if (!strcmp(a, "--timeout")) {
			o->timeout = strtod(v, &end);
			if (*end || o->timeout <= 0)
				return -1;
		} else if (!strcmp(a, "--rooms"))
			num = &o->rooms;
		else if (!strcmp(a, "--bookings"))
			num = &o->bookings;
		else if (!strcmp(a, "--writes"))
			num = &o->writes;
		else if (!strcmp(a, "--warmup"))
			num = &o->warmup;
		else if (!strcmp(a, "--poll-us"))
			num = &o->poll_us;
		else if (!strcmp(a, "--sample-ms"))
			num = &o->sample_ms;
		else
			return -1;
		if (num) {
			*num = strtol(v, &end, 10);
			if (*end || *num < 0)
				return -1;
		}
	}
	return 0;
}

/* ---- gen ---- */

static int s_gen(const struct opts *o)
{
	FILE *f;
	if (!o->hubname || !o->out || o->rooms < 1)
		return s_usage();
	if (!(f = fopen(o->out, "w"))) {
		fprintf(stderr, "bench_sync: cannot write %s: %s\n", o->out,
			strerror(errno));
		return 1;
	}
	if (!o->bookings) {
		for (long r = 1; r <= o->rooms; r++)
			fprintf(f,
				"{\"id\":\"%s:r%ld\",\"kind\":\"room\","
				"\"name\":\"%s %ld\",\"capacity\":%ld,"
				"\"facilities\":[\"projektor\",\"kjøkken\"]}\n",
				o->hubname, r,
				r % 2 ? "Fjell skole, rom"
				      : "Aktivitetshuset, sal",
				r, 10 + r % 60);
	}
	for (long i = 0; i < o->bookings; i++) {
		long room = i % o->rooms, idx = i / o->rooms;
		int64_t start = BASE_UTC + (int64_t)(idx / 14) * 86400 +
				(int64_t)(7 + idx % 14) * 3600;
		fprintf(f,
			"{\"kind\":\"booking\",\"room\":\"%s:r%ld\","
			"\"org\":\"%s\",\"contact\":\"Kari Nordmann\","
			"\"purpose\":\"Styremøte og dugnad\","
			"\"status\":\"confirmed\",\"start\":%" PRId64
			",\"end\":%" PRId64 "}\n",
			o->hubname, room + 1, s_orgs[i % NORGS], start,
			start + 3600);
	}
	if (fclose(f)) {
		fprintf(stderr, "bench_sync: cannot write %s\n", o->out);
		return 1;
	}
	return 0;
}

/* ---- a hub's store ---- */

static int s_head_txn(kp_txn *txn, void *arg)
{
	*(uint64_t *)arg = kp_txn_head_seq(txn);
	return KP_OK;
}

/* The hub id and oplog head of the store in dir. */
static int s_hub_head(const char *dir, char *hub, size_t len, uint64_t *head)
{
	kp_store *store;
	int rc = kp_store_open(dir, &store);
	if (rc) {
		fprintf(stderr, "bench_sync: %s: %s\n", dir, kp_strerror(rc));
		return rc;
	}
	snprintf(hub, len, "%s", kp_store_hub(store));
	rc = kp_store_read(store, s_head_txn, head);
	if (rc)
		fprintf(stderr, "bench_sync: %s: reading the head: %s\n", dir,
			kp_strerror(rc));
	kp_store_close(&store);
	return rc;
}

static int s_head(const struct opts *o)
{
	char hub[KP_HUB_ID_MAX + 1];
	uint64_t head;
	if (!o->data)
		return s_usage();
	if (s_hub_head(o->data, hub, sizeof hub, &head))
		return 1;
	printf("%" PRIu64 "\n", head);
	return 0;
}

/* ---- central's registry, read-only ---- */

struct central {
	MDB_env *env;
	MDB_dbi hubs;
};

static int s_central_open(struct central *c, const char *dir)
{
	MDB_txn *txn;
	int rc;
	if ((rc = mdb_env_create(&c->env)))
		goto fail;
	mdb_env_set_maxdbs(c->env, 16);
	if ((rc = mdb_env_open(c->env, dir, MDB_RDONLY | MDB_NOTLS, 0664)) ||
	    (rc = mdb_txn_begin(c->env, NULL, MDB_RDONLY, &txn)))
		goto fail;
	if ((rc = mdb_dbi_open(txn, "hubs", 0, &c->hubs))) {
		mdb_txn_abort(txn);
		goto fail;
	}
	/* Committing a read-only transaction keeps the handle. */
	if ((rc = mdb_txn_commit(txn)))
		goto fail;
	return 0;
fail:
	fprintf(stderr, "bench_sync: central's store %s: %s\n", dir,
		mdb_strerror(rc));
	if (c->env)
		mdb_env_close(c->env);
	c->env = NULL;
	return -1;
}

static void s_central_close(struct central *c)
{
	if (c->env)
		mdb_env_close(c->env);
	c->env = NULL;
}

/* The "applied" field of a registry value (0 when there is none). */
static uint64_t s_applied_of(const void *val, size_t len)
{
	json_t *o = NULL, *v;
	uint64_t applied = 0;
	if (kp_codec_decode(val, len, &o) == KP_OK && json_is_object(o) &&
	    json_is_integer(v = json_object_get(o, "applied")) &&
	    json_integer_value(v) > 0)
		applied = (uint64_t)json_integer_value(v);
	json_decref(o);
	return applied;
}

/* Read central's applied seq of each of n hubs into applied[], in one
 * read snapshot. */
static int s_central_applied(struct central *c, char hubs[][KP_HUB_ID_MAX + 1],
			     int n, uint64_t *applied)
{
	MDB_txn *txn;
	int rc = mdb_txn_begin(c->env, NULL, MDB_RDONLY, &txn);
	if (rc == MDB_MAP_RESIZED) {
		/* Central grew its map: map the new size. */
		mdb_env_set_mapsize(c->env, 0);
		rc = mdb_txn_begin(c->env, NULL, MDB_RDONLY, &txn);
	}
	if (rc) {
		fprintf(stderr, "bench_sync: reading central: %s\n",
			mdb_strerror(rc));
		return -1;
	}
	for (int i = 0; i < n; i++) {
		MDB_val k = {strlen(hubs[i]), hubs[i]}, v;
		rc = mdb_get(txn, c->hubs, &k, &v);
		applied[i] = rc == 0 ? s_applied_of(v.mv_data, v.mv_size) : 0;
	}
	mdb_txn_abort(txn);
	return 0;
}

/* ---- /proc ---- */

struct watch {
	int pid;
	long peak_anon_kb, peak_rss_kb; /* -1 before the first sample */
	double cpu_s;			/* CPU time used from T0 to the end */
	double cpu_base_s; /* ... and before T0 (a daemon already running) */
	double runq_s;	   /* main thread runnable but not running, from T0 */
	double runq_base_s;
};

/* RssAnon and VmRSS of pid in kB; false when it is gone. */
static bool s_status(int pid, long *anon, long *rss)
{
	char path[64], line[256];
	FILE *f;
	snprintf(path, sizeof path, "/proc/%d/status", pid);
	if (!(f = fopen(path, "r")))
		return false;
	*anon = *rss = -1;
	while (fgets(line, sizeof line, f)) {
		if (!strncmp(line, "RssAnon:", 8))
			*anon = atol(line + 8);
		else if (!strncmp(line, "VmRSS:", 6))
			*rss = atol(line + 6);
	}
	fclose(f);
	return *rss >= 0;
}

/* The CPU seconds (user + system) pid used so far; -1 when it is gone. */
static double s_cpu(int pid)
{
	char path[64], buf[1024], *p;
	unsigned long long ut, st;
	size_t n;
	FILE *f;
	snprintf(path, sizeof path, "/proc/%d/stat", pid);
	if (!(f = fopen(path, "r")))
		return -1;
	n = fread(buf, 1, sizeof buf - 1, f);
	fclose(f);
	buf[n] = 0;
	/* Fields after the command name, which may hold spaces: state is
	 * field 3, utime 14, stime 15. */
	if (!(p = strrchr(buf, ')')) ||
	    sscanf(p + 2,
		   "%*c %*s %*s %*s %*s %*s %*s %*s %*s %*s %*s %llu %llu", &ut,
		   &st) != 2)
		return -1;
	return (double)(ut + st) / (double)sysconf(_SC_CLK_TCK);
}

/* The seconds pid's main thread spent runnable but waiting for a CPU
 * (/proc/PID/task/PID/schedstat, second field, in ns); -1 when unknown. */
static double s_runq(int pid)
{
	char path[64];
	unsigned long long run, wait;
	FILE *f;
	snprintf(path, sizeof path, "/proc/%d/task/%d/schedstat", pid, pid);
	if (!(f = fopen(path, "r")))
		return -1;
	int n = fscanf(f, "%llu %llu", &run, &wait);
	fclose(f);
	return n == 2 ? (double)wait / 1e9 : -1;
}

/* Sample every watched process; the pid of one that is gone (or a
 * zombie, which has no VmRSS), or 0. */
static int s_sample(struct watch *w, int n)
{
	int gone = 0;
	for (int i = 0; i < n; i++) {
		long anon, rss;
		if (!s_status(w[i].pid, &anon, &rss)) {
			gone = w[i].pid;
			continue;
		}
		if (anon > w[i].peak_anon_kb)
			w[i].peak_anon_kb = anon;
		if (rss > w[i].peak_rss_kb)
			w[i].peak_rss_kb = rss;
	}
	return gone;
}

/* ---- catchup ---- */

static int s_catchup(const struct opts *o)
{
	static char hubs[MAX_HUBS][KP_HUB_ID_MAX + 1];
	uint64_t head[MAX_HUBS], applied[MAX_HUBS], start[MAX_HUBS];
	double done_at[MAX_HUBS], t0, first = -1, end = -1, last_sample = 0;
	double timeout = o->timeout > 0 ? o->timeout : 600;
	long poll_us = o->poll_us ? o->poll_us : 1000;
	double sample_s = (o->sample_ms ? o->sample_ms : 20) / 1000.0;
	struct watch w[MAX_PIDS];
	struct central c = {0};
	char line[4096], *p, *q;
	int nw = 0, left, gone = 0, rc = 1;
	json_t *out, *per;

	if (!o->central || !o->nhubs)
		return s_usage();
	for (int i = 0; i < o->nhubs; i++) {
		if (s_hub_head(o->hubs[i], hubs[i], sizeof hubs[i], &head[i]))
			return 1;
		done_at[i] = -1;
	}
	if (s_central_open(&c, o->central))
		return 1;
	if (s_central_applied(&c, hubs, o->nhubs, start))
		goto out;
	printf("ready\n");
	fflush(stdout);
	if (!fgets(line, sizeof line, stdin) || strncmp(line, "go ", 3)) {
		fprintf(stderr, "bench_sync: expected 'go T0 PID...'\n");
		goto out;
	}
	t0 = strtod(line + 3, &p);
	for (long pid; nw < MAX_PIDS && (pid = strtol(p, &q, 10)) > 0; p = q)
		w[nw++] = (struct watch){
		    (int)pid, -1, -1, 0, s_cpu((int)pid), 0, s_runq((int)pid)};

	left = o->nhubs;
	for (;;) {
		double now = s_now();
		if (s_central_applied(&c, hubs, o->nhubs, applied))
			goto out;
		left = 0;
		for (int i = 0; i < o->nhubs; i++) {
			if (first < 0 && applied[i] > start[i])
				first = now;
			if (done_at[i] < 0 && applied[i] >= head[i])
				done_at[i] = now;
			left += done_at[i] < 0;
		}
		if (now - last_sample >= sample_s) {
			gone = s_sample(w, nw);
			last_sample = now;
		}
		if (!left) {
			end = now;
			break;
		}
		if (gone) {
			fprintf(stderr,
				"bench_sync: process %d exited before "
				"central caught up\n",
				gone);
			break;
		}
		if (now - t0 > timeout)
			break;
		s_sleep_us(poll_us);
	}
	s_sample(w, nw);
	for (int i = 0; i < nw; i++) {
		w[i].cpu_s = s_cpu(w[i].pid) - w[i].cpu_base_s;
		w[i].runq_s = s_runq(w[i].pid) - w[i].runq_base_s;
	}

	out = json_object();
	per = json_array();
	uint64_t total = 0, done_total = 0;
	double first_done = -1;
	for (int i = 0; i < o->nhubs; i++) {
		total += head[i] - start[i];
		done_total += applied[i] - start[i];
		if (done_at[i] >= 0 &&
		    (first_done < 0 || done_at[i] - t0 < first_done))
			first_done = done_at[i] - t0;
		json_array_append_new(
		    per, json_pack("{sssIsIsIsf}", "hub", hubs[i], "head",
				   (json_int_t)head[i], "start",
				   (json_int_t)start[i], "applied",
				   (json_int_t)applied[i], "done_s",
				   done_at[i] >= 0 ? done_at[i] - t0 : -1.0));
	}
	json_object_set_new(out, "ok", json_boolean(end >= 0));
	json_object_set_new(out, "changes", json_integer((json_int_t)total));
	json_object_set_new(out, "applied",
			    json_integer((json_int_t)done_total));
	json_object_set_new(out, "seconds",
			    json_real(end >= 0 ? end - t0 : s_now() - t0));
	json_object_set_new(out, "first_progress_s",
			    json_real(first >= 0 ? first - t0 : -1.0));
	json_object_set_new(out, "first_hub_done_s", json_real(first_done));
	json_object_set_new(out, "gone_pid", json_integer(gone));
	json_object_set_new(out, "hubs", per);
	per = json_array();
	for (int i = 0; i < nw; i++)
		json_array_append_new(
		    per,
		    json_pack("{sisfsfsfsf}", "pid", w[i].pid,
			      "peak_rss_anon_mb",
			      (double)w[i].peak_anon_kb / 1024.0, "peak_rss_mb",
			      (double)w[i].peak_rss_kb / 1024.0, "cpu_s",
			      w[i].cpu_s, "runq_wait_s", w[i].runq_s));
	json_object_set_new(out, "pids", per);
	if ((p = json_dumps(out, JSON_COMPACT))) {
		printf("%s\n", p);
		free(p);
	}
	json_decref(out);
	rc = end >= 0 ? 0 : 3;
out:
	s_central_close(&c);
	return rc;
}

/* ---- live ---- */

struct s_add {
	json_t *rec;
	struct kp_id id;
	struct kp_clashes clashes;
	uint64_t seq;
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
	a->seq = kp_txn_head_seq(txn);
	json_decref(rec);
	return KP_OK;
}

static int s_live(const struct opts *o)
{
	static char hubs[1][KP_HUB_ID_MAX + 1];
	long warmup = o->warmup, n = o->writes;
	long poll_us = o->poll_us ? o->poll_us : 50;
	double timeout = o->timeout > 0 ? o->timeout : 10, *lat, *raw, *wall;
	long slow = 0;
	struct central c = {0};
	kp_store *store = NULL;
	int rc = 1;

	if (!o->central || o->nhubs != 1 || !o->room || n < 1)
		return s_usage();
	if (!(lat = calloc((size_t)n, sizeof *lat)))
		return 1;
	raw = calloc((size_t)n, sizeof *raw);
	wall = calloc((size_t)n, sizeof *wall);
	if (!raw || !wall) {
		free(lat);
		free(raw);
		free(wall);
		return 1;
	}
	if ((rc = kp_store_open(o->hubs[0], &store))) {
		fprintf(stderr, "bench_sync: %s: %s\n", o->hubs[0],
			kp_strerror(rc));
		free(lat);
		free(raw);
		free(wall);
		return 1;
	}
	rc = 1;
	snprintf(hubs[0], sizeof hubs[0], "%s", kp_store_hub(store));
	if (s_central_open(&c, o->central))
		goto out;
	for (long i = 0; i < warmup + n; i++) {
		int64_t s = BASE_UTC + (int64_t)(i / 14) * 86400 +
			    (int64_t)(7 + i % 14) * 3600;
		struct s_add a = {0};
		char err[KP_ERR_MAX];
		uint64_t applied;
		double t, seen;
		int wrc;
		a.rec = json_pack("{sssssssssssIsI}", "room", o->room, "org",
				  s_orgs[i % NORGS], "contact", "Ola Nordmann",
				  "purpose", "Øvelse", "status", "confirmed",
				  "start", (json_int_t)s, "end",
				  (json_int_t)(s + 3600));
		wrc = a.rec ? kp_model_validate(KP_BOOKING, a.rec, err)
			    : KP_ENOMEM;
		if (wrc == KP_OK)
			wrc = kp_store_write(store, s_add_txn, &a);
		t = s_now();
		if (i >= warmup)
			wall[i - warmup] = t;
		json_decref(a.rec);
		kp_clashes_free(&a.clashes);
		if (wrc) {
			fprintf(stderr, "bench_sync: booking write: %s\n",
				kp_strerror(wrc));
			goto out;
		}
		for (;;) {
			if (s_central_applied(&c, hubs, 1, &applied))
				goto out;
			seen = s_now();
			if (applied >= a.seq)
				break;
			if (seen - t > timeout) {
				fprintf(stderr,
					"bench_sync: central did not apply "
					"seq %" PRIu64 " within %.0f s "
					"(applied %" PRIu64 ")\n",
					a.seq, timeout, applied);
				goto out;
			}
			s_sleep_us(poll_us);
		}
		if (i >= warmup)
			lat[i - warmup] = raw[i - warmup] = (seen - t) * 1000.0;
	}
	if (o->out) {
		/* The latencies in write order, one a line with the
		 * CLOCK_MONOTONIC second of the commit (to line up with
		 * 'perf record -k CLOCK_MONOTONIC' of the daemons), for a
		 * closer look at the slow ones. */
		FILE *f = fopen(o->out, "w");
		for (long i = 0; f && i < n; i++)
			fprintf(f, "%ld %.3f %.6f\n", i, raw[i], wall[i]);
		if (!f || fclose(f))
			fprintf(stderr, "bench_sync: cannot write %s\n",
				o->out);
	}
	qsort(lat, (size_t)n, sizeof *lat, s_cmp_double);
	double sum = 0;
	for (long i = 0; i < n; i++) {
		sum += lat[i];
		slow += lat[i] > 100;
	}
	printf("{\"writes\":%ld,\"warmup\":%ld,\"p50_ms\":%.3f,"
	       "\"p90_ms\":%.3f,\"p99_ms\":%.3f,\"max_ms\":%.3f,"
	       "\"min_ms\":%.3f,\"mean_ms\":%.3f,\"over_100ms\":%ld}\n",
	       n, warmup, s_pct(lat, (size_t)n, 50), s_pct(lat, (size_t)n, 90),
	       s_pct(lat, (size_t)n, 99), lat[n - 1], lat[0], sum / (double)n,
	       slow);
	rc = 0;
out:
	s_central_close(&c);
	kp_store_close(&store);
	free(lat);
	free(raw);
	free(wall);
	return rc;
}

int main(int argc, char **argv)
{
	struct opts o = {0};
	if (argc < 2 || s_opts(argc, argv, &o))
		return s_usage();
	if (!strcmp(argv[1], "gen"))
		return s_gen(&o);
	if (!strcmp(argv[1], "head"))
		return s_head(&o);
	if (!strcmp(argv[1], "catchup"))
		return s_catchup(&o);
	if (!strcmp(argv[1], "live"))
		return s_live(&o);
	return s_usage();
}
