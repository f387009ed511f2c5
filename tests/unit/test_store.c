/*
 * test_store.c - the LMDB store in temporary directories: create and
 * open, records and the oplog in one transaction, aborted transactions,
 * ids, the slot index with its half-open edges, bad directories, bulk mode
 * and lazy commits.
 */
#include <dirent.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "check.h"
#include "knute/error.h"
#include "knute/ktime.h"
#include "knute/store.h"

/* ---- temporary directories ---- */

static char s_dir[64];

static const char *s_tmpdir(void)
{
	snprintf(s_dir, sizeof s_dir, "/tmp/knute-test-store-XXXXXX");
	if (!mkdtemp(s_dir)) {
		printf("  mkdtemp failed\n");
		check_failed_now = 1;
	}
	return s_dir;
}

/* Remove dir and the files in it (a store has no subdirectories; the
 * tests make at most one level). */
static void s_rmtree(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	char path[512];
	if (!d)
		return;
	while ((e = readdir(d))) {
		struct stat st;
		if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
			continue;
		snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
		if (stat(path, &st) == 0 && S_ISDIR(st.st_mode))
			s_rmtree(path);
		else
			unlink(path);
	}
	closedir(d);
	rmdir(dir);
}

/* A fresh hub store "fjell" in a new temporary directory. */
static kp_store *s_fresh(void)
{
	kp_store *store = NULL;
	const char *dir = s_tmpdir();
	CHECK_INT(kp_store_create(dir, "fjell", "Knutepunkt Fjell"), KP_OK);
	CHECK_INT(kp_store_open(dir, &store), KP_OK);
	return store;
}

static void s_done(kp_store **store)
{
	kp_store_close(store);
	s_rmtree(s_dir);
}

static json_t *s_room(const char *name, int capacity)
{
	return json_pack("{sssi}", "name", name, "capacity", capacity);
}

/* ---- transaction bodies ---- */

struct s_add {
	int n; /* records to add */
	char kind;
	struct kp_id ids[64]; /* the first 64 ids handed out */
	int fail_with;	      /* return this after the puts */
};

static int s_add_txn(kp_txn *txn, void *arg)
{
	struct s_add *a = arg;
	for (int i = 0; i < a->n; i++) {
		struct kp_id id;
		char name[64];
		json_t *rec;
		int rc;
		snprintf(name, sizeof name, "Rom %d på Åssiden", i);
		rec = s_room(name, i);
		if ((rc = kp_txn_new_id(txn, a->kind, &id)) ||
		    (rc = kp_txn_put(txn, &id, rec))) {
			json_decref(rec);
			return rc;
		}
		json_decref(rec);
		if (i < 64)
			a->ids[i] = id;
	}
	return a->fail_with;
}

static int s_add(kp_store *store, char kind, int n, struct s_add *out)
{
	struct s_add local = {.n = n, .kind = kind};
	struct s_add *a = out ? out : &local;
	a->n = n;
	a->kind = kind;
	return kp_store_write(store, s_add_txn, a);
}

static int s_head_txn(kp_txn *txn, void *arg)
{
	*(uint64_t *)arg = kp_txn_head_seq(txn);
	return KP_OK;
}

static uint64_t s_head(kp_store *store)
{
	uint64_t head = 999999;
	CHECK_INT(kp_store_read(store, s_head_txn, &head), KP_OK);
	return head;
}

struct s_count {
	char kind;
	uint64_t n;
};

static int s_count_txn(kp_txn *txn, void *arg)
{
	struct s_count *c = arg;
	return kp_txn_count(txn, c->kind, &c->n);
}

static uint64_t s_count(kp_store *store, char kind)
{
	struct s_count c = {kind, 999999};
	CHECK_INT(kp_store_read(store, s_count_txn, &c), KP_OK);
	return c.n;
}

struct s_get {
	struct kp_id id;
	json_t *rec;
	int rc;
};

static int s_get_txn(kp_txn *txn, void *arg)
{
	struct s_get *g = arg;
	g->rc = kp_txn_get(txn, &g->id, &g->rec);
	return KP_OK;
}

/* The record id as text, or NULL (rc in *rc). */
static json_t *s_get(kp_store *store, const char *idtext, int *rc)
{
	struct s_get g = {0};
	char err[KP_ERR_MAX];
	if (kp_id_parse(idtext, NULL, 0, &g.id, err))
		return NULL;
	CHECK_INT(kp_store_read(store, s_get_txn, &g), KP_OK);
	*rc = g.rc;
	return g.rec;
}

/* The oplog as an array of entries, each with "key_seq" added. */
static int s_oplog_row(uint64_t seq, json_t *entry, void *arg)
{
	json_t *copy = json_deep_copy(entry);
	json_object_set_new(copy, "key_seq", json_integer((json_int_t)seq));
	return json_array_append_new(arg, copy) ? KP_ENOMEM : KP_OK;
}

struct s_oplog {
	uint64_t from;
	json_t *list;
};

static int s_oplog_txn(kp_txn *txn, void *arg)
{
	struct s_oplog *o = arg;
	return kp_txn_oplog_each(txn, o->from, s_oplog_row, o->list);
}

