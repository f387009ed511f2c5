/*
 * knute/store.h - a node's LMDB store: records, oplog, indexes, meta.
 *
 * One store is one data directory. The command line and the daemon open
 * the same directory at once (LMDB allows several processes); writers are
 * serialised by LMDB's write lock, so a check and the write that depends
 * on it (the booking clash rule) are one transaction and cannot race.
 *
 * Databases inside the environment:
 *   meta     text key -> value: hub id, name, role, incarnation, counters
 *   records  kp_id_key() -> msgpack record (the hub's own records)
 *   oplog    8-byte big-endian seq -> msgpack {seq, op, id, at, rec}
 *   slots    room number, start, owner -> end: every booked occurrence of a
 *            room, for the clash check (the hub's own rooms only)
 *
 * Every change to records goes through kp_txn_put() or kp_txn_delete(),
 * which write the oplog entry in the same transaction: seqs have no gaps.
 */
#ifndef KNUTE_STORE_H
#define KNUTE_STORE_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "model.h"

#define KP_STORE_VERSION   1
#define KP_INCARNATION_LEN 32 /* hex digits */

typedef struct kp_store kp_store;
typedef struct kp_txn kp_txn;

/* Create a new store in dir (created if missing). hub is the hub id, or
 * NULL for central. KP_EEXIST if dir already holds a store. */
int kp_store_create(const char *dir, const char *hub, const char *name);

/* Open the store in dir. KP_ENOINIT if dir holds none, KP_EREADONLY if it
 * cannot be written, KP_EVERSION if it was made by a newer version. */
int kp_store_open(const char *dir, kp_store **store);
/* Close and free; accepts NULL and sets *store to NULL. */
void kp_store_close(kp_store **store);

/* Fixed facts, valid as long as the store is open. hub is "" at central. */
const char *kp_store_hub(const kp_store *store);
const char *kp_store_name(const kp_store *store);
const char *kp_store_incarnation(const kp_store *store);
bool kp_store_is_central(const kp_store *store);

/*
 * Run fn inside a write transaction: commit (durably) when it returns 0,
 * abort and return its code otherwise. When the map fills up the
 * transaction is aborted, the map grown and fn run again from the start, so
 * fn must leave no trace outside the transaction until it returns.
 */
typedef int (*kp_txn_fn)(kp_txn *txn, void *arg);
int kp_store_write(kp_store *store, kp_txn_fn fn, void *arg);
/*
 * The same with one flush to disk instead of two: the transaction's pages
 * are flushed, the page that points at them is written but not flushed
 * (LMDB's MDB_NOMETASYNC), so the next commit or the kernel's writeback
 * makes it durable. The store stays intact whatever happens; a crash of
 * the machine (not of the process) may undo this one transaction. Only
 * for state that may fall back one step, such as a hub's copy of what
 * central acknowledged. The flag belongs to the whole environment, so
 * only for a process whose writes all come from one thread.
 */
int kp_store_write_lazy(kp_store *store, kp_txn_fn fn, void *arg);
/* Run fn in a read-only snapshot. */
int kp_store_read(kp_store *store, kp_txn_fn fn, void *arg);

/* Bulk mode: commits are not flushed to disk until kp_store_sync() or the
 * end of bulk mode. Only for loading a file that is committed whole or
 * not at all by the caller. */
int kp_store_bulk(kp_store *store, bool on);
int kp_store_sync(kp_store *store);

/* ---- inside a transaction ---- */

kp_store *kp_txn_store(kp_txn *txn);

/* Fetch a record; the caller owns *rec. KP_ENOTFOUND if there is none. */
int kp_txn_get(kp_txn *txn, const struct kp_id *id, json_t **rec);
/* Store rec under id (id, kind and hub fields are set from id) and log it.
 * Borrows rec. */
