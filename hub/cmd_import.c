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
 *                 processor, each over its own part of the file;
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
 *                 which the import is durable.
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
 * stderr, KNUTE_IMPORT_THREADS=N sets the parsing threads.
 */
#define _GNU_SOURCE /* mremap() */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
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
 * quarter of the import's time.
 */
struct s_vec {
	char *data;
	size_t len, cap; /* bytes */
};

static int s_vec_reserve(struct s_vec *v, size_t more)
{
	size_t cap;
	void *p;
	if (v->len + more <= v->cap)
		return KP_OK;
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
	if (v->data)
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

struct s_item {
	uint64_t line;
	uint64_t n;		   /* the id's number: given, or from phase 3 */
	uint64_t room;		   /* the room whose slots it holds, or 0 */
	size_t off;		   /* its msgpack in the part's arena ... */
	const char *bytes;	   /* ... and where that is, after phase 1 */
	size_t occ;		   /* its first occurrence in the part's list */
	const struct s_span *occs; /* ... and where that is */
	uint32_t len, nocc;
	json_t *rec; /* kept for rooms, assignments, attendance */
	char kind;
	uint8_t flags;
};

/* One thread's part of the file. */
struct s_part {
	const char *hub;
	const char *from, *to;
	uint64_t lines;	    /* lines in the part, blank ones too */
	struct s_vec items; /* struct s_item */
	size_t nitems;
	struct s_vec arena; /* the encoded records */
	struct kp_buf buf;  /* one record's encoding */
	struct s_vec occ;   /* struct s_span */
	size_t nocc;
	struct s_problems problems;
	char *scratch; /* for texts with escapes */
	size_t capscratch;
	int rc; /* out of memory */
	pthread_t thread;
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
				s_problem(&part->problems, lineno, KP_EINVAL,
					  "byte %zu is not valid UTF-8 "
					  "(0x%02x): save the file as UTF-8",
					  i + 1, u[i]);
				return NULL;
			}
			i += n - 1;
		}
		s_problem(&part->problems, lineno, KP_EINVAL,
			  "not a JSON object: %s (column %d)", jerr.text,
			  jerr.column);
		return NULL;
	}
	if (!json_is_object(rec)) {
		s_problem(&part->problems, lineno, KP_EINVAL,
			  "a record must be a JSON object {...}, not an array");
	} else if (s_depth(rec) > S_DEPTH_MAX) {
		s_problem(&part->problems, lineno, KP_EINVAL,
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
			s_problem(&part->problems, lineno, KP_EINVAL,
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
		s_problem(&part->problems, lineno, KP_EINVAL,
			  "the record belongs to hub \"%.40s\", not to this "
			  "hub (%s): import it at its own hub",
			  json_is_string(v) ? json_string_value(v) : "?",
			  part->hub);
		return false;
	}
	v = json_object_get(rec, "id");
	if (v) {
		if (!json_is_string(v)) {
			s_problem(&part->problems, lineno, KP_EINVAL,
				  "\"id\" must be text such as \"%s:b12\"",
				  part->hub);
			return false;
		}
		if (kp_id_parse(json_string_value(v), part->hub, it->kind, &id,
				err)) {
			s_problem(&part->problems, lineno, KP_EINVAL,
				  "\"id\": %s", err);
			return false;
		}
		if (strcmp(id.hub, part->hub)) {
			s_problem(&part->problems, lineno, KP_EINVAL,
				  "the id %.60s is of hub %s, not of this hub "
				  "(%s): import it at its own hub",
				  json_string_value(v), id.hub, part->hub);
			return false;
		}
		if (id.n == UINT64_MAX) {
			s_problem(&part->problems, lineno, KP_EINVAL,
				  "the id %.60s is too large",
				  json_string_value(v));
			return false;
		}
		it->kind = id.kind;
		it->n = id.n;
		it->flags |= S_HAS_ID;
	}
	if (!it->kind) {
		s_problem(&part->problems, lineno, KP_EINVAL,
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
			s_problem(&part->problems, lineno, KP_EINVAL,
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
		s_problem(&part->problems, lineno, KP_EINVAL,
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
	it->flags = S_BAD; /* until it passed every check */
	if (len > S_LINE_MAX) {
		s_problem(&part->problems, lineno, KP_EINVAL,
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
		s_problem(&part->problems, lineno, KP_EINVAL, "%s", err);
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
				s_problem(&part->problems, lineno, KP_EINVAL,
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

static bool s_blank(const char *p, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if (p[i] != ' ' && p[i] != '\t' && p[i] != '\r')
			return false;
	return true;
}

static void *s_part_run(void *arg)
{
	struct s_part *part = arg;
	const char *p = part->from;
	uint64_t lineno = 0;

	if (S_BUMP && (s_bump.base = malloc(S_BUMP_SIZE))) {
		s_bump.cur = s_bump.base;
		s_bump.end = s_bump.base + S_BUMP_SIZE;
	}
	s_bump_use(true);
	while (p < part->to && !part->rc) {
		const char *nl = memchr(p, '\n', (size_t)(part->to - p));
		size_t len = nl ? (size_t)(nl - p) : (size_t)(part->to - p);
		lineno++;
		if (!s_blank(p, len)) {
			s_line(part, p, len, lineno);
			/* Every value of the line is gone or copied. */
			s_bump.cur = s_bump.base;
		}
		p = nl ? nl + 1 : part->to;
	}
	s_bump_use(false);
	free(s_bump.base);
	memset(&s_bump, 0, sizeof s_bump);
	part->lines = lineno;
	return NULL;
}

static struct s_item *s_part_item(struct s_part *part, size_t i)
{
	return (struct s_item *)part->items.data + i;
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
	const char *data;
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
	uint64_t replaced; /* records of the store the file replaces */
	uint64_t head;	   /* the oplog head the checks saw */
	bool foreign;	   /* another process wrote since the checks */
	size_t done;	   /* items committed */
	size_t batch_from, batch_to;
	const struct s_item *race_item;
	struct kp_clash race;
	char race_what[KP_ID_STRLEN + 80];
	struct s_local memo[S_MEMO]; /* see s_local_of */
	double sync_from;	     /* when the final flush began */
};

static struct s_item *s_order(const struct s_import *imp, size_t i)
{
	return ((struct s_item **)imp->order.data)[i];
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

static int64_t s_days_from_civil(int y, int m, int d)
{
	int64_t era, yoe, doy, doe;
	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = y - era * 400;
	doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
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
		m->days = s_days_from_civil(y, mo, d);
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
	bool sorted[KP_NKINDS];

	for (int k = 0; k < KP_NKINDS; k++)
		sorted[k] = true;
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
	for (uint32_t i = 0; i < it->nocc; i++) {
		memset(&c, 0, sizeof c);
		c.start = it->occs[i].start;
		c.end = it->occs[i].end;
		if (room->has_hours &&
		    !s_covers(imp, &room->hours, c.start, c.end)) {
			c.why = KP_CLASH_HOURS;
		} else if (closures &&
			   s_closed(closures, c.start, c.end, c.reason)) {
			c.why = KP_CLASH_CLOSED;
		} else if (room->has_slots) {
			rc = s_store_clash(imp, txn, room->n, c.start, c.end,
					   &c.with, 0);
			if (rc == KP_OK)
				continue;
			if (rc != KP_ECLASH)
				return rc;
			c.why = KP_CLASH_BOOKED;
			s_holder_org(txn, &c);
		} else {
			continue;
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
	struct s_vec held = {0};
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
		const struct s_map_slot *slot;
		if (!it->room || (it->flags & S_BAD))
			continue;
		slot = s_map_find(&imp->room_at, KP_ROOM, it->room);
		for (uint32_t k = 0; k < it->nocc; k++)
			((struct s_held *)held.data)[at[slot->value]++] =
			    (struct s_held){it->occs[k].start, it->occs[k].end,
					    it};
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
	int rc;

	imp->head = kp_txn_head_seq(txn);
	if ((rc = s_ids_build(imp)))
		return rc;
	/* Records the file replaces; the file's rooms. */
	for (size_t i = 0; i < imp->norder; i++) {
		struct s_item *it = s_order(imp, i);
		struct kp_id id = {.kind = it->kind, .n = it->n};
		bool fresh;
		if ((it->flags & (S_HAS_ID | S_BAD)) != S_HAS_ID)
			continue;
		/* In a read snapshot this only answers: an id past every id
		 * handed out cannot be in the store. */
		snprintf(id.hub, sizeof id.hub, "%s", imp->hub);
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
			struct kp_slot slot = {.start = it->occs[k].start,
					       .end = it->occs[k].end,
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
			if ((rc = kp_txn_slot_add(txn, it->room, &slot)))
				return rc;
		}
		if ((rc = kp_txn_put_packed(txn, &id, it->bytes, it->len)))
			return rc;
	}
	if (!replacing &&
	    kp_txn_head_seq(txn) != imp->head + imp->batch_to - imp->batch_from)
		imp->foreign = true;
	return KP_OK;
}

/* Phase 1: split the input at line ends, one part per thread. */
static int s_parse_all(struct s_import *imp)
{
	long cpus = sysconf(_SC_NPROCESSORS_ONLN);
	size_t per, want;
	const char *p = imp->data, *end = imp->data + imp->len;
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
	per = imp->len / (size_t)imp->nparts + 1;
	json_object_seed(0); /* before threads make objects */
	if (S_BUMP)
		json_set_alloc_funcs(s_bump_malloc, s_bump_free);
	for (int i = 0; i < imp->nparts; i++) {
		struct s_part *part = &imp->parts[i];
		const char *to = (size_t)(end - p) > per ? p + per : end;
		if (to < end) {
			const char *nl = memchr(to, '\n', (size_t)(end - to));
			to = nl ? nl + 1 : end;
		}
		part->hub = imp->hub;
		part->from = p;
		part->to = to;
		p = to;
		if (i > 0 &&
		    pthread_create(&part->thread, NULL, s_part_run, part)) {
			/* No thread: run it here, after the others. */
			part->thread = pthread_self();
		}
	}
	s_part_run(&imp->parts[0]);
	for (int i = 1; i < imp->nparts; i++) {
		struct s_part *part = &imp->parts[i];
		if (pthread_equal(part->thread, pthread_self()))
			s_part_run(part);
		else
			pthread_join(part->thread, NULL);
	}
	/* Number lines from the start of the file, and gather. */
	for (int i = 0; i < imp->nparts; i++) {
		struct s_part *part = &imp->parts[i];
		if (part->rc)
			rc = part->rc;
		for (size_t k = 0; k < part->nitems; k++) {
			struct s_item *it = s_part_item(part, k);
			it->line += base;
			/* An empty vector has no memory at all. */
			it->bytes = part->arena.data
					? part->arena.data + it->off
					: NULL;
			it->occs = part->occ.data
				       ? (const struct s_span *)part->occ.data +
					     it->occ
				       : NULL;
			if (!(it->flags & S_BAD))
				imp->norder++;
		}
		for (size_t k = 0; k < part->problems.n; k++) {
			part->problems.top[k].line += base;
			s_problem_add(&imp->problems, &part->problems.top[k]);
		}
		/* The problems not kept were counted. */
		imp->problems.total += part->problems.total - part->problems.n;
		imp->problems.any_invalid |= part->problems.any_invalid;
		base += part->lines;
	}
	imp->lines = base;
	if (rc)
		return rc;
	if (s_vec_reserve(&imp->order, (imp->norder + 1) * sizeof(void *)))
		return KP_ENOMEM;
	imp->norder = 0;
	for (int i = 0; i < imp->nparts; i++)
		for (size_t k = 0; k < imp->parts[i].nitems; k++) {
			struct s_item *it = s_part_item(&imp->parts[i], k);
			if (!(it->flags & S_BAD))
				((struct s_item **)
				     imp->order.data)[imp->norder++] = it;
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

static double s_seconds(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
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

static int s_write(struct s_import *imp)
{
	size_t batch = imp->replaced ? imp->norder : S_BATCH;
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
	double t0 = s_seconds(), t1, t2;
	int rc;

	if ((rc = s_parse_all(imp)))
		return cli_fail(cli, rc, "cannot read %s: %s", path,
				kp_strerror(rc));
	t1 = s_seconds();
	if ((rc = kp_store_read(cli->store, s_check_txn, imp)))
		return cli_store_fail(cli, rc);
	if (imp->problems.total)
		return s_refuse(cli, imp);
	t2 = s_seconds();
	rc = s_write(imp);
	if (timing)
		fprintf(stderr,
			"knute: import phases: parse %.3f s (%d threads), "
			"check %.3f s, write %.3f s (of which the final "
			"flush %.3f s)\n",
			t1 - t0, imp->nparts, t2 - t1, s_seconds() - t2,
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
	struct s_import imp = {.cli = cli, .hub = kp_store_hub(cli->store)};
	const char *path;
	char *copy = NULL;
	void *map = NULL;
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
	if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && st.st_size > 0) {
		map = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd,
			   0);
		if (map == MAP_FAILED) {
			map = NULL;
		} else {
			madvise(map, (size_t)st.st_size, MADV_SEQUENTIAL);
			imp.data = map;
			imp.len = (size_t)st.st_size;
		}
	}
	if (!map) {
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
	for (size_t i = 0; i < imp.nrooms; i++)
		json_decref(imp.rooms[i].rec);
	free(imp.rooms);
	s_vec_free(&imp.order);
	for (int i = 0; i < KP_NKINDS; i++)
		s_vec_free(&imp.ids[i]);
	s_map_free(&imp.room_at);
	if (map)
		munmap(map, imp.len);
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
