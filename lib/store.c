/*
 * store.c - the LMDB store (see knute/store.h).
 *
 * NOTES ON THE DESIGN
 *
 * All LMDB codes are turned into KP_E* codes here, with the detail kept in
 * the store for the message the user sees. The map starts at
 * KP_MAP_INITIAL and doubles when a write finds it full, up to KP_MAP_MAX;
 * the write is then run again from the start, which is why kp_store_write
 * takes a function rather than handing out a transaction. Another process
 * may have grown the map meanwhile: LMDB says MDB_MAP_RESIZED and we adopt
 * the new size.
 *
 * A write transaction caches the head seq and the id counters it touches and
 * writes them back to meta once, just before commit, so a bulk load of a
 * hundred thousand records writes each counter once, not a hundred thousand
 * times.
 */
#include "knute/store.h"

#include <errno.h>
#include <inttypes.h>
#include <lmdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <time.h>
#include <sodium.h>
#include <unistd.h>
#include <zmq.h>

#include "codec.h"
#include "knute/error.h"
#include "knute/ktime.h"

#define KP_MAP_INITIAL (1ULL << 30) /* 1 GiB of address space, not disk */
#define KP_MAP_MAX     (1ULL << 40)

struct kp_store {
	MDB_env *env;
	MDB_dbi meta, records, oplog, slots;
	MDB_dbi tables[KP_NTABLES]; /* see enum kp_table */
	bool readonly;
	bool central;
	char hub[KP_HUB_ID_MAX + 1];
	char name[KP_NAME_MAX + 1];
	char incarnation[KP_INCARNATION_LEN + 1];
	char dir[1024];
	char detail[1400];
};

struct kp_txn {
	kp_store *store;
	MDB_txn *txn;
	bool map_full; /* a put found the map full: grow and rerun */
	bool readonly; /* kp_store_read() */
	bool head_loaded, head_dirty;
	uint64_t head;
	uint64_t next[KP_NKINDS]; /* 0 = not loaded */
	bool next_dirty[KP_NKINDS];
	int64_t now;
	struct kp_buf buf; /* reused for every encode */
	/* Bulk loading (kp_txn_put_packed, kp_txn_slot_add_bulk): cursors
	 * kept for the transaction, records' by kind. LMDB closes them when
	 * the transaction ends. */
	MDB_cursor *bulk_records[KP_NKINDS], *bulk_oplog, *bulk_slots;
};

/* True when the file system holding dir has less than 4 MiB free. */
static bool s_disk_nearly_full(const char *dir)
{
	struct statvfs vfs;
	if (statvfs(dir, &vfs))
		return false;
	return (uint64_t)vfs.f_bavail * vfs.f_frsize < (4u << 20);
}

static int s_fail(kp_store *store, int mdb_rc, const char *what)
{
	int code;
	switch (mdb_rc) {
	case MDB_NOTFOUND:
		return KP_ENOTFOUND;
	case MDB_MAP_FULL:
	case ENOSPC:
		code = KP_EFULL;
		break;
	case EACCES:
	case EROFS:
	case EPERM:
		code = KP_EREADONLY;
		break;
	case ENOMEM:
		code = KP_ENOMEM;
		break;
	case MDB_INVALID:
	case MDB_CORRUPTED:
	case MDB_PAGE_NOTFOUND:
		code = KP_ECORRUPT;
		break;
	case MDB_VERSION_MISMATCH:
		code = KP_EVERSION;
		break;
	default:
		code = KP_EIO;
		break;
	}
	if (code == KP_EIO && store && s_disk_nearly_full(store->dir)) {
		/* LMDB reports a short write as EIO; a full disk is the
		 * usual cause, and the operator's fix differs. */
		code = KP_EFULL;
		snprintf(store->detail, sizeof store->detail,
			 "%s in %s: the file system is full", what, store->dir);
		return code;
	}
	if (store)
		snprintf(store->detail, sizeof store->detail, "%s in %s: %s",
			 what, store->dir, mdb_strerror(mdb_rc));
	return code;
}

const char *kp_store_detail(const kp_store *store)
{
	return store && store->detail[0] ? store->detail : "";
}

static void s_be64(uint8_t *p, uint64_t v)
{
	for (int i = 7; i >= 0; i--, v >>= 8)
		p[i] = (uint8_t)v;
}

static uint64_t s_get_be64(const uint8_t *p)
{
	uint64_t v = 0;
	for (int i = 0; i < 8; i++)
		v = (v << 8) | p[i];
	return v;
}

static int s_kind_index(char kind)
{
	const char *p = strchr(kp_kinds, kind);
	return kind && p ? (int)(p - kp_kinds) : -1;
}

/* ---- environment ---- */

/* The map size a store starts with: KP_MAP_INITIAL, or KNUTE_MAPSIZE
 * bytes (at least 64 KiB) where the operator set it, e.g. to keep the
 * address space of many small stores down, or to test the growth path. */
static size_t s_map_initial(void)
{
	const char *env = getenv("KNUTE_MAPSIZE");
	unsigned long long size;
	char *end;
	if (!env || !*env)
		return KP_MAP_INITIAL;
	size = strtoull(env, &end, 10);
	if (*end || size < (64u << 10) || size > KP_MAP_MAX)
		return KP_MAP_INITIAL;
	return (size_t)size;
}

