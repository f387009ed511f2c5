/*
 * ktime.c - local time, weekly hours and recurring series (see ktime.h).
 *
 * NOTES ON THE DESIGN
 *
 * The zone is the process's TZ; the C library reads the system's tzdata,
 * which knows every change of offset. Dates are counted as whole days since
 * 1970-01-01 (kp_days_from_civil) and a wall-clock time as "wall seconds":
 * days * 86400 + seconds of the day, as if the zone were UTC. An instant t
 * shows wall time w when t + offset(t) == w.
 *
 * Turning a wall time into an instant (s_resolve) tries the offsets in force
 * a day before, at and a day after w. A candidate t = w - offset is good
 * when offset(t) really is that offset. Then:
 *
 *   one good candidate     the ordinary case;
 *   two good candidates    the hour repeated in autumn: the earlier instant,
 *                          the first (summer time) reading, is taken;
 *   none                   the hour skipped in spring. kp_time_parse() and
 *                          kp_local_make() refuse it; a series moves the
 *                          occurrence forward by the gap, reading w with
 *                          the offset from before the gap (what mktime()
 *                          does), so 02:30 becomes 03:30 in Europe/Oslo;
 *                          a day or a span that "starts" or "ends" in the
 *                          gap uses the instant the clocks jumped.
 *
 * Comparing offsets rather than trying tm_isdst = 1 and then 0 with
 * mktime() gives the same answers in Europe/Oslo, and stays right in zones
 * whose change is not a summer-time flag (negative DST in Europe/Dublin, a
 * skipped day in Pacific/Apia).
 */
#include "knute/ktime.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "knute/error.h"

/* Series run past 2038; a 32-bit time_t cannot hold their instants. */
_Static_assert(sizeof(time_t) >= 8, "knutepunkt needs a 64-bit time_t");

#define S_DAY	   86400
#define S_YEAR_MIN 1900
#define S_YEAR_MAX 9999
#define S_ZONE_MAX 128

static const char *const s_day_names[] = {"mon", "tue", "wed", "thu",
					  "fri", "sat", "sun"};

static const char s_week_usage[] =
    "use DAYS HH:MM-HH:MM, e.g. 'mon-fri 08:00-22:00, sat 10:00-16:00'";

/*
 * Zone and clock.
 */

/* True for a name made of the characters IANA zone names use. */
static bool s_zone_name_ok(const char *zone)
{
	size_t n = strlen(zone);

	if (n == 0 || n > S_ZONE_MAX || zone[0] == '/' || strstr(zone, ".."))
		return false;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)zone[i];
		if (!isalnum(c) && !strchr("/_-+.", c))
			return false;
	}
	return true;
}

int kp_tz_set(const char *zone)
{
	char path[sizeof "/usr/share/zoneinfo/" + S_ZONE_MAX];
	char magic[4];
	FILE *f;
	bool tzif;

	if (!zone || !s_zone_name_ok(zone))
		return KP_EINVAL;
	snprintf(path, sizeof path, "/usr/share/zoneinfo/%s", zone);
	/* A zone is a compiled tzdata file; zone.tab or a directory is not,
	 * and the C library would silently fall back to UTC. */
	f = fopen(path, "rb");
	if (!f)
		return KP_EINVAL;
	tzif = fread(magic, 1, sizeof magic, f) == sizeof magic &&
	       !memcmp(magic, "TZif", sizeof magic);
	fclose(f);
	if (!tzif)
		return KP_EINVAL;
	if (setenv("TZ", zone, 1))
		return KP_ENOMEM;
	tzset();
	return KP_OK;
}

int64_t kp_now(void)
{
	struct timespec ts;

	if (clock_gettime(CLOCK_REALTIME, &ts))
		return (int64_t)time(NULL);
	return (int64_t)ts.tv_sec;
}

/*
 * Calendar arithmetic, proleptic Gregorian, in days since 1970-01-01
 * (days_from_civil of Howard Hinnant's "chrono-Compatible Low-Level Date
 * Algorithms").
 */

