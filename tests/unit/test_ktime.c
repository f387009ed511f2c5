/*
 * test_ktime.c - the time module: parsing, Europe/Oslo's daylight-saving
 * changes, weekly hours and recurring series.
 *
 * The instants below were worked out with date(1), e.g.
 *   TZ=Europe/Oslo date -d "2026-01-15 10:00" +%s   -> 1768467600
 * In 2026 summer time ends on Sunday 25 October (03:00 CEST becomes 02:00
 * CET, so 02:00-03:00 happens twice); in 2027 it starts on Sunday 28 March
 * (02:00 CET becomes 03:00 CEST, so 02:00-03:00 never happens).
 */
#include <stdint.h>
#include <string.h>

#include "check.h"
#include "knute/error.h"
#include "knute/ktime.h"

#define WINTER_10	 1768467600 /* 2026-01-15 10:00 CET = 09:00Z */
#define SUMMER_12	 1782900000 /* 2026-07-01 12:00 CEST = 10:00Z */
#define AUTUMN_0230_CEST 1792888200 /* 2026-10-25 02:30, first time */
#define AUTUMN_0230_CET	 1792891800 /* 2026-10-25 02:30, second time */

/* The local instant of text, which must parse. */
static int64_t s_at(const char *text)
{
	int64_t t = 0;

	CHECK_INT(kp_time_parse(text, &t), KP_OK);
	return t;
}

/* The UTC form of t, in a static buffer for one CHECK_STR. */
static const char *s_utc(int64_t t)
{
	static char buf[KP_TIME_STRLEN];

	kp_time_format_utc(t, buf);
	return buf;
}

static const char *s_local(int64_t t)
{
	static char buf[KP_TIME_STRLEN];

	kp_time_format(t, buf);
	return buf;
}

/*
 * Zone.
 */

static void test_tz_set_refuses_what_is_not_a_zone(void)
{
	CHECK_INT(kp_tz_set("../../../etc/passwd"), KP_EINVAL);
	CHECK_INT(kp_tz_set("Europe/../Europe/Oslo"), KP_EINVAL);
	CHECK_INT(kp_tz_set("/usr/share/zoneinfo/Europe/Oslo"), KP_EINVAL);
	CHECK_INT(kp_tz_set("Nowhere/Atlantis"), KP_EINVAL);
	CHECK_INT(kp_tz_set("Europe"), KP_EINVAL);   /* a directory */
	CHECK_INT(kp_tz_set("zone.tab"), KP_EINVAL); /* not tzdata */
	CHECK_INT(kp_tz_set("Europe/Oslo,x"), KP_EINVAL);
	CHECK_INT(kp_tz_set(""), KP_EINVAL);
	CHECK_INT(kp_tz_set(NULL), KP_EINVAL);
	/* A refused zone leaves the one in use alone. */
	CHECK_STR(s_local(WINTER_10), "2026-01-15 10:00");
	CHECK_INT(kp_tz_set(KP_TZ_DEFAULT), KP_OK);
}

static void test_now_is_plausible(void)
{
	int64_t now = kp_now();

	CHECK(now > 1735689600); /* after 2025-01-01 */
	CHECK(now < 4102444800); /* before 2100-01-01 */
}

/*
 * Parsing and formatting instants.
 */

static void test_parse_format_winter(void)
{
	CHECK_INT(s_at("2026-01-15 10:00"), WINTER_10);
	CHECK_INT(s_at("2026-01-15T10:00"), WINTER_10);
	CHECK_INT(s_at("2026-01-15 10:00:00"), WINTER_10);
	CHECK_INT(s_at("2026-01-15 10:00:59"), WINTER_10 + 59);
	CHECK_STR(s_local(WINTER_10), "2026-01-15 10:00");
	CHECK_STR(s_utc(WINTER_10), "2026-01-15T09:00:00Z");
	CHECK_INT(s_at(s_local(WINTER_10)), WINTER_10);
}

static void test_parse_format_summer(void)
{
	CHECK_INT(s_at("2026-07-01 12:00"), SUMMER_12);
	CHECK_INT(s_at("2026-07-01T12:00:00"), SUMMER_12);
	CHECK_STR(s_local(SUMMER_12), "2026-07-01 12:00");
	CHECK_STR(s_utc(SUMMER_12), "2026-07-01T10:00:00Z");
	CHECK_INT(s_at(s_local(SUMMER_12)), SUMMER_12);
}

static void test_parse_utc_form(void)
{
	CHECK_INT(s_at("2026-01-15T09:00:00Z"), WINTER_10);
	CHECK_INT(s_at("2026-01-15T09:00Z"), WINTER_10);
	CHECK_INT(s_at("2026-07-01T10:00:00Z"), SUMMER_12);
	CHECK_INT(s_at("1970-01-01T00:00:00Z"), 0);
	/* The UTC form reads back what kp_time_format_utc() wrote, even for
	 * the instants local time shows twice. */
	CHECK_INT(s_at(s_utc(AUTUMN_0230_CET)), AUTUMN_0230_CET);
}

static void test_parse_refuses_bad_input(void)
{
	static const char *const bad[] = {
	    "",
	    " ",
	    "2026-02-30 10:00", /* no such day */
	    "2026-02-29 10:00", /* 2026 is no leap year */
	    "2100-02-29 10:00", /* neither is 2100 */
	    "2026-13-01 10:00", /* no month 13 */
	    "2026-00-10 10:00",
	    "2026-04-31 10:00",
	    "2026-01-00 10:00",
	    "2026-01-01 25:00",
	    "2026-01-01 24:00", /* 24:00 only ends weekly hours */
	    "2026-01-01 10:60",
	    "2026-01-01 10:00:60",
	    "2026-1-1 10:00", /* digits are counted */
	    "2026-01-01 1:00",
	    "2026-01-01 10:0",
	    "26-01-01 10:00",
	    "2026-01-01", /* a date is not a time */
	    "2026-01-01 10",
	    "2026-01-01 10:00 ", /* trailing junk */
	    "2026-01-01 10:00x",
	    "2026-01-01 10:00:00:00",
	    "2026-01-01T10:00:00ZZ",
	    "2026-01-01 10:00Z", /* the UTC form has the 'T' */
	    " 2026-01-01 10:00",
	    "2026/01/01 10:00",
	    "2026-01-01_10:00",
	    "+2026-01-01 10:00",
	};
	int64_t t = 42;

	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		if (kp_time_parse(bad[i], &t) != KP_EINVAL) {
			printf("  took \"%s\"\n", bad[i]);
			CHECK(!"a bad time was taken");
		}
	}
	CHECK_INT(kp_time_parse(NULL, &t), KP_EINVAL);
	CHECK_INT(t, 42); /* untouched on failure */
	CHECK_INT(s_at("2024-02-29 10:00"), s_at("2024-03-01 10:00") - 86400);
	CHECK_INT(s_at("2000-02-29T00:00:00Z"), 951782400);
}