static json_t *s_oplog(kp_store *store, uint64_t from)
{
	struct s_oplog o = {from, json_array()};
	CHECK_INT(kp_store_read(store, s_oplog_txn, &o), KP_OK);
	return o.list;
}

/* ---- create and open ---- */

static void test_create_and_open(void)
{
	kp_store *store = s_fresh();
	const char *inc;
	CHECK(store != NULL);
	if (!store)
		return;
	CHECK_STR(kp_store_hub(store), "fjell");
	CHECK_STR(kp_store_name(store), "Knutepunkt Fjell");
	CHECK(!kp_store_is_central(store));
	inc = kp_store_incarnation(store);
	CHECK_INT(strlen(inc), KP_INCARNATION_LEN);
	CHECK_INT(strspn(inc, "0123456789abcdef"), KP_INCARNATION_LEN);
	CHECK_INT(s_head(store), 0);
	CHECK_INT(s_count(store, KP_ROOM), 0);
	CHECK_STR(kp_store_detail(store), "");
	s_done(&store);
	CHECK(store == NULL);
	kp_store_close(&store); /* safe twice */
	kp_store_close(NULL);
}

static void test_create_makes_missing_dir_and_central(void)
{
	char sub[128];
	kp_store *store = NULL;
	const char *dir = s_tmpdir();
	snprintf(sub, sizeof sub, "%s/sentral", dir);
	CHECK_INT(kp_store_create(sub, NULL, "Drammen kommune"), KP_OK);
	CHECK_INT(kp_store_open(sub, &store), KP_OK);
	if (store) {
		CHECK(kp_store_is_central(store));
		CHECK_STR(kp_store_hub(store), "");
		CHECK_STR(kp_store_name(store), "Drammen kommune");
	}
	kp_store_close(&store);
	/* Two levels missing: the parent must exist. */
	snprintf(sub, sizeof sub, "%s/a/b", dir);
	CHECK(kp_store_create(sub, "fjell", "X") != KP_OK);
	s_rmtree(dir);
}

static void test_open_without_store(void)
{
	kp_store *store = (kp_store *)1;
	const char *dir = s_tmpdir();
	char missing[128];
	/* An empty directory. */
	CHECK_INT(kp_store_open(dir, &store), KP_ENOINIT);
	CHECK(store == NULL);
	/* A path that does not exist. */
	snprintf(missing, sizeof missing, "%s/finnes-ikke", dir);
	store = (kp_store *)1;
	CHECK_INT(kp_store_open(missing, &store), KP_ENOINIT);
	CHECK(store == NULL);
	CHECK_INT(kp_store_open("/nonexistent/knute/fjell", &store),
		  KP_ENOINIT);
	s_rmtree(dir);
}

static void test_create_twice(void)
{
	kp_store *store = s_fresh();
	char inc[KP_INCARNATION_LEN + 1];
	if (!store)
		return;
	snprintf(inc, sizeof inc, "%s", kp_store_incarnation(store));
	CHECK_INT(s_add(store, KP_ROOM, 2, NULL), KP_OK);
	kp_store_close(&store);
	CHECK_INT(kp_store_create(s_dir, "fjell", "Knutepunkt Fjell"),
		  KP_EEXIST);
	CHECK_INT(kp_store_create(s_dir, "konnerud", "Annen"), KP_EEXIST);
	CHECK_INT(kp_store_create(s_dir, NULL, "Sentral"), KP_EEXIST);
	/* Nothing changed. */
	CHECK_INT(kp_store_open(s_dir, &store), KP_OK);
	if (store) {
		CHECK_STR(kp_store_incarnation(store), inc);
		CHECK_STR(kp_store_hub(store), "fjell");
		CHECK_INT(s_count(store, KP_ROOM), 2);
		CHECK_INT(s_head(store), 2);
	}
	s_done(&store);
}

static void test_two_stores_differ(void)
{
	kp_store *a = s_fresh(), *b;
	char dir_a[64], inc[KP_INCARNATION_LEN + 1];
	snprintf(dir_a, sizeof dir_a, "%s", s_dir);
	snprintf(inc, sizeof inc, "%s", a ? kp_store_incarnation(a) : "");
	b = s_fresh();
	if (b)
		CHECK(strcmp(inc, kp_store_incarnation(b)) != 0);
	s_done(&b);
	kp_store_close(&a);
	s_rmtree(dir_a);
}

static int s_version_txn(kp_txn *txn, void *arg)
{
	return kp_txn_meta_put(txn, "version", arg);
}

static void test_newer_version_refused(void)
{
	kp_store *store = s_fresh();
	if (!store)
		return;
	CHECK_INT(kp_store_write(store, s_version_txn, "99"), KP_OK);
	kp_store_close(&store);
	CHECK_INT(kp_store_open(s_dir, &store), KP_EVERSION);
	CHECK(store == NULL);
	s_done(&store);
}

static void s_write_file(const char *path, const void *bytes, size_t len)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	CHECK(fd >= 0);
	if (fd < 0)
		return;
	CHECK_INT(write(fd, bytes, len), (long long)len);
	close(fd);
}

