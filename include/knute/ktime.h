/*
 * knute/ktime.h - instants, local time, weekly hours and recurring series.
 *
 * Instants are int64_t seconds since the epoch, UTC. Everything a person
 * types or reads is wall-clock time in one zone, Europe/Oslo unless
 * kp_tz_set() named another. The zone is the process's TZ (the C library
 * reads the system's tzdata), set once in main() before any other call:
 * it is the one piece of process-wide state this module relies on.
 *
 * Weekdays are numbered 0 = Monday ... 6 = Sunday, as Norwegians count.
 */
#ifndef KNUTE_KTIME_H
#define KNUTE_KTIME_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define KP_TZ_DEFAULT	  "Europe/Oslo"
#define KP_WEEK_MAX_SPANS 64   /* spans in one weekly-hours spec */
#define KP_SERIES_MAX	  1000 /* occurrences in one recurring series */
#define KP_TIME_STRLEN	  32   /* room for any formatted time, with NUL */

/* Use zone (an IANA name such as "Europe/Oslo") for all local time.
 * KP_EINVAL when the system has no such zone. */
int kp_tz_set(const char *zone);

/* Parse a local wall-clock time "YYYY-MM-DD HH:MM" (or with 'T' for the
 * space, or with ":SS"). A UTC form "YYYY-MM-DDTHH:MM[:SS]Z" is also taken.
 * KP_EINVAL for a malformed or impossible time, including one that does
 * not exist locally (the hour skipped when summer time starts). A time that
 * occurs twice (the hour repeated in autumn) is taken as the first, summer
 * time. */
int kp_time_parse(const char *text, int64_t *out);

/* Parse a calendar date "YYYY-MM-DD"; KP_EINVAL if malformed or not a real
 * date (2026-02-30). */
int kp_date_parse(const char *text, int *year, int *month, int *day);

/* The instant of local midnight that starts the given date. */
int kp_date_start(int year, int month, int day, int64_t *out);

/* The instant of the local date at minute_of_day (0..1440). KP_EINVAL if
 * that wall-clock time does not exist locally. */
int kp_local_make(int year, int month, int day, int minute_of_day,
		  int64_t *out);

/* Break an instant into local date, weekday (0 = Monday) and minute of
 * the day. Any out pointer may be NULL. */
void kp_local_parts(int64_t t, int *year, int *month, int *day, int *weekday,
		    int *minute_of_day);

/* "2026-12-01 17:00" in local time; buf has KP_TIME_STRLEN bytes. */
void kp_time_format(int64_t t, char *buf);
/* "2026-12-01T16:00:00Z"; buf has KP_TIME_STRLEN bytes. */
void kp_time_format_utc(int64_t t, char *buf);
/* "2026-12-01"; buf has KP_TIME_STRLEN bytes. */
void kp_date_format(int year, int month, int day, char *buf);

/* Weekday names: "mon" ... "sun". KP_EINVAL for anything else. */
int kp_weekday_parse(const char *name, int *weekday);
const char *kp_weekday_name(int weekday);

/* A comma-separated list of days or day ranges ("tue,thu", "mon-fri")
 * into a bit mask, bit 0 = Monday. KP_EINVAL if malformed or empty. */
int kp_days_parse(const char *text, uint8_t *mask);
/* The canonical form of mask ("mon,wed-fri"); buf has 40 bytes. */
void kp_days_format(uint8_t mask, char *buf);

/*
 * Weekly hours: opening hours of a room or availability of a volunteer.
 * Spec text: "mon-fri 08:00-22:00, sat 10:00-16:00"; several spans per
 * day are allowed ("tue 09:00-12:00, tue 17:00-21:00"); "24:00" ends a
 * day. An empty spec has no spans.
 */
struct kp_span {
	uint8_t weekday;   /* 0 = Monday */
	uint16_t from_min; /* minute of the day, 0..1439 */
	uint16_t to_min;   /* minute of the day, from_min+1..1440 */
};

struct kp_week {
	int nspans;
	struct kp_span spans[KP_WEEK_MAX_SPANS];
};

/* Parse spec into week. On KP_EINVAL, err (errlen bytes) says what is
 * wrong in a sentence fit for the user. */
int kp_week_parse(const char *spec, struct kp_week *week, char *err,
		  size_t errlen);
/* The canonical spec text, spans sorted by day and time, consecutive days
 * with equal hours joined ("mon-fri 08:00-22:00, sat 10:00-16:00").
 * Returns KP_EINVAL if len is too small. */
int kp_week_format(const struct kp_week *week, char *buf, size_t len);
/* True when [start, end) lies wholly inside one span of week, on the local
 * weekday of start (an interval that crosses local midnight is never
 * covered, unless spans join at 24:00 and 00:00 of the next day). */
bool kp_week_covers(const struct kp_week *week, int64_t start, int64_t end);

/*
 * A series: one occurrence, or a weekly repetition of it.
 * Each occurrence keeps the wall-clock start and end of the first one, so a
 * booking at 17:00 stays at 17:00 across daylight-saving changes. A weekly
 * series repeats on the weekdays in days_mask (the weekday of start when the
 * mask is 0) from the date of start to the until date, inclusive. Occurrences
 * whose start instant is in cancelled are left out.
 */
struct kp_series {
	int64_t start; /* first occurrence, UTC */
	int64_t end;   /* its end, UTC; end > start */
	bool weekly;
	uint8_t days_mask; /* bit 0 = Monday; 0 = weekday of start */
	int until_year, until_month, until_day; /* inclusive; weekly only */
	const int64_t *cancelled; /* occurrence starts to leave out */
	size_t ncancelled;
};

/* Called per occurrence, in time order. A non-zero return stops the walk
 * and is returned by kp_series_each(). */
typedef int (*kp_occurrence_fn)(int64_t start, int64_t end, void *arg);

/* Walk the occurrences of series. KP_EINVAL if the series is malformed
 * (end <= start, until before start, more than KP_SERIES_MAX
 * occurrences). A wall-clock time that does not exist on some date (the
 * skipped spring hour) is moved forward by the hour, as clocks are. */
int kp_series_each(const struct kp_series *series, kp_occurrence_fn fn,
		   void *arg);

/* Seconds since the epoch, now. */
int64_t kp_now(void);

/* Days since 1970-01-01 of a proleptic Gregorian date, and back: date
 * arithmetic that no daylight-saving change can upset. */
int64_t kp_days_from_civil(int year, int month, int day);
void kp_civil_from_days(int64_t days, int *year, int *month, int *day);
/* "HH:MM" (00:00 to 23:59) into minutes of the day; KP_EINVAL otherwise. */
int kp_hhmm_parse(const char *text, int *minute_of_day);

#endif