static void test_spring_gap_refused(void)
{
	int64_t t = 42;

	CHECK_INT(kp_time_parse("2027-03-28 02:30", &t), KP_EINVAL);
	CHECK_INT(kp_time_parse("2027-03-28 02:00", &t), KP_EINVAL);
	CHECK_INT(kp_time_parse("2027-03-28T02:59:59", &t), KP_EINVAL);
	CHECK_INT(kp_local_make(2027, 3, 28, 150, &t), KP_EINVAL);
	CHECK_INT(t, 42);
	/* Either side of the gap is fine, an hour of real time apart. */
	CHECK_STR(s_utc(s_at("2027-03-28 01:59")), "2027-03-28T00:59:00Z");
	CHECK_STR(s_utc(s_at("2027-03-28 03:00")), "2027-03-28T01:00:00Z");
	/* The same wall time in UTC exists, of course. */
	CHECK_INT(kp_time_parse("2027-03-28T02:30:00Z", &t), KP_OK);
}

static void test_autumn_hour_is_the_first(void)
{
	int64_t t;

	CHECK_INT(s_at("2026-10-25 02:30"), AUTUMN_0230_CEST);
	CHECK_STR(s_utc(AUTUMN_0230_CEST), "2026-10-25T00:30:00Z");
	CHECK_INT(kp_local_make(2026, 10, 25, 150, &t), KP_OK);
	CHECK_INT(t, AUTUMN_0230_CEST);
	/* Both readings show 02:30; only the first comes back from text. */
	CHECK_STR(s_local(AUTUMN_0230_CEST), "2026-10-25 02:30");
	CHECK_STR(s_local(AUTUMN_0230_CET), "2026-10-25 02:30");
	CHECK_INT(s_at(s_local(AUTUMN_0230_CET)), AUTUMN_0230_CEST);
	/* The hours either side are unique. */
	CHECK_STR(s_utc(s_at("2026-10-25 01:59")), "2026-10-24T23:59:00Z");
	CHECK_STR(s_utc(s_at("2026-10-25 03:00")), "2026-10-25T02:00:00Z");
}

static void test_local_parts(void)
{
	int y, m, d, wd, min;

	kp_local_parts(SUMMER_12, &y, &m, &d, &wd, &min);
	CHECK_INT(y, 2026);
	CHECK_INT(m, 7);
	CHECK_INT(d, 1);
	CHECK_INT(wd, 2); /* a Wednesday */
	CHECK_INT(min, 12 * 60);
	kp_local_parts(s_at("2026-10-25 23:59"), NULL, NULL, NULL, &wd, &min);
	CHECK_INT(wd, 6); /* a Sunday */
	CHECK_INT(min, 23 * 60 + 59);
	/* Midnight UTC is 01:00 in Oslo in winter, on the same date. */
	kp_local_parts(s_at("2026-01-05T00:00:00Z"), &y, &m, &d, &wd, &min);
	CHECK_INT(d, 5);
	CHECK_INT(wd, 0);
	CHECK_INT(min, 60);
}

static void test_dates(void)
{
	int y = 0, m = 0, d = 0;
	int64_t t;
	char buf[KP_TIME_STRLEN];

	CHECK_INT(kp_date_parse("2026-12-01", &y, &m, &d), KP_OK);
	CHECK_INT(y, 2026);
	CHECK_INT(m, 12);
	CHECK_INT(d, 1);
	CHECK_INT(kp_date_parse("2024-02-29", &y, &m, &d), KP_OK);
	CHECK_INT(kp_date_parse("2000-02-29", &y, &m, &d), KP_OK);
	CHECK_INT(kp_date_parse("2026-02-29", &y, &m, &d), KP_EINVAL);
	CHECK_INT(kp_date_parse("2026-02-30", &y, &m, &d), KP_EINVAL);
	CHECK_INT(kp_date_parse("2026-13-01", &y, &m, &d), KP_EINVAL);
	CHECK_INT(kp_date_parse("2026-1-1", &y, &m, &d), KP_EINVAL);
	CHECK_INT(kp_date_parse("2026-01-01 ", &y, &m, &d), KP_EINVAL);
	CHECK_INT(kp_date_parse("", &y, &m, &d), KP_EINVAL);
	CHECK_INT(y, 2000); /* untouched by the failures */
	kp_date_format(2026, 3, 7, buf);
	CHECK_STR(buf, "2026-03-07");

	/* Midnight starts the day, in either season, and on the days the
	 * clocks change (which are 25 and 23 hours long). */
	CHECK_INT(kp_date_start(2026, 1, 15, &t), KP_OK);
	CHECK_STR(s_utc(t), "2026-01-14T23:00:00Z");
	CHECK_INT(kp_date_start(2026, 10, 25, &t), KP_OK);
	CHECK_INT(t, 1792879200);
	CHECK_INT(kp_date_start(2026, 10, 26, &t), KP_OK);
	CHECK_INT(t, 1792879200 + 25 * 3600);
	CHECK_INT(kp_date_start(2027, 3, 28, &t), KP_OK);
	CHECK_INT(t, 1806188400);
	CHECK_INT(kp_date_start(2027, 3, 29, &t), KP_OK);
	CHECK_INT(t, 1806188400 + 23 * 3600);
	CHECK_INT(kp_date_start(2026, 2, 30, &t), KP_EINVAL);
}

static void test_local_make(void)
{
	int64_t t;

	CHECK_INT(kp_local_make(2026, 1, 15, 600, &t), KP_OK);
	CHECK_INT(t, WINTER_10);
	CHECK_INT(kp_local_make(2026, 7, 1, 720, &t), KP_OK);
	CHECK_INT(t, SUMMER_12);
	/* 1440 is the midnight that starts the next day, even a new year. */
	CHECK_INT(kp_local_make(2026, 12, 31, 1440, &t), KP_OK);
	CHECK_INT(t, 1798758000);
	CHECK_INT(kp_local_make(2026, 10, 25, 1440, &t), KP_OK);
	CHECK_INT(t, 1792879200 + 25 * 3600);
	CHECK_INT(kp_local_make(2026, 1, 15, 1441, &t), KP_EINVAL);
	CHECK_INT(kp_local_make(2026, 1, 15, -1, &t), KP_EINVAL);
	CHECK_INT(kp_local_make(2026, 2, 29, 600, &t), KP_EINVAL);
}