static void test_corrupt_data_file(void)
{
	static const size_t sizes[] = {0, 10, 4096, 65536, 1 << 20};
	unsigned char *junk = malloc(1 << 20);
	unsigned seed = 7;
	for (size_t i = 0; i < (size_t)(1 << 20); i++)
		junk[i] = (unsigned char)rand_r(&seed);
	for (size_t s = 0; s < sizeof sizes / sizeof sizes[0]; s++) {
		kp_store *store = (kp_store *)1;
		char path[128];
		int rc;
		const char *dir = s_tmpdir();
		snprintf(path, sizeof path, "%s/data.mdb", dir);
		s_write_file(path, junk, sizes[s]);
		rc = kp_store_open(dir, &store);
		if (rc == KP_OK || store != NULL) {
			printf("  garbage of %zu bytes opened (rc %d)\n",
			       sizes[s], rc);
			check_failed_now = 1;
			kp_store_close(&store);
		}
		/* Creating over it is refused too: it is not ours to
		 * overwrite. */
		CHECK(kp_store_create(dir, "fjell", "X") != KP_OK);
		s_rmtree(dir);
	}
	free(junk);
}

/* A store whose meta lost its facts is "not initialised", not a crash. */
static void test_lock_file_garbage(void)
{
	kp_store *store = s_fresh();
	char path[128];
	static const char junk[] = "this is not an LMDB lock file at all....";
	if (!store)
		return;
	kp_store_close(&store);
	snprintf(path, sizeof path, "%s/lock.mdb", s_dir);
	s_write_file(path, junk, sizeof junk);
	/* LMDB rebuilds or refuses a bad lock file; either way no crash. */
	if (kp_store_open(s_dir, &store) == KP_OK)
		CHECK_STR(kp_store_hub(store), "fjell");
	else
		CHECK(store == NULL);
	s_done(&store);
}

/* ---- records and the oplog ---- */

struct s_one {
	struct kp_id id;
	json_t *rec;
	int rc_get, rc_del, rc_del_again, rc_get_after;
	json_t *got;
};

static int s_put_get_txn(kp_txn *txn, void *arg)
{
	struct s_one *o = arg;
	int rc;
	if ((rc = kp_txn_new_id(txn, KP_ROOM, &o->id)) ||
	    (rc = kp_txn_put(txn, &o->id, o->rec)))
		return rc;
	/* Visible inside the same transaction. */
	o->rc_get = kp_txn_get(txn, &o->id, &o->got);
	return KP_OK;
}

static int s_delete_txn(kp_txn *txn, void *arg)
{
	struct s_one *o = arg;
	json_t *rec;
	o->rc_del = kp_txn_delete(txn, &o->id);
	o->rc_del_again = kp_txn_delete(txn, &o->id);
	o->rc_get_after = kp_txn_get(txn, &o->id, &rec);
	CHECK(rec == NULL);
	return o->rc_del;
}

static void test_put_get_delete(void)
{
	kp_store *store = s_fresh();
	struct s_one o = {0};
	json_t *got;
	int rc = 0;
	if (!store)
		return;
	o.rec = json_pack("{sssis[ss]ss}", "name", "Storsalen på Strømsø",
			  "capacity", 120, "facilities", "projektor", "kjøkken",
			  "framtidig", "beholdes");
	CHECK_INT(kp_store_write(store, s_put_get_txn, &o), KP_OK);
	CHECK_INT(o.rc_get, KP_OK);
	CHECK_STR(kp_rec_str(o.got, "id", ""), "fjell:r1");
	/* kp_txn_put set the common fields on the borrowed record. */
	CHECK_STR(kp_rec_str(o.rec, "id", ""), "fjell:r1");
	CHECK_STR(kp_rec_str(o.rec, "kind", ""), "room");
	CHECK_STR(kp_rec_str(o.rec, "hub", ""), "fjell");
	CHECK(json_equal(o.rec, o.got));
	json_decref(o.got);

	/* Read back in a new transaction: every field, unknown ones too. */
	got = s_get(store, "fjell:r1", &rc);
	CHECK_INT(rc, KP_OK);
	CHECK(json_equal(o.rec, got));
	CHECK_STR(kp_rec_str(got, "framtidig", ""), "beholdes");
	CHECK_STR(kp_rec_str(got, "name", ""), "Storsalen på Strømsø");
	json_decref(got);

	/* Update: same key, new value, one more oplog entry. */
	json_object_set_new(o.rec, "capacity", json_integer(100));
	CHECK_INT(kp_store_write(store, s_put_get_txn, &o), KP_OK);
	json_decref(o.got);
	CHECK_INT(s_count(store, KP_ROOM), 2); /* a new id: fjell:r2 */
	CHECK_INT(s_head(store), 2);

	/* Delete r2: gone, and a second delete says not found. */
	CHECK_INT(kp_store_write(store, s_delete_txn, &o), KP_OK);
	CHECK_INT(o.rc_del, KP_OK);
	CHECK_INT(o.rc_del_again, KP_ENOTFOUND);
	CHECK_INT(o.rc_get_after, KP_ENOTFOUND);
	got = s_get(store, "fjell:r2", &rc);
	CHECK_INT(rc, KP_ENOTFOUND);
	CHECK(got == NULL);
	got = s_get(store, "fjell:r1", &rc);
	CHECK_INT(rc, KP_OK);
	json_decref(got);
	CHECK_INT(s_count(store, KP_ROOM), 1);
	/* The failed second delete logged nothing: head is 3. */
	CHECK_INT(s_head(store), 3);
	/* A record of another hub is not here. */
	got = s_get(store, "konnerud:r1", &rc);
	CHECK_INT(rc, KP_ENOTFOUND);
	json_decref(o.rec);
	s_done(&store);
}

