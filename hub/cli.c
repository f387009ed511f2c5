/*
 * cli.c - option readers, errors and output for the command line.
 */
#include "cli.h"
#include "ops.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "knute/error.h"
#include "knute/ktime.h"
#include "rules.h"

const char *cli_opt(struct cli *cli, const char *name)
{
	for (int i = cli->nopts - 1; i >= 0; i--)
		if (!strcmp(cli->opts[i].name, name))
			return cli->opts[i].value ? cli->opts[i].value : "";
	return NULL;
}

bool cli_flag(struct cli *cli, const char *name)
{
	return cli_opt(cli, name) != NULL;
}

int cli_fail(struct cli *cli, int code, const char *fmt, ...)
{
	va_list ap;
	fputs("knute: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	cli->failed = 1;
	return code;
}

int cli_store_fail(struct cli *cli, int code)
{
	const char *detail = cli->store ? kp_store_detail(cli->store) : "";
	const char *fix = "";
	switch (code) {
	case KP_EFULL:
		fix = ": free disk space on the data directory's file system, "
		      "then run the command again (nothing was written)";
		break;
	case KP_EREADONLY:
		fix = ": check the permissions of the data directory "
		      "(nothing was written)";
		break;
	case KP_ENOINIT:
		fix = ": create one with 'knute init --data DIR --hub ID "
		      "--name NAME'";
		break;
	}
	if (detail[0])
		return cli_fail(cli, code, "%s (%s)%s", kp_strerror(code),
				detail, fix);
	return cli_fail(cli, code, "%s%s", kp_strerror(code), fix);
}

/* True when text is valid UTF-8 (jansson checks it when it builds). */
static json_t *s_utf8(const char *text)
{
	return json_string(text);
}

int cli_text(struct cli *cli, const char *name, size_t max, json_t **out)
{
	const char *v = cli_opt(cli, name);
	*out = NULL;
	if (!v)
		return KP_ENOTFOUND;
	if (strlen(v) > max)
		return cli_fail(cli, KP_EINVAL,
				"--%s is %zu bytes long; the limit is %zu: "
				"shorten it",
				name, strlen(v), max);
	if (!(*out = s_utf8(v)))
		return cli_fail(cli, KP_EINVAL,
				"--%s is not valid UTF-8 text: check the "
				"terminal's or file's encoding",
				name);
	return KP_OK;
}

int cli_int(struct cli *cli, const char *name, int64_t min, int64_t max,
	    int64_t *out)
{
	const char *v = cli_opt(cli, name);
	char *end;
	long long n;
	if (!v)
		return KP_ENOTFOUND;
	n = strtoll(v, &end, 10);
	if (!*v || *end || n < min || n > max)
		return cli_fail(cli, KP_EINVAL,
				"--%s '%s' is not a whole number from %lld to "
				"%lld",
				name, v, (long long)min, (long long)max);
	*out = n;
	return KP_OK;
}

int cli_time(struct cli *cli, const char *name, int64_t *out)
{
	const char *v = cli_opt(cli, name);
	if (!v)
		return KP_ENOTFOUND;
	if (kp_time_parse(v, out))
		return cli_fail(cli, KP_EINVAL,
				"--%s '%s' is not a local time: write "
				"'YYYY-MM-DD HH:MM', e.g. '2026-12-01 17:00' "
				"(a time skipped when summer time starts does "
				"not exist)",
				name, v);
	return KP_OK;
}

int cli_list(struct cli *cli, const char *name, size_t max, json_t **out)
{
	const char *v = cli_opt(cli, name);
	const char *p;
	*out = NULL;
	if (!v)
		return KP_ENOTFOUND;
	if (!(*out = json_array()))
		return KP_ENOMEM;
	for (p = v; *p;) {
		const char *comma = strchr(p, ',');
		size_t len = comma ? (size_t)(comma - p) : strlen(p);
		const char *a = p, *b = p + len;
		while (a < b && (*a == ' ' || *a == '\t'))
			a++;
		while (b > a && (b[-1] == ' ' || b[-1] == '\t'))
			b--;
		if (b > a) {
			json_t *word = json_stringn(a, (size_t)(b - a));
			if (!word || (size_t)(b - a) > max ||
			    json_array_size(*out) >= KP_LIST_MAX) {
				json_decref(word);
				json_decref(*out);
				*out = NULL;
				return cli_fail(
				    cli, KP_EINVAL,
				    "--%s takes at most %d comma-separated "
				    "words of at most %zu bytes of UTF-8",
				    name, KP_LIST_MAX, max);
			}
			json_array_append_new(*out, word);
		}
		p = comma ? comma + 1 : b;
		if (!comma)
			break;
	}
	return KP_OK;
}

int cli_id_arg(struct cli *cli, char kind, struct kp_id *id)
{
	char err[KP_ERR_MAX];
	if (cli->npos < 1)
		return cli_fail(cli, KP_EINVAL,
				"give the %s id: knute %s %s ID (see --help)",
				kp_kind_name(kind), cli->cmd->noun,
				cli->cmd->verb);
	if (cli->npos > 1)
		return cli_fail(cli, KP_EINVAL,
				"unexpected argument '%s': give one id",
				cli->pos[1]);
	if (kp_id_parse(cli->pos[0], kp_store_hub(cli->store), kind, id, err))
		return cli_fail(cli, KP_EINVAL, "%s", err);
	return KP_OK;
}

int cli_set_text(struct cli *cli, json_t *rec, const char *name,
		 const char *field, size_t max)
{
	json_t *v;
	int rc = cli_text(cli, name, max, &v);
	if (rc == KP_ENOTFOUND)
		return KP_OK;
	if (rc)
		return rc;
	json_object_set_new(rec, field, v);
	return KP_OK;
}

int cli_set_list(struct cli *cli, json_t *rec, const char *name,
		 const char *field)
{
	json_t *v;
	int rc = cli_list(cli, name, 100, &v);
	if (rc == KP_ENOTFOUND)
		return KP_OK;
	if (rc)
		return rc;
	json_object_set_new(rec, field, v);
	return KP_OK;
}

void cli_print_json(json_t *value)
{
	json_dumpf(value, stdout, JSON_INDENT(2) | JSON_ENCODE_ANY);
	fputc('\n', stdout);
	json_decref(value);
}

void cli_time_field(const json_t *rec, const char *field, char *buf)
{
	const json_t *v = json_object_get(rec, field);
	buf[0] = 0;
	if (json_is_integer(v))
		kp_time_format(json_integer_value(v), buf);
}

void cli_print_clashes(const struct kp_clashes *c)
{
	char line[512];
	for (size_t i = 0; i < c->n; i++) {
		kp_clash_describe(&c->items[i], line, sizeof line);
		fprintf(stderr, "  %s\n", line);
	}
}

/* ---- tables ---- */

struct cli_table {
	int ncols;
	size_t nrows, cap;
	char **cells; /* nrows * ncols, row 0 the headers */
};

static size_t s_width(const char *s)
{
	size_t w = 0;
	for (; *s; s++)
		if (((unsigned char)*s & 0xC0) != 0x80)
			w++;
	return w;
}

struct cli_table *cli_table_new(int ncols, const char *const *headers)
{
	struct cli_table *t = calloc(1, sizeof *t);
	if (!t)
		return NULL;
	t->ncols = ncols;
	cli_table_row(t, headers);
	return t;
}

void cli_table_row(struct cli_table *t, const char *const *cells)
{
	if (!t)
		return;
	if (t->nrows == t->cap) {
		size_t cap = t->cap ? t->cap * 2 : 16;
		char **grown =
		    realloc(t->cells, cap * (size_t)t->ncols * sizeof *grown);
		if (!grown)
			return;
		t->cells = grown;
		t->cap = cap;
	}
	for (int i = 0; i < t->ncols; i++)
		t->cells[t->nrows * (size_t)t->ncols + (size_t)i] =
		    strdup(cells[i] ? cells[i] : "");
	t->nrows++;
}

void cli_table_print(struct cli_table *t)
{
	size_t width[32] = {0};
	if (!t)
		return;
	for (size_t r = 0; r < t->nrows; r++)
		for (int c = 0; c < t->ncols && c < 32; c++) {
			const char *cell =
			    t->cells[r * (size_t)t->ncols + (size_t)c];
			size_t w = cell ? s_width(cell) : 0;
			if (w > width[c])
				width[c] = w;
		}
	for (size_t r = 0; r < t->nrows; r++) {
		for (int c = 0; c < t->ncols; c++) {
			const char *cell =
			    t->cells[r * (size_t)t->ncols + (size_t)c];
			if (!cell)
				cell = "";
			fputs(cell, stdout);
			if (c + 1 < t->ncols)
				for (size_t pad = s_width(cell);
				     pad < width[c] + 2; pad++)
					fputc(' ', stdout);
		}
		fputc('\n', stdout);
	}
	if (t->nrows == 1)
		fputs("(none)\n", stdout);
}

void cli_table_free(struct cli_table **t)
{
	if (!t || !*t)
		return;
	for (size_t i = 0; i < (*t)->nrows * (size_t)(*t)->ncols; i++)
		free((*t)->cells[i]);
	free((*t)->cells);
	free(*t);
	*t = NULL;
}

static int s_count_occurrence(int64_t start, int64_t end, void *arg)
{
	(void)start;
	(void)end;
	++*(int *)arg;
	return 0;
}

/* A weekly series must have between one and KP_SERIES_MAX dates; say
 * which end to move when it has not. */
static int s_series_check(struct cli *cli, const json_t *rec)
{
	struct kp_series s;
	int64_t *cancelled;
	char first[KP_TIME_STRLEN];
	const char *until = kp_rec_str(rec, "until", "");
	int rc, n = 0, y, m, d;

	rc = kp_series_of(rec, &s, &cancelled);
	if (rc == KP_OK)
		rc = kp_series_each(&s, s_count_occurrence, &n);
	free(cancelled);
	if (rc != KP_EINVAL)
		return rc;
	kp_local_parts(s.start, &y, &m, &d, NULL, NULL);
	kp_date_format(y, m, d, first);
	if (strcmp(until, first) < 0)
		return cli_fail(cli, KP_EINVAL,
				"--until %s is before the first date %s: give "
				"a later --until",
				until, first);
	return cli_fail(cli, KP_EINVAL,
			"a series has at most %d dates; from %s until %s has "
			"more: give an earlier --until",
			KP_SERIES_MAX, first, until);
}

int cli_series_opts(struct cli *cli, json_t *rec, bool required)
{
	int64_t start, end;
	const char *until = cli_opt(cli, "until"), *days = cli_opt(cli, "days");
	bool weekly = cli_flag(cli, "weekly");
	int rc, y, m, d;

	rc = cli_time(cli, "from", &start);
	if (rc == KP_ENOTFOUND && required)
		return cli_fail(cli, KP_EINVAL,
				"give the start: --from \"2026-12-01 17:00\"");
	if (rc == KP_OK)
		json_object_set_new(rec, "start", json_integer(start));
	else if (rc != KP_ENOTFOUND)
		return rc;
	rc = cli_time(cli, "to", &end);
	if (rc == KP_ENOTFOUND && required)
		return cli_fail(cli, KP_EINVAL,
				"give the end: --to \"2026-12-01 19:00\"");
	if (rc == KP_OK)
		json_object_set_new(rec, "end", json_integer(end));
	else if (rc != KP_ENOTFOUND)
		return rc;
	if (kp_rec_int(rec, "end", 0) <= kp_rec_int(rec, "start", 0)) {
		char a[KP_TIME_STRLEN], b[KP_TIME_STRLEN];
		kp_time_format(kp_rec_int(rec, "start", 0), a);
		kp_time_format(kp_rec_int(rec, "end", 0), b);
		return cli_fail(cli, KP_EINVAL,
				"the end (%s) must be after the start (%s)", b,
				a);
	}
	if ((until || days) && !weekly && !kp_rec_bool(rec, "weekly", false))
		return cli_fail(cli, KP_EINVAL,
				"--until and --days go with --weekly");
	if (weekly)
		json_object_set_new(rec, "weekly", json_true());
	if (until) {
		if (kp_date_parse(until, &y, &m, &d))
			return cli_fail(cli, KP_EINVAL,
					"--until '%s' is not a date: write "
					"YYYY-MM-DD, e.g. 2027-06-15",
					until);
		json_object_set_new(rec, "until", json_string(until));
	}
	if (weekly && !json_object_get(rec, "until"))
		return cli_fail(cli, KP_EINVAL,
				"a weekly series needs its last date: --until "
				"YYYY-MM-DD");
	if (!days && weekly) {
		/* The series repeats on the weekday of its first date. */
		int wd;
		kp_local_parts(kp_rec_int(rec, "start", 0), NULL, NULL, NULL,
			       &wd, NULL);
		json_object_set_new(rec, "days",
				    json_string(kp_weekday_name(wd)));
	}
	if (days) {
		uint8_t mask;
		char canon[40];
		if (kp_days_parse(days, &mask))
			return cli_fail(
			    cli, KP_EINVAL,
			    "--days '%s' is not a list of weekdays: "
			    "write e.g. 'tue,thu' or 'mon-fri'",
			    days);
		kp_days_format(mask, canon);
		json_object_set_new(rec, "days", json_string(canon));
	}
	if (kp_rec_bool(rec, "weekly", false))
		return s_series_check(cli, rec);
	return KP_OK;
}

void cli_series_text(const json_t *rec, char *when, size_t whenlen,
		     char *repeat, size_t repeatlen)
{
	char a[KP_TIME_STRLEN], b[KP_TIME_STRLEN];
	kp_time_format(kp_rec_int(rec, "start", 0), a);
	kp_time_format(kp_rec_int(rec, "end", 0), b);
	if (!strncmp(a, b, 10))
		snprintf(when, whenlen, "%s-%s", a, b + 11);
	else
		snprintf(when, whenlen, "%s - %s", a, b);
	if (kp_rec_bool(rec, "weekly", false))
		snprintf(repeat, repeatlen, "weekly %s until %s",
			 kp_rec_str(rec, "days", ""),
			 kp_rec_str(rec, "until", ""));
	else
		snprintf(repeat, repeatlen, "once");
}

int cli_refused(struct cli *cli, const char *what, int rc, const json_t *rec,
		const struct kp_clashes *c)
{
	if (cli->failed)
		return rc;
	if (rc == KP_ENOTFOUND)
		return cli_fail(cli, rc,
				"no room %s at this hub: 'knute room list' "
				"shows the rooms",
				kp_rec_str(rec, "room", "?"));
	if (rc == KP_EINVAL)
		return cli_fail(cli, rc,
				"room %s is not a room of this hub: a room at "
				"another hub is booked through central",
				kp_rec_str(rec, "room", "?"));
	if (rc != KP_ECLASH)
		return rc;
	if (c->n == 1) {
		char line[512];
		kp_clash_describe(&c->items[0], line, sizeof line);
		return cli_fail(cli, rc, "%s refused: %s", what, line);
	}
	cli_fail(cli, rc,
		 "%s refused: %zu of its dates clash (nothing was written; "
		 "--skip-clashes books the free dates):",
		 what, c->n);
	cli_print_clashes(c);
	return rc;
}

void cli_join(const json_t *list, char *buf, size_t len)
{
	size_t i, used;
	json_t *item;

	buf[0] = 0;
	json_array_foreach(list, i, item)
	{
		used = strlen(buf);
		if (used + 1 >= len)
			break;
		snprintf(buf + used, len - used, "%s%s", i ? ", " : "",
			 json_string_value(item));
	}
}

int cli_series_check(struct cli *cli, const json_t *rec)
{
	char err[KP_ERR_MAX];
	int rc = kp_op_series_check(rec, true, err);
	if (rc == KP_EINVAL)
		return cli_fail(cli, rc, "%s", err);
	return rc;
}