/* Zones other than Oslo: the rules are the zone's, not summer time's. */
static void test_other_zones(void)
{
	int64_t t;

	/* Ireland's summer time is its standard time in tzdata, winter the
	 * "daylight" one; the repeated hour is still read as the first. */
	CHECK_INT(kp_tz_set("Europe/Dublin"), KP_OK);
	CHECK_STR(s_utc(s_at("2026-10-25 01:30")), "2026-10-25T00:30:00Z");
	/* Samoa skipped 30 December 2011 whole. */
	CHECK_INT(kp_tz_set("Pacific/Apia"), KP_OK);
	CHECK_INT(kp_time_parse("2011-12-30 12:00", &t), KP_EINVAL);
	CHECK_INT(kp_date_start(2011, 12, 30, &t), KP_OK);
	CHECK_STR(s_utc(t), "2011-12-30T10:00:00Z");
	CHECK_INT(kp_tz_set("UTC"), KP_OK);
	CHECK_STR(s_utc(s_at("2027-03-28 02:30")), "2027-03-28T02:30:00Z");
	CHECK_INT(kp_tz_set(KP_TZ_DEFAULT), KP_OK);
	CHECK_INT(s_at("2026-01-15 10:00"), WINTER_10);
}

/*
 * Weekdays and day lists.
 */

static void test_weekdays(void)
{
	int wd = -1;

	CHECK_INT(kp_weekday_parse("mon", &wd), KP_OK);
	CHECK_INT(wd, 0);
	CHECK_INT(kp_weekday_parse("SUN", &wd), KP_OK);
	CHECK_INT(wd, 6);
	CHECK_INT(kp_weekday_parse("monday", &wd), KP_EINVAL);
	CHECK_INT(kp_weekday_parse("man", &wd), KP_EINVAL);
	CHECK_INT(kp_weekday_parse("", &wd), KP_EINVAL);
	CHECK_STR(kp_weekday_name(0), "mon");
	CHECK_STR(kp_weekday_name(6), "sun");
	CHECK_STR(kp_weekday_name(7), "?");
	CHECK_STR(kp_weekday_name(-1), "?");
}

static void test_days_parse(void)
{
	static const char *const bad[] = {
	    "",		" ",	       "fry",	 "tue,", ",tue",
	    "tue,,thu", "fri-mon",     "monday", "mon-", "-fri",
	    "tue thu",	"mon-wed-fri", "1",
	};
	uint8_t mask = 0;

	CHECK_INT(kp_days_parse("tue,thu", &mask), KP_OK);
	CHECK_INT(mask, 0x0a);
	CHECK_INT(kp_days_parse("mon-fri", &mask), KP_OK);
	CHECK_INT(mask, 0x1f);
	CHECK_INT(kp_days_parse("sat-sun", &mask), KP_OK);
	CHECK_INT(mask, 0x60);
	CHECK_INT(kp_days_parse(" Mon , WED - fri ", &mask), KP_OK);
	CHECK_INT(mask, 0x1d);
	CHECK_INT(kp_days_parse("wed-wed,wed", &mask), KP_OK);
	CHECK_INT(mask, 0x04);
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		mask = 0x55;
		if (kp_days_parse(bad[i], &mask) != KP_EINVAL || mask != 0x55) {
			printf("  took \"%s\"\n", bad[i]);
			CHECK(!"a bad day list was taken");
		}
	}
}

static void test_days_format(void)
{
	char buf[40];

	kp_days_format(0x1d, buf);
	CHECK_STR(buf, "mon,wed-fri");
	kp_days_format(0x0a, buf);
	CHECK_STR(buf, "tue,thu");
	kp_days_format(0x7f, buf);
	CHECK_STR(buf, "mon-sun");
	kp_days_format(0x03, buf);
	CHECK_STR(buf, "mon,tue");
	kp_days_format(0x55, buf);
	CHECK_STR(buf, "mon,wed,fri,sun");
	kp_days_format(0, buf);
	CHECK_STR(buf, "");
}

/*
 * Weekly hours.
 */

/* Parse spec, which must be good, and give back its canonical form. */
static const char *s_canon(const char *spec)
{
	static char buf[1024];
	struct kp_week w;
	char err[256] = "";

	if (kp_week_parse(spec, &w, err, sizeof err) != KP_OK) {
		printf("  refused \"%s\": %s\n", spec, err);
		CHECK(!"a good spec was refused");
		return "";
	}
	CHECK_INT(kp_week_format(&w, buf, sizeof buf), KP_OK);
	return buf;
}

static void test_week_parse_and_format(void)
{
	struct kp_week w;
	char err[256];

	CHECK_INT(kp_week_parse("mon-fri 08:00-22:00, sat 10:00-16:00", &w, err,
				sizeof err),
		  KP_OK);
	CHECK_INT(w.nspans, 6);
	CHECK_INT(w.spans[5].weekday, 5);
	CHECK_INT(w.spans[5].from_min, 600);
	CHECK_INT(w.spans[5].to_min, 960);
	CHECK_STR(s_canon("mon-fri 08:00-22:00, sat 10:00-16:00"),
		  "mon-fri 08:00-22:00, sat 10:00-16:00");
	CHECK_STR(s_canon("tue 09:00-12:00, tue 17:00-21:00"),
		  "tue 09:00-12:00, tue 17:00-21:00");
	CHECK_STR(s_canon("tue 17:00-21:00, tue 09:00-12:00, wed-thu "
			  "09:00-12:00, thu 17:00-21:00, wed 17:00-21:00"),
		  "tue-thu 09:00-12:00, tue-thu 17:00-21:00");
	CHECK_STR(s_canon("mon,wed 10:00-14:00"),
		  "mon 10:00-14:00, wed 10:00-14:00");
	CHECK_STR(s_canon("sat 10:00-16:00, sun 10:00-16:00"),
		  "sat,sun 10:00-16:00");
	CHECK_STR(s_canon("mon-sun 00:00-24:00"), "mon-sun 00:00-24:00");
	CHECK_STR(s_canon("\tMON - Fri 08:00 - 22:00 ,SAT 10:00-16:00\n"),
		  "mon-fri 08:00-22:00, sat 10:00-16:00");
	/* Spans of one day that touch or overlap become one. */
	CHECK_STR(s_canon("mon 08:00-12:00, mon 12:00-16:00"),
		  "mon 08:00-16:00");
	CHECK_STR(s_canon("mon 08:00-12:00, mon-tue 10:00-14:00"),
		  "mon 08:00-14:00, tue 10:00-14:00");
	/* Canonical text parses back to itself. */
	CHECK_STR(s_canon(s_canon("fri 22:00-24:00, sat 00:00-02:00, sun "
				  "12:00-13:00")),
		  "fri 22:00-24:00, sat 00:00-02:00, sun 12:00-13:00");
}