struct s_mixed {
	int step;
};

/* Three kinds of write transaction: two puts; a put and an update; a
 * delete. */
static int s_mixed_txn(kp_txn *txn, void *arg)
{
	struct s_mixed *m = arg;
	struct kp_id id;
	json_t *rec;
	int rc = KP_OK;
	char err[KP_ERR_MAX];

	switch (m->step) {
	case 0:
		for (int i = 0; i < 2 && !rc; i++) {
			rec = s_room(i ? "Lillesalen" : "Storsalen", 10 + i);
			if (!(rc = kp_txn_new_id(txn, KP_ROOM, &id)))
				rc = kp_txn_put(txn, &id, rec);
			json_decref(rec);
		}
		return rc;
	case 1:
		rec = json_pack("{sssssssIsI}", "room", "fjell:r1", "org",
				"Røde Kors", "status", "confirmed", "start",
				(json_int_t)1796140800, "end",
				(json_int_t)1796148000);
		if (!(rc = kp_txn_new_id(txn, KP_BOOKING, &id)))
			rc = kp_txn_put(txn, &id, rec);
		json_decref(rec);
		if (rc)
			return rc;
		kp_id_parse("fjell:r1", NULL, 0, &id, err);
		if ((rc = kp_txn_get(txn, &id, &rec)))
			return rc;
		json_object_set_new(rec, "capacity", json_integer(99));
		rc = kp_txn_put(txn, &id, rec);
		json_decref(rec);
		return rc;
	default:
		kp_id_parse("fjell:r2", NULL, 0, &id, err);
		return kp_txn_delete(txn, &id);
	}
}

static void test_oplog_contiguous(void)
{
	static const char *const ops[] = {"put", "put", "put", "put", "del"};
	static const char *const ids[] = {"fjell:r1", "fjell:r2", "fjell:b1",
					  "fjell:r1", "fjell:r2"};
	kp_store *store = s_fresh();
	struct s_mixed m = {0};
	json_t *log;
	size_t i;
	json_t *e;
	if (!store)
		return;
	for (m.step = 0; m.step < 3; m.step++)
		CHECK_INT(kp_store_write(store, s_mixed_txn, &m), KP_OK);
	CHECK_INT(s_head(store), 5);
	log = s_oplog(store, 0);
	CHECK_INT(json_array_size(log), 5);
	json_array_foreach(log, i, e)
	{
		json_t *rec = json_object_get(e, "rec");
		CHECK_INT(kp_rec_int(e, "key_seq", -1), (long long)i + 1);
		CHECK_INT(kp_rec_int(e, "seq", -1), (long long)i + 1);
		if (i < 5) {
			CHECK_STR(kp_rec_str(e, "op", ""), ops[i]);
			CHECK_STR(kp_rec_str(e, "id", ""), ids[i]);
		}
		CHECK(json_is_integer(json_object_get(e, "at")));
		CHECK(kp_rec_int(e, "at", 0) > 1700000000);
		if (!strcmp(kp_rec_str(e, "op", ""), "put")) {
			CHECK(json_is_object(rec));
			CHECK_STR(kp_rec_str(rec, "id", ""),
				  kp_rec_str(e, "id", "?"));
		} else {
			CHECK(rec == NULL || json_is_null(rec));
		}
	}
	/* The update's entry carries the new value. */
	CHECK_INT(kp_rec_int(json_object_get(json_array_get(log, 3), "rec"),
			     "capacity", -1),
		  99);
	CHECK_STR(kp_rec_str(json_object_get(json_array_get(log, 2), "rec"),
			     "org", ""),
		  "Røde Kors");
	json_decref(log);
	/* Reading from the middle. */
	log = s_oplog(store, 4);
	CHECK_INT(json_array_size(log), 2);
	CHECK_INT(kp_rec_int(json_array_get(log, 0), "seq", -1), 4);
	json_decref(log);
	log = s_oplog(store, 6);
	CHECK_INT(json_array_size(log), 0);
	json_decref(log);
	s_done(&store);
}