static int s_env_open(kp_store *store, const char *dir)
{
	int rc;
	snprintf(store->dir, sizeof store->dir, "%s", dir);
	if ((rc = mdb_env_create(&store->env)))
		return s_fail(store, rc, "creating the environment");
	mdb_env_set_maxdbs(store->env, 16);
	mdb_env_set_mapsize(store->env, s_map_initial());
	rc = mdb_env_open(store->env, dir, MDB_NOTLS, 0664);
	if (rc == EACCES || rc == EROFS) {
		/* A directory we may only read still serves the read-only
		 * commands; writes will say why they cannot. */
		mdb_env_close(store->env);
		store->env = NULL;
		if ((rc = mdb_env_create(&store->env)))
			return s_fail(store, rc, "creating the environment");
		mdb_env_set_maxdbs(store->env, 16);
		rc =
		    mdb_env_open(store->env, dir, MDB_NOTLS | MDB_RDONLY, 0664);
		store->readonly = true;
	}
	if (rc)
		return s_fail(store, rc, "opening the store");
	return KP_OK;
}

/* The tables of sync (enum kp_table). A store made before they existed
 * gets them the first time it is opened for writing; opened read-only it
 * works without them and they read as empty. */
static const char *const s_table_names[KP_NTABLES] = {
    [KP_T_RECORDS] = "records", [KP_T_OPLOG] = "oplog",
    [KP_T_MIRROR] = "mirror",	[KP_T_HUBS] = "hubs",
    [KP_T_MLOG] = "mlog",	[KP_T_DEAD] = "dead",
    [KP_T_STAGE] = "stage",	[KP_T_REQS] = "requests",
    [KP_T_DONE] = "executed",	[KP_T_KEYS] = "keys",
};

static int s_open_tables_pass(kp_store *store, bool create, bool *missing)
{
	MDB_txn *txn;
	int rc = KP_OK, mrc;

	*missing = false;
	if ((mrc = mdb_txn_begin(store->env, NULL, create ? 0 : MDB_RDONLY,
				 &txn)))
		return s_fail(store, mrc, "starting a transaction");
	for (int i = 0; i < KP_NTABLES; i++) {
		store->tables[i] = 0;
		mrc = mdb_dbi_open(txn, s_table_names[i],
				   create ? MDB_CREATE : 0, &store->tables[i]);
		if (mrc == MDB_NOTFOUND) {
			*missing = true;
			continue;
		}
		if (mrc) {
			rc = s_fail(store, mrc, "opening tables");
			break;
		}
	}
	/* Committing, also a read-only transaction, keeps the handles. */
	if (rc == KP_OK) {
		if ((mrc = mdb_txn_commit(txn)))
			rc = s_fail(store, mrc, "opening tables");
	} else {
		mdb_txn_abort(txn);
	}
	return rc;
}

static int s_open_tables(kp_store *store)
{
	bool missing;
	int rc = s_open_tables_pass(store, false, &missing);
	if (rc == KP_OK && missing && !store->readonly)
		rc = s_open_tables_pass(store, true, &missing);
	return rc;
}

static int s_open_dbis(kp_store *store, bool create)
{
	MDB_txn *txn;
	unsigned flags = create ? MDB_CREATE : 0;
	int rc = mdb_txn_begin(store->env, NULL, create ? 0 : MDB_RDONLY, &txn);
	if (rc)
		return s_fail(store, rc, "starting a transaction");
	if ((rc = mdb_dbi_open(txn, "meta", flags, &store->meta)) ||
	    (rc = mdb_dbi_open(txn, "records", flags, &store->records)) ||
	    (rc = mdb_dbi_open(txn, "oplog", flags, &store->oplog)) ||
	    (rc = mdb_dbi_open(txn, "slots", flags, &store->slots))) {
		mdb_txn_abort(txn);
		return rc == MDB_NOTFOUND ? KP_ENOINIT
					  : s_fail(store, rc, "opening tables");
	}
	if ((rc = mdb_txn_commit(txn)))
		return s_fail(store, rc, "opening tables");
	return s_open_tables(store);
}

static void s_free(kp_store *store)
{
	if (store->env)
		mdb_env_close(store->env);
	free(store);
}

void kp_store_close(kp_store **store)
{
	if (!store || !*store)
		return;
	s_free(*store);
	*store = NULL;
}

static bool s_has_store(const char *dir)
{
	char path[4200];
	struct stat st;
	snprintf(path, sizeof path, "%s/data.mdb", dir);
	return stat(path, &st) == 0;
}

static int s_meta_set(kp_txn *t, const char *key, const char *value);

struct s_init {
	const char *hub, *name;
};

static int s_init_meta(kp_txn *t, void *arg)
{
	struct s_init *init = arg;
	uint8_t raw[KP_INCARNATION_LEN / 2];
	char hex[KP_INCARNATION_LEN + 1];
	char version[16];
	int rc;

	if (getrandom(raw, sizeof raw, 0) != (ssize_t)sizeof raw)
		return KP_EIO;
	for (size_t i = 0; i < sizeof raw; i++)
		snprintf(hex + 2 * i, 3, "%02x", raw[i]);
	snprintf(version, sizeof version, "%d", KP_STORE_VERSION);
	if ((rc = s_meta_set(t, "version", version)) ||
	    (rc = s_meta_set(t, "role", init->hub ? "hub" : "central")) ||
	    (rc = s_meta_set(t, "hub", init->hub ? init->hub : "")) ||
	    (rc = s_meta_set(t, "name", init->name)) ||
	    (rc = s_meta_set(t, "incarnation", hex)))
		return rc;
	return kp_txn_curve_keys(t, NULL, NULL);
}