static void test_week_empty(void)
{
	struct kp_week w;
	char err[256], buf[16];

	CHECK_INT(kp_week_parse("", &w, err, sizeof err), KP_OK);
	CHECK_INT(w.nspans, 0);
	CHECK_INT(kp_week_parse(" \t\n ", &w, err, sizeof err), KP_OK);
	CHECK_INT(w.nspans, 0);
	CHECK_INT(kp_week_format(&w, buf, sizeof buf), KP_OK);
	CHECK_STR(buf, "");
	CHECK(!kp_week_covers(&w, WINTER_10, WINTER_10 + 60));
}

static void test_week_parse_refuses_bad_specs(void)
{
	static const char *const bad[] = {
	    "mon 25:00-26:00",
	    "mon 08:00-24:30",
	    "mon 8:00-10:00",
	    "mon 08:00-10",
	    "mon 08:00",
	    "mon 08:00-",
	    "fry 08:00-10:00",
	    "fri-mon 08:00-10:00",
	    "mon 10:00-08:00",
	    "mon 10:00-10:00",
	    "mon 24:00-24:00",
	    "mon",
	    "08:00-10:00",
	    "mon 08:00-10:00 tue 11:00-12:00",
	    "mon 08:00-10:00 x",
	    "mon 08:00-10:00,",
	    "mon 08:00-10:00,, tue 10:00-11:00",
	    ", mon 08:00-10:00",
	    "mon; 08:00-10:00",
	};
	struct kp_week w;
	char err[256];

	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		err[0] = 0;
		if (kp_week_parse(bad[i], &w, err, sizeof err) != KP_EINVAL ||
		    !err[0] || !strstr(err, "use DAYS HH:MM-HH:MM")) {
			printf("  \"%s\" gave \"%s\"\n", bad[i], err);
			CHECK(!"a bad spec was taken or not explained");
		}
	}
	/* The message names the bad piece and says what it should be. */
	CHECK_INT(kp_week_parse("mon-fri 08:00-22:00, mon 25:00-26:00, sat "
				"10:00-16:00",
				&w, err, sizeof err),
		  KP_EINVAL);
	CHECK_STR(err, "bad weekly hours 'mon 25:00-26:00': the hours must be "
		       "HH:MM-HH:MM between 00:00 and 24:00; use DAYS "
		       "HH:MM-HH:MM, e.g. 'mon-fri 08:00-22:00, sat "
		       "10:00-16:00'");
	CHECK_INT(kp_week_parse("mon-fry 08:00-22:00", &w, err, sizeof err),
		  KP_EINVAL);
	CHECK(strstr(err, "'mon-fry' is not a list of days") != NULL);
	CHECK_INT(kp_week_parse("fri 22:00-02:00", &w, err, sizeof err),
		  KP_EINVAL);
	CHECK(strstr(err, "'fri 22:00-24:00, sat 00:00-02:00'") != NULL);
	/* A short buffer gets a shortened sentence; none at all is fine. */
	CHECK_INT(kp_week_parse("mon", &w, err, 10), KP_EINVAL);
	CHECK_INT(strlen(err), 9);
	CHECK_INT(kp_week_parse("mon", &w, NULL, 0), KP_EINVAL);
	CHECK_INT(kp_week_parse(NULL, &w, err, sizeof err), KP_EINVAL);
}

static void test_week_span_limit(void)
{
	char spec[2048], err[256];
	struct kp_week w;
	size_t used = 0;

	/* 64 separate spans on Monday fit; the 65th does not. */
	for (int i = 0; i < KP_WEEK_MAX_SPANS + 1; i++)
		used += (size_t)snprintf(
		    spec + used, sizeof spec - used,
		    "%smon %02d:%02d-%02d:%02d", i ? ", " : "", i * 20 / 60,
		    i * 20 % 60, i * 20 / 60, i * 20 % 60 + 10);
	CHECK_INT(kp_week_parse(spec, &w, err, sizeof err), KP_EINVAL);
	CHECK(strstr(err, "more than 64 spans") != NULL);
	*strrchr(spec, ',') = 0;
	CHECK_INT(kp_week_parse(spec, &w, err, sizeof err), KP_OK);
	CHECK_INT(w.nspans, KP_WEEK_MAX_SPANS);
	/* Repeats merge as they come, so they do not count against it. */
	used = 0;
	for (int i = 0; i < 20; i++)
		used +=
		    (size_t)snprintf(spec + used, sizeof spec - used,
				     "%smon-sun 08:00-09:00", i ? ", " : "");
	CHECK_INT(kp_week_parse(spec, &w, err, sizeof err), KP_OK);
	CHECK_INT(w.nspans, 7);
}

static void test_week_format_edges(void)
{
	struct kp_week w = {0};
	char buf[64], tiny[8];

	/* A table built by hand, out of order, still prints canonically. */
	w.nspans = 3;
	w.spans[0] =
	    (struct kp_span){.weekday = 5, .from_min = 600, .to_min = 960};
	w.spans[1] =
	    (struct kp_span){.weekday = 0, .from_min = 720, .to_min = 960};
	w.spans[2] =
	    (struct kp_span){.weekday = 0, .from_min = 480, .to_min = 720};
	CHECK_INT(kp_week_format(&w, buf, sizeof buf), KP_OK);
	CHECK_STR(buf, "mon 08:00-16:00, sat 10:00-16:00");
	CHECK_INT(kp_week_format(&w, tiny, sizeof tiny), KP_EINVAL);
	CHECK_STR(tiny, "");
	CHECK_INT(kp_week_format(&w, tiny, 0), KP_EINVAL);
	w.spans[0].to_min = 1441;
	CHECK_INT(kp_week_format(&w, buf, sizeof buf), KP_EINVAL);
}

