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
	const char *listen; /* a ZeroMQ endpoint to bind */
	int offline_ms;	    /* silence after which a hub is offline */
};

/* Serve until *stop becomes non-zero (set from a signal handler). The
 * batch in hand is finished and committed before it returns. KP_OK, or
 * the error that made serving impossible (with a logged reason). */
int csync_serve(kp_store *store, const struct csync_opts *opts,
		volatile sig_atomic_t *stop);

#endif
