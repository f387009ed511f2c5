/*
 * knute.c - the knute command line: main(), dispatch, help.
 *
 *   knute [--data DIR] [--json] [--tz ZONE] NOUN VERB [ARGS] [--OPTION
 * VALUE]...
 *
 * Global options may stand anywhere; KNUTE_DATA stands in for --data.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "cmd_export.h"
#include "cmd_keys.h"
#include "cmd_requests.h"
#include "cmd_sync.h"
#include "knute/error.h"
#include "knute/ktime.h"

/* Options that take no value; every other option takes one. */
static const char *const s_flags[] = {
    "json",
    "help",
    "weekly",
    "skip-clashes",
    "all-hubs",
    "central",
    "police-required",
    "no-police-required",
    "include-personal",
    "pending",
    "confirmed",
    "series",
    "consent",
    "no-consent",
    "new-ids",
    "clear",
    NULL,
};

static const struct cli_command *const s_tables[] = {
    cli_node_commands,
    cli_room_commands,
    cli_booking_commands,
    cli_activity_commands,
    cli_volunteer_commands,
    cli_import_commands,
    cli_sync_commands,
    cli_export_commands,
    cli_requests_commands,
    cli_keys_commands,
    NULL,
};

static bool s_is_flag(const char *name)
{
	for (const char *const *f = s_flags; *f; f++)
		if (!strcmp(*f, name))
			return true;
	return false;
}

static void s_usage(FILE *out)
{
	fputs("usage: knute [--data DIR] [--json] [--tz ZONE] NOUN VERB "
	      "[OPTIONS]\n\ncommands:\n",
	      out);
	for (const struct cli_command *const *t = s_tables; *t; t++)
		for (const struct cli_command *c = *t; c->noun; c++)
			fprintf(out, "  %s\n", c->usage);
	fputs("\nGlobal options: --data DIR (or KNUTE_DATA), --json, --tz ZONE "
	      "(default Europe/Oslo).\n'knute NOUN VERB --help' explains one "
	      "command. Exit codes: 0 ok, 2 bad input, 3 booking clash, 4 not "
	      "found, 1 other failure.\n",
	      out);
}

static const struct cli_command *s_find(const char *noun, const char *verb)
{
	for (const struct cli_command *const *t = s_tables; *t; t++)
		for (const struct cli_command *c = *t; c->noun; c++)
			if (!strcmp(c->noun, noun) &&
			    (c->verb ? verb && !strcmp(c->verb, verb) : true))
				return c;
	return NULL;
}

static bool s_noun_known(const char *noun)
{
	for (const struct cli_command *const *t = s_tables; *t; t++)
		for (const struct cli_command *c = *t; c->noun; c++)
			if (!strcmp(c->noun, noun))
				return true;
	return false;
}

static bool s_accepts(const struct cli_command *c, const char *name)
{
	size_t len = strlen(name);
	const char *p = c->options;
	if (!strcmp(name, "help") || !strcmp(name, "json"))
		return true;
	while (p && *p) {
		const char *end = strchr(p, ' ');
		size_t n = end ? (size_t)(end - p) : strlen(p);
		if (n == len && !strncmp(p, name, len))
			return true;
		p = end ? end + 1 : p + n;
	}
	return false;
}

