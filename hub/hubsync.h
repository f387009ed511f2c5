/*
 * hubsync.h - the hub's side of the sync protocol (docs/protocol.md): the
 * session with central that sends the hub's oplog up, answers snapshot
 * and restore requests, and keeps the read-only mirror of the other hubs'
 * public records.
 *
 * One kp_hubsync owns the hub's store, the ZeroMQ context and socket and
 * the inotify watch on the store's data file; knute-hub's main() makes
 * one, runs it until a signal arrives and destroys it. Everything durable
 * goes through LMDB transactions, so the process may be killed at any
 * instant without losing a committed write.
 */
#ifndef KNUTE_HUBSYNC_H
#define KNUTE_HUBSYNC_H

#include <stdbool.h>
#include <stdint.h>

#include "knute/store.h"

#define KP_RETENTION_DEFAULT 604800 /* seconds acked entries are kept */

struct kp_hubsync_opts {
	const char *data;    /* the hub's data directory */
	const char *central; /* central's ZeroMQ endpoint, tcp://HOST:PORT */
	int64_t retention;   /* seconds; negative: the store's, or 7 days */
	const char *http;    /* [ADDRESS:]PORT for the web server, or NULL */
	const char *webroot; /* the pages; NULL: kp_http_webroot()'s */
};

/* The session as the hub's web pages and /metrics show it. */
struct kp_hub_stats {
	bool connected;	      /* a session with central is up */
	int64_t last_contact; /* unix seconds of central's last message */
	uint64_t head;	      /* the oplog head */
	uint64_t acked;	      /* the highest seq central acknowledged */
	uint64_t msgs_in, msgs_out;
	uint64_t errors;     /* refusals from central, failed sends */
	uint64_t reconnects; /* sessions started */
};

typedef struct kp_hubsync kp_hubsync;

/*
 * Open the hub's store in opts->data, record the central address (and the
 * retention when one was given) in its meta, and connect to central. The
 * connection itself is made in the background; a central that is not
 * there yet is no error. On failure *out is NULL and err (KP_ERR_MAX
 * bytes) holds one sentence for the operator: KP_ENOINIT when the
 * directory holds no store, KP_EINVAL when it holds central's store or
 * the address is not a ZeroMQ endpoint, or the store's error.
 */
int kp_hubsync_open(const struct kp_hubsync_opts *opts, kp_hubsync **out,
		    char *err);

/*
 * Run the session until stop_fd (a signalfd or a pipe, never read here)
 * becomes readable; the batch in hand is finished and committed first.
 * KP_OK on such a stop, or the error that made going on impossible (the
 * store could not be read or written), with a logged reason.
 */
int kp_hubsync_run(kp_hubsync *hs, int stop_fd);

/* The hub id, for log lines; valid until kp_hubsync_destroy(). */
const char *kp_hubsync_hub(const kp_hubsync *hs);

/* The highest seq central acknowledged so far (0 when none). */
uint64_t kp_hubsync_acked(const kp_hubsync *hs);

/* The session's figures now. */
void kp_hubsync_stats(const kp_hubsync *hs, struct kp_hub_stats *out);

/* The hub's store, shared with the web pages (same thread). */
kp_store *kp_hubsync_store(kp_hubsync *hs);

/* Make sock (a DEALER to central, not yet connected) a CurveZMQ client
 * when store trusts a central key ('knute keys central'): *on tells
 * whether it did, and pub (KP_CURVE_KEY_LEN + 1 bytes, or NULL) gets the
 * hub's public key then. KP_OK also when there is no central key. */
int kp_hubsync_curve_client(kp_store *store, void *sock, bool *on, char *pub);

/* Close the socket, the context and the store; accepts NULL and sets
 * *hs to NULL. */
void kp_hubsync_destroy(kp_hubsync **hs);

#endif
