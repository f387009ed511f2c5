/*
 * cmd_import.c - knute import FILE: load records from JSON Lines.
 *
 * NOTES ON THE DESIGN
 *
 * A file is imported whole or not at all, and fast (a hub is loaded with
 * a year of data this way: a million records should take seconds). Three
 * phases:
 *
 *   1. parse      every line is parsed, checked against the schema (kind,
 *                 hub, id, kp_model_validate), its occurrences worked out
 *                 and the record encoded to msgpack, in one thread per
 *                 processor, each taking chunks of the file in turn (a
 *                 file is read with pread(), not mapped); plain bookings
 *                 and activities, nearly all of a big file, the fast way,
 *                 without jansson (see "the fast path");
 *   2. check      in line order, in one read snapshot of the store: ids
 *                 given twice, rooms and people that do not exist, the
 *                 police-certificate rule, and the clash rule for every
 *                 occurrence (the room's opening hours and closures, the
 *                 room's slots in the store, and the file's own bookings
 *                 against each other);
 *   3. write      only when no line had a problem: the records in write
 *                 transactions of S_BATCH records, without a flush per
 *                 transaction (kp_store_bulk), a second thread flushing
 *                 behind the writer, and one last flush at the end, after
 *                 which the import is durable. The store's bulk calls
 *                 (kp_txn_put_packed, kp_txn_slot_add_bulk) put through
 *                 cursors the transaction keeps, and a batch's slots go in
 *                 key order (s_slots_put), so that LMDB seldom searches
 *                 its trees from the root.
 *
 * Why batches and not one transaction: measured on ext4, LMDB writes a
 * million records with their oplog entries and slots in about 1.5 s in
 * batches of 50,000 and in 3.7 s as one transaction, whose dirty pages no
 * longer fit LMDB's dirty list and are spilled. Since phases 1 and 2
 * refuse every bad line and every clash before anything is written, phase
 * 3 can only fail for reasons outside the file: a full disk or map, or a
 * record written by another process between the check and the write.
 * Then the message says which lines were committed and where to resume.
 * If the oplog head moved between the check and a batch (another process
 * wrote), the batch checks every slot again inside its transaction, so
 * two processes can never both take a slot.
 *
 * A file that replaces records of the store (ids that exist) is written in
 * one transaction instead: the old slots of every replaced record are
 * freed first and the new ones taken after, atomically (a booking may move
 * into the old time of another that the file moves too).
 *
 * The clash rule here is the rule of kp_hold_room() (rules.c), done with a
 * cache of each room's hours and closures instead of loading the room
 * per booking, and with kp_week_covers() answered from remembered local
 * times where that is certain: that is what makes the import fast. Keep
 * the two in step.
 *
 * Measured in a virtual machine of 2 processors (on a million generated
 * records, scripts/bench-store), the time goes to LMDB's puts and the copy
 * of its pages into the page cache (about half), the first touch of fresh
 * memory, and reading the file; the parsing itself is a small part. A
 * 4 KiB page fault costs some 25 us there (shadow page tables), so the
 * large arrays take huge pages, the heap is made ready for phase 2's
 * tables and LMDB's pages (s_heap_ready), and the file is read, not
 * mapped.
 *
 * Records with an "id" keep it (it must be of this hub; the kind's counter
 * moves past it so later ids never collide). A record whose id is already
 * in the store replaces it, so importing the same file twice changes
 * nothing but the oplog. Records without an id get a fresh one. Lines are
 * parsed by a small JSON reader of our own that builds jansson values
 * directly (jansson's own parser took 5 us a line, the whole budget);
 * anything it does not take (a fraction, an error) goes to json_loadb(),
 * which has the last word and gives the error message.
 *
 * For measuring: KNUTE_IMPORT_TIMING=1 prints the time of each phase on
 * stderr, KNUTE_IMPORT_THREADS=N sets the parsing threads,
 * KNUTE_IMPORT_BATCH=N the records per write transaction, and
 * KNUTE_IMPORT_FAST=0 turns the fast path off (see there).
 */
#define _GNU_SOURCE /* mremap() */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <malloc.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "codec.h"
#include "knute/error.h"
#include "knute/ktime.h"
#include "rules.h"

#define S_SHOW_MAX	   20	      /* problems listed before "and N more" */
#define S_LINE_MAX	   (1u << 20) /* bytes in one line (one record) */
#define S_DEPTH_MAX	   16	      /* nesting of a record's values */
#define S_BATCH		   50000      /* records per write transaction */
#define S_THREADS_MAX	   8
#define S_LINES_PER_THREAD 20000 /* below this a thread is not worth it */

/* ---- problems ---- */

struct s_problem {
	uint64_t line;
	int code;
	char text[KP_ERR_MAX + 160];
};

/* The problems found: all counted, the S_SHOW_MAX first by line kept. */
struct s_problems {
	uint64_t total;
	bool any_invalid; /* a bad line (exit 2) outweighs a clash (3) */
	size_t n;
	struct s_problem top[S_SHOW_MAX];
};

static void s_problem_add(struct s_problems *ps, const struct s_problem *p)
{
	size_t i;
	ps->total++;
	if (p->code == KP_EINVAL)
		ps->any_invalid = true;
	if (ps->n == S_SHOW_MAX && p->line >= ps->top[S_SHOW_MAX - 1].line)
		return;
	/* Keep top sorted by line; equal lines in the order found. */
	for (i = ps->n; i > 0 && ps->top[i - 1].line > p->line; i--)
		;
	if (ps->n < S_SHOW_MAX)
		ps->n++;
	memmove(&ps->top[i + 1], &ps->top[i],
		(ps->n - 1 - i) * sizeof ps->top[0]);
	ps->top[i] = *p;
}