int kp_txn_put(kp_txn *txn, const struct kp_id *id, json_t *rec);
/* kp_txn_put() for a record encoded ahead of the transaction (a bulk
 * load encodes in several threads): rec is the msgpack map of the
 * record (kp_codec_encode()) with "kind" and "hub" set as kp_txn_put()
 * sets them and no "id", which is put in front here. The caller vouches
 * that the map is a valid record. For a bulk load in a write transaction:
 * it puts through cursors the transaction keeps, fastest for records of
 * a kind in ascending order. KP_EINVAL if rec is no map or id has no
 * kind. */
int kp_txn_put_packed(kp_txn *txn, const struct kp_id *id, const void *rec,
		      size_t len);
/* Remove the record and log a tombstone. KP_ENOTFOUND if absent. */
int kp_txn_delete(kp_txn *txn, const struct kp_id *id);
/* A fresh id of kind at this hub. */
int kp_txn_new_id(kp_txn *txn, char kind, struct kp_id *id);
/* Note that id, an id of this hub that came from outside (an import),
 * is taken: its kind's counter moves past it, so kp_txn_new_id() never
 * hands it out. *fresh is set true when id lies beyond every id handed
 * out before, so no record can have it yet. In a read-only
 * transaction nothing is written: it only answers *fresh. KP_EINVAL for
 * an id of another hub or of no kind. */
int kp_txn_id_seen(kp_txn *txn, const struct kp_id *id, bool *fresh);

/* Call fn for every record of kind at this hub, in id order; rec is
 * borrowed for the call. A non-zero return stops and is returned. */
typedef int (*kp_record_fn)(const struct kp_id *id, json_t *rec, void *arg);
int kp_txn_each(kp_txn *txn, char kind, kp_record_fn fn, void *arg);
/* The number of records of kind. */
int kp_txn_count(kp_txn *txn, char kind, uint64_t *count);

/* The highest oplog seq written (0 when none). */
uint64_t kp_txn_head_seq(kp_txn *txn);
/* Call fn for each oplog entry with seq >= from, in order; entry is
 * borrowed. */
typedef int (*kp_oplog_fn)(uint64_t seq, json_t *entry, void *arg);
int kp_txn_oplog_each(kp_txn *txn, uint64_t from, kp_oplog_fn fn, void *arg);
/* Replace the stored body of an oplog entry (erasure of personal data). */
int kp_txn_oplog_rewrite(kp_txn *txn, uint64_t seq, json_t *entry);

/* ---- the slot index: booked occurrences per room ---- */

struct kp_slot {
	int64_t start, end;
	struct kp_id owner; /* the booking or activity that holds it */
};

/* Record that owner holds room from start to end. */
int kp_txn_slot_add(kp_txn *txn, uint64_t room, const struct kp_slot *slot);
/* kp_txn_slot_add() for a bulk load in a write transaction: the same,
 * through a cursor the transaction keeps, so it is fastest for slots put
 * in key order (room, start, owner). */
int kp_txn_slot_add_bulk(kp_txn *txn, uint64_t room,
			 const struct kp_slot *slot);
/* Drop that slot (KP_OK also when it is not there). */
int kp_txn_slot_del(kp_txn *txn, uint64_t room, const struct kp_slot *slot);
/* KP_ECLASH, with the slot in *clash, when [start, end) overlaps a held
 * slot of room; KP_OK when it is free. Intervals are half-open. */
int kp_txn_slot_find(kp_txn *txn, uint64_t room, int64_t start, int64_t end,
		     struct kp_slot *clash);

/* Meta values (text). KP_ENOTFOUND when unset. */
int kp_txn_meta_get(kp_txn *txn, const char *key, char *buf, size_t len);
/* A meta value kept as a decimal number; 0 when there is none. */
int kp_txn_meta_u64(kp_txn *txn, const char *key, uint64_t *v);
int kp_txn_meta_put(kp_txn *txn, const char *key, const char *value);

