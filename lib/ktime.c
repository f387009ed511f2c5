/*
 * ktime.c - local time, weekly hours and recurring series (see ktime.h).
 *
 * Local time goes through the C library (mktime, localtime_r) with TZ set
 * to the zone: the system's tzdata knows every daylight-saving change. A
 * wall-clock time is turned into an instant by trying summer time first and
 * then standard time, and checking the result reads back as the same wall
 * clock; that detects both the skipped spring hour (no reading matches) and
 * the repeated autumn hour (both match; the first, summer time, is taken).
 */
#include "knute/ktime.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "knute/error.h"

static const char *const s_day_names[] = {"mon", "tue", "wed", "thu",
					  "fri", "sat", "sun"};

int kp_tz_set(const char *zone)
{
	char path[512];
	struct stat st;
	if (!zone || !zone[0] || zone[0] == '/' || strstr(zone, "..") ||
	    strlen(zone) > 200)
		return KP_EINVAL;
	snprintf(path, sizeof path, "/usr/share/zoneinfo/%s", zone);
	if (stat(path, &st) || !S_ISREG(st.st_mode))
		return KP_EINVAL;
	if (setenv("TZ", zone, 1))
		return KP_ENOMEM;
	tzset();
	return KP_OK;
}

int64_t kp_now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec;
}

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
	return y >= 1970 && y <= 2199 && m >= 1 && m <= 12 && d >= 1 &&
	       d <= s_days_in_month(y, m);
}

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

static bool s_date_at(const char **p, int *y, int *m, int *d)
{
	return s_digits(p, 4, y) && *(*p)++ == '-' && s_digits(p, 2, m) &&
	       *(*p)++ == '-' && s_digits(p, 2, d) && s_date_valid(*y, *m, *d);
}

int kp_date_parse(const char *text, int *year, int *month, int *day)
{
	const char *p = text;
	if (!text || !s_date_at(&p, year, month, day) || *p)
		return KP_EINVAL;
	return KP_OK;
}

/* The instant of a local wall-clock time, or KP_EINVAL if it does not
 * exist. sec may be 0..59; minute_of_day 0..1439. */
static int s_local(int y, int m, int d, int minute_of_day, int sec,
		   int64_t *out)
{
	for (int isdst = 1; isdst >= 0; isdst--) {
		struct tm tm = {0}, back;
		time_t t;
		tm.tm_year = y - 1900;
		tm.tm_mon = m - 1;
		tm.tm_mday = d;
		tm.tm_hour = minute_of_day / 60;
		tm.tm_min = minute_of_day % 60;
		tm.tm_sec = sec;
		tm.tm_isdst = isdst;
		t = mktime(&tm);
		if (t == (time_t)-1 || !localtime_r(&t, &back))
			continue;
		if (back.tm_year == y - 1900 && back.tm_mon == m - 1 &&
		    back.tm_mday == d && back.tm_hour == minute_of_day / 60 &&
		    back.tm_min == minute_of_day % 60 && back.tm_sec == sec) {
			*out = (int64_t)t;
			return KP_OK;
		}
	}
	return KP_EINVAL;
}

int kp_local_make(int year, int month, int day, int minute_of_day,
		  int64_t *out)
{
	if (!s_date_valid(year, month, day) || minute_of_day < 0 ||
	    minute_of_day > 1440)
		return KP_EINVAL;
	if (minute_of_day == 1440) {
		/* Midnight that ends the day starts the next one. */
		if (++day > s_days_in_month(year, month)) {
			day = 1;
			if (++month > 12) {
				month = 1;
				year++;
			}
		}
		minute_of_day = 0;
	}
	return s_local(year, month, day, minute_of_day, 0, out);
}

int kp_date_start(int year, int month, int day, int64_t *out)
{
	if (!s_date_valid(year, month, day))
		return KP_EINVAL;
	if (s_local(year, month, day, 0, 0, out) == KP_OK)
		return KP_OK;
	/* A zone whose clocks skip midnight: the day starts an hour in. */
	return s_local(year, month, day, 60, 0, out);
}