int kp_store_create(const char *dir, const char *hub, const char *name)
{
	struct s_init init = {hub, name};
	kp_store *store;
	int rc;

	if (mkdir(dir, 0775) && errno != EEXIST)
		return errno == ENOSPC	 ? KP_EFULL
		       : errno == ENOENT ? KP_ENOTFOUND
					 : KP_EREADONLY;
	if (s_has_store(dir))
		return KP_EEXIST;
	if (!(store = calloc(1, sizeof *store)))
		return KP_ENOMEM;
	if ((rc = s_env_open(store, dir)))
		goto out;
	if (store->readonly) {
		rc = KP_EREADONLY;
		goto out;
	}
	if ((rc = s_open_dbis(store, true)))
		goto out;
	rc = kp_store_write(store, s_init_meta, &init);
out:
	s_free(store);
	return rc;
}

static int s_load_facts(kp_txn *t, void *arg)
{
	kp_store *store = arg;
	char version[16], role[16];
	int rc;

	if ((rc = kp_txn_meta_get(t, "version", version, sizeof version)) ||
	    (rc = kp_txn_meta_get(t, "role", role, sizeof role)) ||
	    (rc = kp_txn_meta_get(t, "hub", store->hub, sizeof store->hub)) ||
	    (rc =
		 kp_txn_meta_get(t, "name", store->name, sizeof store->name)) ||
	    (rc = kp_txn_meta_get(t, "incarnation", store->incarnation,
				  sizeof store->incarnation)))
		return rc == KP_ENOTFOUND ? KP_ENOINIT : rc;
	if (atoi(version) > KP_STORE_VERSION) {
		snprintf(store->detail, sizeof store->detail,
			 "the store in %s has version %s; this knute reads "
			 "up to version %d: upgrade knutepunkt",
			 store->dir, version, KP_STORE_VERSION);
		return KP_EVERSION;
	}
	store->central = !strcmp(role, "central");
	return KP_OK;
}

int kp_store_open(const char *dir, kp_store **out)
{
	kp_store *store;
	int rc;

	*out = NULL;
	if (!s_has_store(dir))
		return KP_ENOINIT;
	if (!(store = calloc(1, sizeof *store)))
		return KP_ENOMEM;
	if ((rc = s_env_open(store, dir)) || (rc = s_open_dbis(store, false)) ||
	    (rc = kp_store_read(store, s_load_facts, store))) {
		s_free(store);
		return rc;
	}
	*out = store;
	return KP_OK;
}

const char *kp_store_hub(const kp_store *store)
{
	return store->hub;
}
const char *kp_store_name(const kp_store *store)
{
	return store->name;
}
const char *kp_store_incarnation(const kp_store *store)
{
	return store->incarnation;
}
bool kp_store_is_central(const kp_store *store)
{
	return store->central;
}

int kp_store_bulk(kp_store *store, bool on)
{
	int rc = mdb_env_set_flags(store->env, MDB_NOSYNC, on ? 1 : 0);
	if (rc)
		return s_fail(store, rc, "switching bulk mode");
	return on ? KP_OK : kp_store_sync(store);
}

int kp_store_sync(kp_store *store)
{
	int rc = mdb_env_sync(store->env, 1);
	return rc ? s_fail(store, rc, "flushing to disk") : KP_OK;
}

/* ---- transactions ---- */

static int s_begin(kp_store *store, unsigned flags, MDB_txn **txn)
{
	int rc = mdb_txn_begin(store->env, NULL, flags, txn);
	if (rc == MDB_MAP_RESIZED) {
		/* Another process grew the map: adopt its size. */
		mdb_env_set_mapsize(store->env, 0);
		rc = mdb_txn_begin(store->env, NULL, flags, txn);
	}
	return rc ? s_fail(store, rc, "starting a transaction") : KP_OK;
}

static int s_flush_cached(kp_txn *t)
{
	char key[16], value[32];
	int rc;

	if (t->head_dirty) {
		snprintf(value, sizeof value, "%" PRIu64, t->head);
		if ((rc = s_meta_set(t, "head_seq", value)))
			return rc;
	}
	for (int i = 0; i < KP_NKINDS; i++) {
		if (!t->next_dirty[i])
			continue;
		snprintf(key, sizeof key, "next:%c", kp_kinds[i]);
		snprintf(value, sizeof value, "%" PRIu64, t->next[i]);
		if ((rc = s_meta_set(t, key, value)))
			return rc;
	}
	return KP_OK;
}

static int s_grow(kp_store *store)
{
	MDB_envinfo info;
	mdb_env_info(store->env, &info);
	if (info.me_mapsize * 2 > KP_MAP_MAX)
		return KP_EFULL;
	return mdb_env_set_mapsize(store->env, info.me_mapsize * 2) ? KP_EFULL
								    : KP_OK;
}