/* The last error's detail (the path, the LMDB reason), for messages. */
const char *kp_store_detail(const kp_store *store);

/* ---- tables for sync: raw bytes, keys and values as the caller lays
 * them out (docs/protocol.md, "Storage") ---- */

enum kp_table {
	KP_T_RECORDS, /* kp_id_key() -> record (hub) or last entry (central) */
	KP_T_OPLOG,   /* be64 seq -> oplog entry */
	KP_T_MIRROR,  /* hub: kp_id_key() -> other hubs' public records */
	KP_T_HUBS,    /* central: hub id -> registry entry */
	KP_T_MLOG,    /* central: be64 gseq -> municipality log entry */
	KP_T_DEAD,    /* dead letters: be64 number -> refused entry */
	KP_T_STAGE,   /* central: a snapshot being received */
	KP_T_REQS,    /* central: be64 request number -> central request */
	KP_T_DONE,    /* hub: request token -> its result (executed once) */
	KP_T_KEYS,    /* central: hub id -> {key, added}: hubs' CurveZMQ keys */
	KP_NTABLES
};

/* Store val under key; flags 0 or KP_TPUT_APPEND (key sorts after every
 * key in the table: faster). */
#define KP_TPUT_APPEND 1u
int kp_txn_tput(kp_txn *txn, enum kp_table t, const void *key, size_t klen,
		const void *val, size_t vlen, unsigned flags);
/* The value under key, pointing into the map: valid until the transaction
 * ends. KP_ENOTFOUND when there is none. */
int kp_txn_tget(kp_txn *txn, enum kp_table t, const void *key, size_t klen,
		const void **val, size_t *vlen);
/* Remove key; KP_OK also when it is absent. */
int kp_txn_tdel(kp_txn *txn, enum kp_table t, const void *key, size_t klen);
/* Remove every entry. */
int kp_txn_tclear(kp_txn *txn, enum kp_table t);
/* Call fn for each entry with key >= from (every entry when from is
 * NULL) whose key starts with prefix (any key when plen is 0), in key
 * order, until fn returns non-zero (which is returned; KP_OK at the end).
 * Key and value point into the map. */
typedef int (*kp_tentry_fn)(const void *key, size_t klen, const void *val,
			    size_t vlen, void *arg);
int kp_txn_teach(kp_txn *txn, enum kp_table t, const void *from, size_t flen,
		 const void *prefix, size_t plen, kp_tentry_fn fn, void *arg);
/* The last (highest) key of the table; KP_ENOTFOUND when empty. */
int kp_txn_tlast(kp_txn *txn, enum kp_table t, const void **key, size_t *klen,
		 const void **val, size_t *vlen);
/* The number of entries. */
int kp_txn_tcount(kp_txn *txn, enum kp_table t, uint64_t *count);

/* Big-endian 64-bit keys, the form seqs take in keys. */
void kp_be64_put(uint8_t *p, uint64_t v);
uint64_t kp_be64_get(const uint8_t *p);

/* Give the store a fresh random incarnation id (after a restore from an
 * older backup, so central takes the hub's records anew). */
int kp_txn_new_incarnation(kp_txn *txn);
/* The millisecond clock of this transaction (UTC). */
int64_t kp_txn_now_ms(kp_txn *txn);

/* ---- CurveZMQ keys (docs/security.md) ---- */

#define KP_CURVE_KEY_LEN 40 /* a CurveZMQ key as Z85 text */

/* This store's CurveZMQ key pair as Z85 text (KP_CURVE_KEY_LEN characters
 * and a NUL each), kept in meta (curve_public, curve_secret) so it travels
 * with the store and its backups. kp_store_create() makes it; a store
 * made before keys existed gets one here in a write transaction, and in
 * a read-only one the answer is KP_ENOTFOUND. sec may be NULL. The secret
 * key must never be printed or logged. */
int kp_txn_curve_keys(kp_txn *txn, char *pub, char *sec);

#endif