static void test_oplog_contiguous_many_txns(void)
{
	kp_store *store = s_fresh();
	json_t *log, *e;
	size_t i;
	int total = 0;
	if (!store)
		return;
	/* 1, 2, 3 ... 12 puts per transaction, with failures between. */
	for (int n = 1; n <= 12; n++) {
		struct s_add bad = {.fail_with = KP_EINVAL};
		CHECK_INT(s_add(store, KP_ROOM, n, NULL), KP_OK);
		total += n;
		CHECK_INT(s_add(store, KP_BOOKING, 2, &bad), KP_EINVAL);
	}
	CHECK_INT(s_head(store), total);
	log = s_oplog(store, 1);
	CHECK_INT(json_array_size(log), total);
	json_array_foreach(log, i, e)
	{
		CHECK_INT(kp_rec_int(e, "seq", -1), (long long)i + 1);
		CHECK_INT(kp_rec_int(e, "key_seq", -1), (long long)i + 1);
		CHECK_STR(kp_rec_str(e, "op", ""), "put");
	}
	/* The ids are r1..r78, in order, once each. */
	json_array_foreach(log, i, e)
	{
		char want[KP_ID_STRLEN];
		snprintf(want, sizeof want, "fjell:r%zu", i + 1);
		CHECK_STR(kp_rec_str(e, "id", ""), want);
	}
	CHECK_INT(s_count(store, KP_BOOKING), 0);
	json_decref(log);
	s_done(&store);
}

static void test_aborted_txn_leaves_nothing(void)
{
	kp_store *store = s_fresh();
	struct s_add ok = {0}, bad = {.fail_with = KP_ECLASH};
	json_t *log, *got;
	int rc = 0;
	if (!store)
		return;
	CHECK_INT(s_add(store, KP_ROOM, 3, &ok), KP_OK);
	CHECK_INT(s_add(store, KP_ROOM, 5, &bad), KP_ECLASH);
	/* Nothing of the failed transaction: records, oplog, counters. */
	CHECK_INT(s_count(store, KP_ROOM), 3);
	CHECK_INT(s_head(store), 3);
	log = s_oplog(store, 0);
	CHECK_INT(json_array_size(log), 3);
	json_decref(log);
	got = s_get(store, "fjell:r4", &rc);
	CHECK_INT(rc, KP_ENOTFOUND);
	json_decref(got);
	/* The failed transaction had handed out r4..r8; they are handed out
	 * again, since nothing ever held them. */
	CHECK_INT(bad.ids[0].n, 4);
	bad.fail_with = KP_OK;
	CHECK_INT(s_add(store, KP_ROOM, 1, &bad), KP_OK);
	CHECK_INT(bad.ids[0].n, 4);
	CHECK_INT(s_head(store), 4);
	s_done(&store);
}

static void test_ids_unique_across_reopen(void)
{
	kp_store *store = s_fresh();
	struct s_add a = {0};
	if (!store)
		return;
	CHECK_INT(s_add(store, KP_ROOM, 5, &a), KP_OK);
	for (int i = 0; i < 5; i++)
		CHECK_INT(a.ids[i].n, i + 1);
	CHECK_INT(s_add(store, KP_BOOKING, 2, &a), KP_OK);
	CHECK_INT(a.ids[0].n, 1); /* counted per kind */
	CHECK_INT(a.ids[1].n, 2);
	CHECK_STR(a.ids[1].hub, "fjell");
	CHECK_INT(a.ids[1].kind, 'b');
	kp_store_close(&store);
	CHECK_INT(kp_store_open(s_dir, &store), KP_OK);
	if (!store)
		return;
	CHECK_INT(s_add(store, KP_ROOM, 2, &a), KP_OK);
	CHECK_INT(a.ids[0].n, 6);
	CHECK_INT(a.ids[1].n, 7);
	CHECK_INT(s_add(store, KP_BOOKING, 1, &a), KP_OK);
	CHECK_INT(a.ids[0].n, 3);
	CHECK_INT(s_head(store), 10);
	s_done(&store);
}

struct s_walk {
	json_t *ids;
	int stop_after;
};

static int s_walk_row(const struct kp_id *id, json_t *rec, void *arg)
{
	struct s_walk *w = arg;
	char text[KP_ID_STRLEN];
	kp_id_format(id, text);
	CHECK_STR(kp_rec_str(rec, "id", ""), text);
	json_array_append_new(w->ids, json_string(text));
	if (w->stop_after && (int)json_array_size(w->ids) == w->stop_after)
		return 77;
	return KP_OK;
}

static int s_walk_txn(kp_txn *txn, void *arg)
{
	return kp_txn_each(txn, KP_ROOM, s_walk_row, arg);
}

static void test_each_in_id_order(void)
{
	kp_store *store = s_fresh();
	struct s_walk w = {json_array(), 0};
	if (!store)
		return;
	CHECK_INT(s_add(store, KP_ROOM, 12, NULL), KP_OK);
	CHECK_INT(s_add(store, KP_BOOKING, 3, NULL), KP_OK);
	CHECK_INT(kp_store_read(store, s_walk_txn, &w), KP_OK);
	CHECK_INT(json_array_size(w.ids), 12);
	/* r2 before r10: numbers, not text. */
	for (size_t i = 0; i < json_array_size(w.ids); i++) {
		char want[KP_ID_STRLEN];
		snprintf(want, sizeof want, "fjell:r%zu", i + 1);
		CHECK_STR(json_string_value(json_array_get(w.ids, i)), want);
	}
	json_array_clear(w.ids);
	w.stop_after = 4;
	CHECK_INT(kp_store_read(store, s_walk_txn, &w), 77);
	CHECK_INT(json_array_size(w.ids), 4);
	json_decref(w.ids);
	s_done(&store);
}