static void test_week_covers(void)
{
	struct kp_week w;
	char err[256];

	CHECK_INT(kp_week_parse("mon-fri 08:00-22:00, sat 10:00-16:00", &w, err,
				sizeof err),
		  KP_OK);
	/* 2026-12-01 is a Tuesday, 2026-12-05 a Saturday. */
	CHECK(kp_week_covers(&w, s_at("2026-12-01 10:00"),
			     s_at("2026-12-01 12:00")));
	CHECK(kp_week_covers(&w, s_at("2026-12-01 08:00"),
			     s_at("2026-12-01 22:00")));
	/* Half-open: ending at closing time is inside, starting there not. */
	CHECK(kp_week_covers(&w, s_at("2026-12-01 20:00"),
			     s_at("2026-12-01 22:00")));
	CHECK(!kp_week_covers(&w, s_at("2026-12-01 22:00"),
			      s_at("2026-12-01 23:00")));
	CHECK(!kp_week_covers(&w, s_at("2026-12-01 21:00"),
			      s_at("2026-12-01 22:01")));
	CHECK(!kp_week_covers(&w, s_at("2026-12-01 07:59"),
			      s_at("2026-12-01 09:00")));
	CHECK(!kp_week_covers(&w, s_at("2026-12-01 07:59:59"),
			      s_at("2026-12-01 09:00")));
	CHECK(kp_week_covers(&w, s_at("2026-12-05 10:00"),
			     s_at("2026-12-05 16:00")));
	CHECK(!kp_week_covers(&w, s_at("2026-12-05 09:00"),
			      s_at("2026-12-05 11:00")));
	CHECK(!kp_week_covers(&w, s_at("2026-12-06 10:00"),
			      s_at("2026-12-06 11:00")));
	/* Empty and backwards intervals are not covered. */
	CHECK(!kp_week_covers(&w, s_at("2026-12-01 10:00"),
			      s_at("2026-12-01 10:00")));
	CHECK(!kp_week_covers(&w, s_at("2026-12-01 12:00"),
			      s_at("2026-12-01 10:00")));
	/* Summer or winter, it is the wall clock that counts. */
	CHECK(kp_week_covers(&w, s_at("2026-07-01 08:00"),
			     s_at("2026-07-01 22:00")));
	CHECK(!kp_week_covers(&w, s_at("2026-07-01 07:00"),
			      s_at("2026-07-01 09:00")));
}

static void test_week_covers_touching_spans(void)
{
	struct kp_week w = {0};

	/* Parsing merges touching spans; a table built by hand may not. */
	w.nspans = 3;
	w.spans[0] =
	    (struct kp_span){.weekday = 1, .from_min = 720, .to_min = 960};
	w.spans[1] =
	    (struct kp_span){.weekday = 1, .from_min = 480, .to_min = 720};
	w.spans[2] =
	    (struct kp_span){.weekday = 1, .from_min = 1000, .to_min = 1100};
	CHECK(kp_week_covers(&w, s_at("2026-12-01 11:00"),
			     s_at("2026-12-01 13:00")));
	CHECK(kp_week_covers(&w, s_at("2026-12-01 08:00"),
			     s_at("2026-12-01 16:00")));
	CHECK(!kp_week_covers(&w, s_at("2026-12-01 15:00"),
			      s_at("2026-12-01 17:00")));
}

static void test_week_covers_midnight(void)
{
	struct kp_week w;
	char err[256];

	/* 2026-12-04 is a Friday. */
	CHECK_INT(kp_week_parse("fri 20:00-24:00, sat 00:00-02:00", &w, err,
				sizeof err),
		  KP_OK);
	CHECK(kp_week_covers(&w, s_at("2026-12-04 23:00"),
			     s_at("2026-12-05 01:00")));
	CHECK(kp_week_covers(&w, s_at("2026-12-04 20:00"),
			     s_at("2026-12-05 02:00")));
	CHECK(kp_week_covers(&w, s_at("2026-12-04 22:00"),
			     s_at("2026-12-05 00:00")));
	CHECK(!kp_week_covers(&w, s_at("2026-12-04 23:00"),
			      s_at("2026-12-05 02:30")));
	CHECK_INT(kp_week_parse("fri 20:00-24:00, sat 00:30-02:00", &w, err,
				sizeof err),
		  KP_OK);
	CHECK(!kp_week_covers(&w, s_at("2026-12-04 23:00"),
			      s_at("2026-12-05 01:00")));
	CHECK_INT(kp_week_parse("fri 20:00-23:59, sat 00:00-02:00", &w, err,
				sizeof err),
		  KP_OK);
	CHECK(!kp_week_covers(&w, s_at("2026-12-04 23:00"),
			      s_at("2026-12-05 01:00")));
	/* Open all week, a booking may run for days. */
	CHECK_INT(kp_week_parse("mon-sun 00:00-24:00", &w, err, sizeof err),
		  KP_OK);
	CHECK(kp_week_covers(&w, s_at("2026-12-01 12:00"),
			     s_at("2026-12-05 12:00")));
}

static void test_week_covers_dst_days(void)
{
	struct kp_week w;
	char err[256];

	/* The 25-hour Sunday in October is open the whole of its length. */
	CHECK_INT(kp_week_parse("sun 00:00-24:00", &w, err, sizeof err), KP_OK);
	CHECK(kp_week_covers(&w, s_at("2026-10-25 00:00"),
			     s_at("2026-10-26 00:00")));
	CHECK(kp_week_covers(&w, AUTUMN_0230_CET, AUTUMN_0230_CET + 3600));
	/* A closing time the spring change skips closes when the clocks
	 * jump: 02:00 CET, which is 03:00 CEST. */
	CHECK_INT(kp_week_parse("sun 01:00-02:30", &w, err, sizeof err), KP_OK);
	CHECK(kp_week_covers(&w, s_at("2027-03-28 01:00"),
			     s_at("2027-03-28 01:59")));
	CHECK(kp_week_covers(&w, s_at("2027-03-28 01:00"),
			     s_at("2027-03-28 03:00")));
	CHECK(!kp_week_covers(&w, s_at("2027-03-28 01:00"),
			      s_at("2027-03-28 03:15")));
}

/*
 * Series.
 */

#define OCC_MAX 1200