static int s_write(kp_store *store, kp_txn_fn fn, void *arg, bool lazy)
{
	int rc;
	if (store->readonly) {
		snprintf(store->detail, sizeof store->detail,
			 "%s can only be read: give the user running knute "
			 "write permission on it",
			 store->dir);
		return KP_EREADONLY;
	}
	for (;;) {
		kp_txn t = {.store = store, .now = kp_now()};
		if ((rc = s_begin(store, 0, &t.txn)))
			return rc;
		/* LMDB 0.9 reads MDB_NOMETASYNC from the environment as it
		 * writes the meta page: on for this commit, off right after. */
		if (lazy)
			(void)mdb_env_set_flags(store->env, MDB_NOMETASYNC, 1);
		rc = fn(&t, arg);
		if (rc == KP_OK)
			rc = s_flush_cached(&t);
		if (rc == KP_OK) {
			int mrc = mdb_txn_commit(t.txn);
			rc = mrc ? s_fail(store, mrc, "committing") : KP_OK;
			t.map_full = mrc == MDB_MAP_FULL;
		} else {
			mdb_txn_abort(t.txn);
		}
		if (lazy)
			(void)mdb_env_set_flags(store->env, MDB_NOMETASYNC, 0);
		kp_buf_free(&t.buf);
		if (!t.map_full)
			return rc;
		if ((rc = s_grow(store))) {
			snprintf(store->detail, sizeof store->detail,
				 "the store in %s reached its largest size; "
				 "nothing of this change was written",
				 store->dir);
			return rc;
		}
	}
}

int kp_store_write(kp_store *store, kp_txn_fn fn, void *arg)
{
	return s_write(store, fn, arg, false);
}

int kp_store_write_lazy(kp_store *store, kp_txn_fn fn, void *arg)
{
	return s_write(store, fn, arg, true);
}

int kp_store_read(kp_store *store, kp_txn_fn fn, void *arg)
{
	kp_txn t = {.store = store, .now = kp_now(), .readonly = true};
	int rc = s_begin(store, MDB_RDONLY, &t.txn);
	if (rc)
		return rc;
	rc = fn(&t, arg);
	mdb_txn_abort(t.txn);
	kp_buf_free(&t.buf);
	return rc;
}

kp_store *kp_txn_store(kp_txn *t)
{
	return t->store;
}

static int s_put(kp_txn *t, MDB_dbi dbi, MDB_val *k, MDB_val *v, unsigned flags,
		 const char *what)
{
	int rc = mdb_put(t->txn, dbi, k, v, flags);
	if (rc == MDB_MAP_FULL)
		t->map_full = true;
	return rc ? s_fail(t->store, rc, what) : KP_OK;
}

/* ---- meta ---- */

int kp_txn_meta_get(kp_txn *t, const char *key, char *buf, size_t len)
{
	MDB_val k = {strlen(key), (void *)key}, v;
	int rc = mdb_get(t->txn, t->store->meta, &k, &v);
	if (rc)
		return s_fail(t->store, rc, "reading meta");
	if (v.mv_size >= len)
		return KP_ECORRUPT;
	memcpy(buf, v.mv_data, v.mv_size);
	buf[v.mv_size] = 0;
	return KP_OK;
}

static int s_meta_set(kp_txn *t, const char *key, const char *value)
{
	MDB_val k = {strlen(key), (void *)key},
		v = {strlen(value), (void *)value};
	return s_put(t, t->store->meta, &k, &v, 0, "writing meta");
}

int kp_txn_meta_put(kp_txn *t, const char *key, const char *value)
{
	return s_meta_set(t, key, value);
}

int kp_txn_meta_u64(kp_txn *t, const char *key, uint64_t *out)
{
	char buf[32];
	int rc = kp_txn_meta_get(t, key, buf, sizeof buf);
	*out = 0;
	if (rc == KP_ENOTFOUND)
		return KP_OK;
	if (rc)
		return rc;
	*out = strtoull(buf, NULL, 10);
	return KP_OK;
}

/* ---- records and the oplog ---- */

uint64_t kp_txn_head_seq(kp_txn *t)
{
	if (!t->head_loaded) {
		if (kp_txn_meta_u64(t, "head_seq", &t->head))
			t->head = 0;
		t->head_loaded = true;
	}
	return t->head;
}

/* Load the id counter of kind index i into the transaction's cache. */
static int s_next_load(kp_txn *t, int i)
{
	char key[16];
	int rc;
	if (t->next[i])
		return KP_OK;
	snprintf(key, sizeof key, "next:%c", kp_kinds[i]);
	if ((rc = kp_txn_meta_u64(t, key, &t->next[i])))
		return rc;
	if (!t->next[i])
		t->next[i] = 1;
	return KP_OK;
}

int kp_txn_new_id(kp_txn *t, char kind, struct kp_id *id)
{
	int i = s_kind_index(kind);
	int rc;
	if (i < 0)
		return KP_EINTERNAL;
	if ((rc = s_next_load(t, i)))
		return rc;
	memset(id, 0, sizeof *id);
	snprintf(id->hub, sizeof id->hub, "%s", t->store->hub);
	id->kind = kind;
	id->n = t->next[i]++;
	t->next_dirty[i] = true;
	return KP_OK;
}

int kp_txn_id_seen(kp_txn *t, const struct kp_id *id, bool *fresh)
{
	int i = s_kind_index(id->kind);
	int rc;
	*fresh = false;
	if (i < 0 || id->n == 0 || id->n == UINT64_MAX ||
	    strcmp(id->hub, t->store->hub))
		return KP_EINVAL;
	if ((rc = s_next_load(t, i)))
		return rc;
	if (id->n >= t->next[i]) {
		*fresh = true;
		t->next[i] = id->n + 1;
		t->next_dirty[i] = true;
	}
	return KP_OK;
}