struct s_meta {
	char buf[8];
	int rc_small, rc_missing;
	char value[64];
};

static int s_meta_txn(kp_txn *txn, void *arg)
{
	struct s_meta *m = arg;
	int rc;
	if ((rc = kp_txn_meta_put(txn, "cursor:central", "12345678901")))
		return rc;
	m->rc_small =
	    kp_txn_meta_get(txn, "cursor:central", m->buf, sizeof m->buf);
	m->rc_missing =
	    kp_txn_meta_get(txn, "finnes-ikke", m->buf, sizeof m->buf);
	return kp_txn_meta_get(txn, "cursor:central", m->value,
			       sizeof m->value);
}

static void test_meta(void)
{
	kp_store *store = s_fresh();
	struct s_meta m = {0};
	if (!store)
		return;
	CHECK_INT(kp_store_write(store, s_meta_txn, &m), KP_OK);
	CHECK_STR(m.value, "12345678901");
	CHECK(m.rc_small != KP_OK); /* too long for the buffer */
	CHECK_INT(m.rc_missing, KP_ENOTFOUND);
	/* Meta writes are not oplog entries. */
	CHECK_INT(s_head(store), 0);
	s_done(&store);
}

static int s_rewrite_txn(kp_txn *txn, void *arg)
{
	json_t *entry = json_pack("{sIsssssO}", "seq", (json_int_t)1, "op",
				  "put", "id", "fjell:r1", "rec", arg);
	int rc = kp_txn_oplog_rewrite(txn, 1, entry);
	json_decref(entry);
	return rc;
}

static void test_oplog_rewrite(void)
{
	kp_store *store = s_fresh();
	json_t *rec = json_pack("{sb}", "erased", 1), *log;
	if (!store)
		return;
	CHECK_INT(s_add(store, KP_ROOM, 2, NULL), KP_OK);
	CHECK_INT(kp_store_write(store, s_rewrite_txn, rec), KP_OK);
	log = s_oplog(store, 1);
	CHECK_INT(json_array_size(log), 2);
	CHECK(json_equal(json_object_get(json_array_get(log, 0), "rec"), rec));
	CHECK_INT(s_head(store), 2);
	json_decref(log);
	json_decref(rec);
	s_done(&store);
}

/* ---- the slot index ---- */

struct s_slots {
	int (*body)(kp_txn *txn, struct s_slots *s);
	struct kp_slot clash;
	int step;
};

static struct kp_slot s_slot(int64_t start, int64_t end, char kind, uint64_t n)
{
	struct kp_slot s = {.start = start, .end = end};
	snprintf(s.owner.hub, sizeof s.owner.hub, "fjell");
	s.owner.kind = kind;
	s.owner.n = n;
	return s;
}

static int s_slots_txn(kp_txn *txn, void *arg)
{
	struct s_slots *s = arg;
	return s->body(txn, s);
}

/* Free, or clashing with the slot of owner n of kind. */
static void s_expect(kp_txn *txn, uint64_t room, int64_t start, int64_t end,
		     char kind, uint64_t n)
{
	struct kp_slot c;
	int rc = kp_txn_slot_find(txn, room, start, end, &c);
	if (!kind) {
		if (rc != KP_OK) {
			printf(
			    "  room %llu [%lld, %lld) should be free, got %d "
			    "(clash with %c%llu)\n",
			    (unsigned long long)room, (long long)start,
			    (long long)end, rc, c.owner.kind,
			    (unsigned long long)c.owner.n);
			check_failed_now = 1;
		}
		return;
	}
	if (rc != KP_ECLASH || c.owner.kind != kind || c.owner.n != n) {
		printf("  room %llu [%lld, %lld) should clash with %c%llu, got "
		       "%d\n",
		       (unsigned long long)room, (long long)start,
		       (long long)end, kind, (unsigned long long)n, rc);
		check_failed_now = 1;
	}
}

