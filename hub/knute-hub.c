/*
 * knute-hub.c - the hub daemon: keeps a district hub's store in sync with
 * central (docs/protocol.md).
 *
 *   knute-hub --data DIR --central tcp://HOST:PORT [--retention SECONDS]
 *
 * KNUTE_DATA stands in for --data, KNUTE_TZ for the time zone (default
 * Europe/Oslo, used when central's records are put back under the
 * room-booking rules). SIGINT and SIGTERM stop it cleanly: they are read
 * through a signalfd, so no handler runs in the middle of anything.
 */
#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include "hubsync.h"
#include "knute/error.h"
#include "knute/ktime.h"
#include "model.h"

#define S_RETENTION_MAX (100LL * 365 * 86400)

static void s_usage(FILE *out)
{
	fputs("usage: knute-hub --data DIR --central tcp://HOST:PORT "
	      "[--retention SECONDS]\n"
	      "                 [--http [ADDRESS:]PORT] [--web DIR]\n\n"
	      "Keeps the hub's store in DIR in sync with central: sends its "
	      "changes, keeps\nthe mirror of the other hubs' public records, "
	      "reconnects by itself.\n"
	      "  --data DIR           the hub's data directory (or "
	      "KNUTE_DATA)\n"
	      "  --central ADDRESS    central's address, e.g. "
	      "tcp://127.0.0.1:5570\n"
	      "  --retention SECONDS  how long changes central acknowledged "
	      "stay in the\n"
	      "                       oplog (default 604800, 7 days; kept in "
	      "the store)\n"
	      "  --http [ADDRESS:]PORT  serve the hub's pages, JSON API, "
	      "calendar feeds\n"
	      "                       and /metrics (on 127.0.0.1 unless an "
	      "address is given)\n"
	      "  --web DIR            the pages (default: the installed "
	      "ones)\n"
	      "SIGINT or SIGTERM stops it after the batch in hand.\n",
	      out);
}

/* The value of option name at argv[*i]: "--name=value" or "--name
 * value". NULL (and a message) when it has none. */
static const char *s_value(int argc, char **argv, int *i, const char *name)
{
	const char *a = argv[*i] + 2 + strlen(name);
	if (*a == '=')
		return a + 1;
	if (*i + 1 >= argc) {
		fprintf(stderr, "knute-hub: option --%s needs a value\n", name);
		return NULL;
	}
	return argv[++*i];
}

static bool s_is_opt(const char *arg, const char *name)
{
	size_t n = strlen(name);
	return !strncmp(arg, "--", 2) && !strncmp(arg + 2, name, n) &&
	       (arg[2 + n] == 0 || arg[2 + n] == '=');
}

int main(int argc, char **argv)
{
	struct kp_hubsync_opts opts = {.data = getenv("KNUTE_DATA"),
				       .retention = -1};
	const char *tz = getenv("KNUTE_TZ");
	char err[KP_ERR_MAX];
	kp_hubsync *hs;
	sigset_t set;
	int sfd, rc;

	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
			s_usage(stdout);
			return 0;
		} else if (s_is_opt(a, "data")) {
			if (!(opts.data = s_value(argc, argv, &i, "data")))
				return 2;
		} else if (s_is_opt(a, "central")) {
			if (!(opts.central =
				  s_value(argc, argv, &i, "central")))
				return 2;
		} else if (s_is_opt(a, "http")) {
			if (!(opts.http = s_value(argc, argv, &i, "http")))
				return 2;
		} else if (s_is_opt(a, "web")) {
			if (!(opts.webroot = s_value(argc, argv, &i, "web")))
				return 2;
		} else if (s_is_opt(a, "retention")) {
			const char *v = s_value(argc, argv, &i, "retention");
			char *end;
			long long secs;
			if (!v)
				return 2;
			errno = 0;
			secs = strtoll(v, &end, 10);
			if (!*v || *end || errno || secs < 0 ||
			    secs > S_RETENTION_MAX) {
				fprintf(stderr,
					"knute-hub: --retention '%s' is not a "
					"number of seconds from 0 to %lld, "
					"e.g. 604800 for 7 days\n",
					v, S_RETENTION_MAX);
				return 2;
			}
			opts.retention = secs;
		} else {
			fprintf(stderr,
				"knute-hub: unknown argument '%s': see "
				"'knute-hub --help'\n",
				a);
			return 2;
		}
	}
	if (!opts.data || !opts.data[0]) {
		fprintf(stderr, "knute-hub: say which data directory: --data "
				"DIR or KNUTE_DATA=DIR\n");
		return 2;
	}
	if (!opts.central || !opts.central[0]) {
		fprintf(stderr, "knute-hub: say where central is: --central "
				"tcp://HOST:PORT, e.g. tcp://127.0.0.1:5570\n");
		return 2;
	}
	if (kp_tz_set(tz ? tz : KP_TZ_DEFAULT)) {
		fprintf(
		    stderr,
		    "knute-hub: unknown time zone '%s' in KNUTE_TZ: give an "
		    "IANA name such as Europe/Oslo\n",
		    tz);
		return 2;
	}

	/* Block the stop signals before any thread exists (ZeroMQ starts
	 * some), so they all stay pending for the signalfd. */
	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	if (sigprocmask(SIG_BLOCK, &set, NULL) ||
	    (sfd = signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC)) < 0) {
		fprintf(stderr, "knute-hub: cannot take signals: %s\n",
			strerror(errno));
		return 1;
	}
	signal(SIGPIPE, SIG_IGN);

	rc = kp_hubsync_open(&opts, &hs, err);
	if (rc) {
		fprintf(stderr, "knute-hub: %s\n", err);
		close(sfd);
		return rc == KP_ENOINIT || rc == KP_EINVAL ? 2 : 1;
	}
	rc = kp_hubsync_run(hs, sfd);
	if (rc == KP_OK) {
		struct signalfd_siginfo si;
		const char *name = "a signal";
		if (read(sfd, &si, sizeof si) == (ssize_t)sizeof si)
			name = si.ssi_signo == SIGINT ? "SIGINT" : "SIGTERM";
		fprintf(
		    stderr,
		    "knute-hub[%s]: stopped on %s; central has acknowledged "
		    "up to seq %" PRIu64 "\n",
		    kp_hubsync_hub(hs), name, kp_hubsync_acked(hs));
	} else {
		fprintf(
		    stderr,
		    "knute-hub[%s]: stopped: %s; start knute-hub again once "
		    "the cause is fixed\n",
		    kp_hubsync_hub(hs), kp_strerror(rc));
	}
	kp_hubsync_destroy(&hs);
	close(sfd);
	return rc ? 1 : 0;
}