int kp_txn_get(kp_txn *t, const struct kp_id *id, json_t **rec)
{
	uint8_t key[KP_KEY_MAX];
	MDB_val k = {kp_id_key(id, key), key}, v;
	int rc = mdb_get(t->txn, t->store->records, &k, &v);
	*rec = NULL;
	if (rc)
		return s_fail(t->store, rc, "reading a record");
	return kp_codec_decode(v.mv_data, v.mv_size, rec);
}

static int s_log(kp_txn *t, const char *op, const char *idtext, json_t *rec)
{
	uint8_t key[8];
	MDB_val k = {8, key}, v;
	json_t *entry;
	int rc;

	uint64_t seq = kp_txn_head_seq(t) + 1;
	entry = json_pack("{sIsssssIsO?}", "seq", (json_int_t)seq, "op", op,
			  "id", idtext, "at", (json_int_t)t->now, "rec", rec);
	if (!entry)
		return KP_ENOMEM;
	t->buf.len = 0;
	rc = kp_codec_encode(entry, &t->buf);
	json_decref(entry);
	if (rc)
		return rc;
	s_be64(key, seq);
	v.mv_size = t->buf.len;
	v.mv_data = t->buf.data;
	if ((rc = s_put(t, t->store->oplog, &k, &v, MDB_APPEND,
			"writing the oplog")))
		return rc;
	t->head = seq;
	t->head_dirty = true;
	return KP_OK;
}

int kp_txn_put(kp_txn *t, const struct kp_id *id, json_t *rec)
{
	uint8_t key[KP_KEY_MAX];
	char idtext[KP_ID_STRLEN];
	MDB_val k = {kp_id_key(id, key), key}, v;
	int rc;

	kp_id_format(id, idtext);
	if (json_object_set_new(rec, "id", json_string(idtext)) ||
	    json_object_set_new(rec, "kind",
				json_string(kp_kind_name(id->kind))) ||
	    json_object_set_new(rec, "hub", json_string(id->hub)))
		return KP_ENOMEM;
	t->buf.len = 0;
	if ((rc = kp_codec_encode(rec, &t->buf)))
		return rc;
	v.mv_size = t->buf.len;
	v.mv_data = t->buf.data;
	if ((rc = s_put(t, t->store->records, &k, &v, 0, "writing a record")))
		return rc;
	return s_log(t, "put", idtext, rec);
}

/* kp_id_format() without printf, for a million ids in a row. */
static void s_id_text(const struct kp_id *id, char *buf)
{
	size_t hub = strlen(id->hub);
	char digits[24];
	int n = 0;
	uint64_t v = id->n;
	memcpy(buf, id->hub, hub);
	buf[hub] = ':';
	buf[hub + 1] = id->kind;
	do
		digits[n++] = (char)('0' + v % 10);
	while (v /= 10);
	for (int i = 0; i < n; i++)
		buf[hub + 2 + i] = digits[n - 1 - i];
	buf[hub + 2 + n] = 0;
}

/* ---- bulk loading ---- */

/*
 * A bulk load (knute import) puts a million records, their oplog entries
 * and their slots in a few big write transactions, mostly in key order:
 * records of one kind by ascending number, the oplog by seq, slots room by
 * room in time order when the caller sorts them. mdb_put() looks every key
 * up from the root of the tree; a cursor the transaction keeps for each
 * stream of keys finds that the key goes on the page it is on (or after
 * the last key of the table) without a search: measured on a million
 * records, a third off the time of their puts.
 */
static int s_bulk_put(kp_txn *t, MDB_cursor **cur, MDB_dbi dbi, MDB_val *k,
		      MDB_val *v, unsigned flags, const char *what)
{
	int rc;
	if (!*cur && (rc = mdb_cursor_open(t->txn, dbi, cur)))
		return s_fail(t->store, rc, what);
	rc = mdb_cursor_put(*cur, k, v, flags);
	if (rc == MDB_MAP_FULL)
		t->map_full = true;
	return rc ? s_fail(t->store, rc, what) : KP_OK;
}

/*
 * The oplog entry is built around the record's bytes, so the record is
 * copied once and never decoded here (kp_codec_put_entry()); the record's
 * stored value is the tail of the same buffer.
 */
int kp_txn_put_packed(kp_txn *t, const struct kp_id *id, const void *rec,
		      size_t len)
{
	uint8_t key[KP_KEY_MAX], seqkey[8];
	char idtext[KP_ID_STRLEN];
	MDB_val k = {kp_id_key(id, key), key}, v, sk = {8, seqkey};
	uint64_t seq = kp_txn_head_seq(t) + 1;
	int kind = s_kind_index(id->kind);
	size_t at;
	int rc;

	if (kind < 0)
		return KP_EINVAL;
	s_id_text(id, idtext);
	t->buf.len = 0;
	if ((rc = kp_codec_put_entry(&t->buf, seq, idtext, t->now, rec, len,
				     &at)))
		return rc;
	v.mv_size = t->buf.len - at;
	v.mv_data = t->buf.data + at;
	if ((rc = s_bulk_put(t, &t->bulk_records[kind], t->store->records, &k,
			     &v, 0, "writing a record")))
		return rc;
	/* A seq never written before, as with MDB_APPEND in s_log(). */
	s_be64(seqkey, seq);
	v.mv_size = t->buf.len;
	v.mv_data = t->buf.data;
	if ((rc = s_bulk_put(t, &t->bulk_oplog, t->store->oplog, &sk, &v,
			     MDB_NOOVERWRITE, "writing the oplog")))
		return rc;
	t->head = seq;
	t->head_dirty = true;
	return KP_OK;
}