static int s_edges_body(kp_txn *txn, struct s_slots *s)
{
	/* 2026-12-01 17:00-19:00 Oslo is 16:00-18:00 UTC. */
	const int64_t a = 1796140800, b = a + 7200;
	struct kp_slot held = s_slot(a, b, 'b', 1);
	struct kp_slot c;
	int rc;
	(void)s;
	if ((rc = kp_txn_slot_add(txn, 1, &held)))
		return rc;
	s_expect(txn, 1, b, b + 3600, 0, 0);	      /* back to back after */
	s_expect(txn, 1, a - 3600, a, 0, 0);	      /* back to back before */
	s_expect(txn, 1, b - 1, b + 3600, 'b', 1);    /* 1 s overlap at end */
	s_expect(txn, 1, a - 3600, a + 1, 'b', 1);    /* 1 s overlap at start */
	s_expect(txn, 1, a - 3600, b + 3600, 'b', 1); /* contains */
	s_expect(txn, 1, a + 600, b - 600, 'b', 1);   /* contained */
	s_expect(txn, 1, a, b, 'b', 1);		      /* the same */
	s_expect(txn, 1, a, a + 1, 'b', 1);
	s_expect(txn, 1, b - 1, b, 'b', 1);
	s_expect(txn, 2, a, b, 0, 0); /* another room */
	s_expect(txn, 0, a, b, 0, 0);
	/* The clash carries the held slot. */
	rc = kp_txn_slot_find(txn, 1, a + 60, a + 120, &c);
	CHECK_INT(rc, KP_ECLASH);
	CHECK_INT(c.start, a);
	CHECK_INT(c.end, b);
	CHECK_STR(c.owner.hub, "fjell");
	return KP_OK;
}

static int s_many_body(kp_txn *txn, struct s_slots *s)
{
	struct kp_slot x = s_slot(1000, 2000, 'b', 1);
	struct kp_slot y = s_slot(3000, 4000, 'a', 2);
	struct kp_slot z = s_slot(5000, 6000, 'b', 3);
	struct kp_slot other = s_slot(0, 10000, 'b', 9);
	struct kp_slot neg = s_slot(-5000, -1000, 'b', 4);
	int rc;
	(void)s;
	if ((rc = kp_txn_slot_add(txn, 7, &x)) ||
	    (rc = kp_txn_slot_add(txn, 7, &y)) ||
	    (rc = kp_txn_slot_add(txn, 7, &z)) ||
	    (rc = kp_txn_slot_add(txn, 7, &neg)) ||
	    (rc = kp_txn_slot_add(txn, 8, &other)) ||
	    (rc = kp_txn_slot_add(txn, 6, &other)))
		return rc;
	s_expect(txn, 7, 2000, 3000, 0, 0);
	s_expect(txn, 7, 4000, 5000, 0, 0);
	s_expect(txn, 7, 6000, 7000, 0, 0);
	s_expect(txn, 7, 100000, 200000, 0, 0);
	s_expect(txn, 7, -1000, 1000, 0, 0);
	s_expect(txn, 7, -10000, -5000, 0, 0);
	s_expect(txn, 7, 3999, 4500, 'a', 2);
	s_expect(txn, 7, 4500, 5001, 'b', 3);
	s_expect(txn, 7, 5999, 9999, 'b', 3);
	s_expect(txn, 7, 1500, 1600, 'b', 1);
	s_expect(txn, 7, -2000, -1500, 'b', 4);
	s_expect(txn, 7, -1001, 0, 'b', 4);
	/* Deleting frees exactly that slot. */
	if ((rc = kp_txn_slot_del(txn, 7, &y)))
		return rc;
	s_expect(txn, 7, 2000, 5000, 0, 0);
	s_expect(txn, 7, 2000, 5001, 'b', 3);
	/* Deleting a slot that is not there is fine. */
	CHECK_INT(kp_txn_slot_del(txn, 7, &y), KP_OK);
	CHECK_INT(kp_txn_slot_del(txn, 99, &x), KP_OK);
	return KP_OK;
}

static int s_persist_body(kp_txn *txn, struct s_slots *s)
{
	if (s->step == 0) {
		struct kp_slot x = s_slot(1000, 2000, 'b', 5);
		return kp_txn_slot_add(txn, 3, &x);
	}
	s_expect(txn, 3, 1500, 2500, 'b', 5);
	s_expect(txn, 3, 2000, 2500, 0, 0);
	return KP_OK;
}

static int s_abort_body(kp_txn *txn, struct s_slots *s)
{
	if (s->step == 0) {
		struct kp_slot x = s_slot(1000, 2000, 'b', 6);
		int rc = kp_txn_slot_add(txn, 4, &x);
		return rc ? rc : KP_ECLASH;
	}
	s_expect(txn, 4, 0, 100000, 0, 0);
	return KP_OK;
}

static void test_slot_edges(void)
{
	kp_store *store = s_fresh();
	struct s_slots s = {.body = s_edges_body};
	if (!store)
		return;
	CHECK_INT(kp_store_write(store, s_slots_txn, &s), KP_OK);
	s.body = s_many_body;
	CHECK_INT(kp_store_write(store, s_slots_txn, &s), KP_OK);
	/* Slots are kept across transactions, and from aborted ones not. */
	s.body = s_persist_body;
	CHECK_INT(kp_store_write(store, s_slots_txn, &s), KP_OK);
	s.step = 1;
	CHECK_INT(kp_store_read(store, s_slots_txn, &s), KP_OK);
	s.body = s_abort_body;
	s.step = 0;
	CHECK_INT(kp_store_write(store, s_slots_txn, &s), KP_ECLASH);
	s.step = 1;
	CHECK_INT(kp_store_read(store, s_slots_txn, &s), KP_OK);
	/* Slot writes are not oplog entries. */
	CHECK_INT(s_head(store), 0);
	s_done(&store);
}

