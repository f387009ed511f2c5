/*
 * knute-central - the municipality's coordinator: takes every hub's
 * changes over ZeroMQ and hands the municipality-wide picture back.
 *
 *   knute-central --data DIR --listen tcp://127.0.0.1:5570 [--curve]
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "csync.h"
#include "knute/error.h"
#include "knute/ktime.h"
#include "knute/store.h"

static volatile sig_atomic_t s_stop;

static void s_on_signal(int sig)
{
	(void)sig;
	s_stop = 1;
}

static void s_usage(FILE *f)
{
	fprintf(
	    f,
	    "usage: knute-central --data DIR --listen ENDPOINT "
	    "[--http [ADDRESS:]PORT] [--web DIR] [--curve]\n"
	    "\n"
	    "Run a municipality's central coordinator on the store in DIR\n"
	    "(made with: knute init --data DIR --central --name NAME).\n"
	    "ENDPOINT is where hubs connect, e.g. tcp://127.0.0.1:5570 or\n"
	    "tcp://0.0.0.0:5570. KNUTE_DATA stands in for --data.\n"
	    "  --http [ADDRESS:]PORT  serve the dashboard, the JSON API and\n"
	    "                         /metrics (address 127.0.0.1 unless "
	    "given)\n"
	    "  --web DIR              the dashboard's pages (default: the\n"
	    "                         installed ones)\n"
	    "  --curve                CurveZMQ: encrypt every connection and\n"
	    "                         accept only hub keys registered with\n"
	    "                         knute keys add (docs/security.md)\n"
	    "Stops cleanly on SIGINT or SIGTERM.\n");
}

int main(int argc, char **argv)
{
	const char *data = getenv("KNUTE_DATA"), *listen = NULL;
	struct csync_opts opts = {0};
	struct sigaction sa;
	kp_store *store;
	int rc;

	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
			s_usage(stdout);
			return 0;
		}
		if ((!strcmp(a, "--data") || !strcmp(a, "--listen")) &&
		    i + 1 < argc) {
			*(a[2] == 'd' ? &data : &listen) = argv[++i];
			continue;
		}
		if (!strcmp(a, "--http") && i + 1 < argc) {
			opts.http = argv[++i];
			continue;
		}
		if (!strcmp(a, "--curve")) {
			opts.curve = true;
			continue;
		}
		if (!strcmp(a, "--web") && i + 1 < argc) {
			opts.webroot = argv[++i];
			continue;
		}
		fprintf(stderr,
			"knute-central: unknown or incomplete option '%s': "
			"see knute-central --help\n",
			a);
		return 2;
	}
	if (!data || !*data || !listen || !*listen) {
		fprintf(stderr, "knute-central: give --data DIR and --listen "
				"ENDPOINT (e.g. tcp://127.0.0.1:5570)\n");
		return 2;
	}
	/* Week figures and local times of the dashboard are in this zone. */
	if (kp_tz_set(getenv("KNUTE_TZ") ? getenv("KNUTE_TZ")
					 : KP_TZ_DEFAULT)) {
		fprintf(stderr,
			"knute-central: unknown time zone '%s' in KNUTE_TZ: "
			"give an IANA name such as Europe/Oslo\n",
			getenv("KNUTE_TZ"));
		return 2;
	}
	if ((rc = kp_store_open(data, &store))) {
		if (rc == KP_ENOINIT)
			fprintf(stderr,
				"knute-central: %s holds no knutepunkt store: "
				"make one with knute init --data %s --central "
				"--name NAME\n",
				data, data);
		else
			fprintf(stderr, "knute-central: %s: %s\n", data,
				kp_strerror(rc));
		return rc == KP_ENOINIT ? 2 : 1;
	}
	if (!kp_store_is_central(store)) {
		fprintf(stderr,
			"knute-central: %s holds the store of hub '%s', not a "
			"central store: run knute-hub on it, or make a "
			"central one with knute init --central\n",
			data, kp_store_hub(store));
		kp_store_close(&store);
		return 2;
	}
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = s_on_signal;
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	opts.listen = listen;
	rc = csync_serve(store, &opts, &s_stop);
	kp_store_close(&store);
	return rc == KP_OK ? 0 : rc == KP_EINVAL ? 2 : 1;
}