int kp_txn_delete(kp_txn *t, const struct kp_id *id)
{
	uint8_t key[KP_KEY_MAX];
	char idtext[KP_ID_STRLEN];
	MDB_val k = {kp_id_key(id, key), key};
	int rc = mdb_del(t->txn, t->store->records, &k, NULL);
	if (rc)
		return s_fail(t->store, rc, "deleting a record");
	kp_id_format(id, idtext);
	return s_log(t, "del", idtext, NULL);
}

/* Walk the keys of one kind at this hub; decode only when fn is given. */
static int s_walk(kp_txn *t, char kind, kp_record_fn fn, void *arg,
		  uint64_t *count)
{
	struct kp_id first = {.kind = kind, .n = 0};
	uint8_t key[KP_KEY_MAX];
	size_t prefix;
	MDB_cursor *cur;
	MDB_val k, v;
	int rc, mrc;

	snprintf(first.hub, sizeof first.hub, "%s", t->store->hub);
	prefix = kp_id_key(&first, key) - 8;
	k.mv_size = prefix + 8;
	k.mv_data = key;
	if ((mrc = mdb_cursor_open(t->txn, t->store->records, &cur)))
		return s_fail(t->store, mrc, "reading records");
	rc = KP_OK;
	for (mrc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE); mrc == 0;
	     mrc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
		struct kp_id id;
		json_t *rec;
		if (k.mv_size < prefix || memcmp(k.mv_data, key, prefix))
			break;
		if (count)
			++*count;
		if (!fn)
			continue;
		if ((rc = kp_key_id(k.mv_data, k.mv_size, &id)) ||
		    (rc = kp_codec_decode(v.mv_data, v.mv_size, &rec)))
			break;
		rc = fn(&id, rec, arg);
		json_decref(rec);
		if (rc)
			break;
	}
	if (mrc && mrc != MDB_NOTFOUND)
		rc = s_fail(t->store, mrc, "reading records");
	mdb_cursor_close(cur);
	return rc;
}

int kp_txn_each(kp_txn *t, char kind, kp_record_fn fn, void *arg)
{
	return s_walk(t, kind, fn, arg, NULL);
}

int kp_txn_count(kp_txn *t, char kind, uint64_t *count)
{
	*count = 0;
	return s_walk(t, kind, NULL, NULL, count);
}

int kp_txn_oplog_each(kp_txn *t, uint64_t from, kp_oplog_fn fn, void *arg)
{
	uint8_t key[8];
	MDB_val k = {8, key}, v;
	MDB_cursor *cur;
	int rc = KP_OK, mrc;

	s_be64(key, from);
	if ((mrc = mdb_cursor_open(t->txn, t->store->oplog, &cur)))
		return s_fail(t->store, mrc, "reading the oplog");
	for (mrc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE); mrc == 0;
	     mrc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
		json_t *entry;
		if (k.mv_size != 8) {
			rc = KP_ECORRUPT;
			break;
		}
		if ((rc = kp_codec_decode(v.mv_data, v.mv_size, &entry)))
			break;
		rc = fn(s_get_be64(k.mv_data), entry, arg);
		json_decref(entry);
		if (rc)
			break;
	}
	if (mrc && mrc != MDB_NOTFOUND)
		rc = s_fail(t->store, mrc, "reading the oplog");
	mdb_cursor_close(cur);
	return rc;
}

int kp_txn_oplog_rewrite(kp_txn *t, uint64_t seq, json_t *entry)
{
	uint8_t key[8];
	MDB_val k = {8, key}, v;
	int rc;

	s_be64(key, seq);
	t->buf.len = 0;
	if ((rc = kp_codec_encode(entry, &t->buf)))
		return rc;
	v.mv_size = t->buf.len;
	v.mv_data = t->buf.data;
	return s_put(t, t->store->oplog, &k, &v, 0, "rewriting the oplog");
}

/* ---- slots ---- */

#define SLOT_PREFIX 16 /* room (8) + start (8) */
#define SLOT_KEY    25 /* + owner kind (1) + owner number (8) */

static uint64_t s_bias(int64_t t)
{
	return (uint64_t)t ^ (1ULL << 63);
}

static void s_slot_key(uint8_t *key, uint64_t room, const struct kp_slot *s)
{
	s_be64(key, room);
	s_be64(key + 8, s_bias(s->start));
	key[16] = (uint8_t)s->owner.kind;
	s_be64(key + 17, s->owner.n);
}

int kp_txn_slot_add(kp_txn *t, uint64_t room, const struct kp_slot *slot)
{
	uint8_t key[SLOT_KEY], val[8];
	MDB_val k = {SLOT_KEY, key}, v = {8, val};
	s_slot_key(key, room, slot);
	s_be64(val, s_bias(slot->end));
	return s_put(t, t->store->slots, &k, &v, 0, "writing the room index");
}