struct s_occs {
	int n;
	int64_t start[OCC_MAX], end[OCC_MAX];
	int stop_at; /* return 7 on this call (1-based), 0 = never */
};

static int s_collect(int64_t start, int64_t end, void *arg)
{
	struct s_occs *o = arg;

	if (o->n < OCC_MAX) {
		o->start[o->n] = start;
		o->end[o->n] = end;
	}
	o->n++;
	return o->n == o->stop_at ? 7 : 0;
}

/* A weekly series from start to end, until the date given. */
static struct kp_series s_weekly(const char *start, const char *end,
				 const char *until)
{
	struct kp_series s = {
	    .start = s_at(start), .end = s_at(end), .weekly = true};

	CHECK_INT(
	    kp_date_parse(until, &s.until_year, &s.until_month, &s.until_day),
	    KP_OK);
	return s;
}

static bool s_in_order(const struct s_occs *o)
{
	for (int i = 1; i < o->n && i < OCC_MAX; i++)
		if (o->start[i] <= o->start[i - 1])
			return false;
	return true;
}

static void test_series_once(void)
{
	struct kp_series s = {.start = WINTER_10, .end = WINTER_10 + 3600};
	static struct s_occs o;
	int64_t cancelled = WINTER_10;

	memset(&o, 0, sizeof o);
	CHECK_INT(kp_series_each(&s, s_collect, &o), KP_OK);
	CHECK_INT(o.n, 1);
	CHECK_INT(o.start[0], WINTER_10);
	CHECK_INT(o.end[0], WINTER_10 + 3600);
	/* The until date and the days mean nothing to a single booking. */
	s.days_mask = 0x0a;
	s.until_year = 1999;
	memset(&o, 0, sizeof o);
	CHECK_INT(kp_series_each(&s, s_collect, &o), KP_OK);
	CHECK_INT(o.n, 1);
	s.cancelled = &cancelled;
	s.ncancelled = 1;
	memset(&o, 0, sizeof o);
	CHECK_INT(kp_series_each(&s, s_collect, &o), KP_OK);
	CHECK_INT(o.n, 0);
	/* The second 02:30 of the autumn night stays the second. */
	s = (struct kp_series){.start = AUTUMN_0230_CET,
			       .end = AUTUMN_0230_CET + 1800};
	memset(&o, 0, sizeof o);
	CHECK_INT(kp_series_each(&s, s_collect, &o), KP_OK);
	CHECK_INT(o.n, 1);
	CHECK_INT(o.start[0], AUTUMN_0230_CET);
}

static void test_series_keeps_wall_clock_across_dst(void)
{
	/* Sundays 17:00-18:30 from 2026-10-18 to 2027-04-04: through both
	 * changes, which fall on Sundays themselves. */
	struct kp_series s =
	    s_weekly("2026-10-18 17:00", "2026-10-18 18:30", "2027-04-04");
	static struct s_occs o;

	memset(&o, 0, sizeof o);
	CHECK_INT(kp_series_each(&s, s_collect, &o), KP_OK);
	CHECK_INT(o.n, 25);
	CHECK(s_in_order(&o));
	for (int i = 0; i < o.n && i < OCC_MAX; i++) {
		int wd, from, to;
		kp_local_parts(o.start[i], NULL, NULL, NULL, &wd, &from);
		kp_local_parts(o.end[i], NULL, NULL, NULL, NULL, &to);
		CHECK_INT(wd, 6);
		CHECK_INT(from, 17 * 60);
		CHECK_INT(to, 18 * 60 + 30);
		CHECK_INT(o.end[i] - o.start[i], 5400);
	}
	/* 17:00 is 15:00 UTC in summer time and 16:00 UTC in winter. */
	CHECK_STR(s_utc(o.start[0]), "2026-10-18T15:00:00Z");
	CHECK_STR(s_utc(o.start[1]), "2026-10-25T16:00:00Z");
	CHECK_STR(s_utc(o.start[22]), "2027-03-21T16:00:00Z");
	CHECK_STR(s_utc(o.start[23]), "2027-03-28T15:00:00Z");
	CHECK_STR(s_utc(o.start[24]), "2027-04-04T15:00:00Z");
	CHECK_STR(s_local(o.start[24]), "2027-04-04 17:00");
}

static void test_series_days_mask_and_until(void)
{
	/* Tuesday 2026-12-01; tue,thu up to Thursday the 10th, inclusive. */
	struct kp_series s =
	    s_weekly("2026-12-01 17:00", "2026-12-01 18:00", "2026-12-10");
	static struct s_occs o;

	CHECK_INT(kp_days_parse("tue,thu", &s.days_mask), KP_OK);
	memset(&o, 0, sizeof o);
	CHECK_INT(kp_series_each(&s, s_collect, &o), KP_OK);
	CHECK_INT(o.n, 4);
	CHECK_STR(s_local(o.start[0]), "2026-12-01 17:00");
	CHECK_STR(s_local(o.start[1]), "2026-12-03 17:00");
	CHECK_STR(s_local(o.start[2]), "2026-12-08 17:00");
	CHECK_STR(s_local(o.start[3]), "2026-12-10 17:00");
	CHECK_STR(s_local(o.end[3]), "2026-12-10 18:00");
	s.until_day = 9;
	memset(&o, 0, sizeof o);
	CHECK_INT(kp_series_each(&s, s_collect, &o), KP_OK);
	CHECK_INT(o.n, 3);
	/* The until date may be the start's own date. */
	s.until_day = 1;
	memset(&o, 0, sizeof o);
	CHECK_INT(kp_series_each(&s, s_collect, &o), KP_OK);
	CHECK_INT(o.n, 1);
	/* No mask: the weekday of the start. */
	s.days_mask = 0;
	s.until_day = 22;
	memset(&o, 0, sizeof o);
	CHECK_INT(kp_series_each(&s, s_collect, &o), KP_OK);
	CHECK_INT(o.n, 4);
	CHECK_STR(s_local(o.start[3]), "2026-12-22 17:00");
	/* Dates before the start's do not count, even in its week; the
	 * start's own date counts only if its weekday is in the mask. */
	s = s_weekly("2026-12-02 17:00", "2026-12-02 18:00", "2026-12-10");
	CHECK_INT(kp_days_parse("mon-tue,thu", &s.days_mask), KP_OK);
	memset(&o, 0, sizeof o);
	CHECK_INT(kp_series_each(&s, s_collect, &o), KP_OK);
	CHECK_INT(o.n, 4);
	CHECK_STR(s_local(o.start[0]), "2026-12-03 17:00");
	CHECK_STR(s_local(o.start[1]), "2026-12-07 17:00");
	CHECK_STR(s_local(o.start[3]), "2026-12-10 17:00");
}