int kp_time_parse(const char *text, int64_t *out)
{
	const char *p = text;
	int y, mo, d, h, mi, s = 0;

	if (!text || !s_date_at(&p, &y, &mo, &d) || (*p != ' ' && *p != 'T'))
		return KP_EINVAL;
	p++;
	if (!s_digits(&p, 2, &h) || *p++ != ':' || !s_digits(&p, 2, &mi))
		return KP_EINVAL;
	if (*p == ':') {
		p++;
		if (!s_digits(&p, 2, &s))
			return KP_EINVAL;
	}
	if (h > 23 || mi > 59 || s > 59)
		return KP_EINVAL;
	if (*p == 'Z' && p[1] == 0) {
		struct tm tm = {0};
		tm.tm_year = y - 1900;
		tm.tm_mon = mo - 1;
		tm.tm_mday = d;
		tm.tm_hour = h;
		tm.tm_min = mi;
		tm.tm_sec = s;
		*out = (int64_t)timegm(&tm);
		return KP_OK;
	}
	if (*p)
		return KP_EINVAL;
	return s_local(y, mo, d, h * 60 + mi, s, out);
}

void kp_local_parts(int64_t t, int *year, int *month, int *day, int *weekday,
		    int *minute_of_day)
{
	time_t tt = (time_t)t;
	struct tm tm;
	if (!localtime_r(&tt, &tm))
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
	time_t tt = (time_t)t;
	struct tm tm;
	if (!localtime_r(&tt, &tm) ||
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
	snprintf(buf, KP_TIME_STRLEN, "%04d-%02d-%02d", year % 10000,
		 month % 100, day % 100);
}

int kp_weekday_parse(const char *name, int *weekday)
{
	for (int i = 0; i < 7; i++)
		if (!strcasecmp(name, s_day_names[i])) {
			*weekday = i;
			return KP_OK;
		}
	return KP_EINVAL;
}

const char *kp_weekday_name(int weekday)
{
	return weekday >= 0 && weekday < 7 ? s_day_names[weekday] : "?";
}

/* Parse "mon", "mon-fri" or "mon,wed-fri" from p up to end into mask. */
static int s_days_span(const char *p, const char *end, uint8_t *mask)
{
	char word[16];
	int from, to;
	*mask = 0;
	while (p < end) {
		const char *comma = memchr(p, ',', (size_t)(end - p));
		const char *stop = comma ? comma : end;
		const char *dash = memchr(p, '-', (size_t)(stop - p));
		const char *a_end = dash ? dash : stop;
		while (p < a_end && isspace((unsigned char)*p))
			p++;
		size_t n = (size_t)(a_end - p);
		while (n && isspace((unsigned char)p[n - 1]))
			n--;
		if (n == 0 || n >= sizeof word)
			return KP_EINVAL;
		memcpy(word, p, n);
		word[n] = 0;
		if (kp_weekday_parse(word, &from))
			return KP_EINVAL;
		to = from;
		if (dash) {
			const char *q = dash + 1;
			while (q < stop && isspace((unsigned char)*q))
				q++;
			n = (size_t)(stop - q);
			while (n && isspace((unsigned char)q[n - 1]))
				n--;
			if (n == 0 || n >= sizeof word)
				return KP_EINVAL;
			memcpy(word, q, n);
			word[n] = 0;
			if (kp_weekday_parse(word, &to) || to < from)
				return KP_EINVAL;
		}
		for (int d = from; d <= to; d++)
			*mask |= (uint8_t)(1u << d);
		p = comma ? comma + 1 : end;
		if (comma && p == end)
			return KP_EINVAL;
	}
	return *mask ? KP_OK : KP_EINVAL;
}

int kp_days_parse(const char *text, uint8_t *mask)
{
	if (!text)
		return KP_EINVAL;
	return s_days_span(text, text + strlen(text), mask);
}

void kp_days_format(uint8_t mask, char *buf)
{
	size_t used = 0;
	buf[0] = 0;
	for (int d = 0; d < 7;) {
		if (!(mask & (1u << d))) {
			d++;
			continue;
		}
		int e = d;
		while (e + 1 < 7 && (mask & (1u << (e + 1))))
			e++;
		used += (size_t)snprintf(buf + used, 40 - used, "%s%s", used ? "," : "",
					 s_day_names[d]);
		if (e > d)
			used += (size_t)snprintf(buf + used, 40 - used, "%s%s",
						 e == d + 1 ? "," : "-",
						 s_day_names[e]);
		d = e + 1;
	}
}

/* "HH:MM" with 00:00 .. 24:00. */
static bool s_clock(const char **p, int *minutes)
{
	int h, m;
	if (!s_digits(p, 2, &h) || *(*p)++ != ':' || !s_digits(p, 2, &m))
		return false;
	if (m > 59 || h > 24 || (h == 24 && m != 0))
		return false;
	*minutes = h * 60 + m;
	return true;
}

static int s_span_cmp(const void *a, const void *b)
{
	const struct kp_span *x = a, *y = b;
	if (x->weekday != y->weekday)
		return x->weekday - y->weekday;
	return x->from_min - y->from_min;
}

/* Sort and merge overlapping or touching spans of one day. */
static void s_normalise(struct kp_week *week)
{
	int n = 0;
	qsort(week->spans, (size_t)week->nspans, sizeof week->spans[0],
	      s_span_cmp);
	for (int i = 0; i < week->nspans; i++) {
		struct kp_span *s = &week->spans[i];
		if (n && week->spans[n - 1].weekday == s->weekday &&
		    week->spans[n - 1].to_min >= s->from_min) {
			if (s->to_min > week->spans[n - 1].to_min)
				week->spans[n - 1].to_min = s->to_min;
			continue;
		}
		week->spans[n++] = *s;
	}
	week->nspans = n;
}

int kp_week_parse(const char *spec, struct kp_week *week, char *err,
		  size_t errlen)
{
	const char *p = spec;
	memset(week, 0, sizeof *week);
	while (p && *p) {
		const char *piece, *end, *sp, *q;
		uint8_t mask;
		int from, to;

		while (*p == ' ' || *p == '\t' || *p == ',')
			p++;
		if (!*p)
			break;
		piece = p;
		/* A piece ends at the comma that follows its time range. */
		sp = p;
		while (*sp && !isdigit((unsigned char)*sp))
			sp++;
		end = sp;
		while (*end && *end != ',')
			end++;
		q = sp;
		if (sp == piece || !s_clock(&q, &from) || *q++ != '-' ||
		    !s_clock(&q, &to))
			goto out_bad;
		while (q < end && isspace((unsigned char)*q))
			q++;
		if (q != end || to <= from ||
		    s_days_span(piece, sp, &mask) != KP_OK)
			goto out_bad;
		for (int d = 0; d < 7; d++) {
			if (!(mask & (1u << d)))
				continue;
			if (week->nspans == KP_WEEK_MAX_SPANS) {
				snprintf(err, errlen,
					 "too many time spans (at most %d)",
					 KP_WEEK_MAX_SPANS);
				return KP_EINVAL;
			}
			week->spans[week->nspans++] = (struct kp_span){
				(uint8_t)d, (uint16_t)from, (uint16_t)to};
		}
		p = end;
		continue;
out_bad:
		snprintf(err, errlen,
			 "bad weekly hours '%.*s': use DAYS HH:MM-HH:MM, e.g. "
			 "'mon-fri 08:00-22:00, sat 10:00-16:00'",
			 (int)((end > piece ? end : piece + strlen(piece)) -
			       piece > 60
				       ? 60
				       : (end > piece ? end : piece + strlen(piece)) -
						 piece),
			 piece);
		return KP_EINVAL;
	}
	s_normalise(week);
	return KP_OK;
}

int kp_week_format(const struct kp_week *week, char *buf, size_t len)
{
	/* Group days with identical span sets into runs of days. */
	size_t used = 0;
	int first[7], count[7];
	for (int d = 0; d < 7; d++)
		first[d] = -1, count[d] = 0;
	for (int i = 0; i < week->nspans; i++) {
		int d = week->spans[i].weekday;
		if (first[d] < 0)
			first[d] = i;
		count[d]++;
	}
	buf[0] = 0;
	for (int d = 0; d < 7;) {
		if (!count[d]) {
			d++;
			continue;
		}
		int e = d;
		while (e + 1 < 7 && count[e + 1] == count[d]) {
			bool same = true;
			for (int k = 0; k < count[d] && same; k++) {
				const struct kp_span *a = &week->spans[first[d] + k];
				const struct kp_span *b = &week->spans[first[e + 1] + k];
				same = a->from_min == b->from_min &&
				       a->to_min == b->to_min;
			}
			if (!same)
				break;
			e++;
		}
		for (int k = 0; k < count[d]; k++) {
			const struct kp_span *s = &week->spans[first[d] + k];
			int n;
			if (e > d)
				n = snprintf(buf + used, len - used,
					     "%s%s-%s %02d:%02d-%02d:%02d",
					     used ? ", " : "", s_day_names[d],
					     s_day_names[e], s->from_min / 60,
					     s->from_min % 60, s->to_min / 60,
					     s->to_min % 60);
			else
				n = snprintf(buf + used, len - used,
					     "%s%s %02d:%02d-%02d:%02d",
					     used ? ", " : "", s_day_names[d],
					     s->from_min / 60, s->from_min % 60,
					     s->to_min / 60, s->to_min % 60);
			if (n < 0 || (size_t)n >= len - used)
				return KP_EINVAL;
			used += (size_t)n;
		}
		d = e + 1;
	}
	return KP_OK;
}

/* The span of weekday that contains minute m (from <= m < to), or NULL. */
static const struct kp_span *s_span_at(const struct kp_week *week, int weekday,
				       int m)
{
	for (int i = 0; i < week->nspans; i++) {
		const struct kp_span *s = &week->spans[i];
		if (s->weekday == weekday && s->from_min <= m && m < s->to_min)
			return s;
	}
	return NULL;
}

bool kp_week_covers(const struct kp_week *week, int64_t start, int64_t end)
{
	int y, mo, d, wd, m;
	int64_t day_start, span_end;
	const struct kp_span *s;

	if (end <= start)
		return false;
	kp_local_parts(start, &y, &mo, &d, &wd, &m);
	for (int hops = 0; hops < 8; hops++) {
		if (!(s = s_span_at(week, wd, m)))
			return false;
		if (kp_local_make(y, mo, d, s->to_min, &span_end))
			return false;
		if (end <= span_end)
			return true;
		if (s->to_min != 1440)
			return false;
		/* The span runs to midnight: continue into the next day. */
		day_start = span_end;
		kp_local_parts(day_start, &y, &mo, &d, &wd, &m);
	}
	return false;
}

/* Occurrences: the walk is done twice, first to count, then to call. */
struct s_walk {
	const struct kp_series *s;
	kp_occurrence_fn fn;
	void *arg;
	size_t count;
	bool call;
};

static bool s_is_cancelled(const struct kp_series *s, int64_t start)
{
	for (size_t i = 0; i < s->ncancelled; i++)
		if (s->cancelled[i] == start)
			return true;
	return false;
}

/* Add days to a date. */
static void s_add_days(int *y, int *m, int *d, int n)
{
	struct tm tm = {0};
	time_t t;
	tm.tm_year = *y - 1900;
	tm.tm_mon = *m - 1;
	tm.tm_mday = *d + n;
	tm.tm_hour = 12;
	t = timegm(&tm);
	gmtime_r(&t, &tm);
	*y = tm.tm_year + 1900;
	*m = tm.tm_mon + 1;
	*d = tm.tm_mday;
}

/* The instant of a wall-clock time, moving forward out of a gap. */
static int64_t s_wall(int y, int m, int d, int minute)
{
	int64_t t;
	if (kp_local_make(y, m, d, minute, &t) == KP_OK)
		return t;
	/* The skipped hour: mktime normalises forward, as clocks do. */
	struct tm tm = {0};
	tm.tm_year = y - 1900;
	tm.tm_mon = m - 1;
	tm.tm_mday = d;
	tm.tm_hour = minute / 60;
	tm.tm_min = minute % 60;
	tm.tm_isdst = 0;
	return (int64_t)mktime(&tm);
}

static int s_walk(struct s_walk *w)
{
	const struct kp_series *s = w->s;
	int y, m, d, wd, smin, ey, em, ed, emin, rc;
	int day_offset;
	int64_t start, end;

	kp_local_parts(s->start, &y, &m, &d, &wd, &smin);
	kp_local_parts(s->end, &ey, &em, &ed, NULL, &emin);
	{
		/* Whole days between the start's and the end's dates. */
		struct tm a = {0}, b = {0};
		a.tm_year = y - 1900, a.tm_mon = m - 1, a.tm_mday = d;
		b.tm_year = ey - 1900, b.tm_mon = em - 1, b.tm_mday = ed;
		day_offset = (int)((timegm(&b) - timegm(&a)) / 86400);
	}
	if (!s->weekly) {
		if (s_is_cancelled(s, s->start))
			return KP_OK;
		w->count++;
		return w->call ? w->fn(s->start, s->end, w->arg) : KP_OK;
	}
	uint8_t mask = s->days_mask ? s->days_mask : (uint8_t)(1u << wd);
	char until[KP_TIME_STRLEN], cur[KP_TIME_STRLEN];
	kp_date_format(s->until_year, s->until_month, s->until_day, until);
	/* Walk from the Monday of the start's week, day by day. */
	int cy = y, cm = m, cd = d;
	s_add_days(&cy, &cm, &cd, -wd);
	char first[KP_TIME_STRLEN];
	kp_date_format(y, m, d, first);
	for (int i = 0;; i++) {
		kp_date_format(cy, cm, cd, cur);
		if (strcmp(cur, until) > 0)
			break;
		if ((mask & (1u << (i % 7))) && strcmp(cur, first) >= 0) {
			int ny = cy, nm = cm, nd = cd;
			start = s_wall(cy, cm, cd, smin);
			s_add_days(&ny, &nm, &nd, day_offset);
			end = s_wall(ny, nm, nd, emin);
			if (!s_is_cancelled(s, start) && end > start) {
				if (++w->count > KP_SERIES_MAX && !w->call)
					return KP_EINVAL;
				if (w->call && (rc = w->fn(start, end, w->arg)))
					return rc;
			}
		}
		s_add_days(&cy, &cm, &cd, 1);
	}
	return KP_OK;
}

int kp_series_each(const struct kp_series *series, kp_occurrence_fn fn,
		   void *arg)
{
	struct s_walk w = {series, fn, arg, 0, false};
	int rc;
	if (series->end <= series->start)
		return KP_EINVAL;
	if (series->weekly) {
		int y, m, d;
		char first[KP_TIME_STRLEN], until[KP_TIME_STRLEN];
		if (!s_date_valid(series->until_year, series->until_month,
				  series->until_day))
			return KP_EINVAL;
		kp_local_parts(series->start, &y, &m, &d, NULL, NULL);
		kp_date_format(y, m, d, first);
		kp_date_format(series->until_year, series->until_month,
			       series->until_day, until);
		if (strcmp(until, first) < 0)
			return KP_EINVAL;
		/* Count first, so a series too long is refused before fn ran
		 * even once. */
		if ((rc = s_walk(&w)))
			return rc;
	}
	w.call = true;
	w.count = 0;
	return s_walk(&w);
}