int kp_txn_slot_add_bulk(kp_txn *t, uint64_t room, const struct kp_slot *slot)
{
	uint8_t key[SLOT_KEY], val[8];
	MDB_val k = {SLOT_KEY, key}, v = {8, val};
	s_slot_key(key, room, slot);
	s_be64(val, s_bias(slot->end));
	return s_bulk_put(t, &t->bulk_slots, t->store->slots, &k, &v, 0,
			  "writing the room index");
}

int kp_txn_slot_del(kp_txn *t, uint64_t room, const struct kp_slot *slot)
{
	uint8_t key[SLOT_KEY];
	MDB_val k = {SLOT_KEY, key};
	int rc;
	s_slot_key(key, room, slot);
	rc = mdb_del(t->txn, t->store->slots, &k, NULL);
	if (rc == MDB_NOTFOUND)
		return KP_OK;
	return rc ? s_fail(t->store, rc, "writing the room index") : KP_OK;
}

static void s_slot_from(const MDB_val *k, const MDB_val *v, const char *hub,
			struct kp_slot *slot)
{
	const uint8_t *key = k->mv_data;
	memset(slot, 0, sizeof *slot);
	slot->start = (int64_t)(s_get_be64(key + 8) ^ (1ULL << 63));
	slot->end = (int64_t)(s_get_be64(v->mv_data) ^ (1ULL << 63));
	slot->owner.kind = (char)key[16];
	slot->owner.n = s_get_be64(key + 17);
	snprintf(slot->owner.hub, sizeof slot->owner.hub, "%s", hub);
}

/*
 * The slots of one room never overlap (every slot passed this check before
 * it was added), so only two can overlap [start, end): the first that starts
 * at or after start, and the one just before it.
 */
int kp_txn_slot_find(kp_txn *t, uint64_t room, int64_t start, int64_t end,
		     struct kp_slot *clash)
{
	uint8_t key[SLOT_KEY];
	MDB_val k = {SLOT_PREFIX, key}, v;
	MDB_cursor *cur;
	int rc = KP_OK, mrc;

	s_be64(key, room);
	s_be64(key + 8, s_bias(start));
	if ((mrc = mdb_cursor_open(t->txn, t->store->slots, &cur)))
		return s_fail(t->store, mrc, "reading the room index");
	mrc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE);
	if (mrc == 0 && k.mv_size == SLOT_KEY &&
	    s_get_be64(k.mv_data) == room) {
		s_slot_from(&k, &v, t->store->hub, clash);
		if (clash->start < end) {
			rc = KP_ECLASH;
			goto out;
		}
	}
	mrc = mdb_cursor_get(cur, &k, &v, mrc == 0 ? MDB_PREV : MDB_LAST);
	if (mrc == 0 && k.mv_size == SLOT_KEY &&
	    s_get_be64(k.mv_data) == room) {
		s_slot_from(&k, &v, t->store->hub, clash);
		if (clash->end > start)
			rc = KP_ECLASH;
	}
out:
	mdb_cursor_close(cur);
	return rc;
}

/* ---- tables for sync ---- */

void kp_be64_put(uint8_t *p, uint64_t v)
{
	s_be64(p, v);
}

uint64_t kp_be64_get(const uint8_t *p)
{
	return s_get_be64(p);
}

static int s_table(kp_txn *t, enum kp_table tb, MDB_dbi *dbi)
{
	if ((unsigned)tb >= KP_NTABLES || !t->store->tables[tb])
		return KP_ENOTFOUND; /* an old store opened read-only */
	*dbi = t->store->tables[tb];
	return KP_OK;
}

int kp_txn_tput(kp_txn *t, enum kp_table tb, const void *key, size_t klen,
		const void *val, size_t vlen, unsigned flags)
{
	MDB_val k = {klen, (void *)key}, v = {vlen, (void *)val};
	MDB_dbi dbi;
	int rc = s_table(t, tb, &dbi);
	if (rc)
		return rc == KP_ENOTFOUND ? KP_EREADONLY : rc;
	return s_put(t, dbi, &k, &v, flags & KP_TPUT_APPEND ? MDB_APPEND : 0,
		     "writing a table");
}

int kp_txn_tget(kp_txn *t, enum kp_table tb, const void *key, size_t klen,
		const void **val, size_t *vlen)
{
	MDB_val k = {klen, (void *)key}, v;
	MDB_dbi dbi;
	int rc = s_table(t, tb, &dbi);
	if (rc)
		return rc;
	if ((rc = mdb_get(t->txn, dbi, &k, &v)))
		return s_fail(t->store, rc, "reading a table");
	*val = v.mv_data;
	*vlen = v.mv_size;
	return KP_OK;
}

int kp_txn_tdel(kp_txn *t, enum kp_table tb, const void *key, size_t klen)
{
	MDB_val k = {klen, (void *)key};
	MDB_dbi dbi;
	int rc = s_table(t, tb, &dbi);
	if (rc)
		return rc == KP_ENOTFOUND ? KP_OK : rc;
	rc = mdb_del(t->txn, dbi, &k, NULL);
	if (rc == MDB_NOTFOUND)
		return KP_OK;
	return rc ? s_fail(t->store, rc, "deleting from a table") : KP_OK;
}