static void test_series_cancelled_skipped(void)
{
	struct kp_series s =
	    s_weekly("2026-12-01 17:00", "2026-12-01 18:00", "2026-12-10");
	int64_t cancelled[2];
	static struct s_occs o;

	CHECK_INT(kp_days_parse("tue,thu", &s.days_mask), KP_OK);
	cancelled[0] = s_at("2026-12-03 17:00");
	cancelled[1] = s_at("2026-12-03 18:00"); /* matches nothing */
	s.cancelled = cancelled;
	s.ncancelled = 2;
	memset(&o, 0, sizeof o);
	CHECK_INT(kp_series_each(&s, s_collect, &o), KP_OK);
	CHECK_INT(o.n, 3);
	CHECK_STR(s_local(o.start[0]), "2026-12-01 17:00");
	CHECK_STR(s_local(o.start[1]), "2026-12-08 17:00");
	/* The first occurrence can be cancelled like any other. */
	cancelled[1] = s.start;
	memset(&o, 0, sizeof o);
	CHECK_INT(kp_series_each(&s, s_collect, &o), KP_OK);
	CHECK_INT(o.n, 2);
	CHECK_STR(s_local(o.start[0]), "2026-12-08 17:00");
}

static void test_series_ending_next_day(void)
{
	/* Fridays 22:00 to Saturday 02:00 keep their day offset. */
	struct kp_series s =
	    s_weekly("2026-10-16 22:00", "2026-10-17 02:00", "2026-10-30");
	static struct s_occs o;

	memset(&o, 0, sizeof o);
	CHECK_INT(kp_series_each(&s, s_collect, &o), KP_OK);
	CHECK_INT(o.n, 3);
	CHECK_STR(s_local(o.end[1]), "2026-10-24 02:00");
	CHECK_STR(s_local(o.start[2]), "2026-10-30 22:00");
	CHECK_STR(s_local(o.end[2]), "2026-10-31 02:00");
	/* The night of Saturday 24 October has the extra hour. */
	s = s_weekly("2026-10-17 22:00", "2026-10-18 06:00", "2026-10-31");
	memset(&o, 0, sizeof o);
	CHECK_INT(kp_series_each(&s, s_collect, &o), KP_OK);
	CHECK_INT(o.n, 3);
	CHECK_INT(o.end[0] - o.start[0], 8 * 3600);
	CHECK_INT(o.end[1] - o.start[1], 9 * 3600);
	CHECK_INT(o.end[2] - o.start[2], 8 * 3600);
}

static void test_series_in_the_gaps(void)
{
	/* Sundays 02:30-04:00: on 2027-03-28, 02:30 does not exist and the
	 * start moves forward by the gap to 03:30, for that date only. */
	struct kp_series s =
	    s_weekly("2027-03-21 02:30", "2027-03-21 04:00", "2027-04-04");
	static struct s_occs o;

	memset(&o, 0, sizeof o);
	CHECK_INT(kp_series_each(&s, s_collect, &o), KP_OK);
	CHECK_INT(o.n, 3);
	CHECK_STR(s_local(o.start[0]), "2027-03-21 02:30");
	CHECK_STR(s_local(o.start[1]), "2027-03-28 03:30");
	CHECK_STR(s_local(o.end[1]), "2027-03-28 04:00");
	CHECK_STR(s_utc(o.start[1]), "2027-03-28T01:30:00Z");
	CHECK_STR(s_local(o.start[2]), "2027-04-04 02:30");
	/* 02:30-03:15 would end before its moved start: the end moves along
	 * and the occurrence keeps its 45 minutes. */
	s = s_weekly("2027-03-21 02:30", "2027-03-21 03:15", "2027-04-04");
	memset(&o, 0, sizeof o);
	CHECK_INT(kp_series_each(&s, s_collect, &o), KP_OK);
	CHECK_INT(o.n, 3);
	CHECK_STR(s_local(o.start[1]), "2027-03-28 03:30");
	CHECK_STR(s_local(o.end[1]), "2027-03-28 04:15");
	/* An end in the gap moves too: 01:30-02:30 lasts an hour of real
	 * time and ends at 03:30. */
	s = s_weekly("2027-03-21 01:30", "2027-03-21 02:30", "2027-03-28");
	memset(&o, 0, sizeof o);
	CHECK_INT(kp_series_each(&s, s_collect, &o), KP_OK);
	CHECK_INT(o.n, 2);
	CHECK_STR(s_local(o.end[1]), "2027-03-28 03:30");
	CHECK_INT(o.end[1] - o.start[1], 3600);
	/* In autumn the repeated 02:30 is the first, summer time one. */
	s = s_weekly("2026-10-18 02:30", "2026-10-18 03:30", "2026-11-01");
	memset(&o, 0, sizeof o);
	CHECK_INT(kp_series_each(&s, s_collect, &o), KP_OK);
	CHECK_INT(o.n, 3);
	CHECK_INT(o.start[1], AUTUMN_0230_CEST);
	CHECK_STR(s_local(o.end[1]), "2026-10-25 03:30");
	CHECK_INT(o.end[1] - o.start[1], 2 * 3600);
	/* A series that starts on the second 02:30 keeps that start. */
	s.start = AUTUMN_0230_CET;
	s.end = AUTUMN_0230_CET + 3600;
	memset(&o, 0, sizeof o);
	CHECK_INT(kp_series_each(&s, s_collect, &o), KP_OK);
	CHECK_INT(o.n, 2);
	CHECK_INT(o.start[0], AUTUMN_0230_CET);
	CHECK_STR(s_local(o.start[1]), "2026-11-01 02:30");
}