static void s_problem(struct s_problems *ps, uint64_t line, int code,
		      const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static void s_problem(struct s_problems *ps, uint64_t line, int code,
		      const char *fmt, ...)
{
	struct s_problem p = {.line = line, .code = code};
	va_list ap;
	if (ps->n == S_SHOW_MAX && line >= ps->top[S_SHOW_MAX - 1].line) {
		/* Not shown: count it without formatting. */
		ps->total++;
		ps->any_invalid |= code == KP_EINVAL;
		return;
	}
	va_start(ap, fmt);
	vsnprintf(p.text, sizeof p.text, fmt, ap);
	va_end(ap);
	s_problem_add(ps, &p);
}

/* ---- large arrays ---- */

/*
 * The arrays of an import (a million records: their msgpack, their
 * occurrences, the checks' tables) live in anonymous mappings that grow
 * with mremap() and ask for huge pages. Measured in a virtual machine, the
 * page faults of growing them with malloc() and 4 KiB pages took a
 * quarter of the import's time. The tables of phase 2 are the exception
 * (heap): they are made once at their size, on the heap that phase 3
 * reuses for LMDB's pages (s_heap_ready).
 */
struct s_vec {
	char *data;
	size_t len, cap; /* bytes */
	bool heap;	 /* malloc()ed, not mapped */
};

static int s_vec_reserve(struct s_vec *v, size_t more)
{
	size_t cap;
	void *p;
	if (v->len + more <= v->cap)
		return KP_OK;
	if (v->heap) {
		cap = v->len + more > 2 * v->cap ? v->len + more : 2 * v->cap;
		if (!(p = realloc(v->data, cap)))
			return KP_ENOMEM;
		v->data = p;
		v->cap = cap;
		return KP_OK;
	}
	cap = v->cap ? v->cap : (size_t)2 << 20;
	while (cap < v->len + more)
		cap *= 2;
	if (v->data)
		p = mremap(v->data, v->cap, cap, MREMAP_MAYMOVE);
	else
		p = mmap(NULL, cap, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (p == MAP_FAILED)
		return KP_ENOMEM;
	madvise(p, cap, MADV_HUGEPAGE);
	v->data = p;
	v->cap = cap;
	return KP_OK;
}

/* Room for one more element of size bytes; NULL when out of memory. */
static void *s_vec_push(struct s_vec *v, size_t size)
{
	void *at;
	if (s_vec_reserve(v, size))
		return NULL;
	at = v->data + v->len;
	v->len += size;
	return at;
}

static void s_vec_free(struct s_vec *v)
{
	if (v->heap)
		free(v->data);
	else if (v->data)
		munmap(v->data, v->cap);
	memset(v, 0, sizeof *v);
}

/* ---- jansson's memory while parsing ---- */

/*
 * A parsing thread builds and drops a dozen jansson values per line. They
 * come from a per-thread bump arena, emptied after each line, instead of
 * malloc() and free(): a tenth of the parse. Jansson's allocation
 * functions are the process's, so they fall back to malloc() and free()
 * for anything outside an arena (other threads, other times, a line too
 * big for the arena). The arena is off around calls that hand memory to
 * the caller to free() (json_dumps, kp_model_validate's messages) and for
 * values kept past their line. Not under the sanitizers, which should
 * see every allocation.
 */
#if defined(__SANITIZE_ADDRESS__)
#define S_BUMP 0
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define S_BUMP 0
#endif
#endif
#ifndef S_BUMP
#define S_BUMP 1
#endif
#define S_BUMP_SIZE ((size_t)4 << 20)

struct s_bump {
	char *base, *cur, *end;
	bool on;
};

static _Thread_local struct s_bump s_bump;

static void *s_bump_malloc(size_t n)
{
	struct s_bump *b = &s_bump;
	n = (n + 15) & ~(size_t)15;
	if (b->on && (size_t)(b->end - b->cur) >= n) {
		void *p = b->cur;
		b->cur += n;
		return p;
	}
	return malloc(n);
}

static void s_bump_free(void *p)
{
	struct s_bump *b = &s_bump;
	if (b->base && (char *)p >= b->base && (char *)p < b->end)
		return;
	free(p);
}

/* Use the arena (on) or malloc (off) for what comes next. */
static void s_bump_use(bool on)
{
	s_bump.on = on && s_bump.base;
}

/* ---- the records of the file ---- */

enum {
	S_BAD = 1,	    /* the line has a problem */
	S_HAS_ID = 2,	    /* the line gave the id */
	S_POLICE_SHOWN = 4, /* a volunteer who has shown a certificate */
	S_POLICE_REQ = 8,   /* an activity that requires one */
	S_REPLACES = 16,    /* its id is in the store already */
};

/* One occurrence that holds a room. */
struct s_span {
	int64_t start, end;
};

/* A line's record (64 bytes: a million of them are 64 MB of fresh
 * memory). */
struct s_item {
	uint64_t line;
	uint64_t n;    /* the id's number: given, or from phase 3 */
	uint64_t room; /* the room whose slots it holds, or 0 */
	size_t off;    /* its msgpack in its part's arena */
	size_t occ;    /* its first occurrence in its part's list */
	uint32_t len, nocc;
	json_t *rec; /* kept for rooms, assignments, attendance */
	char kind;
	uint8_t flags;
	uint8_t part; /* the part (thread) that read it */
};
_Static_assert(sizeof(struct s_item) <= 64, "a line's record grew");

/* One thread's work: the chunks of the file it took (struct s_chunk),
 * their records one after the other. */
struct s_part {
	const char *hub;
	int index;		 /* in s_import.parts */
	struct s_chunks *chunks; /* where it takes them from */
	const char *data;	 /* the file in memory, or NULL: */
	int fd;			 /* ... read from here (s_chunk_read) */
	char *rbuf;		 /* the lines being read */
	size_t rcap;
	struct s_problems *problems; /* the current chunk's */
	struct s_vec items;	     /* struct s_item */
	size_t nitems;
	struct s_vec arena; /* the encoded records */
	struct kp_buf buf;  /* one record's encoding */
	struct s_vec occ;   /* struct s_span */
	size_t nocc;
	char *scratch; /* for texts with escapes */
	size_t capscratch;
	int rc; /* out of memory; KP_EINTERNAL: see mismatch */
	pthread_t thread;
	/* The fast path (see there): off when def is NULL. */
	const struct s_fastdef *def;
	size_t hublen;
	struct s_fast *fast; /* the line being read */
	struct s_tz *tz;
	bool crosscheck;   /* KNUTE_IMPORT_CROSSCHECK */
	uint64_t nfast;	   /* lines read the fast way */
	uint64_t mismatch; /* the line the two ways read differently */
};

/*
 * The file is cut at line ends into chunks, several per thread, which the
 * threads take in turn until none is left: a thread that gets less of
 * the processors (on a busy machine) takes fewer. Line numbers are
 * counted within a chunk and made the file's in s_parse_all().
 */
#define S_CHUNKS_PER_THREAD 8
#define S_CHUNKS_MAX	    (S_THREADS_MAX * S_CHUNKS_PER_THREAD)

struct s_chunk {
	size_t from, to;	    /* offsets in the file */
	uint64_t lines;		    /* in the chunk, blank ones too */
	int part;		    /* the thread that read it */
	size_t item_from, item_to;  /* its records in the part's items */
	struct s_problems problems; /* line numbers within the chunk */
	uint64_t mismatch;	    /* see KNUTE_IMPORT_CROSSCHECK */
};

struct s_chunks {
	struct s_chunk *chunk;
	size_t n;
	atomic_size_t next; /* the first not taken */
};

/* ---- a map from (kind, number) to an index ---- */

struct s_map_slot {
	uint64_t n; /* 0 = empty */
	size_t value;
	char kind;
};

struct s_map {
	size_t cap, used;
	struct s_map_slot *slots;
	struct s_vec mem;
};

/* splitmix64's finaliser over the number and the kind. */
static size_t s_hash(char kind, uint64_t n)
{
	uint64_t z = n * 0x9E3779B97F4A7C15ULL + (uint64_t)(unsigned char)kind;
	z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
	z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
	return (size_t)(z ^ (z >> 31));
}

static struct s_map_slot *s_map_find(const struct s_map *m, char kind,
				     uint64_t n)
{
	if (!m->cap)
		return NULL;
	for (size_t i = s_hash(kind, n) & (m->cap - 1); m->slots[i].n;
	     i = (i + 1) & (m->cap - 1))
		if (m->slots[i].n == n && m->slots[i].kind == kind)
			return &m->slots[i];
	return NULL;
}

/* Add (kind, n) -> value; *old is the slot it had already, or NULL. */
static int s_map_add(struct s_map *m, char kind, uint64_t n, size_t value,
		     struct s_map_slot **old)
{
	size_t i;
	*old = NULL;
	if ((m->used + 1) * 2 > m->cap) {
		size_t cap = m->cap ? m->cap * 2 : 1024;
		struct s_vec mem = {0};
		struct s_map_slot *slots;
		/* Fresh anonymous pages are zero: every slot empty. */
		if (s_vec_reserve(&mem, cap * sizeof *slots))
			return KP_ENOMEM;
		slots = (struct s_map_slot *)mem.data;
		for (size_t j = 0; j < m->cap; j++) {
			struct s_map_slot *o = &m->slots[j];
			if (!o->n)
				continue;
			for (i = s_hash(o->kind, o->n) & (cap - 1); slots[i].n;
			     i = (i + 1) & (cap - 1))
				;
			slots[i] = *o;
		}
		s_vec_free(&m->mem);
		m->mem = mem;
		m->slots = slots;
		m->cap = cap;
	}
	for (i = s_hash(kind, n) & (m->cap - 1); m->slots[i].n;
	     i = (i + 1) & (m->cap - 1)) {
		if (m->slots[i].n == n && m->slots[i].kind == kind) {
			*old = &m->slots[i];
			return KP_OK;
		}
	}
	m->slots[i] = (struct s_map_slot){.n = n, .value = value, .kind = kind};
	m->used++;
	return KP_OK;
}

static void s_map_free(struct s_map *m)
{
	s_vec_free(&m->mem);
	memset(m, 0, sizeof *m);
}

/* ---- a JSON reader for one line ---- */

struct s_reader {
	const char *p, *end;
	char *scratch; /* at least end - p + 1 bytes */
};

static void s_ws(struct s_reader *r)
{
	while (r->p < r->end && (*r->p == ' ' || *r->p == '\t' ||
				 *r->p == '\n' || *r->p == '\r'))
		r->p++;
}

/* The length of the valid UTF-8 sequence at p (a byte >= 0x80), or 0. */
static size_t s_utf8_seq(const unsigned char *p, const unsigned char *end)
{
	unsigned c = p[0], cp, min;
	size_t need;
	if (c >= 0xC2 && c <= 0xDF)
		need = 1, min = 0x80;
	else if (c >= 0xE0 && c <= 0xEF)
		need = 2, min = 0x800;
	else if (c >= 0xF0 && c <= 0xF4)
		need = 3, min = 0x10000;
	else
		return 0;
	if ((size_t)(end - p) <= need)
		return 0;
	cp = c & (0x3F >> need);
	for (size_t j = 1; j <= need; j++) {
		if ((p[j] & 0xC0) != 0x80)
			return 0;
		cp = (cp << 6) | (p[j] & 0x3F);
	}
	if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
		return 0;
	return need + 1;
}

static int s_hex4(const char *p)
{
	int v = 0;
	for (int i = 0; i < 4; i++) {
		char c = p[i];
		v <<= 4;
		if (c >= '0' && c <= '9')
			v |= c - '0';
		else if (c >= 'a' && c <= 'f')
			v |= c - 'a' + 10;
		else if (c >= 'A' && c <= 'F')
			v |= c - 'A' + 10;
		else
			return -1;
	}
	return v;
}

static char *s_put_utf8(char *o, unsigned cp)
{
	if (cp < 0x80) {
		*o++ = (char)cp;
	} else if (cp < 0x800) {
		*o++ = (char)(0xC0 | cp >> 6);
		*o++ = (char)(0x80 | (cp & 0x3F));
	} else if (cp < 0x10000) {
		*o++ = (char)(0xE0 | cp >> 12);
		*o++ = (char)(0x80 | ((cp >> 6) & 0x3F));
		*o++ = (char)(0x80 | (cp & 0x3F));
	} else {
		*o++ = (char)(0xF0 | cp >> 18);
		*o++ = (char)(0x80 | ((cp >> 12) & 0x3F));
		*o++ = (char)(0x80 | ((cp >> 6) & 0x3F));
		*o++ = (char)(0x80 | (cp & 0x3F));
	}
	return o;
}

/* A text after its opening quote: *out and *len point into the line, or
 * into the scratch buffer when it had escapes. False when this reader
 * gives up (jansson then decides): control characters, invalid UTF-8,
 * \u0000, a lone surrogate, a missing closing quote. */
static bool s_text(struct s_reader *r, const char **out, size_t *len)
{
	const char *s = r->p, *q = s;
	char *o;

	while (q < r->end) {
		unsigned char c = (unsigned char)*q;
		if (c == '"') {
			*out = s;
			*len = (size_t)(q - s);
			r->p = q + 1;
			return true;
		}
		if (c == '\\' || c < 0x20 || c >= 0x80)
			break;
		q++;
	}
	/* The slow way: the output is never longer than the input. */
	memcpy(r->scratch, s, (size_t)(q - s));
	o = r->scratch + (q - s);
	while (q < r->end) {
		unsigned char c = (unsigned char)*q;
		if (c == '"') {
			*out = r->scratch;
			*len = (size_t)(o - r->scratch);
			r->p = q + 1;
			return true;
		}
		if (c < 0x20)
			return false;
		if (c >= 0x80) {
			size_t n = s_utf8_seq((const unsigned char *)q,
					      (const unsigned char *)r->end);
			if (!n)
				return false;
			memcpy(o, q, n);
			o += n;
			q += n;
			continue;
		}
		if (c != '\\') {
			*o++ = (char)c;
			q++;
			continue;
		}
		if (r->end - q < 2)
			return false;
		switch (q[1]) {
		case '"':
			*o++ = '"';
			break;
		case '\\':
			*o++ = '\\';
			break;
		case '/':
			*o++ = '/';
			break;
		case 'b':
			*o++ = '\b';
			break;
		case 'f':
			*o++ = '\f';
			break;
		case 'n':
			*o++ = '\n';
			break;
		case 'r':
			*o++ = '\r';
			break;
		case 't':
			*o++ = '\t';
			break;
		case 'u': {
			int hi, lo;
			unsigned cp;
			if (r->end - q < 6 || (hi = s_hex4(q + 2)) < 0)
				return false;
			cp = (unsigned)hi;
			q += 6;
			if (hi >= 0xDC00 && hi <= 0xDFFF)
				return false;
			if (hi >= 0xD800 && hi <= 0xDBFF) {
				if (r->end - q < 6 || q[0] != '\\' ||
				    q[1] != 'u' || (lo = s_hex4(q + 2)) < 0 ||
				    lo < 0xDC00 || lo > 0xDFFF)
					return false;
				cp = 0x10000 + (((unsigned)hi - 0xD800) << 10) +
				     ((unsigned)lo - 0xDC00);
				q += 6;
			}
			if (cp == 0)
				return false;
			o = s_put_utf8(o, cp);
			continue;
		}
		default:
			return false;
		}
		q += 2;
	}
	return false;
}

static json_t *s_value(struct s_reader *r, int depth);

static json_t *s_number(struct s_reader *r)
{
	const char *q = r->p;
	bool neg = false;
	uint64_t v = 0;

	if (*q == '-') {
		neg = true;
		q++;
	}
	if (q >= r->end || *q < '0' || *q > '9')
		return NULL;
	if (*q == '0' && q + 1 < r->end && q[1] >= '0' && q[1] <= '9')
		return NULL;
	for (; q < r->end && *q >= '0' && *q <= '9'; q++) {
		if (v > (UINT64_MAX - 9) / 10)
			return NULL;
		v = v * 10 + (uint64_t)(*q - '0');
	}
	/* Fractions and exponents are left to jansson. */
	if (q < r->end && (*q == '.' || *q == 'e' || *q == 'E'))
		return NULL;
	if (v > (uint64_t)INT64_MAX + (neg ? 1 : 0))
		return NULL;
	r->p = q;
	if (!neg)
		return json_integer((json_int_t)v);
	return json_integer(v == (uint64_t)INT64_MAX + 1 ? INT64_MIN
							 : -(json_int_t)v);
}

static json_t *s_object(struct s_reader *r, int depth)
{
	json_t *obj = json_object();
	const char *key;
	size_t klen;

	if (!obj)
		return NULL;
	r->p++; /* '{' */
	s_ws(r);
	if (r->p < r->end && *r->p == '}') {
		r->p++;
		return obj;
	}
	for (;;) {
		json_t *v;
		char *kcopy;
		if (r->p >= r->end || *r->p != '"')
			goto out_fail;
		r->p++;
		if (!s_text(r, &key, &klen))
			goto out_fail;
		/* The value may reuse the scratch buffer: keep the key. */
		if (key == r->scratch) {
			if (!(kcopy = malloc(klen + 1)))
				goto out_fail;
			memcpy(kcopy, key, klen);
			key = kcopy;
		} else {
			kcopy = NULL;
		}
		s_ws(r);
		if (r->p >= r->end || *r->p != ':' ||
		    json_object_getn(obj, key, klen)) {
			free(kcopy);
			goto out_fail;
		}
		r->p++;
		s_ws(r);
		v = s_value(r, depth + 1);
		if (!v || json_object_setn_new_nocheck(obj, key, klen, v)) {
			free(kcopy);
			goto out_fail;
		}
		free(kcopy);
		s_ws(r);
		if (r->p >= r->end)
			goto out_fail;
		if (*r->p == '}') {
			r->p++;
			return obj;
		}
		if (*r->p != ',')
			goto out_fail;
		r->p++;
		s_ws(r);
	}
out_fail:
	json_decref(obj);
	return NULL;
}

static json_t *s_array(struct s_reader *r, int depth)
{
	json_t *arr = json_array();
	if (!arr)
		return NULL;
	r->p++; /* '[' */
	s_ws(r);
	if (r->p < r->end && *r->p == ']') {
		r->p++;
		return arr;
	}
	for (;;) {
		json_t *v = s_value(r, depth + 1);
		if (!v || json_array_append_new(arr, v))
			goto out_fail;
		s_ws(r);
		if (r->p >= r->end)
			goto out_fail;
		if (*r->p == ']') {
			r->p++;
			return arr;
		}
		if (*r->p != ',')
			goto out_fail;
		r->p++;
		s_ws(r);
	}
out_fail:
	json_decref(arr);
	return NULL;
}

static json_t *s_value(struct s_reader *r, int depth)
{
	size_t left = (size_t)(r->end - r->p);
	const char *s;
	size_t len;

	if (!left || depth > S_DEPTH_MAX)
		return NULL;
	switch (*r->p) {
	case '{':
		return s_object(r, depth);
	case '[':
		return s_array(r, depth);
	case '"':
		r->p++;
		return s_text(r, &s, &len) ? json_stringn_nocheck(s, len)
					   : NULL;
	case 't':
		if (left < 4 || memcmp(r->p, "true", 4))
			return NULL;
		r->p += 4;
		return json_true();
	case 'f':
		if (left < 5 || memcmp(r->p, "false", 5))
			return NULL;
		r->p += 5;
		return json_false();
	case 'n':
		if (left < 4 || memcmp(r->p, "null", 4))
			return NULL;
		r->p += 4;
		return json_null();
	default:
		return s_number(r);
	}
}

/* The depth of v's nesting (an object of plain values is 1). */
static int s_depth(const json_t *v)
{
	int d = 0;
	size_t i;
	const char *k;
	json_t *item;
	if (json_is_object(v)) {
		json_object_foreach((json_t *)v, k, item)
		{
			int di = s_depth(item);
			d = di > d ? di : d;
		}
		return d + 1;
	}
	if (json_is_array(v)) {
		json_array_foreach(v, i, item)
		{
			int di = s_depth(item);
			d = di > d ? di : d;
		}
		return d + 1;
	}
	return 0;
}

/* ---- phase 1: one line ---- */

/* References written the short way ("r1", as the command line takes
 * them) mean this hub: write them out in full ("fjell:r1"), as stored. */
static void s_local_refs(const char *hub, json_t *rec)
{
	static const char *const fields[] = {"room", "activity", "volunteer",
					     NULL};
	char full[KP_ID_STRLEN + KP_HUB_ID_MAX];
	for (const char *const *f = fields; *f; f++) {
		const char *v = kp_rec_str(rec, *f, NULL);
		if (!v || strchr(v, ':') || strlen(v) > KP_ID_STRLEN - 1)
			continue;
		snprintf(full, sizeof full, "%s:%s", hub, v);
		json_object_set_new(rec, *f, json_string(full));
	}
}

/* True when rec (a booking or an activity) holds slots of a room. */
static bool s_holds_room(char kind, const json_t *rec)
{
	if (kind != KP_BOOKING && kind != KP_ACTIVITY)
		return false;
	return json_object_get(rec, "room") &&
	       strcmp(kp_rec_str(rec, "status", ""), "cancelled");
}

/* Parse a line into an object: our reader, else jansson. */
static json_t *s_parse(struct s_part *part, const char *line, size_t len,
		       uint64_t lineno)
{
	struct s_reader r = {.p = line, .end = line + len};
	json_error_t jerr;
	json_t *rec = NULL;

	if (part->capscratch < len + 1) {
		char *grown = realloc(part->scratch, len + 1);
		if (!grown) {
			part->rc = KP_ENOMEM;
			return NULL;
		}
		part->scratch = grown;
		part->capscratch = len + 1;
	}
	r.scratch = part->scratch;
	s_ws(&r);
	if (r.p < r.end && *r.p == '{' && (rec = s_object(&r, 1))) {
		s_ws(&r);
		if (r.p == r.end)
			return rec;
		json_decref(rec);
	}
	rec = json_loadb(line, len, JSON_REJECT_DUPLICATES, &jerr);
	if (!rec) {
		const unsigned char *u = (const unsigned char *)line;
		for (size_t i = 0; i < len; i++) {
			size_t n = u[i] < 0x80 ? 1 : s_utf8_seq(u + i, u + len);
			if (!n) {
				s_problem(part->problems, lineno, KP_EINVAL,
					  "byte %zu is not valid UTF-8 "
					  "(0x%02x): save the file as UTF-8",
					  i + 1, u[i]);
				return NULL;
			}
			i += n - 1;
		}
		s_problem(part->problems, lineno, KP_EINVAL,
			  "not a JSON object: %s (column %d)", jerr.text,
			  jerr.column);
		return NULL;
	}
	if (!json_is_object(rec)) {
		s_problem(part->problems, lineno, KP_EINVAL,
			  "a record must be a JSON object {...}, not an array");
	} else if (s_depth(rec) > S_DEPTH_MAX) {
		s_problem(part->problems, lineno, KP_EINVAL,
			  "the record nests deeper than %d levels",
			  S_DEPTH_MAX);
	} else {
		return rec;
	}
	json_decref(rec);
	return NULL;
}

/* The kind, hub and id of rec; false after noting a problem. */
static bool s_identify(struct s_part *part, json_t *rec, uint64_t lineno,
		       struct s_item *it)
{
	struct kp_id id;
	char err[KP_ERR_MAX];
	const json_t *v = json_object_get(rec, "kind");

	if (v) {
		it->kind = json_is_string(v)
			       ? kp_kind_from_name(json_string_value(v))
			       : 0;
		if (!it->kind) {
			char *seen;
			s_bump_use(false);
			seen = json_dumps(v, JSON_ENCODE_ANY);
			s_problem(part->problems, lineno, KP_EINVAL,
				  "unknown kind %.60s: give one of room, "
				  "booking, activity, volunteer, assignment, "
				  "attendance",
				  seen ? seen : "?");
			free(seen);
			s_bump_use(true);
			return false;
		}
	}
	v = json_object_get(rec, "hub");
	if (v &&
	    (!json_is_string(v) || strcmp(json_string_value(v), part->hub))) {
		s_problem(part->problems, lineno, KP_EINVAL,
			  "the record belongs to hub \"%.40s\", not to this "
			  "hub (%s): import it at its own hub",
			  json_is_string(v) ? json_string_value(v) : "?",
			  part->hub);
		return false;
	}
	v = json_object_get(rec, "id");
	if (v) {
		if (!json_is_string(v)) {
			s_problem(part->problems, lineno, KP_EINVAL,
				  "\"id\" must be text such as \"%s:b12\"",
				  part->hub);
			return false;
		}
		if (kp_id_parse(json_string_value(v), part->hub, it->kind, &id,
				err)) {
			s_problem(part->problems, lineno, KP_EINVAL,
				  "\"id\": %s", err);
			return false;
		}
		if (strcmp(id.hub, part->hub)) {
			s_problem(part->problems, lineno, KP_EINVAL,
				  "the id %.60s is of hub %s, not of this hub "
				  "(%s): import it at its own hub",
				  json_string_value(v), id.hub, part->hub);
			return false;
		}
		if (id.n == UINT64_MAX) {
			s_problem(part->problems, lineno, KP_EINVAL,
				  "the id %.60s is too large",
				  json_string_value(v));
			return false;
		}
		it->kind = id.kind;
		it->n = id.n;
		it->flags |= S_HAS_ID;
	}
	if (!it->kind) {
		s_problem(part->problems, lineno, KP_EINVAL,
			  "the record has no \"kind\": add e.g. \"kind\": "
			  "\"booking\"");
		return false;
	}
	return true;
}

static int s_occ_add(int64_t start, int64_t end, void *arg)
{
	struct s_part *part = arg;
	struct s_span *span = s_vec_push(&part->occ, sizeof *span);
	if (!span)
		return KP_ENOMEM;
	*span = (struct s_span){start, end};
	part->nocc++;
	return KP_OK;
}

/* The occurrences of a booking or an activity; those that hold a room
 * are kept. False after noting a problem. */
static bool s_occurrences(struct s_part *part, const json_t *rec,
			  uint64_t lineno, struct s_item *it)
{
	struct kp_series s;
	struct kp_id room;
	char err[KP_ERR_MAX];
	int64_t *cancelled;
	int rc;

	{
		if (kp_id_parse(kp_rec_str(rec, "room", ""), part->hub, KP_ROOM,
				&room, err) ||
		    strcmp(room.hub, part->hub)) {
			s_problem(part->problems, lineno, KP_EINVAL,
				  "room %.60s is not a room of this hub (%s): "
				  "a room at another hub is booked through "
				  "central",
				  kp_rec_str(rec, "room", ""), part->hub);
			return false;
		}
		it->room = room.n;
	}
	it->occ = part->nocc;
	if (!kp_rec_bool(rec, "weekly", false)) {
		/* One occurrence, the series' own instants (what
		 * kp_series_each() gives, without its local-time work),
		 * unless it was cancelled. */
		int64_t start = kp_rec_int(rec, "start", 0);
		const json_t *list = json_object_get(rec, "cancelled");
		bool gone = false;
		size_t i;
		json_t *c;
		json_array_foreach(list, i, c) gone |=
		    json_integer_value(c) == start;
		it->nocc = gone ? 0 : 1;
		return gone || s_occ_add(start, kp_rec_int(rec, "end", 0),
					 part) == KP_OK
			   ? true
			   : (part->rc = KP_ENOMEM, false);
	}
	if ((rc = kp_series_of(rec, &s, &cancelled)) == KP_OK) {
		rc = kp_series_each(&s, s_occ_add, part);
		it->nocc = (uint32_t)(part->nocc - it->occ);
	}
	free(cancelled);
	if (rc == KP_ENOMEM) {
		part->rc = rc;
		return false;
	}
	if (rc) {
		s_problem(part->problems, lineno, KP_EINVAL,
			  "the series is malformed: it must end after it "
			  "starts, its until date must not be before its "
			  "start, and it may have at most %d occurrences",
			  KP_SERIES_MAX);
		return false;
	}
	return true;
}

static int s_no_occurrence(int64_t start, int64_t end, void *arg)
{
	(void)start, (void)end, (void)arg;
	return KP_OK;
}

static void s_line(struct s_part *part, const char *line, size_t len,
		   uint64_t lineno)
{
	struct s_item *it;
	char err[KP_ERR_MAX];
	json_t *rec;
	int rc;

	if (!(it = s_vec_push(&part->items, sizeof *it))) {
		part->rc = KP_ENOMEM;
		return;
	}
	part->nitems++;
	memset(it, 0, sizeof *it);
	it->line = lineno;
	it->flags = S_BAD;	/* until it passed every check */
	if (len > S_LINE_MAX) { /* line may be NULL then (s_chunk_read) */
		s_problem(part->problems, lineno, KP_EINVAL,
			  "the line is %zu bytes long; a record may have at "
			  "most %u",
			  len, S_LINE_MAX);
		return;
	}
	if (!(rec = s_parse(part, line, len, lineno)))
		return;
	if (!s_identify(part, rec, lineno, it))
		goto out;
	s_local_refs(part->hub, rec);
	s_bump_use(false);
	rc = kp_model_validate(it->kind, rec, err);
	s_bump_use(true);
	if (rc) {
		s_problem(part->problems, lineno, KP_EINVAL, "%s", err);
		goto out;
	}
	if (it->kind == KP_BOOKING || it->kind == KP_ACTIVITY) {
		if (!s_holds_room(it->kind, rec)) {
			/* Not holding a room: the series must still walk. */
			struct kp_series s;
			int64_t *cancelled;
			rc = kp_series_of(rec, &s, &cancelled);
			if (rc == KP_OK)
				rc = kp_series_each(&s, s_no_occurrence, NULL);
			free(cancelled);
			if (rc) {
				s_problem(part->problems, lineno, KP_EINVAL,
					  "the series is malformed: its until "
					  "date must not be before its start, "
					  "and it may have at most %d "
					  "occurrences",
					  KP_SERIES_MAX);
				goto out;
			}
		} else if (!s_occurrences(part, rec, lineno, it)) {
			goto out;
		}
	}
	if (it->kind == KP_VOLUNTEER &&
	    json_is_object(json_object_get(rec, "police")))
		it->flags |= S_POLICE_SHOWN;
	if (it->kind == KP_ACTIVITY &&
	    kp_rec_bool(rec, "police_required", false))
		it->flags |= S_POLICE_REQ;
	/* The stored form: kind and hub set, the id put in when written. */
	json_object_del(rec, "id");
	if (json_object_set_new_nocheck(
		rec, "kind", json_string_nocheck(kp_kind_name(it->kind))) ||
	    json_object_set_new_nocheck(rec, "hub",
					json_string_nocheck(part->hub))) {
		part->rc = KP_ENOMEM;
		goto out;
	}
	part->buf.len = 0;
	if (kp_codec_encode(rec, &part->buf) ||
	    s_vec_reserve(&part->arena, part->buf.len)) {
		part->rc = KP_ENOMEM;
		goto out;
	}
	it->off = part->arena.len;
	it->len = (uint32_t)part->buf.len;
	memcpy(part->arena.data + it->off, part->buf.data, part->buf.len);
	part->arena.len += part->buf.len;
	it->flags &= (uint8_t)~S_BAD;
	if (it->kind == KP_ROOM || it->kind == KP_ASSIGNMENT ||
	    it->kind == KP_ATTENDANCE) {
		/* Kept past the line: out of the arena. */
		s_bump_use(false);
		it->rec = json_deep_copy(rec);
		s_bump_use(true);
		if (!it->rec)
			part->rc = KP_ENOMEM;
	}
out:
	json_decref(rec);
}

static struct s_item *s_part_item(struct s_part *part, size_t i)
{
	return (struct s_item *)part->items.data + i;
}

/* ---- series, with the zone's answers remembered ---- */

/*
 * kp_series_each() (lib/ktime.c) asks the zone (localtime_r) some thirty
 * times for a weekly series of four occurrences, and the lines of a file
 * share their times of day and their dates. s_series_walk() takes the
 * same steps in the same order as kp_series_each(), with every answer of
 * the zone remembered by instant, so it gives the same occurrences. Keep
 * the two in step; s_fast_selftest() and KNUTE_IMPORT_CROSSCHECK compare
 * them.
 */
#define S_DAY	  86400
#define S_TZ_MEMO 4096

struct s_tz_at {
	int64_t t;
	int64_t days; /* the local date, since 1970-01-01 */
	long offset;  /* from UTC, seconds */
	int sec;      /* of the local day */
	bool ok, set;
};

struct s_tz {
	struct s_tz_at at[S_TZ_MEMO];
};

static const struct s_tz_at *s_tz(struct s_tz *tz, int64_t t)
{
	struct s_tz_at *a =
	    &tz->at[((uint64_t)t * 0x9E3779B97F4A7C15ULL) >> 52];
	_Static_assert(S_TZ_MEMO == 4096, "the memo is indexed by 12 bits");
	if (!a->set || a->t != t) {
		struct tm tm;
		time_t tt = (time_t)t;
		a->t = t;
		a->set = true;
		a->ok = localtime_r(&tt, &tm) != NULL;
		a->offset = a->ok ? tm.tm_gmtoff : 0;
		a->days = a->ok ? kp_days_from_civil(tm.tm_year + 1900,
						     tm.tm_mon + 1, tm.tm_mday)
				: 0;
		a->sec =
		    a->ok ? tm.tm_hour * 3600 + tm.tm_min * 60 + tm.tm_sec : 0;
	}
	return a;
}

/* ktime.c's s_local_moved(): the instant of a wall time, moved forward by
 * the gap when the spring change skips it. */
static int64_t s_tz_moved(struct s_tz *tz, int64_t wall)
{
	long before = s_tz(tz, wall - S_DAY)->offset;
	long offsets[3] = {before, s_tz(tz, wall)->offset,
			   s_tz(tz, wall + S_DAY)->offset};
	bool exists = false;
	int64_t first = 0;

	for (int i = 0; i < 3; i++) {
		int64_t t = wall - offsets[i];
		if (s_tz(tz, t)->offset == offsets[i] &&
		    (!exists || t < first)) {
			exists = true;
			first = t;
		}
	}
	return exists ? first : wall - before;
}

static bool s_leap(int y)
{
	return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

/* ktime.c's s_date_valid(). */
static bool s_date_valid(int y, int m, int d)
{
	static const int days[] = {31, 28, 31, 30, 31, 30,
				   31, 31, 30, 31, 30, 31};
	return y >= 1900 && y <= 9999 && m >= 1 && m <= 12 && d >= 1 &&
	       d <= (m == 2 && s_leap(y) ? 29 : days[m - 1]);
}

static int s_weekday_of(int64_t days)
{
	return (int)(((days % 7) + 7 + 3) % 7);
}

/*
 * kp_series_each(s, fn, arg) with the zone remembered in tz. Without fn,
 * only checks the series. KP_EINVAL for a malformed series (nothing given
 * to fn then), or fn's code.
 */
static int s_series_walk(struct s_tz *tz, const struct kp_series *s,
			 kp_occurrence_fn fn, void *arg)
{
	const struct s_tz_at *a;
	int64_t first_day, last_day, end_days, monday;
	int start_sec, end_sec;
	uint8_t mask;
	size_t count = 0;

	if (s->end <= s->start || !(a = s_tz(tz, s->start))->ok)
		return KP_EINVAL;
	first_day = a->days;
	start_sec = a->sec;
	if (!(a = s_tz(tz, s->end))->ok)
		return KP_EINVAL;
	end_days = a->days - first_day;
	end_sec = a->sec;
	last_day = first_day;
	mask = (uint8_t)(1u << s_weekday_of(first_day));
	if (s->weekly) {
		if (s->days_mask & 0x80)
			return KP_EINVAL;
		if (s->days_mask)
			mask = s->days_mask;
		if (!s_date_valid(s->until_year, s->until_month, s->until_day))
			return KP_EINVAL;
		last_day = kp_days_from_civil(s->until_year, s->until_month,
					      s->until_day);
		if (last_day < first_day)
			return KP_EINVAL;
	}
	/* As kp_series_each(): count, then call fn. */
	for (int pass = 0; pass < (fn ? 2 : 1); pass++) {
		monday = first_day - s_weekday_of(first_day);
		for (int64_t week = monday; week <= last_day; week += 7) {
			for (int k = 0; k < 7; k++) {
				int64_t day = week + k, start, end;
				bool gone = false;
				int rc;
				if (day > last_day)
					break;
				if (!(mask & (1u << k)) || day < first_day)
					continue;
				if (day == first_day) {
					start = s->start;
					end = s->end;
				} else {
					start = s_tz_moved(tz, day * S_DAY +
								   start_sec);
					end = s_tz_moved(
					    tz,
					    (day + end_days) * S_DAY + end_sec);
					if (end <= start)
						end =
						    start + (s->end - s->start);
				}
				for (size_t c = 0; c < s->ncancelled; c++)
					gone |= s->cancelled[c] == start;
				if (gone)
					continue;
				if (pass == 0) {
					if (++count > KP_SERIES_MAX)
						return KP_EINVAL;
					continue;
				}
				if (fn && (rc = fn(start, end, arg)))
					return rc;
			}
		}
	}
	return KP_OK;
}

/* ---- the fast path: plain bookings and activities ---- */

/*
 * Nearly every line of a big file is a booking or an activity of a plain
 * shape: only fields its kind's schema knows (and "id", "kind", "hub"),
 * each once, with texts without escapes, whole numbers, true and false,
 * and lists of those. Such a line is read once, checked against a copy of
 * the schema's rules for the two kinds (s_booking_rules and
 * s_activity_rules, proto/model.c's tables) and turned into msgpack
 * straight from its text, without a jansson value: measured on a million
 * records, phase 1 takes a quarter of the time it took. Every other line,
 * and every line the fast path has the least doubt about (a value the
 * rules refuse, an escape, an unknown field, a series that does not
 * walk), goes the slow way, s_line(), which has the last word and writes
 * the messages. So the fast path can only accept a line, never refuse
 * one.
 *
 * The copy of the rules must not drift from model.c: each import first
 * reads a set of probe records that sit on the edges of every rule both
 * ways (s_fast_selftest) and leaves the fast path off where the fast way
 * accepts what the slow way refuses, or reads it differently.
 * KNUTE_IMPORT_CROSSCHECK=1 reads every line the fast way took the slow
 * way as well and fails the import where the two differ in anything (the
 * tests use it).
 */

enum s_fid {
	F_ID,
	F_KIND,
	F_HUB,
	F_ROOM,
	F_ACTIVITY,
	F_ORG,
	F_CONTACT,
	F_PURPOSE,
	F_STATUS,
	F_START,
	F_END,
	F_WEEKLY,
	F_DAYS,
	F_UNTIL,
	F_CANCELLED,
	F_TITLE,
	F_ORGANISER,
	F_CATEGORY,
	F_TARGET,
	F_VOLUNTEERS_NEEDED,
	F_SKILLS,
	F_POLICE_REQUIRED,
	F_DESCRIPTION,
	F_N
};
_Static_assert(F_N <= 32, "a line's fields are a bit mask");

static const char *const s_fnames[F_N] = {
    [F_ID] = "id",
    [F_KIND] = "kind",
    [F_HUB] = "hub",
    [F_ROOM] = "room",
    [F_ACTIVITY] = "activity",
    [F_ORG] = "org",
    [F_CONTACT] = "contact",
    [F_PURPOSE] = "purpose",
    [F_STATUS] = "status",
    [F_START] = "start",
    [F_END] = "end",
    [F_WEEKLY] = "weekly",
    [F_DAYS] = "days",
    [F_UNTIL] = "until",
    [F_CANCELLED] = "cancelled",
    [F_TITLE] = "title",
    [F_ORGANISER] = "organiser",
    [F_CATEGORY] = "category",
    [F_TARGET] = "target",
    [F_VOLUNTEERS_NEEDED] = "volunteers_needed",
    [F_SKILLS] = "skills",
    [F_POLICE_REQUIRED] = "police_required",
    [F_DESCRIPTION] = "description",
};

enum s_rtype {
	R_TEXT,	    /* text of at most max bytes */
	R_INT,	    /* whole number from min to max */
	R_BOOL,	    /* true or false */
	R_ENUM,	    /* text from choices */
	R_LIST,	    /* up to KP_LIST_MAX texts of 1 to max bytes */
	R_DATE,	    /* kp_date_parse() */
	R_DAYS,	    /* kp_days_parse() */
	R_REF,	    /* an id of kind ref */
	R_INSTANTS, /* up to KP_SERIES_MAX whole numbers */
};

struct s_rule {
	uint8_t f, type;
	bool required;
	int64_t min, max;
	const char *const *choices;
	char ref;
};

/* model.c's rules for the two kinds, row by row. */
static const char *const s_activity_states[] = {"active", "cancelled", NULL};
#define S_INSTANT_MAX 7258118400LL
#define S_SERIES_RULES                                                         \
	{F_START, R_INT, true, 0, S_INSTANT_MAX, NULL, 0},                     \
	    {F_END, R_INT, true, 0, S_INSTANT_MAX, NULL, 0},                   \
	    {F_WEEKLY, R_BOOL, false, 0, 0, NULL, 0},                          \
	    {F_DAYS, R_DAYS, false, 0, 0, NULL, 0},                            \
	    {F_UNTIL, R_DATE, false, 0, 0, NULL, 0},                           \
	{                                                                      \
		F_CANCELLED, R_INSTANTS, false, 0, 0, NULL, 0                  \
	}

static const struct s_rule s_booking_rules[] = {
    {F_ROOM, R_REF, true, 0, 0, NULL, KP_ROOM},
    {F_ORG, R_TEXT, true, 0, KP_NAME_MAX, NULL, 0},
    {F_CONTACT, R_TEXT, false, 0, KP_NAME_MAX, NULL, 0},
    {F_PURPOSE, R_TEXT, false, 0, KP_TEXT_MAX, NULL, 0},
    {F_STATUS, R_ENUM, true, 0, 0, kp_booking_states, 0},
    {F_ACTIVITY, R_REF, false, 0, 0, NULL, KP_ACTIVITY},
    S_SERIES_RULES,
    {F_N, 0, false, 0, 0, NULL, 0},
};

static const struct s_rule s_activity_rules[] = {
    {F_TITLE, R_TEXT, true, 0, KP_NAME_MAX, NULL, 0},
    {F_ORGANISER, R_TEXT, true, 0, KP_NAME_MAX, NULL, 0},
    {F_CATEGORY, R_ENUM, true, 0, 0, kp_categories, 0},
    {F_TARGET, R_ENUM, true, 0, 0, kp_targets, 0},
    {F_ROOM, R_REF, false, 0, 0, NULL, KP_ROOM},
    {F_VOLUNTEERS_NEEDED, R_INT, false, 0, 1000, NULL, 0},
    {F_SKILLS, R_LIST, false, 0, 100, NULL, 0},
    {F_POLICE_REQUIRED, R_BOOL, false, 0, 0, NULL, 0},
    {F_STATUS, R_ENUM, false, 0, 0, s_activity_states, 0},
    {F_DESCRIPTION, R_TEXT, false, 0, KP_TEXT_MAX, NULL, 0},
    S_SERIES_RULES,
    {F_N, 0, false, 0, 0, NULL, 0},
};

static const struct s_rule *s_rules_of(char kind)
{
	return kind == KP_BOOKING ? s_booking_rules : s_activity_rules;
}

/* The field names, found by a small open-addressed table (s_fast_setup). */
#define S_FTAB 64
struct s_fastdef {
	bool on;
	uint8_t slot[S_FTAB]; /* field id + 1, 0 = empty */
	uint8_t namelen[F_N]; /* strlen(s_fnames[f]) */
	uint32_t
	    allowed[2]; /* fields a booking [0], an activity [1] may have */
};

static unsigned s_fhash(const char *k, size_t len)
{
	return (unsigned)(len * 7 + (unsigned char)k[0] * 3 +
			  (unsigned char)k[len - 1]) &
	       (S_FTAB - 1);
}

static void s_fast_setup(struct s_fastdef *def)
{
	memset(def, 0, sizeof *def);
	for (int f = 0; f < F_N; f++) {
		unsigned h = s_fhash(s_fnames[f], strlen(s_fnames[f]));
		def->namelen[f] = (uint8_t)strlen(s_fnames[f]);
		while (def->slot[h])
			h = (h + 1) & (S_FTAB - 1);
		def->slot[h] = (uint8_t)(f + 1);
	}
	for (int k = 0; k < 2; k++) {
		const struct s_rule *r =
		    s_rules_of(k ? KP_ACTIVITY : KP_BOOKING);
		def->allowed[k] = 1u << F_ID | 1u << F_KIND | 1u << F_HUB;
		for (; r->f != F_N; r++)
			def->allowed[k] |= 1u << r->f;
	}
	def->on = true;
}

/* The field id of a key, or -1. */
static int s_fid_of(const struct s_fastdef *def, const char *k, size_t len)
{
	if (!len)
		return -1;
	for (unsigned h = s_fhash(k, len); def->slot[h];
	     h = (h + 1) & (S_FTAB - 1)) {
		int f = def->slot[h] - 1;
		if (def->namelen[f] == len && !memcmp(s_fnames[f], k, len))
			return f;
	}
	return -1;
}

enum { J_TEXT, J_INT, J_TRUE, J_FALSE, J_NULL, J_LIST };

/* One value of a line: a text's bytes point into the line. */
struct s_jval {
	const char *s;
	int64_t i;
	uint32_t len;	/* text: bytes; list: items */
	uint32_t first; /* list: its first item in s_fast.items */
	uint8_t type;
};

#define S_FAST_ITEMS 1024 /* list items in one line, all lists */
#define S_FTEXT	     (KP_ID_STRLEN + KP_HUB_ID_MAX) /* s_local_refs() */

/* A line read the fast way. */
struct s_fast {
	struct s_jval v[F_N]; /* by field id */
	uint8_t order[F_N];   /* the fields in the order of the line */
	int n;
	uint32_t have; /* bit per field id */
	uint32_t nitems;
	char kind;
	bool has_id;
	uint64_t id_n;
	/* "room" and "activity" written out in full (s_local_refs). */
	char room[S_FTEXT];
	char activity[S_FTEXT];
	struct s_jval items[S_FAST_ITEMS];
	int64_t cancelled[S_FAST_ITEMS];
};

static const char *s_fws(const char *p, const char *end)
{
	while (p < end && (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r'))
		p++;
	return p;
}

/* A text after its opening quote, only of bytes that need no decoding:
 * no escapes, no control characters, valid UTF-8. */
static bool s_ftext(const char **pp, const char *end, struct s_jval *v)
{
	const unsigned char *p = (const unsigned char *)*pp;
	const unsigned char *e = (const unsigned char *)end, *from = p;

	while (p < e) {
		unsigned c = *p;
		if (c == '"') {
			v->type = J_TEXT;
			v->s = (const char *)from;
			v->len = (uint32_t)(p - from);
			*pp = (const char *)p + 1;
			return true;
		}
		if (c < 0x80) {
			if (c < 0x20 || c == '\\')
				return false;
			p++;
			continue;
		}
		size_t n = s_utf8_seq(p, e);
		if (!n)
			return false;
		p += n;
	}
	return false;
}

/* A whole number, as s_number() takes it. */
static bool s_fint(const char **pp, const char *end, struct s_jval *v)
{
	const char *q = *pp;
	bool neg = false;
	uint64_t n = 0;

	if (*q == '-') {
		neg = true;
		q++;
	}
	if (q >= end || *q < '0' || *q > '9')
		return false;
	if (*q == '0' && q + 1 < end && q[1] >= '0' && q[1] <= '9')
		return false;
	for (; q < end && *q >= '0' && *q <= '9'; q++) {
		if (n > (UINT64_MAX - 9) / 10)
			return false;
		n = n * 10 + (uint64_t)(*q - '0');
	}
	if (q < end && (*q == '.' || *q == 'e' || *q == 'E'))
		return false;
	if (n > (uint64_t)INT64_MAX + (neg ? 1 : 0))
		return false;
	v->type = J_INT;
	v->i = !neg			      ? (int64_t)n
	       : n == (uint64_t)INT64_MAX + 1 ? INT64_MIN
					      : -(int64_t)n;
	*pp = q;
	return true;
}

static bool s_fvalue(struct s_fast *fl, const char **pp, const char *end,
		     struct s_jval *v, bool in_list)
{
	const char *p = *pp;
	size_t left = (size_t)(end - p);

	if (!left)
		return false;
	switch (*p) {
	case '"':
		*pp = p + 1;
		return s_ftext(pp, end, v);
	case 't':
		if (left < 4 || memcmp(p, "true", 4))
			return false;
		v->type = J_TRUE;
		*pp = p + 4;
		return true;
	case 'f':
		if (left < 5 || memcmp(p, "false", 5))
			return false;
		v->type = J_FALSE;
		*pp = p + 5;
		return true;
	case 'n':
		if (left < 4 || memcmp(p, "null", 4))
			return false;
		v->type = J_NULL;
		*pp = p + 4;
		return true;
	case '{':
		return false;
	case '[':
		if (in_list)
			return false;
		v->type = J_LIST;
		v->first = fl->nitems;
		v->len = 0;
		p = s_fws(p + 1, end);
		if (p < end && *p == ']') {
			*pp = p + 1;
			return true;
		}
		for (;;) {
			if (fl->nitems == S_FAST_ITEMS ||
			    !s_fvalue(fl, &p, end, &fl->items[fl->nitems],
				      true))
				return false;
			fl->nitems++;
			v->len++;
			p = s_fws(p, end);
			if (p >= end)
				return false;
			if (*p == ']') {
				*pp = p + 1;
				return true;
			}
			if (*p != ',')
				return false;
			p = s_fws(p + 1, end);
		}
	default:
		return s_fint(pp, end, v);
	}
}

/* The top-level object of a line into fl: false for anything but known
 * fields, each once, with plain values. */
static bool s_fobject(const struct s_fastdef *def, struct s_fast *fl,
		      const char *p, const char *end)
{
	fl->n = 0;
	fl->have = 0;
	fl->nitems = 0;
	p = s_fws(p, end);
	if (p >= end || *p != '{')
		return false;
	p = s_fws(p + 1, end);
	for (;;) {
		struct s_jval key;
		int f;
		if (p >= end || *p != '"')
			return false;
		p++;
		if (!s_ftext(&p, end, &key) ||
		    (f = s_fid_of(def, key.s, key.len)) < 0 ||
		    (fl->have & (1u << f)))
			return false;
		fl->have |= 1u << f;
		fl->order[fl->n++] = (uint8_t)f;
		p = s_fws(p, end);
		if (p >= end || *p != ':')
			return false;
		p = s_fws(p + 1, end);
		if (!s_fvalue(fl, &p, end, &fl->v[f], false))
			return false;
		p = s_fws(p, end);
		if (p >= end)
			return false;
		if (*p == '}')
			break;
		if (*p != ',')
			return false;
		p = s_fws(p + 1, end);
	}
	return s_fws(p + 1, end) == end;
}

static bool s_fis(const struct s_jval *v, const char *text)
{
	/* text ends where v does (v holds no NUL). */
	return v->type == J_TEXT && (!v->len || text[0] == v->s[0]) &&
	       !strncmp(text, v->s, v->len) && !text[v->len];
}

/* A text value as a C string in buf (size bytes); false if too long. */
static bool s_fcstr(const struct s_jval *v, char *buf, size_t size)
{
	if (v->type != J_TEXT || v->len >= size)
		return false;
	memcpy(buf, v->s, v->len);
	buf[v->len] = 0;
	return true;
}

/* s_identify(): the kind, hub and id, when they are plain and right. */
static bool s_fidentify(const char *hub, struct s_fast *fl)
{
	char text[S_FTEXT], err[KP_ERR_MAX];
	struct kp_id id;

	fl->kind = 0;
	fl->has_id = false;
	if (fl->have & (1u << F_KIND)) {
		if (s_fis(&fl->v[F_KIND], "booking"))
			fl->kind = KP_BOOKING;
		else if (s_fis(&fl->v[F_KIND], "activity"))
			fl->kind = KP_ACTIVITY;
		else
			return false;
	}
	if ((fl->have & (1u << F_HUB)) && !s_fis(&fl->v[F_HUB], hub))
		return false;
	if (fl->have & (1u << F_ID)) {
		if (!s_fcstr(&fl->v[F_ID], text, sizeof text) ||
		    kp_id_parse(text, hub, fl->kind, &id, err) ||
		    strcmp(id.hub, hub) || id.n == UINT64_MAX)
			return false;
		fl->kind = id.kind;
		fl->id_n = id.n;
		fl->has_id = true;
	}
	return fl->kind == KP_BOOKING || fl->kind == KP_ACTIVITY;
}

/* s_local_refs() for one field: "r1" means this hub's "fjell:r1". */
static void s_fref(const char *hub, struct s_jval *v, char *full, size_t size)
{
	if (v->type != J_TEXT || memchr(v->s, ':', v->len) ||
	    v->len > KP_ID_STRLEN - 1)
		return;
	snprintf(full, size, "%s:%.*s", hub, (int)v->len, v->s);
	v->s = full;
	v->len = (uint32_t)strlen(full);
}

static bool s_fcheck(const struct s_fast *fl, const struct s_rule *r)
{
	const struct s_jval *v = &fl->v[r->f];
	char text[S_FTEXT], err[KP_ERR_MAX];
	struct kp_id id;
	int y, m, d;
	uint8_t mask;

	switch (r->type) {
	case R_TEXT:
		return v->type == J_TEXT && v->len <= r->max;
	case R_INT:
		return v->type == J_INT && v->i >= r->min && v->i <= r->max;
	case R_BOOL:
		return v->type == J_TRUE || v->type == J_FALSE;
	case R_ENUM:
		for (const char *const *c = r->choices; *c; c++)
			if (s_fis(v, *c))
				return true;
		return false;
	case R_LIST:
		if (v->type != J_LIST || v->len > KP_LIST_MAX)
			return false;
		for (uint32_t i = 0; i < v->len; i++) {
			const struct s_jval *item = &fl->items[v->first + i];
			if (item->type != J_TEXT || item->len == 0 ||
			    item->len > r->max)
				return false;
		}
		return true;
	case R_DATE:
		return s_fcstr(v, text, sizeof text) &&
		       kp_date_parse(text, &y, &m, &d) == KP_OK;
	case R_DAYS:
		return s_fcstr(v, text, sizeof text) &&
		       kp_days_parse(text, &mask) == KP_OK;
	case R_REF:
		return s_fcstr(v, text, sizeof text) &&
		       kp_id_parse(text, NULL, r->ref, &id, err) == KP_OK;
	case R_INSTANTS:
		if (v->type != J_LIST || v->len > KP_SERIES_MAX)
			return false;
		for (uint32_t i = 0; i < v->len; i++)
			if (fl->items[v->first + i].type != J_INT)
				return false;
		return true;
	}
	return false;
}

/* kp_model_validate() for a booking or an activity read the fast way. */
static bool s_fvalidate(const struct s_fast *fl)
{
	for (const struct s_rule *r = s_rules_of(fl->kind); r->f != F_N; r++) {
		if (!(fl->have & (1u << r->f))) {
			if (r->required)
				return false;
			continue;
		}
		if (!s_fcheck(fl, r))
			return false;
	}
	if (fl->v[F_END].i <= fl->v[F_START].i)
		return false;
	if ((fl->have & (1u << F_WEEKLY)) && fl->v[F_WEEKLY].type == J_TRUE &&
	    !(fl->have & (1u << F_UNTIL)))
		return false;
	return true;
}

/* kp_series_of() of a line read the fast way. */
static void s_fseries(struct s_fast *fl, struct kp_series *s)
{
	char text[S_FTEXT];
	memset(s, 0, sizeof *s);
	s->start = fl->v[F_START].i;
	s->end = fl->v[F_END].i;
	s->weekly =
	    (fl->have & (1u << F_WEEKLY)) && fl->v[F_WEEKLY].type == J_TRUE;
	/* Both were checked by s_fvalidate(). */
	if ((fl->have & (1u << F_DAYS)) &&
	    s_fcstr(&fl->v[F_DAYS], text, sizeof text))
		kp_days_parse(text, &s->days_mask);
	if ((fl->have & (1u << F_UNTIL)) &&
	    s_fcstr(&fl->v[F_UNTIL], text, sizeof text))
		kp_date_parse(text, &s->until_year, &s->until_month,
			      &s->until_day);
	if (fl->have & (1u << F_CANCELLED)) {
		const struct s_jval *list = &fl->v[F_CANCELLED];
		for (uint32_t i = 0; i < list->len; i++)
			fl->cancelled[i] = fl->items[list->first + i].i;
		s->cancelled = list->len ? fl->cancelled : NULL;
		s->ncancelled = list->len;
	}
}

static int s_fput(struct kp_buf *b, const struct s_fast *fl,
		  const struct s_jval *v)
{
	int rc = KP_OK;
	switch (v->type) {
	case J_TEXT:
		return kp_codec_put_str(b, v->s, v->len);
	case J_INT:
		return kp_codec_put_int(b, v->i);
	case J_TRUE:
	case J_FALSE:
		return kp_codec_put_bool(b, v->type == J_TRUE);
	case J_LIST:
		rc = kp_codec_put_array(b, v->len);
		for (uint32_t i = 0; rc == KP_OK && i < v->len; i++)
			rc = s_fput(b, fl, &fl->items[v->first + i]);
		return rc;
	}
	return KP_EINVAL; /* null: no rule of the two kinds takes it */
}

/* The stored form, as s_line() encodes it: the fields in the line's order
 * without "id", "kind" and "hub" set in place or added at the end. */
static int s_fencode(const struct s_part *part, const struct s_fast *fl,
		     struct kp_buf *b)
{
	const char *kind = kp_kind_name(fl->kind), *hub = part->hub;
	size_t kindlen = strlen(kind);
	bool has_kind = fl->have & (1u << F_KIND);
	bool has_hub = fl->have & (1u << F_HUB);
	int rc;

	rc = kp_codec_put_map(
	    b, (size_t)(fl->n - fl->has_id + !has_kind + !has_hub));
	for (int i = 0; rc == KP_OK && i < fl->n; i++) {
		int f = fl->order[i];
		if (f == F_ID)
			continue;
		rc = kp_codec_put_str(b, s_fnames[f], part->def->namelen[f]);
		if (rc)
			break;
		if (f == F_KIND)
			rc = kp_codec_put_str(b, kind, kindlen);
		else if (f == F_HUB)
			rc = kp_codec_put_str(b, hub, part->hublen);
		else
			rc = s_fput(b, fl, &fl->v[f]);
	}
	if (rc == KP_OK && !has_kind && !(rc = kp_codec_put_str(b, "kind", 4)))
		rc = kp_codec_put_str(b, kind, kindlen);
	if (rc == KP_OK && !has_hub && !(rc = kp_codec_put_str(b, "hub", 3)))
		rc = kp_codec_put_str(b, hub, part->hublen);
	return rc;
}

/*
 * One line the fast way, into part as s_line() would put it. False, with
 * nothing of it left in part, when the line is not for the fast way; true
 * when it is done (or part->rc says why not).
 */
static bool s_fast_line(struct s_part *part, const char *line, size_t len,
			uint64_t lineno)
{
	struct s_fast *fl = part->fast;
	size_t occ_len = part->occ.len, nocc = part->nocc;
	struct kp_series s;
	struct s_item *it;
	uint64_t room = 0;
	bool holds;
	int rc;

	if (len > S_LINE_MAX || !s_fobject(part->def, fl, line, line + len) ||
	    !s_fidentify(part->hub, fl) ||
	    (fl->have & ~part->def->allowed[fl->kind == KP_ACTIVITY]))
		return false;
	if (fl->have & (1u << F_ROOM))
		s_fref(part->hub, &fl->v[F_ROOM], fl->room, sizeof fl->room);
	if (fl->have & (1u << F_ACTIVITY))
		s_fref(part->hub, &fl->v[F_ACTIVITY], fl->activity,
		       sizeof fl->activity);
	if (!s_fvalidate(fl))
		return false;

	/* The occurrences (s_occurrences), or only the series' check. */
	s_fseries(fl, &s);
	holds = (fl->have & (1u << F_ROOM)) &&
		!((fl->have & (1u << F_STATUS)) &&
		  s_fis(&fl->v[F_STATUS], "cancelled"));
	if (holds) {
		char text[sizeof fl->room], err[KP_ERR_MAX];
		struct kp_id id;
		if (!s_fcstr(&fl->v[F_ROOM], text, sizeof text) ||
		    kp_id_parse(text, part->hub, KP_ROOM, &id, err) ||
		    strcmp(id.hub, part->hub))
			return false;
		room = id.n;
		if (!s.weekly) {
			bool gone = false;
			for (size_t c = 0; c < s.ncancelled; c++)
				gone |= s.cancelled[c] == s.start;
			rc = gone ? KP_OK : s_occ_add(s.start, s.end, part);
		} else {
			rc = s_series_walk(part->tz, &s, s_occ_add, part);
		}
	} else {
		rc = s_series_walk(part->tz, &s, NULL, NULL);
	}
	if (rc == KP_ENOMEM) {
		part->rc = rc;
		return true;
	}
	if (rc)
		goto out_undo;

	part->buf.len = 0;
	if ((rc = s_fencode(part, fl, &part->buf)))
		goto out_fail;
	if (!(it = s_vec_push(&part->items, sizeof *it)) ||
	    s_vec_reserve(&part->arena, part->buf.len)) {
		rc = KP_ENOMEM;
		goto out_fail;
	}
	part->nitems++;
	memset(it, 0, sizeof *it);
	it->line = lineno;
	it->kind = fl->kind;
	it->room = room;
	if (fl->has_id) {
		it->n = fl->id_n;
		it->flags |= S_HAS_ID;
	}
	if (fl->kind == KP_ACTIVITY && (fl->have & (1u << F_POLICE_REQUIRED)) &&
	    fl->v[F_POLICE_REQUIRED].type == J_TRUE)
		it->flags |= S_POLICE_REQ;
	it->occ = nocc;
	it->nocc = (uint32_t)(part->nocc - nocc);
	it->off = part->arena.len;
	it->len = (uint32_t)part->buf.len;
	memcpy(part->arena.data + it->off, part->buf.data, part->buf.len);
	part->arena.len += part->buf.len;
	return true;

out_fail:
	if (rc == KP_ENOMEM) {
		part->rc = rc;
		return true;
	}
out_undo:
	part->occ.len = occ_len;
	part->nocc = nocc;
	return false;
}

/*
 * The last item of part, read the fast way from line, read once more the
 * slow way: true when the two agree in everything s_line() gives (kind,
 * id, flags, room, occurrences, stored bytes). The slow reading is
 * dropped again.
 */
static bool s_fast_same(struct s_part *part, const char *line, size_t len,
			uint64_t lineno)
{
	size_t nitems = part->nitems, items_len = part->items.len;
	size_t arena_len = part->arena.len, occ_len = part->occ.len;
	size_t nocc = part->nocc, nproblems = part->problems->n;
	uint64_t total = part->problems->total;
	bool any_invalid = part->problems->any_invalid;
	const struct s_span *occ;
	const struct s_item *f, *s;
	bool same;

	s_line(part, line, len, lineno);
	if (part->rc)
		return true; /* out of memory, which is said */
	f = s_part_item(part, nitems - 1);
	s = s_part_item(part, nitems);
	occ = (const struct s_span *)part->occ.data;
	same = part->nitems == nitems + 1 && !(s->flags & S_BAD) &&
	       s->kind == f->kind && s->n == f->n && s->flags == f->flags &&
	       s->room == f->room && s->nocc == f->nocc && s->len == f->len &&
	       !memcmp(part->arena.data + s->off, part->arena.data + f->off,
		       f->len) &&
	       (!f->nocc ||
		!memcmp(occ + s->occ, occ + f->occ, f->nocc * sizeof *occ));
	if (part->nitems == nitems + 1)
		json_decref(s->rec);
	part->nitems = nitems;
	part->items.len = items_len;
	part->arena.len = arena_len;
	part->occ.len = occ_len;
	part->nocc = nocc;
	part->problems->n = nproblems;
	part->problems->total = total;
	part->problems->any_invalid = any_invalid;
	return same;
}

/* ---- probes of the fast path's rules ---- */

/* A field of a probe record and its value as JSON text; NULL leaves a
 * field of the base record out. */
struct s_probe_field {
	const char *name;
	const char *value;
};

/* Append a probe's value, with '@' standing for the hub id. */
static int s_probe_text(struct kp_buf *line, const char *hub, const char *value)
{
	const char *at;
	int rc = KP_OK;
	while (rc == KP_OK && (at = strchr(value, '@'))) {
		if (!(rc = kp_buf_append(line, value, (size_t)(at - value))))
			rc = kp_buf_append(line, hub, strlen(hub));
		value = at + 1;
	}
	return rc ? rc : kp_buf_append(line, value, strlen(value));
}

/* Append the record base, with the fields of over put in place (or left
 * out, or added at the end), as one line of JSON to line. */
static int s_probe_line(struct kp_buf *line, const char *hub,
			const struct s_probe_field *base,
			const struct s_probe_field *over, int nover)
{
	bool used[8] = {false};
	bool first = true;
	int rc = kp_buf_append(line, "{", 1);

	for (const struct s_probe_field *b = base; rc == KP_OK && b->name;
	     b++) {
		const char *value = b->value;
		for (int i = 0; i < nover; i++)
			if (!strcmp(over[i].name, b->name)) {
				value = over[i].value;
				used[i] = true;
			}
		if (!value)
			continue;
		if ((!first && (rc = kp_buf_append(line, ",", 1))) ||
		    (rc = kp_buf_append(line, "\"", 1)) ||
		    (rc = kp_buf_append(line, b->name, strlen(b->name))) ||
		    (rc = kp_buf_append(line, "\":", 2)) ||
		    (rc = s_probe_text(line, hub, value)))
			break;
		first = false;
	}
	for (int i = 0; rc == KP_OK && i < nover; i++) {
		if (used[i] || !over[i].value)
			continue;
		if ((!first && (rc = kp_buf_append(line, ",", 1))) ||
		    (rc = kp_buf_append(line, "\"", 1)) ||
		    (rc = kp_buf_append(line, over[i].name,
					strlen(over[i].name))) ||
		    (rc = kp_buf_append(line, "\":", 2)) ||
		    (rc = s_probe_text(line, hub, over[i].value)))
			break;
		first = false;
	}
	return rc ? rc : kp_buf_append(line, "}", 1);
}

/* Append "x" n times as a JSON text, or item n times as a JSON list. */
static int s_probe_fill(struct kp_buf *b, const char *item, long n)
{
	int rc = kp_buf_append(b, item ? "[" : "\"", 1);
	for (long i = 0; rc == KP_OK && i < n; i++) {
		if (item && i)
			rc = kp_buf_append(b, ",", 1);
		if (rc == KP_OK)
			rc = item ? kp_buf_append(b, item, strlen(item))
				  : kp_buf_append(b, "x", 1);
	}
	return rc ? rc : kp_buf_append(b, item ? "]" : "\"", 1);
}

/*
 * Value number i of the probes of rule r, as JSON text appended to b:
 * values on the edges of the rule, both ways. 1 when there is one, 0 for
 * the probe that leaves the field out, -1 past the last.
 */
static int s_probe_value(const struct s_rule *r, int i, struct kp_buf *b)
{
	static const char *const dates[] = {"\"2027-01-28\"", "\"2028-02-29\"",
					    "\"2027-02-29\"", "\"2027-1-28\"",
					    "\"\"",	      "20270128"};
	static const char *const days[] = {
	    "\"tue\"", "\"tue,thu\"", "\"mon-fri\"", "\"xyz\"", "\"\"", "2"};
	static const char *const bools[] = {"true", "false", "1", "\"true\""};
	char num[32];
	const char *text = NULL;
	int n = 0, rc = KP_OK;

	switch (r->type) {
	case R_TEXT:
		n = 5;
		if (i == 0)
			text = "\"\"";
		else if (i == 1)
			text = "\"Røde Kors på Åssiden\"";
		else if (i == 2 || i == 3)
			rc = s_probe_fill(b, NULL, r->max + (i == 3));
		else if (i == 4)
			text = "5";
		break;
	case R_INT:
		n = 6;
		if (i < 4) {
			snprintf(num, sizeof num, "%lld",
				 (long long)(i % 2 ? r->max : r->min) +
				     (i == 2   ? -1
				      : i == 3 ? 1
					       : 0));
			text = num;
		} else {
			text = i == 4 ? "\"1\"" : "true";
		}
		break;
	case R_BOOL:
		n = 4;
		text = i < n ? bools[i] : NULL;
		break;
	case R_ENUM:
		while (r->choices[n])
			n++;
		if (i < n) {
			snprintf(num, sizeof num, "\"%.28s\"", r->choices[i]);
			text = num;
		} else if (i < n + 3) {
			text = i == n ? "\"x\"" : i == n + 1 ? "\"\"" : "1";
		}
		n += 3;
		break;
	case R_LIST:
		n = 7;
		if (i == 0)
			text = "[]";
		else if (i == 1)
			text = "[\"norsk\",\"førstehjelp\"]";
		else if (i == 2)
			text = "[\"\"]";
		else if (i == 3)
			text = "[1]";
		else if (i == 4)
			text = "\"norsk\"";
		else if (i < 7)
			rc = s_probe_fill(b, "\"x\"", KP_LIST_MAX + (i == 6));
		break;
	case R_DATE:
		n = 6;
		text = i < n ? dates[i] : NULL;
		break;
	case R_DAYS:
		n = 6;
		text = i < n ? days[i] : NULL;
		break;
	case R_REF:
		n = 5;
		if (i == 0)
			text = r->ref == KP_ROOM ? "\"r1\"" : "\"a1\"";
		else if (i == 1)
			text = r->ref == KP_ROOM ? "\"konnerud:r1\""
						 : "\"konnerud:a1\"";
		else if (i < 5)
			text = i == 2 ? "\"b1\"" : i == 3 ? "\"x\"" : "1";
		break;
	case R_INSTANTS:
		n = 6;
		if (i == 0)
			text = "[]";
		else if (i == 1)
			text = "[1796140800]";
		else if (i == 2)
			text = "[\"x\"]";
		else if (i == 3)
			text = "1796140800";
		else if (i < 6)
			rc = s_probe_fill(b, "0", KP_SERIES_MAX + (i == 5));
		break;
	}
	if (text)
		rc = kp_buf_append(b, text, strlen(text));
	if (rc)
		return -1;
	return i < n ? 1 : i == n ? 0 : -1;
}

static const struct s_probe_field s_probe_booking[] = {
    {"kind", "\"booking\""},
    {"room", "\"r1\""},
    {"org", "\"Røde Kors\""},
    {"status", "\"confirmed\""},
    {"start", "1796140800"},
    {"end", "1796148000"},
    {NULL, NULL},
};

static const struct s_probe_field s_probe_activity[] = {
    {"kind", "\"activity\""},	   {"title", "\"Leksehjelp\""},
    {"organiser", "\"Blå Kors\""}, {"category", "\"leksehjelp\""},
    {"target", "\"barn\""},	   {"start", "1796140800"},
    {"end", "1796148000"},	   {NULL, NULL},
};

/*
 * Whole records beyond single fields: ids, series across the clock
 * changes of 2027 (28 March, 31 October: 17:00 and the 02:30 that is
 * skipped or comes twice), malformed series, a series of KP_SERIES_MAX
 * occurrences and one of one more (daily from 2026-12-01). Weekly from Sunday
 * 2027-03-21 17:00 = 1805644800 and 02:30 = 1805592600, from Sunday
 * 2027-10-24 02:30 = 1824337800.
 */
static const struct s_probe_field s_probe_more[][4] = {
    {{"id", "\"b7\""}},
    {{"id", "\"@:b7\""}, {"hub", "\"@\""}},
    {{"hub", "\"@\""}, {"kind", NULL}, {"id", "\"@:a9\""}},
    {{"room", "\"@:r1\""}, {"activity", "\"@:a1\""}},
    {{"id", "\"a7\""}},
    {{"id", "\"konnerud:b7\""}},
    {{"id", "\"r7\""}},
    {{"hub", "\"konnerud\""}},
    {{"kind", "\"room\""}},
    {{"kind", NULL}, {"id", "\"b8\""}},
    {{"kind", NULL}},
    {{"end", "1796140800"}},
    {{"weekly", "true"}},
    {{"weekly", "true"}, {"until", "\"2027-01-26\""}},
    {{"weekly", "true"}, {"until", "\"2026-11-30\""}},
    {{"weekly", "true"}, {"until", "\"2040-01-01\""}, {"days", "\"mon-sun\""}},
    {{"weekly", "true"}, {"until", "\"2029-08-26\""}, {"days", "\"mon-sun\""}},
    {{"weekly", "true"}, {"until", "\"2029-08-27\""}, {"days", "\"mon-sun\""}},
    {{"weekly", "true"},
     {"until", "\"2027-01-26\""},
     {"days", "\"tue,fri\""},
     {"cancelled", "[1796745600]"}},
    {{"start", "1805644800"},
     {"end", "1805652000"},
     {"weekly", "true"},
     {"until", "\"2027-04-11\""}},
    {{"start", "1805592600"},
     {"end", "1805596200"},
     {"weekly", "true"},
     {"until", "\"2027-04-11\""}},
    {{"start", "1824337800"},
     {"end", "1824341400"},
     {"weekly", "true"},
     {"until", "\"2027-11-07\""}},
    {{"start", "1824337800"},
     {"end", "1824424200"},
     {"weekly", "true"},
     {"until", "\"2027-11-07\""}},
    {{"cancelled", "[1796140800]"}},
    {{"status", "\"cancelled\""}},
    {{"status", "\"cancelled\""}, {"weekly", "true"}},
};

/* One probe: true unless the fast way accepts the line and the slow way
 * refuses it or reads it otherwise. */
static bool s_probe(struct s_part *scratch, const struct kp_buf *line)
{
	bool fast = s_fast_line(scratch, line->data, line->len, 1);
	return !fast || scratch->rc ||
	       s_fast_same(scratch, line->data, line->len, 1);
}

/* Check the fast path's rules against model.c's with probe records (see
 * "the fast path"); false when they disagree anywhere. */
static bool s_fast_selftest(struct s_part *scratch)
{
	struct kp_buf line = {0}, value = {0};
	bool ok = true;

	for (int k = 0; ok && k < 2; k++) {
		const struct s_probe_field *base =
		    k ? s_probe_activity : s_probe_booking;
		const struct s_rule *r =
		    s_rules_of(k ? KP_ACTIVITY : KP_BOOKING);
		for (; ok && r->f != F_N; r++) {
			for (int i = 0; ok; i++) {
				struct s_probe_field over = {s_fnames[r->f],
							     NULL};
				int has;
				value.len = 0;
				if ((has = s_probe_value(r, i, &value)) < 0)
					break;
				if (has && kp_buf_append(&value, "", 1)) {
					ok = false;
					break;
				}
				over.value = has ? value.data : NULL;
				line.len = 0;
				ok = !s_probe_line(&line, scratch->hub, base,
						   &over, 1) &&
				     s_probe(scratch, &line);
			}
		}
		for (size_t p = 0;
		     ok && p < sizeof s_probe_more / sizeof s_probe_more[0];
		     p++) {
			int n = 0;
			while (n < 4 && s_probe_more[p][n].name)
				n++;
			line.len = 0;
			ok = !s_probe_line(&line, scratch->hub, base,
					   s_probe_more[p], n) &&
			     s_probe(scratch, &line);
		}
	}
	kp_buf_free(&line);
	kp_buf_free(&value);
	return ok && !scratch->rc;
}

static bool s_blank(const char *p, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if (p[i] != ' ' && p[i] != '\t' && p[i] != '\r')
			return false;
	return true;
}

/* One line, the fast way where it can be, else the slow way. */
static void s_read_line(struct s_part *part, const char *line, size_t len,
			uint64_t lineno)
{
	if (!part->fast || !s_fast_line(part, line, len, lineno)) {
		s_line(part, line, len, lineno);
		return;
	}
	part->nfast++;
	if (part->crosscheck && !part->rc &&
	    !s_fast_same(part, line, len, lineno)) {
		part->rc = KP_EINTERNAL;
		part->mismatch = lineno;
	}
}

/* The fast path's working memory, when it is on. */
static void s_part_fast(struct s_part *part)
{
	if (!part->def || !part->def->on)
		return;
	part->hublen = strlen(part->hub);
	part->fast = malloc(sizeof *part->fast);
	part->tz = calloc(1, sizeof *part->tz);
	if (!part->fast || !part->tz) {
		/* The slow way needs neither. */
		free(part->fast);
		free(part->tz);
		part->fast = NULL;
		part->tz = NULL;
	}
}

/* One line of a chunk, unless it is blank. */
static void s_chunk_line(struct s_part *part, const char *line, size_t len,
			 uint64_t lineno)
{
	if (!s_blank(line, len)) {
		s_read_line(part, line, len, lineno);
		/* Every value of the line is gone or copied. */
		s_bump.cur = s_bump.base;
	}
}

/*
 * The lines of a chunk of a file read with pread() into a buffer of the
 * part's that serves again and again, rather than mapped: the first touch
 * of each 4 KiB page of a mapped file costs a page fault of its own in a
 * virtual machine with shadow page tables, which took twice the time the
 * reading does. A line longer than S_LINE_MAX is not kept, only measured
 * (s_line() refuses it by its length). A file that gets shorter meanwhile
 * ends where it ends.
 */
#define S_RBUF ((size_t)256 << 10)

static uint64_t s_chunk_read(struct s_part *part, const struct s_chunk *c)
{
	size_t off = c->from, keep = 0, skipped = 0;
	uint64_t lineno = 0;
	bool skipping = false; /* in a line too long to keep */

	while (!part->rc) {
		size_t want, avail, at = 0;
		ssize_t n = 0;
		if (part->rcap - keep < S_RBUF / 2) {
			size_t cap = part->rcap ? 2 * part->rcap : S_RBUF;
			char *grown = realloc(part->rbuf, cap);
			if (!grown) {
				part->rc = KP_ENOMEM;
				break;
			}
			part->rbuf = grown;
			part->rcap = cap;
		}
		want = part->rcap - keep;
		if (want > c->to - off)
			want = c->to - off;
		while (want &&
		       (n = pread(part->fd, part->rbuf + keep, want,
				  (off_t)off)) < 0 &&
		       errno == EINTR)
			;
		if (n < 0) {
			part->rc = KP_EIO;
			break;
		}
		off += (size_t)n;
		avail = keep + (size_t)n;
		for (;;) {
			const char *p = part->rbuf + at;
			const char *nl = memchr(p, '\n', avail - at);
			if (!nl)
				break;
			lineno++;
			if (skipping)
				s_line(part, NULL, skipped + (size_t)(nl - p),
				       lineno);
			else
				s_chunk_line(part, p, (size_t)(nl - p), lineno);
			skipping = false;
			skipped = 0;
			at = (size_t)(nl - part->rbuf) + 1;
		}
		keep = avail - at;
		if (n == 0 || off >= c->to) {
			/* The end: a last line without its newline. */
			if (keep || skipping) {
				lineno++;
				if (skipping)
					s_line(part, NULL, skipped + keep,
					       lineno);
				else
					s_chunk_line(part, part->rbuf + at,
						     keep, lineno);
			}
			break;
		}
		if (skipping || keep > S_LINE_MAX) {
			/* Too long to be a record: count it, keep nothing. */
			skipping = true;
			skipped += keep;
			keep = 0;
		} else if (at) {
			memmove(part->rbuf, part->rbuf + at, keep);
		}
	}
	return lineno;
}

/* The lines of a chunk of a file in memory. */
static uint64_t s_chunk_mem(struct s_part *part, const struct s_chunk *c)
{
	const char *p = part->data + c->from, *end = part->data + c->to;
	uint64_t lineno = 0;

	while (p < end && !part->rc) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t len = nl ? (size_t)(nl - p) : (size_t)(end - p);
		s_chunk_line(part, p, len, ++lineno);
		p = nl ? nl + 1 : end;
	}
	return lineno;
}

/* The lines of one chunk. */
static void s_chunk_run(struct s_part *part, struct s_chunk *c)
{
	c->item_from = part->nitems;
	part->problems = &c->problems;
	part->mismatch = 0;
	c->lines = part->data ? s_chunk_mem(part, c) : s_chunk_read(part, c);
	c->item_to = part->nitems;
	c->mismatch = part->mismatch;
}

static void *s_part_run(void *arg)
{
	struct s_part *part = arg;
	struct s_chunks *chunks = part->chunks;
	size_t i;

	if (S_BUMP && (s_bump.base = malloc(S_BUMP_SIZE))) {
		s_bump.cur = s_bump.base;
		s_bump.end = s_bump.base + S_BUMP_SIZE;
	}
	s_bump_use(true);
	s_part_fast(part);
	while (!part->rc &&
	       (i = atomic_fetch_add(&chunks->next, 1)) < chunks->n) {
		chunks->chunk[i].part = part->index;
		s_chunk_run(part, &chunks->chunk[i]);
	}
	s_bump_use(false);
	free(s_bump.base);
	memset(&s_bump, 0, sizeof s_bump);
	return NULL;
}

static void s_part_free(struct s_part *part)
{
	for (size_t i = 0; i < part->nitems; i++)
		json_decref(s_part_item(part, i)->rec);
	s_vec_free(&part->items);
	s_vec_free(&part->arena);
	kp_buf_free(&part->buf);
	s_vec_free(&part->occ);
	free(part->scratch);
	free(part->fast);
	free(part->tz);
	free(part->rbuf);
}

/* ---- the whole import ---- */

/* A room's rules, loaded once. */
struct s_room {
	uint64_t n;
	uint64_t line; /* the line that gives it, or 0 for the store */
	bool missing;  /* neither in the file nor in the store */
	bool has_hours;
	bool slots_known, has_slots; /* does the store hold slots of it */
	struct kp_week hours;
	json_t *rec;  /* owned */
	size_t nheld; /* the file's occurrences in it */
};

/* The local date and minute of an instant, remembered (s_local_of). */
#define S_MEMO 1024
struct s_local {
	int64_t t;
	int64_t days; /* since 1970-01-01 */
	int minute, weekday;
	bool set;
};

/* An id the file gives, and where (an index in order). */
struct s_given {
	uint64_t n;
	size_t at;
};

/* One occurrence of the file, for the check among the file's own. */
struct s_held {
	int64_t start, end;
	const struct s_item *item;
};

struct s_import {
	struct cli *cli;
	const char *hub;
	const char *data; /* the input in memory (standard input) ... */
	int fd;		  /* ... or a file read where it lies */
	size_t len;
	int nparts;
	struct s_part parts[S_THREADS_MAX];
	struct s_problems problems;
	uint64_t lines, records, bad_lines;
	uint64_t counts[KP_NKINDS];
	struct s_vec order; /* struct s_item *: the good ones, in order */
	size_t norder;
	struct s_vec ids[KP_NKINDS]; /* struct s_given, by number */
	struct s_map room_at;	     /* ('r', n) -> index in rooms */
	struct s_room *rooms;
	size_t nrooms, caprooms;
	/* Phase 3. */
	struct s_vec later, sorted; /* a batch's slots (s_slots_put) */
	size_t *rank, *bucket;	    /* the rooms in key order */
	uint64_t replaced;	    /* records of the store the file replaces */
	uint64_t head;		    /* the oplog head the checks saw */
	bool foreign;		    /* another process wrote since the checks */
	size_t done;		    /* items committed */
	size_t batch_from, batch_to;
	const struct s_item *race_item;
	struct kp_clash race;
	char race_what[KP_ID_STRLEN + 80];
	struct s_local memo[S_MEMO]; /* see s_local_of */
	double sync_from;	     /* when the final flush began */
	struct s_chunks chunks;	     /* phase 1's pieces of the file */
	struct s_fastdef fastdef;    /* the fast path's tables */
	uint64_t nfast;		     /* lines read the fast way */
	uint64_t mismatch;	     /* see KNUTE_IMPORT_CROSSCHECK */
};

static struct s_item *s_order(const struct s_import *imp, size_t i)
{
	return ((struct s_item **)imp->order.data)[i];
}

/* The occurrences of an item, after phase 1 (NULL when it has none). */
static const struct s_span *s_occs(const struct s_import *imp,
				   const struct s_item *it)
{
	const struct s_vec *occ = &imp->parts[it->part].occ;
	return occ->data ? (const struct s_span *)occ->data + it->occ : NULL;
}

static struct s_room *s_room_new(struct s_import *imp, uint64_t n)
{
	struct s_map_slot *slot;
	struct s_room *room;
	if (imp->nrooms == imp->caprooms) {
		size_t cap = imp->caprooms ? imp->caprooms * 2 : 64;
		struct s_room *grown = realloc(imp->rooms, cap * sizeof *grown);
		if (!grown)
			return NULL;
		imp->rooms = grown;
		imp->caprooms = cap;
	}
	if (s_map_add(&imp->room_at, KP_ROOM, n, imp->nrooms, &slot))
		return NULL;
	room = &imp->rooms[imp->nrooms++];
	memset(room, 0, sizeof *room);
	room->n = n;
	return room;
}

/* The opening hours of a room record. */
static int s_room_hours(struct s_room *room)
{
	char err[KP_ERR_MAX];
	const char *open = kp_rec_str(room->rec, "open", "");
	room->has_hours = open[0] != 0;
	if (room->has_hours &&
	    kp_week_parse(open, &room->hours, err, sizeof err))
		return KP_ECORRUPT;
	return KP_OK;
}

/* The rules of room n: the file's (see s_check_txn) or the store's. */
static int s_room_of(struct s_import *imp, kp_txn *txn, uint64_t n,
		     struct s_room **out)
{
	struct s_map_slot *slot = s_map_find(&imp->room_at, KP_ROOM, n);
	struct kp_id id = {.kind = KP_ROOM, .n = n};
	struct s_room *room;
	int rc;

	if (slot) {
		*out = &imp->rooms[slot->value];
		return KP_OK;
	}
	if (!(room = s_room_new(imp, n)))
		return KP_ENOMEM;
	*out = room;
	snprintf(id.hub, sizeof id.hub, "%s", imp->hub);
	rc = kp_txn_get(txn, &id, &room->rec);
	if (rc == KP_ENOTFOUND) {
		room->missing = true;
		return KP_OK;
	}
	return rc ? rc : s_room_hours(room);
}

/* kp_local_parts() of t, remembered: a file's bookings share their start
 * and end times across rooms and days, and local time is what the clash
 * check spends most on. */
static const struct s_local *s_local_of(struct s_import *imp, int64_t t)
{
	struct s_local *m =
	    &imp->memo[((uint64_t)t * 0x9E3779B97F4A7C15ULL) >> 54];
	_Static_assert(S_MEMO == 1024, "the memo is indexed by 10 bits");
	if (!m->set || m->t != t) {
		int y, mo, d;
		kp_local_parts(t, &y, &mo, &d, &m->weekday, &m->minute);
		m->days = kp_days_from_civil(y, mo, d);
		m->t = t;
		m->set = true;
	}
	return m;
}

/*
 * kp_week_covers(), answered quickly for the common case: start and end on
 * the same local date, with the same offset from UTC at both (the
 * wall-clock and the real durations agree to the minute, so no clock
 * change lies between), inside one span of the day. Anything else, and
 * every "no", is left to kp_week_covers() itself.
 */
static bool s_covers(struct s_import *imp, const struct kp_week *week,
		     int64_t start, int64_t end)
{
	const struct s_local *a = s_local_of(imp, start);
	int64_t a_days = a->days, real = end - start;
	int a_minute = a->minute, a_weekday = a->weekday;
	const struct s_local *b = s_local_of(imp, end);
	int64_t wall = ((b->days - a_days) * 1440 + b->minute - a_minute) * 60;

	if (b->days == a_days && wall - real < 60 && real - wall < 60) {
		for (int i = 0; i < week->nspans; i++) {
			const struct kp_span *s = &week->spans[i];
			/* The start's second within its minute is not known:
			 * take the latest it can be. */
			if (s->weekday == a_weekday &&
			    s->from_min <= a_minute &&
			    (int64_t)a_minute * 60 + 59 + real <=
				(int64_t)s->to_min * 60)
				return true;
		}
	}
	return kp_week_covers(week, start, end);
}

/* True when an occurrence touches a closure (the rule of rules.c). */
static bool s_closed(const json_t *closures, int64_t start, int64_t end,
		     char *reason)
{
	int y, m, d;
	char first[KP_TIME_STRLEN], last[KP_TIME_STRLEN];
	size_t i;
	json_t *c;

	kp_local_parts(start, &y, &m, &d, NULL, NULL);
	kp_date_format(y, m, d, first);
	kp_local_parts(end - 1, &y, &m, &d, NULL, NULL);
	kp_date_format(y, m, d, last);
	json_array_foreach(closures, i, c)
	{
		if (strcmp(kp_rec_str(c, "from", ""), last) <= 0 &&
		    strcmp(kp_rec_str(c, "to", ""), first) >= 0) {
			snprintf(reason, KP_NAME_MAX + 1, "%s",
				 kp_rec_str(c, "reason", ""));
			return true;
		}
	}
	return false;
}

static void s_id_text(const struct s_import *imp, char kind, uint64_t n,
		      char *buf)
{
	struct kp_id id = {.kind = kind, .n = n};
	snprintf(id.hub, sizeof id.hub, "%s", imp->hub);
	kp_id_format(&id, buf);
}

static int s_given_cmp(const void *a, const void *b)
{
	const struct s_given *x = a, *y = b;
	if (x->n != y->n)
		return x->n < y->n ? -1 : 1;
	return x->at < y->at ? -1 : x->at > y->at;
}

/*
 * The ids the file gives, per kind, sorted by number (a file in id order
 * is sorted already, and needs no hash table: at a million ids, its
 * random accesses cost more than the sort). An id given twice: the later
 * line is refused.
 */
static int s_ids_build(struct s_import *imp)
{
	uint64_t last[KP_NKINDS] = {0};
	size_t count[KP_NKINDS] = {0};
	bool sorted[KP_NKINDS];

	for (size_t i = 0; i < imp->norder; i++)
		if (s_order(imp, i)->flags & S_HAS_ID)
			count[strchr(kp_kinds, s_order(imp, i)->kind) -
			      kp_kinds]++;
	for (int k = 0; k < KP_NKINDS; k++) {
		sorted[k] = true;
		imp->ids[k].heap = true;
		if (count[k] &&
		    s_vec_reserve(&imp->ids[k],
				  count[k] * sizeof(struct s_given)))
			return KP_ENOMEM;
	}
	for (size_t i = 0; i < imp->norder; i++) {
		const struct s_item *it = s_order(imp, i);
		int k = (int)(strchr(kp_kinds, it->kind) - kp_kinds);
		struct s_given *g;
		if (!(it->flags & S_HAS_ID))
			continue;
		if (!(g = s_vec_push(&imp->ids[k], sizeof *g)))
			return KP_ENOMEM;
		*g = (struct s_given){it->n, i};
		if (it->n <= last[k])
			sorted[k] = false;
		last[k] = it->n;
	}
	for (int k = 0; k < KP_NKINDS; k++) {
		struct s_given *g = (struct s_given *)imp->ids[k].data;
		size_t n = imp->ids[k].len / sizeof *g;
		if (sorted[k])
			continue;
		qsort(g, n, sizeof *g, s_given_cmp);
		for (size_t i = 1; i < n; i++) {
			struct s_item *it = s_order(imp, g[i].at);
			char text[KP_ID_STRLEN];
			if (g[i].n != g[i - 1].n)
				continue;
			s_id_text(imp, it->kind, it->n, text);
			s_problem(&imp->problems, it->line, KP_EINVAL,
				  "the id %s was given on line %" PRIu64
				  " already: give each record its own id",
				  text, s_order(imp, g[i - 1].at)->line);
			it->flags |= S_BAD;
		}
	}
	return KP_OK;
}

/* The item of the file that gives (kind, n) first, or NULL. */
static struct s_item *s_given(const struct s_import *imp, char kind, uint64_t n)
{
	const char *at = strchr(kp_kinds, kind);
	const struct s_given *g;
	size_t lo = 0, hi;
	if (!kind || !at)
		return NULL;
	g = (const struct s_given *)imp->ids[at - kp_kinds].data;
	hi = imp->ids[at - kp_kinds].len / sizeof *g;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (g[mid].n < n)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo < imp->ids[at - kp_kinds].len / sizeof *g && g[lo].n == n
		   ? s_order(imp, g[lo].at)
		   : NULL;
}

/* True when owner's record is one the file replaces: its slots are freed
 * before the file's records take theirs. */
static bool s_replaced(const struct s_import *imp, const struct kp_id *owner)
{
	const struct s_item *it = s_given(imp, owner->kind, owner->n);
	return it && (it->flags & S_REPLACES);
}

/*
 * A slot of the store that overlaps [start, end) and stays (its holder is
 * not replaced by the file): KP_ECLASH with it in *with, or KP_OK. The
 * store's slots of a room never overlap each other, so once a replaced
 * one is found, only the parts of [start, end) on either side of it can
 * hold another.
 */
static int s_store_clash(const struct s_import *imp, kp_txn *txn, uint64_t room,
			 int64_t start, int64_t end, struct kp_slot *with,
			 int depth)
{
	struct kp_slot found;
	int rc;

	for (;;) {
		rc = kp_txn_slot_find(txn, room, start, end, with);
		if (rc != KP_ECLASH || !s_replaced(imp, &with->owner))
			return rc;
		if (depth > 100)
			return KP_ECLASH; /* a pathological file: refuse */
		found = *with;
		if (start < found.start &&
		    (rc = s_store_clash(imp, txn, room, start, found.start,
					with, depth + 1)))
			return rc;
		if (found.end >= end)
			return KP_OK;
		start = found.end;
		depth++;
	}
}

/* The organisation of a slot's holder, for the clash message. */
static void s_holder_org(kp_txn *txn, struct kp_clash *c)
{
	json_t *holder;
	if (kp_txn_get(txn, &c->with.owner, &holder) == KP_OK) {
		snprintf(c->with_org, sizeof c->with_org, "%s",
			 kp_rec_str(holder, "org",
				    kp_rec_str(holder, "organiser", "")));
		json_decref(holder);
	}
}

/* The clash rule for the occurrences of one item against its room's hours
 * and closures and the store's slots. */
static int s_check_room(struct s_import *imp, kp_txn *txn, struct s_item *it)
{
	const struct s_span *occs;
	struct s_room *room;
	struct kp_clash c;
	char text[600], rid[KP_ID_STRLEN];
	const json_t *closures;
	int rc;

	if ((rc = s_room_of(imp, txn, it->room, &room)))
		return rc;
	if (room->missing || room->line > it->line) {
		s_id_text(imp, KP_ROOM, it->room, rid);
		if (room->line > it->line)
			s_problem(&imp->problems, it->line, KP_ENOTFOUND,
				  "room %s comes on a later line (%" PRIu64
				  "): put rooms before the bookings that use "
				  "them",
				  rid, room->line);
		else
			s_problem(&imp->problems, it->line, KP_ENOTFOUND,
				  "no room %s at this hub: import the room "
				  "on an earlier line or add it first",
				  rid);
		it->flags |= S_BAD;
		return KP_OK;
	}
	if (!room->slots_known) {
		struct kp_slot any;
		rc = kp_txn_slot_find(txn, room->n, INT64_MIN, INT64_MAX, &any);
		if (rc && rc != KP_ECLASH)
			return rc;
		room->has_slots = rc == KP_ECLASH;
		room->slots_known = true;
	}
	closures = json_object_get(room->rec, "closures");
	if (!json_array_size(closures))
		closures = NULL;
	occs = s_occs(imp, it);
	for (uint32_t i = 0; i < it->nocc; i++) {
		int64_t start = occs[i].start, end = occs[i].end;
		char reason[sizeof c.reason];
		struct kp_slot with;
		enum kp_clash_why why;
		if (room->has_hours &&
		    !s_covers(imp, &room->hours, start, end)) {
			why = KP_CLASH_HOURS;
		} else if (closures && s_closed(closures, start, end, reason)) {
			why = KP_CLASH_CLOSED;
		} else if (room->has_slots) {
			rc = s_store_clash(imp, txn, room->n, start, end, &with,
					   0);
			if (rc == KP_OK)
				continue;
			if (rc != KP_ECLASH)
				return rc;
			why = KP_CLASH_BOOKED;
		} else {
			continue;
		}
		/* A clash: the rare case, described in full. */
		memset(&c, 0, sizeof c);
		c.start = start;
		c.end = end;
		c.why = why;
		if (why == KP_CLASH_CLOSED)
			snprintf(c.reason, sizeof c.reason, "%s", reason);
		if (why == KP_CLASH_BOOKED) {
			c.with = with;
			s_holder_org(txn, &c);
		}
		kp_clash_describe(&c, text, sizeof text);
		s_id_text(imp, KP_ROOM, it->room, rid);
		s_problem(&imp->problems, it->line, KP_ECLASH, "%s in room %s",
			  text, rid);
		it->flags |= S_BAD;
	}
	if (!(it->flags & S_BAD))
		room->nheld += it->nocc;
	return KP_OK;
}

/* An assignment's or attendance record's volunteer and activity exist, and
 * the police-certificate rule holds. */
static int s_check_people(struct s_import *imp, kp_txn *txn, struct s_item *it)
{
	static const char fields[2][10] = {"volunteer", "activity"};
	static const char kinds[2] = {KP_VOLUNTEER, KP_ACTIVITY};
	bool known[2] = {false, false}, flag[2] = {false, false};
	json_t *stored[2] = {NULL, NULL};
	int rc = KP_OK;

	for (int f = 0; f < 2; f++) {
		struct kp_id id;
		char err[KP_ERR_MAX];
		const struct s_item *ref;
		const char *text = kp_rec_str(it->rec, fields[f], "");
		if (kp_id_parse(text, imp->hub, kinds[f], &id, err) ||
		    strcmp(id.hub, imp->hub))
			continue; /* another hub's: not ours to check */
		ref = s_given(imp, kinds[f], id.n);
		if (ref && !(ref->flags & S_BAD) && ref->line < it->line) {
			known[f] = true;
			flag[f] = ref->flags &
				  (f == 0 ? S_POLICE_SHOWN : S_POLICE_REQ);
			continue;
		}
		rc = kp_txn_get(txn, &id, &stored[f]);
		if (rc == KP_ENOTFOUND) {
			s_problem(&imp->problems, it->line, KP_ENOTFOUND,
				  "no %s %s at this hub: import it on an "
				  "earlier line or add it first",
				  fields[f], text);
			it->flags |= S_BAD;
			rc = KP_OK;
			continue;
		}
		if (rc)
			goto out;
		known[f] = true;
		flag[f] =
		    f == 0
			? json_is_object(json_object_get(stored[f], "police"))
			: kp_rec_bool(stored[f], "police_required", false);
	}
	if (it->kind == KP_ASSIGNMENT && known[0] && known[1] && flag[1] &&
	    !flag[0]) {
		s_problem(&imp->problems, it->line, KP_EPOLICE,
			  "volunteer %s has shown no police certificate, and "
			  "activity %s requires one: record it first",
			  kp_rec_str(it->rec, "volunteer", ""),
			  kp_rec_str(it->rec, "activity", ""));
		it->flags |= S_BAD;
	}
out:
	json_decref(stored[0]);
	json_decref(stored[1]);
	return rc;
}

static int s_held_cmp(const void *a, const void *b)
{
	const struct s_held *x = a, *y = b;
	if (x->start != y->start)
		return x->start < y->start ? -1 : 1;
	return x->item->line < y->item->line ? -1
					     : x->item->line > y->item->line;
}

/* One room's occurrences from the file against each other. */
static void s_check_among_room(struct s_import *imp, const struct s_room *room,
			       struct s_held *held, size_t n)
{
	const struct s_held *prev = NULL;
	char a[KP_TIME_STRLEN], b[KP_TIME_STRLEN], other[KP_ID_STRLEN + 40];
	bool sorted = true;

	/* A file in time order needs no sorting. */
	for (size_t i = 1; i < n && sorted; i++)
		sorted = s_held_cmp(&held[i - 1], &held[i]) <= 0;
	if (!sorted)
		qsort(held, n, sizeof *held, s_held_cmp);
	for (size_t i = 0; i < n; i++) {
		const struct s_held *h = &held[i], *late, *early;
		if (!prev || h->start >= prev->end) {
			prev = h;
			continue;
		}
		late = h->item->line >= prev->item->line ? h : prev;
		early = late == h ? prev : h;
		kp_time_format(late->start, a);
		kp_time_format(early->start, b);
		if (early->item == late->item) {
			snprintf(other, sizeof other,
				 "another of its own occurrences");
		} else if (early->item->flags & S_HAS_ID) {
			char id[KP_ID_STRLEN];
			s_id_text(imp, early->item->kind, early->item->n, id);
			snprintf(other, sizeof other, "%s %s on line %" PRIu64,
				 kp_kind_name(early->item->kind), id,
				 early->item->line);
		} else {
			snprintf(other, sizeof other, "the %s on line %" PRIu64,
				 kp_kind_name(early->item->kind),
				 early->item->line);
		}
		s_problem(&imp->problems, late->item->line, KP_ECLASH,
			  "%s clashes with %s (from %s) in room %s:r%" PRIu64,
			  a, other, b, imp->hub, room->n);
		((struct s_item *)late->item)->flags |= S_BAD;
		if (h->end > prev->end)
			prev = h;
	}
}

/* The file's own occurrences against each other, room by room: a
 * counting sort into rooms, then each room in time order. */
static int s_check_among(struct s_import *imp)
{
	struct s_vec held = {.heap = true};
	size_t *at, total = 0;

	if (!(at = calloc(imp->nrooms + 1, sizeof *at)))
		return KP_ENOMEM;
	for (size_t r = 0; r < imp->nrooms; r++) {
		at[r] = total;
		total += imp->rooms[r].nheld;
	}
	if (total && s_vec_reserve(&held, total * sizeof(struct s_held))) {
		free(at);
		return KP_ENOMEM;
	}
	for (size_t i = 0; i < imp->norder; i++) {
		const struct s_item *it = s_order(imp, i);
		const struct s_span *occs = s_occs(imp, it);
		const struct s_map_slot *slot;
		if (!it->room || (it->flags & S_BAD))
			continue;
		slot = s_map_find(&imp->room_at, KP_ROOM, it->room);
		for (uint32_t k = 0; k < it->nocc; k++)
			((struct s_held *)held.data)[at[slot->value]++] =
			    (struct s_held){occs[k].start, occs[k].end, it};
	}
	for (size_t r = 0, from = 0; total && r < imp->nrooms; r++) {
		s_check_among_room(imp, &imp->rooms[r],
				   (struct s_held *)held.data + from,
				   imp->rooms[r].nheld);
		from += imp->rooms[r].nheld;
	}
	free(at);
	s_vec_free(&held);
	return KP_OK;
}

/* Phase 2, in one read snapshot. */
static int s_check_txn(kp_txn *txn, void *arg)
{
	struct s_import *imp = arg;
	struct kp_id id;
	int rc;

	imp->head = kp_txn_head_seq(txn);
	if ((rc = s_ids_build(imp)))
		return rc;
	/* Records the file replaces; the file's rooms. */
	memset(&id, 0, sizeof id);
	snprintf(id.hub, sizeof id.hub, "%s", imp->hub);
	for (size_t i = 0; i < imp->norder; i++) {
		struct s_item *it = s_order(imp, i);
		bool fresh;
		if ((it->flags & (S_HAS_ID | S_BAD)) != S_HAS_ID)
			continue;
		/* In a read snapshot this only answers: an id past every id
		 * handed out cannot be in the store. */
		id.kind = it->kind;
		id.n = it->n;
		if ((rc = kp_txn_id_seen(txn, &id, &fresh)))
			return rc;
		if (!fresh) {
			json_t *stored;
			rc = kp_txn_get(txn, &id, &stored);
			if (rc == KP_OK) {
				it->flags |= S_REPLACES;
				imp->replaced++;
				json_decref(stored);
			} else if (rc != KP_ENOTFOUND) {
				return rc;
			}
		}
		if (it->kind == KP_ROOM) {
			struct s_room *room = s_room_new(imp, it->n);
			if (!room)
				return KP_ENOMEM;
			room->line = it->line;
			room->rec = json_incref(it->rec);
			s_room_hours(room); /* the schema checked them */
		}
	}
	/* The rules, line by line. */
	for (size_t i = 0; i < imp->norder; i++) {
		struct s_item *it = s_order(imp, i);
		if (it->flags & S_BAD)
			continue;
		if (it->room && (rc = s_check_room(imp, txn, it)))
			return rc;
		if ((it->kind == KP_ASSIGNMENT || it->kind == KP_ATTENDANCE) &&
		    (rc = s_check_people(imp, txn, it)))
			return rc;
	}
	return s_check_among(imp);
}

/* Another process wrote between the checks and this transaction: note
 * why the import cannot go on. */
static int s_race(struct s_import *imp, const struct s_item *it,
		  const char *what)
{
	imp->race_item = it;
	snprintf(imp->race_what, sizeof imp->race_what, "%s", what);
	return KP_ECLASH;
}

/*
 * The slots of a batch are put after its records, in key order (room,
 * start, owner), which makes kp_txn_slot_add_bulk() twice as fast as in
 * the order of the lines, where the rooms take turns. Rooms are few: a
 * counting sort by room, then each room's slots by time, which the lines
 * mostly have already.
 */
struct s_later {
	uint64_t room;
	struct kp_slot slot;
};

static int s_slot_later(struct s_import *imp, uint64_t room,
			const struct kp_slot *slot)
{
	struct s_later *l = s_vec_push(&imp->later, sizeof *l);
	if (!l)
		return KP_ENOMEM;
	l->room = room;
	l->slot = *slot;
	return KP_OK;
}

static int s_later_cmp(const void *a, const void *b)
{
	const struct kp_slot *x = &((const struct s_later *)a)->slot;
	const struct kp_slot *y = &((const struct s_later *)b)->slot;
	if (x->start != y->start)
		return x->start < y->start ? -1 : 1;
	if (x->owner.kind != y->owner.kind)
		return (unsigned char)x->owner.kind <
			       (unsigned char)y->owner.kind
			   ? -1
			   : 1;
	return x->owner.n < y->owner.n ? -1 : x->owner.n > y->owner.n;
}

static int s_room_cmp(const void *a, const void *b)
{
	const struct s_room *x = *(struct s_room *const *)a;
	const struct s_room *y = *(struct s_room *const *)b;
	return x->n < y->n ? -1 : x->n > y->n;
}

/* Put the batch's slots noted by s_slot_later(), in key order. */
static int s_slots_put(struct s_import *imp, kp_txn *txn)
{
	size_t n = imp->later.len / sizeof(struct s_later);
	const struct s_later *from = (const struct s_later *)imp->later.data;
	struct s_later *to;
	int rc = KP_OK;

	if (!n)
		return KP_OK;
	if (!imp->rank) {
		/* Each room's place in key order, and a bucket for each. */
		struct s_room **by = malloc(imp->nrooms * sizeof *by);
		imp->rank = malloc(imp->nrooms * sizeof *imp->rank);
		imp->bucket = malloc((imp->nrooms + 1) * sizeof *imp->bucket);
		if (!by || !imp->rank || !imp->bucket) {
			free(by);
			return KP_ENOMEM;
		}
		for (size_t r = 0; r < imp->nrooms; r++)
			by[r] = &imp->rooms[r];
		qsort(by, imp->nrooms, sizeof *by, s_room_cmp);
		for (size_t r = 0; r < imp->nrooms; r++)
			imp->rank[by[r] - imp->rooms] = r;
		free(by);
	}
	if (s_vec_reserve(&imp->sorted, n * sizeof *to))
		return KP_ENOMEM;
	to = (struct s_later *)imp->sorted.data;
	/* Every room that holds a slot was looked up in phase 2. */
	memset(imp->bucket, 0, (imp->nrooms + 1) * sizeof *imp->bucket);
	for (size_t i = 0; i < n; i++) {
		const struct s_map_slot *room =
		    s_map_find(&imp->room_at, KP_ROOM, from[i].room);
		if (!room)
			return KP_EINTERNAL;
		imp->bucket[imp->rank[room->value] + 1]++;
	}
	for (size_t r = 1; r <= imp->nrooms; r++)
		imp->bucket[r] += imp->bucket[r - 1];
	for (size_t i = 0; i < n; i++) {
		size_t r =
		    imp->rank[s_map_find(&imp->room_at, KP_ROOM, from[i].room)
				  ->value];
		to[imp->bucket[r]++] = from[i];
	}
	/* bucket[r] is now where room r + 1 begins. */
	for (size_t r = 0, at = 0; r < imp->nrooms; r++) {
		size_t end = imp->bucket[r];
		bool sorted = true;
		for (size_t i = at + 1; i < end && sorted; i++)
			sorted = s_later_cmp(&to[i - 1], &to[i]) <= 0;
		if (!sorted)
			qsort(to + at, end - at, sizeof *to, s_later_cmp);
		at = end;
	}
	for (size_t i = 0; i < n && rc == KP_OK; i++)
		rc = kp_txn_slot_add_bulk(txn, to[i].room, &to[i].slot);
	imp->later.len = 0;
	return rc;
}

/*
 * Phase 3: items batch_from to batch_to in one write transaction. When
 * the file replaces records of the store, the whole file is one
 * transaction (see s_write) and their slots are freed first.
 */
static int s_batch_txn(kp_txn *txn, void *arg)
{
	struct s_import *imp = arg;
	bool replacing = imp->replaced > 0, recheck;
	struct kp_id id;
	int rc;

	memset(&id, 0, sizeof id);
	snprintf(id.hub, sizeof id.hub, "%s", imp->hub);
	imp->later.len = 0; /* a run before this one left some */
	/* Nobody else wrote since the checks (every change of records and
	 * slots moves the oplog head): they still hold. */
	recheck =
	    replacing || imp->foreign || kp_txn_head_seq(txn) != imp->head;
	for (size_t i = imp->batch_from; replacing && i < imp->batch_to; i++) {
		struct s_item *it = s_order(imp, i);
		json_t *old;
		if (!(it->flags & S_REPLACES))
			continue;
		id.kind = it->kind;
		id.n = it->n;
		if ((rc = kp_txn_get(txn, &id, &old)) == KP_OK) {
			if (s_holds_room(id.kind, old))
				rc = kp_release_room(txn, &id, old);
			json_decref(old);
		}
		if (rc && rc != KP_ENOTFOUND)
			return rc;
	}
	for (size_t i = imp->batch_from; i < imp->batch_to; i++) {
		struct s_item *it = s_order(imp, i);
		const struct s_span *occs = s_occs(imp, it);
		id.kind = it->kind;
		if (it->flags & S_HAS_ID) {
			bool fresh;
			id.n = it->n;
			if ((rc = kp_txn_id_seen(txn, &id, &fresh)))
				return rc;
			if (!fresh && !(it->flags & S_REPLACES)) {
				json_t *other;
				rc = kp_txn_get(txn, &id, &other);
				json_decref(other);
				if (rc == KP_OK)
					return s_race(
					    imp, it,
					    "a record with its id was "
					    "added");
				if (rc != KP_ENOTFOUND)
					return rc;
			}
		} else if ((rc = kp_txn_new_id(txn, it->kind, &id))) {
			return rc;
		} else {
			it->n = id.n;
		}
		for (uint32_t k = 0; k < it->nocc; k++) {
			struct kp_slot slot = {.start = occs[k].start,
					       .end = occs[k].end,
					       .owner = id};
			if (recheck) {
				rc =
				    kp_txn_slot_find(txn, it->room, slot.start,
						     slot.end, &imp->race.with);
				if (rc == KP_ECLASH) {
					imp->race.start = slot.start;
					imp->race.end = slot.end;
					imp->race.why = KP_CLASH_BOOKED;
					s_holder_org(txn, &imp->race);
					return s_race(imp, it, "");
				}
				if (rc)
					return rc;
			}
			if ((rc = s_slot_later(imp, it->room, &slot)))
				return rc;
		}
		if ((rc = kp_txn_put_packed(
			 txn, &id, imp->parts[it->part].arena.data + it->off,
			 it->len)))
			return rc;
	}
	if ((rc = s_slots_put(imp, txn)))
		return rc;
	if (!replacing &&
	    kp_txn_head_seq(txn) != imp->head + imp->batch_to - imp->batch_from)
		imp->foreign = true;
	return KP_OK;
}

/* True when the environment variable name is set and not "0"; dflt
 * when it is not set. */
static bool s_env_on(const char *name, bool dflt)
{
	const char *v = getenv(name);
	return v ? strcmp(v, "0") != 0 : dflt;
}

/* The fast path's tables, and its probes (KNUTE_IMPORT_FAST=0: off). */
static void s_fast_init(struct s_import *imp)
{
	struct s_problems problems = {0};
	struct s_part probe = {
	    .hub = imp->hub, .def = &imp->fastdef, .problems = &problems};

	memset(&imp->fastdef, 0, sizeof imp->fastdef);
	if (!s_env_on("KNUTE_IMPORT_FAST", true))
		return;
	s_fast_setup(&imp->fastdef);
	s_part_fast(&probe);
	imp->fastdef.on = probe.fast && s_fast_selftest(&probe);
	s_part_free(&probe);
}

/* The offset just past the first line end at or after at (or the end of
 * the input). */
static size_t s_line_end(const struct s_import *imp, size_t at)
{
	char window[4096];
	const char *nl;
	ssize_t n;

	if (imp->data) {
		nl = memchr(imp->data + at, '\n', imp->len - at);
		return nl ? (size_t)(nl - imp->data) + 1 : imp->len;
	}
	while (at < imp->len) {
		n = pread(imp->fd, window, sizeof window, (off_t)at);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return imp->len; /* read again, and refused, there */
		if ((nl = memchr(window, '\n', (size_t)n)))
			return at + (size_t)(nl - window) + 1;
		at += (size_t)n;
	}
	return imp->len;
}

/* Phase 1: cut the input at line ends into chunks, and read them in a
 * thread per processor. */
static int s_parse_all(struct s_import *imp)
{
	long cpus = sysconf(_SC_NPROCESSORS_ONLN);
	size_t per, want, p = 0;
	struct s_chunks *chunks = &imp->chunks;
	uint64_t base = 0;
	int rc = KP_OK;

	/* A line is some 200 bytes; a small file needs no threads. */
	want = imp->len / 200 / S_LINES_PER_THREAD + 1;
	imp->nparts = cpus < 1 ? 1 : (int)cpus;
	if ((size_t)imp->nparts > want)
		imp->nparts = (int)want;
	if (getenv("KNUTE_IMPORT_THREADS"))
		imp->nparts = atoi(getenv("KNUTE_IMPORT_THREADS"));
	if (imp->nparts < 1)
		imp->nparts = 1;
	if (imp->nparts > S_THREADS_MAX)
		imp->nparts = S_THREADS_MAX;
	chunks->n =
	    imp->nparts > 1 ? (size_t)imp->nparts * S_CHUNKS_PER_THREAD : 1;
	if (!(chunks->chunk = calloc(chunks->n, sizeof *chunks->chunk)))
		return KP_ENOMEM;
	atomic_init(&chunks->next, 0);
	per = imp->len / chunks->n + 1;
	for (size_t i = 0; i < chunks->n; i++) {
		struct s_chunk *c = &chunks->chunk[i];
		c->from = p;
		c->to =
		    imp->len - p > per ? s_line_end(imp, p + per) : imp->len;
		c->part = -1; /* not taken */
		p = c->to;
	}
	json_object_seed(0); /* before threads make objects */
	if (S_BUMP)
		json_set_alloc_funcs(s_bump_malloc, s_bump_free);
	s_fast_init(imp);
	for (int i = 0; i < imp->nparts; i++) {
		struct s_part *part = &imp->parts[i];
		part->hub = imp->hub;
		part->index = i;
		part->chunks = chunks;
		part->data = imp->data;
		part->fd = imp->fd;
		part->def = &imp->fastdef;
		part->crosscheck = s_env_on("KNUTE_IMPORT_CROSSCHECK", false);
		if (i > 0 &&
		    pthread_create(&part->thread, NULL, s_part_run, part)) {
			/* No thread: its chunks go to the others. */
			part->thread = pthread_self();
		}
	}
	s_part_run(&imp->parts[0]);
	for (int i = 1; i < imp->nparts; i++)
		if (!pthread_equal(imp->parts[i].thread, pthread_self()))
			pthread_join(imp->parts[i].thread, NULL);
	/* Number lines from the start of the file, and gather the records
	 * in the order of the lines. */
	for (int i = 0; i < imp->nparts; i++) {
		if (imp->parts[i].rc)
			rc = imp->parts[i].rc;
		imp->nfast += imp->parts[i].nfast;
	}
	for (size_t i = 0; i < chunks->n; i++) {
		struct s_chunk *c = &chunks->chunk[i];
		struct s_part *part;
		if (c->part < 0) {
			rc = rc ? rc : KP_EINTERNAL; /* a thread stopped */
			continue;
		}
		part = &imp->parts[c->part];
		if (c->mismatch && !imp->mismatch)
			imp->mismatch = base + c->mismatch;
		for (size_t k = c->item_from; k < c->item_to; k++) {
			struct s_item *it = s_part_item(part, k);
			it->line += base;
			it->part = (uint8_t)c->part;
			if (!(it->flags & S_BAD))
				imp->norder++;
		}
		for (size_t k = 0; k < c->problems.n; k++) {
			c->problems.top[k].line += base;
			s_problem_add(&imp->problems, &c->problems.top[k]);
		}
		/* The problems not kept were counted. */
		imp->problems.total += c->problems.total - c->problems.n;
		imp->problems.any_invalid |= c->problems.any_invalid;
		base += c->lines;
	}
	imp->lines = base;
	if (rc)
		return rc;
	if (s_vec_reserve(&imp->order, (imp->norder + 1) * sizeof(void *)))
		return KP_ENOMEM;
	imp->norder = 0;
	for (size_t i = 0; i < chunks->n; i++) {
		struct s_chunk *c = &chunks->chunk[i];
		for (size_t k = c->item_from; k < c->item_to; k++) {
			struct s_item *it =
			    s_part_item(&imp->parts[c->part], k);
			if (!(it->flags & S_BAD))
				((struct s_item **)
				     imp->order.data)[imp->norder++] = it;
		}
	}
	return KP_OK;
}

/* ---- input and output ---- */

/* Read all of fd into a new buffer. */
static int s_slurp(int fd, char **out, size_t *outlen)
{
	size_t cap = 1 << 16, len = 0;
	char *buf = malloc(cap);
	ssize_t n;

	if (!buf)
		return KP_ENOMEM;
	for (;;) {
		if (len == cap) {
			char *grown = realloc(buf, cap * 2);
			if (!grown) {
				free(buf);
				return KP_ENOMEM;
			}
			buf = grown;
			cap *= 2;
		}
		n = read(fd, buf + len, cap - len);
		if (n == 0)
			break;
		if (n < 0) {
			if (errno == EINTR)
				continue;
			free(buf);
			return KP_EIO;
		}
		len += (size_t)n;
	}
	*out = buf;
	*outlen = len;
	return KP_OK;
}

static void s_report(struct cli *cli, const struct s_import *imp)
{
	static const char *const plural[] = {
	    "rooms",	  "bookings",	 "activities",
	    "volunteers", "assignments", "attendance records"};
	static const char *const single[] = {"room",	   "booking",
					     "activity",   "volunteer",
					     "assignment", "attendance record"};
	char parts[512] = "";
	size_t used = 0;

	if (cli->json) {
		json_t *counts = json_object();
		for (int i = 0; i < KP_NKINDS; i++)
			json_object_set_new(
			    counts, kp_kind_name(kp_kinds[i]),
			    json_integer((json_int_t)imp->counts[i]));
		cli_print_json(json_pack(
		    "{sIsIsIso}", "imported", (json_int_t)imp->records,
		    "replaced", (json_int_t)imp->replaced, "lines",
		    (json_int_t)imp->lines, "records", counts));
		return;
	}
	for (int i = 0; i < KP_NKINDS; i++) {
		if (!imp->counts[i])
			continue;
		used += (size_t)snprintf(
		    parts + used, sizeof parts - used, "%s%" PRIu64 " %s",
		    used ? ", " : "", imp->counts[i],
		    imp->counts[i] == 1 ? single[i] : plural[i]);
	}
	printf("imported %" PRIu64 " record%s%s%s%s", imp->records,
	       imp->records == 1 ? "" : "s", used ? " (" : "", parts,
	       used ? ")" : "");
	if (imp->replaced)
		printf("; %" PRIu64 " of them replaced records with the same "
		       "id",
		       imp->replaced);
	putchar('\n');
}

static int s_refuse(struct cli *cli, struct s_import *imp)
{
	const struct s_problems *ps = &imp->problems;
	int code = ps->any_invalid ? KP_EINVAL : ps->top[0].code;

	imp->bad_lines = 0;
	for (int i = 0; i < imp->nparts; i++)
		for (size_t k = 0; k < imp->parts[i].nitems; k++)
			if (s_part_item(&imp->parts[i], k)->flags & S_BAD)
				imp->bad_lines++;
	cli_fail(cli, code,
		 "import refused, nothing was written: %" PRIu64 " of %" PRIu64
		 " lines %s (fix %s and run the import again):",
		 imp->bad_lines, imp->lines,
		 imp->bad_lines == 1 ? "has a problem" : "have problems",
		 imp->bad_lines == 1 ? "it" : "them");
	for (size_t i = 0; i < ps->n; i++)
		fprintf(stderr, "  line %" PRIu64 ": %s\n", ps->top[i].line,
			ps->top[i].text);
	if (ps->total > ps->n)
		fprintf(stderr, "  and %" PRIu64 " more\n", ps->total - ps->n);
	return code;
}

/* Phase 3 stopped: say what was written and where to go on. */
static int s_stopped(struct cli *cli, struct s_import *imp, int rc,
		     const char *path)
{
	uint64_t line = s_order(imp, imp->done)->line;
	char text[600];

	if (rc == KP_ECLASH && imp->race_item) {
		if (imp->race_what[0]) {
			s_id_text(imp, imp->race_item->kind, imp->race_item->n,
				  text);
			cli_fail(cli, rc,
				 "line %" PRIu64 ": %s %s while the import "
				 "ran, by another process",
				 imp->race_item->line, imp->race_what, text);
		} else {
			kp_clash_describe(&imp->race, text, sizeof text);
			cli_fail(cli, rc,
				 "line %" PRIu64 ": %s, booked by another "
				 "process while the import ran",
				 imp->race_item->line, text);
		}
	} else {
		cli_store_fail(cli, rc);
	}
	if (imp->done == 0)
		fprintf(stderr, "  nothing of %s was imported\n", path);
	else
		fprintf(stderr,
			"  the import stopped: the records of lines 1 to "
			"%" PRIu64 " (%zu records) were committed and are on "
			"disk, the rest was not written; fix the cause and "
			"import the lines from %" PRIu64 " on\n",
			line - 1, imp->done, line);
	return rc;
}

static double s_clock(clockid_t clock)
{
	struct timespec ts;
	clock_gettime(clock, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static double s_seconds(void)
{
	return s_clock(CLOCK_MONOTONIC);
}

/*
 * Phase 3. A file that only adds records is written in batches. A file
 * that replaces records of the store is written in one transaction, so
 * that freeing their old slots and taking the new ones is one step (a
 * booking may move into the old time of another that the file moves
 * later), at the cost of speed.
 */
/*
 * While the batches are written, a second thread flushes what is
 * committed every S_FLUSH_MS: the disk works while the writer computes,
 * and the final flush, which makes the import durable, has little left.
 * (The writer is one thread; the processor beside it is free.)
 */
#define S_FLUSH_MS 250

struct s_flusher {
	kp_store *store;
	pthread_mutex_t lock;
	pthread_cond_t wake;
	bool stop;
};

static void *s_flusher_run(void *arg)
{
	struct s_flusher *f = arg;
	pthread_mutex_lock(&f->lock);
	while (!f->stop) {
		struct timespec until;
		clock_gettime(CLOCK_REALTIME, &until);
		until.tv_nsec += S_FLUSH_MS * 1000000L;
		until.tv_sec += until.tv_nsec / 1000000000L;
		until.tv_nsec %= 1000000000L;
		pthread_cond_timedwait(&f->wake, &f->lock, &until);
		if (f->stop)
			break;
		pthread_mutex_unlock(&f->lock);
		/* A failure here shows again in the final flush. */
		kp_store_sync(f->store);
		pthread_mutex_lock(&f->lock);
	}
	pthread_mutex_unlock(&f->lock);
	return NULL;
}

/*
 * LMDB keeps each page a write transaction changes in a malloc()ed block
 * of its own and reuses the blocks in later transactions, so the first
 * batch takes its tens of megabytes of fresh heap 4 KiB at a time. In a
 * virtual machine with shadow page tables a page fault costs some 25 us:
 * those faults alone took 0.2 s. So the heap is grown here once, its
 * pages mapped in one call (MADV_POPULATE_WRITE, a microsecond or two a
 * page), and kept when freed, and LMDB's blocks come from memory that is
 * mapped already. The pieces stay below the size from which glibc maps a
 * block of its own (32 MiB at most) and come one after the other from
 * the top of the heap. Where any step fails this only costs the time.
 */
#define S_HEAP_PIECE ((size_t)16 << 20)
#define S_HEAP_MAX   8 /* pieces */

static void s_heap_ready(size_t bytes)
{
	char *piece[S_HEAP_MAX];
	uintptr_t page = (uintptr_t)sysconf(_SC_PAGESIZE);
	uintptr_t lo = UINTPTR_MAX, hi = 0;
	int n = 0;

	if (!mallopt(M_TRIM_THRESHOLD, 1 << 30) ||
	    !mallopt(M_MMAP_THRESHOLD, (int)(2 * S_HEAP_PIECE)))
		return; /* not glibc's malloc (the sanitizers' own) */
	while (n < S_HEAP_MAX && (size_t)n * S_HEAP_PIECE < bytes &&
	       (piece[n] = malloc(S_HEAP_PIECE))) {
		if ((uintptr_t)piece[n] < lo)
			lo = (uintptr_t)piece[n];
		if ((uintptr_t)piece[n] + S_HEAP_PIECE > hi)
			hi = (uintptr_t)piece[n] + S_HEAP_PIECE;
		n++;
	}
	lo = (lo + page - 1) & ~(page - 1);
	hi &= ~(page - 1);
	if (n && hi > lo && hi - lo <= (uintptr_t)n * (S_HEAP_PIECE + page))
		madvise((void *)lo, hi - lo, MADV_POPULATE_WRITE);
	while (n > 0)
		free(piece[--n]);
}

/* Records per write transaction: S_BATCH, or KNUTE_IMPORT_BATCH (for
 * measuring, and for tests of the batches with a small file). */
static size_t s_batch_size(void)
{
	const char *env = getenv("KNUTE_IMPORT_BATCH");
	long n = env ? atol(env) : 0;
	return n > 0 ? (size_t)n : S_BATCH;
}

/*
 * The heap the import needs at once, made ready before phase 2: phase 2's
 * tables (the ids the file gives, every occurrence that holds a room),
 * freed when it ends, and then LMDB's pages for a batch: about each
 * record twice (the record and its oplog entry) and its slots, with room
 * for pages half full.
 */
static size_t s_heap_need(const struct s_import *imp)
{
	size_t batch = s_batch_size(), check = 0, write = 0;
	for (size_t i = 0; i < imp->norder; i++) {
		const struct s_item *it = s_order(imp, i);
		if (it->flags & S_HAS_ID)
			check += sizeof(struct s_given);
		check += it->nocc * sizeof(struct s_held);
		if (i < batch)
			write += 2 * (2 * (size_t)it->len + 96 +
				      48 * (size_t)it->nocc);
	}
	return check > write ? check : write;
}

static int s_write(struct s_import *imp)
{
	size_t batch = imp->replaced ? imp->norder : s_batch_size();
	struct s_flusher f = {.store = imp->cli->store,
			      .lock = PTHREAD_MUTEX_INITIALIZER,
			      .wake = PTHREAD_COND_INITIALIZER};
	pthread_t flusher;
	bool flushing;
	int rc, src;

	if ((rc = kp_store_bulk(imp->cli->store, true)))
		return rc;
	flushing = imp->norder > batch &&
		   !pthread_create(&flusher, NULL, s_flusher_run, &f);
	for (imp->done = 0; imp->done < imp->norder;) {
		imp->batch_from = imp->done;
		imp->batch_to = imp->norder - imp->done > batch
				    ? imp->done + batch
				    : imp->norder;
		if ((rc = kp_store_write(imp->cli->store, s_batch_txn, imp)))
			break;
		imp->done = imp->batch_to;
		imp->head += imp->batch_to - imp->batch_from;
	}
	if (flushing) {
		pthread_mutex_lock(&f.lock);
		f.stop = true;
		pthread_cond_signal(&f.wake);
		pthread_mutex_unlock(&f.lock);
		pthread_join(flusher, NULL);
	}
	/* Leaving bulk mode flushes what was committed. */
	imp->sync_from = s_seconds();
	src = kp_store_bulk(imp->cli->store, false);
	return rc ? rc : src;
}

static int s_run(struct s_import *imp, const char *path)
{
	struct cli *cli = imp->cli;
	bool timing = getenv("KNUTE_IMPORT_TIMING") != NULL;
	double t0 = s_seconds(), t1, t2, c2;
	int rc;

	if ((rc = s_parse_all(imp)) && imp->mismatch)
		return cli_fail(cli, rc,
				"line %" PRIu64 " of %s reads differently the "
				"fast and the slow way: a bug in knute import; "
				"import with KNUTE_IMPORT_FAST=0 and report it",
				imp->mismatch, path);
	if (rc)
		return cli_fail(cli, rc, "cannot read %s: %s", path,
				kp_strerror(rc));
	t1 = s_seconds();
	if (s_heap_need(imp) >= S_HEAP_PIECE / 2)
		s_heap_ready(s_heap_need(imp));
	rc = kp_store_read(cli->store, s_check_txn, imp);
	/* The ids are for phase 2 only: their heap goes to LMDB. */
	for (int i = 0; i < KP_NKINDS; i++)
		s_vec_free(&imp->ids[i]);
	if (rc)
		return cli_store_fail(cli, rc);
	if (imp->problems.total)
		return s_refuse(cli, imp);
	t2 = s_seconds();
	c2 = s_clock(CLOCK_THREAD_CPUTIME_ID);
	rc = s_write(imp);
	if (timing)
		fprintf(stderr,
			"knute: import phases: parse %.3f s (%d threads, "
			"%" PRIu64 " of %" PRIu64 " lines the fast way%s), "
			"check %.3f s, write %.3f s (%.3f s of processor; "
			"the final flush %.3f s)\n",
			t1 - t0, imp->nparts, imp->nfast, imp->lines,
			imp->fastdef.on ? "" : ", fast way off", t2 - t1,
			s_seconds() - t2, s_clock(CLOCK_THREAD_CPUTIME_ID) - c2,
			s_seconds() - imp->sync_from);
	if (rc)
		return s_stopped(cli, imp, rc, path);
	for (size_t i = 0; i < imp->norder; i++)
		imp->counts[strchr(kp_kinds, s_order(imp, i)->kind) -
			    kp_kinds]++;
	imp->records = imp->norder;
	s_report(cli, imp);
	return KP_OK;
}

static int s_import(struct cli *cli)
{
	struct s_import imp = {
	    .cli = cli, .hub = kp_store_hub(cli->store), .fd = -1};
	const char *path;
	char *copy = NULL;
	struct stat st;
	int fd = -1, rc;

	if (cli->npos != 1)
		return cli_fail(cli, KP_EINVAL,
				"give one file: knute import FILE (or - for "
				"standard input)");
	if (kp_store_is_central(cli->store))
		return cli_fail(cli, KP_EINVAL,
				"import loads a hub's own records; %s is "
				"central's store",
				cli->data);
	path = cli->pos[0];
	if (!strcmp(path, "-")) {
		fd = STDIN_FILENO;
	} else if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0) {
		return cli_fail(cli, errno == ENOENT ? KP_ENOTFOUND : KP_EINVAL,
				"cannot open %s: %s", path, strerror(errno));
	}
	if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode)) {
		/* Read where it lies, in pieces (s_chunk_read). */
		imp.fd = fd;
		imp.len = (size_t)st.st_size;
	} else {
		if ((rc = s_slurp(fd, &copy, &imp.len))) {
			rc = cli_fail(cli, rc, "cannot read %s: %s", path,
				      kp_strerror(rc));
			goto out;
		}
		imp.data = copy;
	}
	rc = s_run(&imp, path);
out:
	for (int i = 0; i < imp.nparts; i++)
		s_part_free(&imp.parts[i]);
	free(imp.chunks.chunk);
	for (size_t i = 0; i < imp.nrooms; i++)
		json_decref(imp.rooms[i].rec);
	free(imp.rooms);
	free(imp.rank);
	free(imp.bucket);
	s_vec_free(&imp.later);
	s_vec_free(&imp.sorted);
	s_vec_free(&imp.order);
	for (int i = 0; i < KP_NKINDS; i++)
		s_vec_free(&imp.ids[i]);
	s_map_free(&imp.room_at);
	free(copy);
	if (fd > STDIN_FILENO)
		close(fd);
	return rc;
}

const struct cli_command cli_import_commands[] = {
    {"import", NULL, s_import, "", "import FILE",
     "Load records from JSON Lines (one record per line, in the shape "
     "--json prints them: \"kind\", the kind's fields, and optionally "
     "\"id\" and \"hub\"); FILE '-' reads standard input.\n"
     "Every line is checked before anything is written; a file with any "
     "bad line is refused whole (exit 2), listing the lines and what is "
     "wrong. Bookings and activities with a room follow the clash rule, "
     "against the store and against each other (a clash refuses the file, "
     "exit 3); rooms must come before the bookings that use them. A record "
     "with an id of this hub keeps it (and replaces a record with that "
     "id); one without gets a new id. The import is durable when the "
     "command returns.",
     false},
    {0},
};