int main(int argc, char **argv)
{
	struct cli cli = {0};
	const char *words[CLI_MAX_POS + 2];
	int nwords = 0, rc;
	const char *tz = getenv("KNUTE_TZ");

	cli.data = getenv("KNUTE_DATA");
	for (int i = 1; i < argc; i++) {
		char *a = argv[i];
		if (a[0] == '-' && a[1] == '-' && a[2]) {
			char *eq = strchr(a, '=');
			struct cli_opt opt;
			if (cli.nopts == CLI_MAX_OPTS) {
				fprintf(stderr, "knute: too many options\n");
				return 2;
			}
			if (eq) {
				/* --name=value: argv is ours to cut. */
				*eq = 0;
				opt.name = a + 2;
				opt.value = eq + 1;
			} else {
				opt.name = a + 2;
				opt.value = NULL;
				if (!s_is_flag(opt.name)) {
					if (i + 1 >= argc) {
						fprintf(stderr,
							"knute: option --%s "
							"needs a value\n",
							opt.name);
						return 2;
					}
					opt.value = argv[++i];
				}
			}
			if (!strcmp(opt.name, "data"))
				cli.data = opt.value;
			else if (!strcmp(opt.name, "tz"))
				tz = opt.value;
			else
				cli.opts[cli.nopts++] = opt;
			if (!strcmp(opt.name, "json"))
				cli.json = true;
		} else if (!strcmp(a, "-h")) {
			cli.opts[cli.nopts++] = (struct cli_opt){"help", NULL};
		} else {
			if (nwords == CLI_MAX_POS + 2) {
				fprintf(stderr, "knute: too many arguments\n");
				return 2;
			}
			words[nwords++] = a;
		}
	}
	if (nwords == 0 || (nwords == 1 && !strcmp(words[0], "help"))) {
		s_usage(nwords ? stdout
			       : (cli_flag(&cli, "help") ? stdout : stderr));
		return nwords || cli_flag(&cli, "help") ? 0 : 2;
	}
	if (kp_tz_set(tz ? tz : KP_TZ_DEFAULT)) {
		fprintf(stderr,
			"knute: unknown time zone '%s': give an IANA name such "
			"as Europe/Oslo\n",
			tz);
		return 2;
	}
	cli.cmd = s_find(words[0], nwords > 1 ? words[1] : NULL);
	if (!cli.cmd) {
		if (s_noun_known(words[0]))
			fprintf(stderr,
				"knute: '%s' needs a verb%s%s: see 'knute %s "
				"--help' or 'knute help'\n",
				words[0], nwords > 1 ? ", not " : "",
				nwords > 1 ? words[1] : "", words[0]);
		else
			fprintf(stderr,
				"knute: unknown command '%s': run 'knute help' "
				"for the list\n",
				words[0]);
		return 2;
	}
	for (int i = cli.cmd->verb ? 2 : 1; i < nwords; i++)
		cli.pos[cli.npos++] = words[i];
	if (cli_flag(&cli, "help")) {
		printf("usage: %s\n\n%s\n", cli.cmd->usage, cli.cmd->help);
		return 0;
	}
	for (int i = 0; i < cli.nopts; i++)
		if (!s_accepts(cli.cmd, cli.opts[i].name)) {
			fprintf(
			    stderr,
			    "knute: unknown option --%s for 'knute %s%s%s': "
			    "see 'knute %s%s%s --help'\n",
			    cli.opts[i].name, cli.cmd->noun,
			    cli.cmd->verb ? " " : "",
			    cli.cmd->verb ? cli.cmd->verb : "", cli.cmd->noun,
			    cli.cmd->verb ? " " : "",
			    cli.cmd->verb ? cli.cmd->verb : "");
			return 2;
		}
	if (!cli.data || !cli.data[0]) {
		fprintf(stderr, "knute: say which data directory: --data DIR "
				"or KNUTE_DATA=DIR\n");
		return 2;
	}
	if (!cli.cmd->no_store) {
		rc = kp_store_open(cli.data, &cli.store);
		if (rc == KP_ENOINIT) {
			fprintf(
			    stderr,
			    "knute: %s holds no knutepunkt store: create "
			    "one with 'knute init --data %s --hub ID --name "
			    "NAME'\n",
			    cli.data, cli.data);
			return 1;
		}
		if (rc) {
			cli_store_fail(&cli, rc);
			return kp_exit_code(rc) == 0 ? 1 : kp_exit_code(rc);
		}
	}
	rc = cli.cmd->fn(&cli);
	if (rc && !cli.failed)
		cli_store_fail(&cli, rc);
	kp_store_close(&cli.store);
	fflush(stdout);
	return kp_exit_code(rc);
}