static void test_series_limit(void)
{
	/* Every day from 2026-01-01: 1000 days end on 2028-09-26. */
	struct kp_series s =
	    s_weekly("2026-01-01 10:00", "2026-01-01 11:00", "2028-09-26");
	int64_t cancelled;
	static struct s_occs o;

	s.days_mask = 0x7f;
	memset(&o, 0, sizeof o);
	CHECK_INT(kp_series_each(&s, s_collect, &o), KP_OK);
	CHECK_INT(o.n, KP_SERIES_MAX);
	CHECK(s_in_order(&o));
	/* One more is refused before a single call. */
	s.until_day = 27;
	memset(&o, 0, sizeof o);
	CHECK_INT(kp_series_each(&s, s_collect, &o), KP_EINVAL);
	CHECK_INT(o.n, 0);
	/* Cancelled occurrences do not count. */
	cancelled = s.start;
	s.cancelled = &cancelled;
	s.ncancelled = 1;
	memset(&o, 0, sizeof o);
	CHECK_INT(kp_series_each(&s, s_collect, &o), KP_OK);
	CHECK_INT(o.n, KP_SERIES_MAX);
	/* Far too many, weekly for a century. */
	s = s_weekly("2026-01-01 10:00", "2026-01-01 11:00", "2126-01-01");
	memset(&o, 0, sizeof o);
	CHECK_INT(kp_series_each(&s, s_collect, &o), KP_EINVAL);
	CHECK_INT(o.n, 0);
}

static void test_series_refuses_malformed(void)
{
	struct kp_series s =
	    s_weekly("2026-12-01 17:00", "2026-12-01 18:00", "2026-12-31");
	struct kp_series bad;
	static struct s_occs o;

	memset(&o, 0, sizeof o);
	bad = s;
	bad.end = bad.start;
	CHECK_INT(kp_series_each(&bad, s_collect, &o), KP_EINVAL);
	bad.end = bad.start - 60;
	CHECK_INT(kp_series_each(&bad, s_collect, &o), KP_EINVAL);
	bad = s;
	bad.until_year = bad.until_month = bad.until_day = 0;
	CHECK_INT(kp_series_each(&bad, s_collect, &o), KP_EINVAL);
	bad = s;
	bad.until_month = 11; /* 2026-11-31 is no date */
	CHECK_INT(kp_series_each(&bad, s_collect, &o), KP_EINVAL);
	bad.until_day = 30; /* before the start */
	CHECK_INT(kp_series_each(&bad, s_collect, &o), KP_EINVAL);
	bad = s;
	bad.days_mask = 0x80;
	CHECK_INT(kp_series_each(&bad, s_collect, &o), KP_EINVAL);
	bad = s;
	bad.weekly = false;
	bad.end = bad.start;
	CHECK_INT(kp_series_each(&bad, s_collect, &o), KP_EINVAL);
	CHECK_INT(o.n, 0);
}

static void test_series_callback_stops_walk(void)
{
	struct kp_series s =
	    s_weekly("2026-12-01 17:00", "2026-12-01 18:00", "2026-12-31");
	static struct s_occs o;

	memset(&o, 0, sizeof o);
	o.stop_at = 2;
	CHECK_INT(kp_series_each(&s, s_collect, &o), 7);
	CHECK_INT(o.n, 2);
}

static void test_civil_days_round_trip(void)
{
	int y, m, d;
	CHECK(kp_days_from_civil(1970, 1, 1) == 0);
	CHECK(kp_days_from_civil(2026, 11, 23) == 20780);
	kp_civil_from_days(20780, &y, &m, &d);
	CHECK(y == 2026 && m == 11 && d == 23);
	/* Every day of four centuries, through leap days and back. */
	for (int64_t z = -400 * 366; z < 400 * 366; z += 13) {
		kp_civil_from_days(z, &y, &m, &d);
		CHECK(kp_days_from_civil(y, m, d) == z);
	}
	kp_civil_from_days(kp_days_from_civil(2028, 2, 29), &y, &m, &d);
	CHECK(y == 2028 && m == 2 && d == 29);
}

static void test_hhmm_parse(void)
{
	int min = -1;
	CHECK_INT(kp_hhmm_parse("00:00", &min), KP_OK);
	CHECK_INT(min, 0);
	CHECK_INT(kp_hhmm_parse("17:45", &min), KP_OK);
	CHECK_INT(min, 17 * 60 + 45);
	CHECK_INT(kp_hhmm_parse("23:59", &min), KP_OK);
	CHECK_INT(min, 1439);
	CHECK_INT(kp_hhmm_parse("24:00", &min), KP_EINVAL);
	CHECK_INT(kp_hhmm_parse("7:00", &min), KP_EINVAL);
	CHECK_INT(kp_hhmm_parse("17:60", &min), KP_EINVAL);
	CHECK_INT(kp_hhmm_parse("17.00", &min), KP_EINVAL);
	CHECK_INT(kp_hhmm_parse("17:00 ", &min), KP_EINVAL);
	CHECK_INT(kp_hhmm_parse("", &min), KP_EINVAL);
	CHECK_INT(kp_hhmm_parse(NULL, &min), KP_EINVAL);
}

int main(void)
{
	if (kp_tz_set(KP_TZ_DEFAULT) != KP_OK) {
		printf("FAIL tz_set: no %s in /usr/share/zoneinfo (install "
		       "tzdata)\n",
		       KP_TZ_DEFAULT);
		return 1;
	}
	RUN(test_tz_set_refuses_what_is_not_a_zone);
	RUN(test_now_is_plausible);
	RUN(test_parse_format_winter);
	RUN(test_parse_format_summer);
	RUN(test_parse_utc_form);
	RUN(test_parse_refuses_bad_input);
	RUN(test_spring_gap_refused);
	RUN(test_autumn_hour_is_the_first);
	RUN(test_local_parts);
	RUN(test_dates);
	RUN(test_local_make);
	RUN(test_other_zones);
	RUN(test_weekdays);
	RUN(test_days_parse);
	RUN(test_days_format);
	RUN(test_week_parse_and_format);
	RUN(test_week_empty);
	RUN(test_week_parse_refuses_bad_specs);
	RUN(test_week_span_limit);
	RUN(test_week_format_edges);
	RUN(test_week_covers);
	RUN(test_week_covers_touching_spans);
	RUN(test_week_covers_midnight);
	RUN(test_week_covers_dst_days);
	RUN(test_series_once);
	RUN(test_series_keeps_wall_clock_across_dst);
	RUN(test_series_days_mask_and_until);
	RUN(test_series_cancelled_skipped);
	RUN(test_series_ending_next_day);
	RUN(test_series_in_the_gaps);
	RUN(test_series_limit);
	RUN(test_series_refuses_malformed);
	RUN(test_series_callback_stops_walk);
	RUN(test_civil_days_round_trip);
	RUN(test_hhmm_parse);
	return check_done();
}
