/*
 * check.h - the unit-test harness: one binary per module, one line per
 * test case, "PASS name" or "FAIL name: why". tests/run.sh counts them.
 *
 *   static void test_round_trip(void) { CHECK(x == 1); CHECK_STR(a, b); }
 *   int main(void) { RUN(test_round_trip); return check_done(); }
 */
#ifndef KNUTE_CHECK_H
#define KNUTE_CHECK_H

#include <stdio.h>
#include <string.h>

static int check_failed_now;
static int check_failures;

#define CHECK(cond)                                                            \
	do {                                                                   \
		if (!(cond)) {                                                 \
			printf("  %s:%d: CHECK(%s) failed\n", __FILE__,        \
			       __LINE__, #cond);                               \
			check_failed_now = 1;                                  \
		}                                                              \
	} while (0)

#define CHECK_INT(a, b)                                                        \
	do {                                                                   \
		long long check_a_ = (long long)(a),                           \
			  check_b_ = (long long)(b);                           \
		if (check_a_ != check_b_) {                                    \
			printf("  %s:%d: %s == %lld, expected %lld\n",         \
			       __FILE__, __LINE__, #a, check_a_, check_b_);    \
			check_failed_now = 1;                                  \
		}                                                              \
	} while (0)

#define CHECK_STR(a, b)                                                        \
	do {                                                                   \
		const char *check_a_ = (a), *check_b_ = (b);                   \
		if (!check_a_ || !check_b_ || strcmp(check_a_, check_b_)) {    \
			printf("  %s:%d: %s == \"%s\", expected \"%s\"\n",     \
			       __FILE__, __LINE__, #a,                         \
			       check_a_ ? check_a_ : "(null)",                 \
			       check_b_ ? check_b_ : "(null)");                \
			check_failed_now = 1;                                  \
		}                                                              \
	} while (0)

#define RUN(fn)                                                                \
	do {                                                                   \
		check_failed_now = 0;                                          \
		fn();                                                          \
		printf("%s %s\n", check_failed_now ? "FAIL" : "PASS", #fn);    \
		check_failures += check_failed_now;                            \
		fflush(stdout);                                                \
	} while (0)

static inline int check_done(void)
{
	return check_failures ? 1 : 0;
}

#endif