int kp_txn_tclear(kp_txn *t, enum kp_table tb)
{
	MDB_dbi dbi;
	int rc = s_table(t, tb, &dbi);
	if (rc)
		return rc == KP_ENOTFOUND ? KP_OK : rc;
	rc = mdb_drop(t->txn, dbi, 0);
	return rc ? s_fail(t->store, rc, "clearing a table") : KP_OK;
}

int kp_txn_teach(kp_txn *t, enum kp_table tb, const void *from, size_t flen,
		 const void *prefix, size_t plen, kp_tentry_fn fn, void *arg)
{
	MDB_cursor *cur;
	MDB_val k, v;
	MDB_dbi dbi;
	int rc = s_table(t, tb, &dbi), mrc;
	MDB_cursor_op op = MDB_SET_RANGE;

	if (rc)
		return rc == KP_ENOTFOUND ? KP_OK : rc;
	if (!from && plen) {
		from = prefix;
		flen = plen;
	}
	if (!from)
		op = MDB_FIRST;
	k.mv_size = flen;
	k.mv_data = (void *)from;
	if ((mrc = mdb_cursor_open(t->txn, dbi, &cur)))
		return s_fail(t->store, mrc, "reading a table");
	for (mrc = mdb_cursor_get(cur, &k, &v, op); mrc == 0;
	     mrc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
		if (plen &&
		    (k.mv_size < plen || memcmp(k.mv_data, prefix, plen)))
			break;
		if ((rc = fn(k.mv_data, k.mv_size, v.mv_data, v.mv_size, arg)))
			break;
	}
	if (mrc && mrc != MDB_NOTFOUND)
		rc = s_fail(t->store, mrc, "reading a table");
	mdb_cursor_close(cur);
	return rc;
}

int kp_txn_tlast(kp_txn *t, enum kp_table tb, const void **key, size_t *klen,
		 const void **val, size_t *vlen)
{
	MDB_cursor *cur;
	MDB_val k, v;
	MDB_dbi dbi;
	int rc = s_table(t, tb, &dbi), mrc;
	if (rc)
		return rc;
	if ((mrc = mdb_cursor_open(t->txn, dbi, &cur)))
		return s_fail(t->store, mrc, "reading a table");
	mrc = mdb_cursor_get(cur, &k, &v, MDB_LAST);
	mdb_cursor_close(cur);
	if (mrc)
		return s_fail(t->store, mrc, "reading a table");
	*key = k.mv_data;
	*klen = k.mv_size;
	if (val)
		*val = v.mv_data;
	if (vlen)
		*vlen = v.mv_size;
	return KP_OK;
}

int kp_txn_tcount(kp_txn *t, enum kp_table tb, uint64_t *count)
{
	MDB_stat st;
	MDB_dbi dbi;
	int rc = s_table(t, tb, &dbi);
	*count = 0;
	if (rc)
		return rc == KP_ENOTFOUND ? KP_OK : rc;
	if ((rc = mdb_stat(t->txn, dbi, &st)))
		return s_fail(t->store, rc, "reading a table");
	*count = st.ms_entries;
	return KP_OK;
}

int kp_txn_new_incarnation(kp_txn *t)
{
	uint8_t raw[KP_INCARNATION_LEN / 2];
	char hex[KP_INCARNATION_LEN + 1];
	int rc;

	if (getrandom(raw, sizeof raw, 0) != (ssize_t)sizeof raw)
		return KP_EIO;
	for (size_t i = 0; i < sizeof raw; i++)
		snprintf(hex + 2 * i, 3, "%02x", raw[i]);
	if ((rc = s_meta_set(t, "incarnation", hex)))
		return rc;
	/* The open store learns it now; a failed commit leaves the old id
	 * on disk, which only means the next snapshot is asked again. */
	memcpy(t->store->incarnation, hex, sizeof hex);
	return KP_OK;
}

int64_t kp_txn_now_ms(kp_txn *t)
{
	(void)t;
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* The key pair comes from libzmq (zmq_curve_keypair(), libsodium
 * underneath), the library that uses it; its only failure is a libzmq
 * built without CURVE, which is no store error but a broken install. */
int kp_txn_curve_keys(kp_txn *t, char *pub, char *sec)
{
	char p[KP_CURVE_KEY_LEN + 1], s[KP_CURVE_KEY_LEN + 1];
	int rc = kp_txn_meta_get(t, "curve_public", p, sizeof p);

	if (rc == KP_OK)
		rc = kp_txn_meta_get(t, "curve_secret", s, sizeof s);
	if (rc == KP_ENOTFOUND && !t->readonly) {
		if (zmq_curve_keypair(p, s)) {
			snprintf(
			    t->store->detail, sizeof t->store->detail,
			    "this libzmq cannot make CurveZMQ keys (built "
			    "without libsodium): install Debian's libzmq5");
			return KP_EINTERNAL;
		}
		if ((rc = s_meta_set(t, "curve_public", p)) ||
		    (rc = s_meta_set(t, "curve_secret", s)))
			goto out;
	}
	if (rc == KP_OK &&
	    (strlen(p) != KP_CURVE_KEY_LEN || strlen(s) != KP_CURVE_KEY_LEN))
		rc = KP_ECORRUPT;
	if (rc == KP_OK) {
		if (pub)
			memcpy(pub, p, sizeof p);
		if (sec)
			memcpy(sec, s, sizeof s);
	}
out:
	sodium_memzero(s, sizeof s);
	return rc;
}