/* ---- size ---- */

static void test_twenty_thousand_records(void)
{
	kp_store *store = s_fresh();
	struct s_add last = {0};
	json_t *got;
	int rc = 0;
	if (!store)
		return;
	/* 20 durable transactions of 1,000 records each. */
	for (int i = 0; i < 20; i++)
		CHECK_INT(s_add(store, KP_BOOKING, 1000, &last), KP_OK);
	CHECK_INT(last.ids[0].n, 19001);
	CHECK_INT(s_count(store, KP_BOOKING), 20000);
	CHECK_INT(s_head(store), 20000);
	got = s_get(store, "fjell:b20000", &rc);
	CHECK_INT(rc, KP_OK);
	CHECK_STR(kp_rec_str(got, "name", ""), "Rom 999 på Åssiden");
	json_decref(got);
	/* They are all still there after closing and opening again. */
	kp_store_close(&store);
	CHECK_INT(kp_store_open(s_dir, &store), KP_OK);
	if (store) {
		CHECK_INT(s_count(store, KP_BOOKING), 20000);
		CHECK_INT(s_head(store), 20000);
	}
	s_done(&store);
}

static void test_bulk_mode(void)
{
	kp_store *store = s_fresh();
	if (!store)
		return;
	CHECK_INT(kp_store_bulk(store, true), KP_OK);
	for (int i = 0; i < 10; i++)
		CHECK_INT(s_add(store, KP_ROOM, 100, NULL), KP_OK);
	CHECK_INT(kp_store_sync(store), KP_OK);
	CHECK_INT(kp_store_bulk(store, false), KP_OK);
	CHECK_INT(s_count(store, KP_ROOM), 1000);
	CHECK_INT(s_head(store), 1000);
	s_done(&store);
}

/* ---- lazy commits (one flush) ---- */

struct s_lazy {
	const char *value; /* written under "acked_seq" */
	int fail_with;	   /* returned after the write */
	char read[32];
};

static int s_lazy_put_txn(kp_txn *txn, void *arg)
{
	struct s_lazy *l = arg;
	int rc = kp_txn_meta_put(txn, "acked_seq", l->value);
	return rc ? rc : l->fail_with;
}

static int s_lazy_get_txn(kp_txn *txn, void *arg)
{
	struct s_lazy *l = arg;
	return kp_txn_meta_get(txn, "acked_seq", l->read, sizeof l->read);
}

/* A lazy commit is a whole commit: seen at once, still there after the
 * store is closed and opened again, nothing of it when fn fails, and the
 * durable commits around it go on as before. */
static void test_lazy_write(void)
{
	kp_store *store = s_fresh();
	struct s_lazy l = {.value = "41"};
	if (!store)
		return;
	CHECK_INT(kp_store_write_lazy(store, s_lazy_put_txn, &l), KP_OK);
	CHECK_INT(kp_store_read(store, s_lazy_get_txn, &l), KP_OK);
	CHECK_STR(l.read, "41");

	l.value = "99";
	l.fail_with = KP_EINVAL;
	CHECK_INT(kp_store_write_lazy(store, s_lazy_put_txn, &l), KP_EINVAL);
	CHECK_INT(kp_store_read(store, s_lazy_get_txn, &l), KP_OK);
	CHECK_STR(l.read, "41");

	/* Durable and lazy commits in turn, records and meta alike. */
	CHECK_INT(s_add(store, KP_ROOM, 3, NULL), KP_OK);
	l.value = "42";
	l.fail_with = KP_OK;
	CHECK_INT(kp_store_write_lazy(store, s_lazy_put_txn, &l), KP_OK);
	CHECK_INT(s_add(store, KP_ROOM, 2, NULL), KP_OK);
	CHECK_INT(s_head(store), 5);

	kp_store_close(&store);
	CHECK_INT(kp_store_open(s_dir, &store), KP_OK);
	if (!store) {
		s_rmtree(s_dir);
		return;
	}
	CHECK_INT(kp_store_read(store, s_lazy_get_txn, &l), KP_OK);
	CHECK_STR(l.read, "42");
	CHECK_INT(s_count(store, KP_ROOM), 5);
	s_done(&store);
}

int main(void)
{
	kp_tz_set(KP_TZ_DEFAULT);
	RUN(test_create_and_open);
	RUN(test_create_makes_missing_dir_and_central);
	RUN(test_open_without_store);
	RUN(test_create_twice);
	RUN(test_two_stores_differ);
	RUN(test_newer_version_refused);
	RUN(test_corrupt_data_file);
	RUN(test_lock_file_garbage);
	RUN(test_put_get_delete);
	RUN(test_oplog_contiguous);
	RUN(test_oplog_contiguous_many_txns);
	RUN(test_aborted_txn_leaves_nothing);
	RUN(test_ids_unique_across_reopen);
	RUN(test_each_in_id_order);
	RUN(test_meta);
	RUN(test_oplog_rewrite);
	RUN(test_slot_edges);
	RUN(test_twenty_thousand_records);
	RUN(test_bulk_mode);
	RUN(test_lazy_write);
	return check_done();
}
