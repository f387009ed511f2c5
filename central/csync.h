/*
 * csync.h - central's side of the sync protocol (docs/protocol.md): the
 * ROUTER loop that takes hubs' oplogs, keeps the municipality log and
 * feeds every hub's mirror.
 */
#ifndef KNUTE_CSYNC_H
#define KNUTE_CSYNC_H

#include <signal.h>
#include <stdbool.h>
#include <stdint.h>

#include "knute/store.h"

struct csync_opts {
	const char *listen;  /* a ZeroMQ endpoint to bind */
	int offline_ms;	     /* silence after which a hub is offline */
	const char *http;    /* ADDRESS:PORT for the web server, or NULL */
	const char *webroot; /* the pages; NULL: kp_http_webroot()'s */
	/* CurveZMQ (docs/security.md): the ROUTER is a CURVE server with
	 * the store's key pair and accepts only the hub keys registered
	 * with 'knute keys add', each speaking for its own hub only. */
	bool curve;
};

/* Counters since start, for /metrics. Written by the sync loop only; the
 * web server runs on the same thread, so it reads them as they are. */
struct csync_stats {
	uint64_t msgs_in, msgs_out; /* ZeroMQ messages */
	uint64_t bytes_in;
	uint64_t refused;	  /* messages refused (bad, wrong version) */
	uint64_t dead_letters;	  /* entries put in the dead-letter table */
	uint64_t entries_applied; /* oplog entries committed */
	uint64_t commits;	  /* group-commit transactions */
	int64_t started;	  /* unix seconds */
};

/* Serve until *stop becomes non-zero (set from a signal handler). The
 * batch in hand is finished and committed before it returns. KP_OK, or
 * the error that made serving impossible (with a logged reason). */
int csync_serve(kp_store *store, const struct csync_opts *opts,
		volatile sig_atomic_t *stop);

#endif