static bool s_leap(int y)
{
	return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

static int s_days_in_month(int y, int m)
{
	static const int days[] = {31, 28, 31, 30, 31, 30,
				   31, 31, 30, 31, 30, 31};

	return m == 2 && s_leap(y) ? 29 : days[m - 1];
}

static bool s_date_valid(int y, int m, int d)
{
	return y >= S_YEAR_MIN && y <= S_YEAR_MAX && m >= 1 && m <= 12 &&
	       d >= 1 && d <= s_days_in_month(y, m);
}

int64_t kp_days_from_civil(int y, int m, int d)
{
	int64_t yy = y - (m <= 2);
	int64_t era = (yy >= 0 ? yy : yy - 399) / 400;
	int64_t yoe = yy - era * 400;
	int64_t doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
	int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;

	return era * 146097 + doe - 719468;
}

int kp_hhmm_parse(const char *s, int *minute_of_day)
{
	int h, m;
	if (!s || strlen(s) != 5 || s[2] != ':' || s[0] < '0' || s[0] > '9' ||
	    s[1] < '0' || s[1] > '9' || s[3] < '0' || s[3] > '9' ||
	    s[4] < '0' || s[4] > '9')
		return KP_EINVAL;
	h = (s[0] - '0') * 10 + (s[1] - '0');
	m = (s[3] - '0') * 10 + (s[4] - '0');
	if (h > 23 || m > 59)
		return KP_EINVAL;
	*minute_of_day = h * 60 + m;
	return KP_OK;
}

void kp_civil_from_days(int64_t z, int *y, int *m, int *d)
{
	int64_t era, doe, yoe, doy, mp;
	z += 719468;
	era = (z >= 0 ? z : z - 146096) / 146097;
	doe = z - era * 146097;
	yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	mp = (5 * doy + 2) / 153;
	*d = (int)(doy - (153 * mp + 2) / 5 + 1);
	*m = (int)(mp < 10 ? mp + 3 : mp - 9);
	*y = (int)(yoe + era * 400 + (*m <= 2));
}

/* The weekday of a day number, 0 = Monday (1970-01-01 was a Thursday). */
static int s_weekday_of(int64_t days)
{
	return (int)(((days % 7) + 7 + 3) % 7);
}

/*
 * Wall clock and instants.
 */

/* The local broken-down time of t; false only if t is out of range. */
static bool s_local_tm(int64_t t, struct tm *tm)
{
	time_t tt = (time_t)t;

	return localtime_r(&tt, tm) != NULL;
}

/* The zone's offset from UTC at t, in seconds. For the years a date may
 * have here (S_YEAR_MIN..S_YEAR_MAX) localtime_r() cannot fail. */
static long s_offset_at(int64_t t)
{
	struct tm tm;

	return s_local_tm(t, &tm) ? tm.tm_gmtoff : 0;
}

/* The wall seconds and day number of the local time of t. */
static bool s_wall_of(int64_t t, int64_t *days, int *sec_of_day)
{
	struct tm tm;

	if (!s_local_tm(t, &tm))
		return false;
	*days =
	    kp_days_from_civil(tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday);
	*sec_of_day = tm.tm_hour * 3600 + tm.tm_min * 60 + tm.tm_sec;
	return true;
}

/* How one wall time maps onto instants. */
struct s_resolved {
	bool exists;   /* false inside the gap of a forward change */
	int64_t first; /* exists: the first instant showing the wall time */
	int64_t moved; /* gap: read with the offset from before the gap */
	int64_t jump;  /* gap: the instant the clocks jumped */
};

/* The first instant in (lo, hi] whose offset is not before, given that lo
 * still has offset before and hi no longer has. */
static int64_t s_jump_between(int64_t lo, int64_t hi, long before)
{
	while (hi - lo > 1) {
		int64_t mid = lo + (hi - lo) / 2;
		if (s_offset_at(mid) == before)
			lo = mid;
		else
			hi = mid;
	}
	return hi;
}

static void s_resolve(int64_t wall, struct s_resolved *r)
{
	long before = s_offset_at(wall - S_DAY);
	long after = s_offset_at(wall + S_DAY);
	long offsets[3] = {before, s_offset_at(wall), after};

	memset(r, 0, sizeof *r);
	for (int i = 0; i < 3; i++) {
		int64_t t = wall - offsets[i];
		if (s_offset_at(t) == offsets[i] &&
		    (!r->exists || t < r->first)) {
			r->exists = true;
			r->first = t;
		}
	}
	if (r->exists)
		return;
	r->moved = wall - before;
	/* In a gap the clocks went forward, so after > before; the test
	 * only keeps a zone with stranger data from looping. */
	r->jump = after > before
		      ? s_jump_between(wall - after, wall - before, before)
		      : r->moved;
}

/* The instant of a wall time, or KP_EINVAL if it does not exist. */
static int s_local_exact(int64_t wall, int64_t *out)
{
	struct s_resolved r;

	s_resolve(wall, &r);
	if (!r.exists)
		return KP_EINVAL;
	*out = r.first;
	return KP_OK;
}

/* The instant of a wall time, moved forward by the gap if it is skipped. */
static int64_t s_local_moved(int64_t wall)
{
	struct s_resolved r;

	s_resolve(wall, &r);
	return r.exists ? r.first : r.moved;
}

/* The first instant whose wall time is wall or later. */
static int64_t s_local_at_or_after(int64_t wall)
{
	struct s_resolved r;

	s_resolve(wall, &r);
	return r.exists ? r.first : r.jump;
}

/*
 * Parsing and formatting of times and dates.
 */

/* Read exactly n digits at *p. */
static bool s_digits(const char **p, int n, int *out)
{
	int v = 0;

	for (int i = 0; i < n; i++) {
		if (!isdigit((unsigned char)(*p)[i]))
			return false;
		v = v * 10 + ((*p)[i] - '0');
	}
	*p += n;
	*out = v;
	return true;
}

static bool s_char(const char **p, char c)
{
	if (**p != c)
		return false;
	(*p)++;
	return true;
}

/* "YYYY-MM-DD" at *p, a real date. */
static bool s_date_at(const char **p, int *y, int *m, int *d)
{
	return s_digits(p, 4, y) && s_char(p, '-') && s_digits(p, 2, m) &&
	       s_char(p, '-') && s_digits(p, 2, d) && s_date_valid(*y, *m, *d);
}

int kp_date_parse(const char *text, int *year, int *month, int *day)
{
	const char *p = text;
	int y, m, d;

	if (!text || !s_date_at(&p, &y, &m, &d) || *p)
		return KP_EINVAL;
	*year = y;
	*month = m;
	*day = d;
	return KP_OK;
}

int kp_date_start(int year, int month, int day, int64_t *out)
{
	if (!s_date_valid(year, month, day))
		return KP_EINVAL;
	/* Where clocks skip midnight, the day starts when they jump. */
	*out =
	    s_local_at_or_after(kp_days_from_civil(year, month, day) * S_DAY);
	return KP_OK;
}

int kp_local_make(int year, int month, int day, int minute_of_day, int64_t *out)
{
	if (!s_date_valid(year, month, day) || minute_of_day < 0 ||
	    minute_of_day > 1440)
		return KP_EINVAL;
	/* Minute 1440 is the midnight that starts the next day. */
	return s_local_exact(kp_days_from_civil(year, month, day) * S_DAY +
				 (int64_t)minute_of_day * 60,
			     out);
}

int kp_time_parse(const char *text, int64_t *out)
{
	const char *p = text;
	int y, mo, d, h, mi, s = 0;
	char sep;
	int64_t wall;

	if (!text || !s_date_at(&p, &y, &mo, &d))
		return KP_EINVAL;
	sep = *p;
	if (sep != ' ' && sep != 'T')
		return KP_EINVAL;
	p++;
	if (!s_digits(&p, 2, &h) || !s_char(&p, ':') || !s_digits(&p, 2, &mi))
		return KP_EINVAL;
	if (s_char(&p, ':') && !s_digits(&p, 2, &s))
		return KP_EINVAL;
	if (h > 23 || mi > 59 || s > 59)
		return KP_EINVAL;
	wall = kp_days_from_civil(y, mo, d) * S_DAY + h * 3600 + mi * 60 + s;
	if (sep == 'T' && p[0] == 'Z' && p[1] == 0) {
		*out = wall;
		return KP_OK;
	}
	if (*p)
		return KP_EINVAL;
	return s_local_exact(wall, out);
}

void kp_local_parts(int64_t t, int *year, int *month, int *day, int *weekday,
		    int *minute_of_day)
{
	struct tm tm;

	if (!s_local_tm(t, &tm))
		memset(&tm, 0, sizeof tm);
	if (year)
		*year = tm.tm_year + 1900;
	if (month)
		*month = tm.tm_mon + 1;
	if (day)
		*day = tm.tm_mday;
	if (weekday)
		*weekday = (tm.tm_wday + 6) % 7;
	if (minute_of_day)
		*minute_of_day = tm.tm_hour * 60 + tm.tm_min;
}

void kp_time_format(int64_t t, char *buf)
{
	struct tm tm;

	if (!s_local_tm(t, &tm) ||
	    !strftime(buf, KP_TIME_STRLEN, "%Y-%m-%d %H:%M", &tm))
		snprintf(buf, KP_TIME_STRLEN, "?");
}

void kp_time_format_utc(int64_t t, char *buf)
{
	time_t tt = (time_t)t;
	struct tm tm;

	if (!gmtime_r(&tt, &tm) ||
	    !strftime(buf, KP_TIME_STRLEN, "%Y-%m-%dT%H:%M:%SZ", &tm))
		snprintf(buf, KP_TIME_STRLEN, "?");
}

void kp_date_format(int year, int month, int day, char *buf)
{
	/* The remainders only bound the width for a date that is not real;
	 * every real date prints unchanged. */
	snprintf(buf, KP_TIME_STRLEN, "%04d-%02d-%02d", year % 10000,
		 month % 100, day % 100);
}

/*
 * Weekdays and day lists.
 */

int kp_weekday_parse(const char *name, int *weekday)
{
	for (int i = 0; name && i < 7; i++) {
		if (!strcasecmp(name, s_day_names[i])) {
			*weekday = i;
			return KP_OK;
		}
	}
	return KP_EINVAL;
}

const char *kp_weekday_name(int weekday)
{
	return weekday >= 0 && weekday < 7 ? s_day_names[weekday] : "?";
}

static const char *s_skip_space(const char *p, const char *end)
{
	while (p < end && isspace((unsigned char)*p))
		p++;
	return p;
}

/* A day name at *p (after optional space), three letters in any case. */
static bool s_day_at(const char **p, const char *end, int *weekday)
{
	const char *q = s_skip_space(*p, end);
	char name[4];

	if (end - q < 3 || (end - q > 3 && isalpha((unsigned char)q[3])))
		return false;
	memcpy(name, q, 3);
	name[3] = 0;
	if (kp_weekday_parse(name, weekday))
		return false;
	*p = q + 3;
	return true;
}

/* Days and day ranges between p and end ("mon, wed-fri") into mask. */
static int s_days_between(const char *p, const char *end, uint8_t *mask)
{
	uint8_t m = 0;

	for (;;) {
		int from, to;

		if (!s_day_at(&p, end, &from))
			return KP_EINVAL;
		to = from;
		p = s_skip_space(p, end);
		if (p < end && *p == '-') {
			p++;
			/* A range runs forward within one week: "fri-mon"
			 * is refused rather than guessed at. */
			if (!s_day_at(&p, end, &to) || to < from)
				return KP_EINVAL;
			p = s_skip_space(p, end);
		}
		for (int d = from; d <= to; d++)
			m |= (uint8_t)(1u << d);
		if (p == end)
			break;
		if (*p != ',')
			return KP_EINVAL;
		p++;
	}
	*mask = m;
	return KP_OK;
}

int kp_days_parse(const char *text, uint8_t *mask)
{
	if (!text)
		return KP_EINVAL;
	return s_days_between(text, text + strlen(text), mask);
}

void kp_days_format(uint8_t mask, char *buf)
{
	enum { S_DAYS_STRLEN = 40 };
	size_t used = 0;

	buf[0] = 0;
	for (int d = 0; d < 7;) {
		int e = d;

		if (!(mask & (1u << d))) {
			d++;
			continue;
		}
		while (e + 1 < 7 && (mask & (1u << (e + 1))))
			e++;
		/* Three days or more make a range; two are listed. The
		 * longest text, "mon,wed,fri,sun", fits with room to spare. */
		used +=
		    (size_t)snprintf(buf + used, S_DAYS_STRLEN - used, "%s%s",
				     used ? "," : "", s_day_names[d]);
		if (e > d)
			used += (size_t)snprintf(
			    buf + used, S_DAYS_STRLEN - used, "%s%s",
			    e == d + 1 ? "," : "-", s_day_names[e]);
		d = e + 1;
	}
}

/*
 * Weekly hours.
 */

/* "HH:MM" from 00:00 to 24:00 at *p, after optional space. */
static bool s_clock_at(const char **p, const char *end, int *minutes)
{
	const char *q = s_skip_space(*p, end);
	int h, m;

	if (end - q < 5 || !s_digits(&q, 2, &h) || !s_char(&q, ':') ||
	    !s_digits(&q, 2, &m))
		return false;
	if (m > 59 || h > 24 || (h == 24 && m != 0))
		return false;
	*minutes = h * 60 + m;
	*p = q;
	return true;
}

/* "HH:MM-HH:MM" at *p, space allowed around the dash. */
static bool s_hours_at(const char **p, const char *end, int *from, int *to)
{
	const char *q = *p;

	if (!s_clock_at(&q, end, from))
		return false;
	q = s_skip_space(q, end);
	if (q == end || *q++ != '-' || !s_clock_at(&q, end, to))
		return false;
	*p = q;
	return true;
}

static int s_span_cmp(const void *a, const void *b)
{
	const struct kp_span *x = a, *y = b;

	if (x->weekday != y->weekday)
		return x->weekday - y->weekday;
	if (x->from_min != y->from_min)
		return x->from_min - y->from_min;
	return x->to_min - y->to_min;
}

/* Sort the spans by day and time, and merge those of one day that overlap
 * or touch: "08:00-12:00, 12:00-16:00" is "08:00-16:00". */
static void s_normalise(struct kp_week *week)
{
	int n = 0;

	qsort(week->spans, (size_t)week->nspans, sizeof week->spans[0],
	      s_span_cmp);
	for (int i = 0; i < week->nspans; i++) {
		struct kp_span *s = &week->spans[i];
		struct kp_span *last = n ? &week->spans[n - 1] : NULL;

		if (last && last->weekday == s->weekday &&
		    last->to_min >= s->from_min) {
			if (s->to_min > last->to_min)
				last->to_min = s->to_min;
			continue;
		}
		week->spans[n++] = *s;
	}
	week->nspans = n;
}

/* The spans of week, whatever a caller left in nspans. */
static int s_nspans(const struct kp_week *week)
{
	if (week->nspans < 0)
		return 0;
	return week->nspans > KP_WEEK_MAX_SPANS ? KP_WEEK_MAX_SPANS
						: week->nspans;
}

/* Say in err why the piece of a spec from piece to end is wrong. */
static int s_week_bad(char *err, size_t errlen, const char *piece,
		      const char *end, const char *why)
{
	enum { S_QUOTE_MAX = 60 };
	int n;

	while (end > piece && isspace((unsigned char)end[-1]))
		end--;
	n = (int)(end - piece);
	if (err && errlen)
		snprintf(err, errlen, "bad weekly hours '%.*s%s': %s; %s",
			 n > S_QUOTE_MAX ? S_QUOTE_MAX : n, piece,
			 n > S_QUOTE_MAX ? "..." : "", why, s_week_usage);
	return KP_EINVAL;
}

/* Add [from, to) on the days of mask; merge first if the table is full. */
static bool s_week_add(struct kp_week *week, uint8_t mask, int from, int to)
{
	for (int d = 0; d < 7; d++) {
		if (!(mask & (1u << d)))
			continue;
		if (week->nspans == KP_WEEK_MAX_SPANS)
			s_normalise(week);
		if (week->nspans == KP_WEEK_MAX_SPANS)
			return false;
		week->spans[week->nspans++] = (struct kp_span){
		    .weekday = (uint8_t)d,
		    .from_min = (uint16_t)from,
		    .to_min = (uint16_t)to,
		};
	}
	return true;
}

int kp_week_parse(const char *spec, struct kp_week *week, char *err,
		  size_t errlen)
{
	const char *end = spec ? spec + strlen(spec) : NULL;
	const char *p = spec;

	memset(week, 0, sizeof *week);
	if (err && errlen)
		err[0] = 0;
	if (!spec)
		return s_week_bad(err, errlen, "", "", "no text");
	p = s_skip_space(p, end);
	/* Each round reads one piece: DAYS HH:MM-HH:MM, then ',' or end. */
	while (p < end) {
		const char *piece = p, *hours = p, *piece_end, *q;
		char why[160];
		uint8_t mask;
		int from, to;

		/* The days run to the first digit; the piece to the first
		 * comma after it, since day lists hold commas too. */
		while (hours < end && !isdigit((unsigned char)*hours))
			hours++;
		piece_end = hours;
		while (piece_end < end && *piece_end != ',')
			piece_end++;
		if (hours == end)
			return s_week_bad(err, errlen, piece, piece_end,
					  "no hours after the days");
		if (s_days_between(piece, hours, &mask)) {
			int n = (int)(hours - piece);
			while (n && isspace((unsigned char)piece[n - 1]))
				n--;
			snprintf(why, sizeof why,
				 "'%.*s' is not a list of days such as "
				 "'mon-fri' or 'tue,thu'",
				 n > 40 ? 40 : n, piece);
			return s_week_bad(err, errlen, piece, piece_end, why);
		}
		q = hours;
		if (!s_hours_at(&q, end, &from, &to))
			return s_week_bad(err, errlen, piece, piece_end,
					  "the hours must be HH:MM-HH:MM "
					  "between 00:00 and 24:00");
		if (s_skip_space(q, end) != piece_end)
			return s_week_bad(err, errlen, piece, piece_end,
					  "a comma must separate one piece "
					  "from the next");
		if (to <= from)
			return s_week_bad(
			    err, errlen, piece, piece_end,
			    "the hours end before they start "
			    "(split hours past midnight as "
			    "'fri 22:00-24:00, sat 00:00-02:00')");
		if (!s_week_add(week, mask, from, to)) {
			snprintf(why, sizeof why,
				 "more than %d spans in one week",
				 KP_WEEK_MAX_SPANS);
			return s_week_bad(err, errlen, piece, piece_end, why);
		}
		p = piece_end;
		if (p < end) {
			p = s_skip_space(p + 1, end);
			if (p == end)
				return s_week_bad(err, errlen, piece,
						  piece_end + 1,
						  "nothing follows the last "
						  "comma");
		}
	}
	s_normalise(week);
	return KP_OK;
}

/* True when days a and b of a normalised week have the same spans. */
static bool s_same_hours(const struct kp_week *w, const int first[7],
			 const int count[7], int a, int b)
{
	if (count[a] != count[b])
		return false;
	for (int k = 0; k < count[a]; k++) {
		const struct kp_span *x = &w->spans[first[a] + k];
		const struct kp_span *y = &w->spans[first[b] + k];
		if (x->from_min != y->from_min || x->to_min != y->to_min)
			return false;
	}
	return true;
}

int kp_week_format(const struct kp_week *week, char *buf, size_t len)
{
	struct kp_week w;
	int first[7], count[7];
	size_t used = 0;

	if (!len)
		return KP_EINVAL;
	buf[0] = 0;
	/* Work on a normalised copy: a caller's table may be in any order. */
	w.nspans = s_nspans(week);
	memcpy(w.spans, week->spans, (size_t)w.nspans * sizeof w.spans[0]);
	for (int i = 0; i < w.nspans; i++) {
		const struct kp_span *s = &w.spans[i];
		if (s->weekday > 6 || s->to_min > 1440 ||
		    s->to_min <= s->from_min)
			return KP_EINVAL;
	}
	s_normalise(&w);
	for (int d = 0; d < 7; d++)
		first[d] = -1, count[d] = 0;
	for (int i = 0; i < w.nspans; i++) {
		int d = w.spans[i].weekday;
		if (first[d] < 0)
			first[d] = i;
		count[d]++;
	}
	for (int d = 0; d < 7;) {
		char days[40];
		uint8_t mask = 0;
		int e = d;

		if (!count[d]) {
			d++;
			continue;
		}
		while (e + 1 < 7 && s_same_hours(&w, first, count, d, e + 1))
			e++;
		for (int k = d; k <= e; k++)
			mask |= (uint8_t)(1u << k);
		kp_days_format(mask, days);
		for (int k = 0; k < count[d]; k++) {
			const struct kp_span *s = &w.spans[first[d] + k];
			int n = snprintf(
			    buf + used, len - used, "%s%s %02d:%02d-%02d:%02d",
			    used ? ", " : "", days, s->from_min / 60,
			    s->from_min % 60, s->to_min / 60, s->to_min % 60);
			if (n < 0 || (size_t)n >= len - used) {
				buf[0] = 0;
				return KP_EINVAL;
			}
			used += (size_t)n;
		}
		d = e + 1;
	}
	return KP_OK;
}

/* The end (minute of the day) of the open stretch of weekday that holds
 * second sec of the day, following spans that touch or overlap; -1 when
 * the day is shut at sec. */
static int s_open_until(const struct kp_week *week, int weekday, int sec)
{
	int n = s_nspans(week), until = -1;
	bool grew = true;

	for (int i = 0; i < n; i++) {
		const struct kp_span *s = &week->spans[i];
		if (s->weekday == weekday && s->from_min * 60 <= sec &&
		    sec < s->to_min * 60 && s->to_min > until)
			until = s->to_min;
	}
	while (until >= 0 && grew) {
		grew = false;
		for (int i = 0; i < n; i++) {
			const struct kp_span *s = &week->spans[i];
			if (s->weekday == weekday && s->from_min <= until &&
			    s->to_min > until) {
				until = s->to_min;
				grew = true;
			}
		}
	}
	return until;
}

bool kp_week_covers(const struct kp_week *week, int64_t start, int64_t end)
{
	int64_t day;
	int sec;

	if (end <= start || !s_wall_of(start, &day, &sec))
		return false;
	/* Follow the open stretch day by day while it runs to 24:00 and the
	 * next day opens at 00:00; a week of that is all there can be. */
	for (int hops = 0; hops <= 7; hops++) {
		int until = s_open_until(week, s_weekday_of(day), sec);
		int64_t closing;

		if (until < 0)
			return false;
		/* A closing time skipped by a forward change closes the
		 * stretch when the clocks jump. */
		closing = s_local_at_or_after(day * S_DAY + until * 60);
		if (end <= closing)
			return true;
		if (until != 1440)
			return false;
		day++;
		sec = 0;
	}
	return false;
}

/*
 * Series.
 */

/* What a walk needs to know, worked out once. */
struct s_plan {
	int64_t first_day; /* the local date of the start, as a day number */
	int64_t last_day;  /* the until date (the first date if not weekly) */
	int start_sec;	   /* wall-clock second of the day of the start */
	int end_sec;	   /* ... and of the end */
	int64_t end_days;  /* local dates from the start's to the end's */
	uint8_t mask;	   /* weekdays, bit 0 = Monday */
};

static bool s_is_cancelled(const struct kp_series *s, int64_t start)
{
	for (size_t i = 0; s->cancelled && i < s->ncancelled; i++)
		if (s->cancelled[i] == start)
			return true;
	return false;
}

static int s_plan_make(const struct kp_series *s, struct s_plan *p)
{
	int64_t end_day;

	if (s->end <= s->start ||
	    !s_wall_of(s->start, &p->first_day, &p->start_sec) ||
	    !s_wall_of(s->end, &end_day, &p->end_sec))
		return KP_EINVAL;
	p->end_days = end_day - p->first_day;
	p->last_day = p->first_day;
	p->mask = (uint8_t)(1u << s_weekday_of(p->first_day));
	if (!s->weekly)
		return KP_OK;
	if (s->days_mask & 0x80)
		return KP_EINVAL;
	if (s->days_mask)
		p->mask = s->days_mask;
	if (!s_date_valid(s->until_year, s->until_month, s->until_day))
		return KP_EINVAL;
	p->last_day =
	    kp_days_from_civil(s->until_year, s->until_month, s->until_day);
	return p->last_day < p->first_day ? KP_EINVAL : KP_OK;
}

/* The occurrence on local date day. The start's own date gives back the
 * series' instants unchanged; every other date gets its wall-clock start
 * and end, each moved forward if the spring change skips it. */
static void s_occurrence(const struct kp_series *s, const struct s_plan *p,
			 int64_t day, int64_t *start, int64_t *end)
{
	if (day == p->first_day) {
		*start = s->start;
		*end = s->end;
		return;
	}
	*start = s_local_moved(day * S_DAY + p->start_sec);
	*end = s_local_moved((day + p->end_days) * S_DAY + p->end_sec);
	/* 02:30-03:15 on the day 02:00-03:00 is skipped: the start moves to
	 * 03:30, past the end, so the end moves with it. */
	if (*end <= *start)
		*end = *start + (s->end - s->start);
}

/* Walk the occurrences in time order. With fn, call it for each; without,
 * count them into *count and stop with KP_EINVAL past KP_SERIES_MAX. */
static int s_walk(const struct kp_series *s, const struct s_plan *p,
		  kp_occurrence_fn fn, void *arg, size_t *count)
{
	/* Week by week from the Monday of the first date. */
	int64_t monday = p->first_day - s_weekday_of(p->first_day);

	for (int64_t week = monday; week <= p->last_day; week += 7) {
		for (int k = 0; k < 7; k++) {
			int64_t day = week + k, start, end;
			int rc;

			if (day > p->last_day)
				return KP_OK;
			if (!(p->mask & (1u << k)) || day < p->first_day)
				continue;
			s_occurrence(s, p, day, &start, &end);
			if (s_is_cancelled(s, start))
				continue;
			if (!fn) {
				if (++*count > KP_SERIES_MAX)
					return KP_EINVAL;
				continue;
			}
			if ((rc = fn(start, end, arg)))
				return rc;
		}
	}
	return KP_OK;
}

int kp_series_each(const struct kp_series *series, kp_occurrence_fn fn,
		   void *arg)
{
	struct s_plan plan;
	size_t count = 0;
	int rc;

	if (!series || !fn || (rc = s_plan_make(series, &plan)))
		return KP_EINVAL;
	/* Count first, so a series too long is refused before fn has seen
	 * a single occurrence. */
	if ((rc = s_walk(series, &plan, NULL, NULL, &count)))
		return rc;
	return s_walk(series, &plan, fn, arg, &count);
}
