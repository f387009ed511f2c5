/*
 * cli.h - the frame of the knute command line: argument parsing, the
 * command table, errors, JSON and table output.
 *
 * Every command is one row of a table (struct cli_command) with the noun,
 * the verb, the options it accepts, a usage line and a help text; the frame
 * refuses an option the row does not list, prints --help from the row, and
 * opens the store before the command runs. A command returns 0 or a KP_E*
 * code, having printed its own message with cli_fail(); main() turns the
 * code into the exit status of DESIGN.md section 8.
 */
#ifndef KNUTE_CLI_H
#define KNUTE_CLI_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "knute/store.h"

#define CLI_MAX_OPTS 64
#define CLI_MAX_POS  8

struct cli_opt {
	const char *name;  /* without the leading "--" */
	const char *value; /* NULL for a flag */
};

struct cli {
	const struct cli_command *cmd;
	int npos;
	const char *pos[CLI_MAX_POS];
	int nopts;
	struct cli_opt opts[CLI_MAX_OPTS];
	bool json;
	const char *data;
	kp_store *store;
	int failed; /* set by cli_fail: a message has been printed */
};

typedef int (*cli_fn)(struct cli *cli);

struct cli_command {
	const char *noun;
	const char *verb; /* NULL for one-word commands (status, import) */
	cli_fn fn;
	const char *options; /* space-separated names it accepts */
	const char *usage;
	const char *help;
	bool no_store; /* runs without opening the store (init) */
};

/* The value of --name, or NULL; a flag gives "". */
const char *cli_opt(struct cli *cli, const char *name);
bool cli_flag(struct cli *cli, const char *name);

/* Print "knute: MESSAGE" on stderr and return code. */
int cli_fail(struct cli *cli, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* The same for an error from the store, with its detail and the fix. */
int cli_store_fail(struct cli *cli, int code);

/* Option readers: 0 and *out set, KP_ENOTFOUND when absent (nothing
 * printed), or KP_EINVAL after printing why. */
int cli_text(struct cli *cli, const char *name, size_t max, json_t **out);
int cli_int(struct cli *cli, const char *name, int64_t min, int64_t max,
	    int64_t *out);
int cli_time(struct cli *cli, const char *name, int64_t *out);
/* A comma-separated list of words as a JSON array of strings. */
int cli_list(struct cli *cli, const char *name, size_t max, json_t **out);
/* The one positional id the command takes (show, update, cancel ...). */
int cli_id_arg(struct cli *cli, char kind, struct kp_id *id);

/* Set field of rec from a text option when it was given; KP_OK when it
 * was not. Returns KP_EINVAL after printing why. */
int cli_set_text(struct cli *cli, json_t *rec, const char *name,
		 const char *field, size_t max);
int cli_set_list(struct cli *cli, json_t *rec, const char *name,
		 const char *field);

/* Print value as one JSON document on stdout (steals the reference). */
void cli_print_json(json_t *value);

/* A table for people: columns sized to their widest cell in characters
 * (not bytes, so æøå line up). */
struct cli_table;
struct cli_table *cli_table_new(int ncols, const char *const *headers);
void cli_table_row(struct cli_table *t, const char *const *cells);
void cli_table_print(struct cli_table *t);
void cli_table_free(struct cli_table **t);

/* "2026-12-01 17:00" for an instant field of rec, or "" when absent. */
void cli_time_field(const json_t *rec, const char *field, char *buf);

/* Print each clash of c on stderr, one per line. */
struct kp_clashes;
void cli_print_clashes(const struct kp_clashes *c);
/* Explain why kp_hold_room() refused rec, a "booking" or an "activity"
 * (unless a message was printed already); returns rc. */
int cli_refused(struct cli *cli, const char *what, int rc, const json_t *rec,
		const struct kp_clashes *c);
/* The words of a list field joined with ", " into buf (len bytes). */
void cli_join(const json_t *list, char *buf, size_t len);

/* The commands of each noun, each array ended by an all-zero row. */
extern const struct cli_command cli_room_commands[];
extern const struct cli_command cli_booking_commands[];
extern const struct cli_command cli_activity_commands[];
extern const struct cli_command cli_volunteer_commands[];
extern const struct cli_command cli_node_commands[]; /* init, status */
extern const struct cli_command cli_import_commands[];

/* Read --from, --to, --weekly, --until and --days into rec's series fields
 * (start, end, weekly, until, days). With required, --from and --to must
 * be given. Prints why and returns KP_EINVAL on bad input. */
int cli_series_opts(struct cli *cli, json_t *rec, bool required);
/* Refuse (exit 2) a schedule that has no dates or is no valid series. */
int cli_series_check(struct cli *cli, const json_t *rec);
/* "2026-12-01 17:00-19:00", and "weekly tue,thu until 2027-06-15". */
void cli_series_text(const json_t *rec, char *when, size_t whenlen,
		     char *repeat, size_t repeatlen);
#endif
