/*
 * cmd_sync.h - what the command line shows of sync: the link to central
 * (for knute status), the mirror of other districts (--all-hubs on the
 * list commands), and the commands hubs, overview, deadletters and verify.
 *
 * Everything here only reads what the daemons write (docs/protocol.md,
 * "Storage"); no command here writes to the store.
 */
#ifndef KNUTE_CMD_SYNC_H
#define KNUTE_CMD_SYNC_H

#include <stdbool.h>
#include <stdint.h>

#include "cli.h"
#include "knute/ktime.h"
#include "knute/store.h"

/* The commands hubs, overview, deadletters and verify. */
extern const struct cli_command cli_sync_commands[];

/* A hub's view of its link to central and of its mirror, read from the
 * meta keys and tables the daemon writes. */
struct cli_link {
	char central_addr[512]; /* "" when knute-hub never ran with one */
	char session[16];	/* "up", "down" or "" */
	int64_t contact;	/* UTC second of central's last message; 0 */
	bool reachable;		/* session up, contact within 5 s */
	uint64_t head, acked;	/* oplog head and acknowledged seq */
	uint64_t down_seq;	/* the mirror's cursor (gseq) */
	int64_t mirror_at;	/* UTC second of its last DOWN batch; 0 */
	char mirror_state[16];	/* "ok", "rebuilding" or "" (never) */
	uint64_t mirror_records, mirror_hubs;
	uint64_t dead; /* dead letters */
};

/* Fill link inside a read transaction at a hub. */
int cli_link_read(kp_txn *txn, struct cli_link *link);

/* "mirror of other districts: updated 2026-11-23 14:02 (Europe/Oslo), 3
 * hubs, 120 records", or that nothing came yet; buf has len bytes. */
void cli_mirror_note(const struct cli_link *link, char *buf, size_t len);

/* "2026-11-23 14:02:11" in local time; buf has KP_TIME_STRLEN bytes. */
void cli_time_secs(int64_t t, char *buf);

/* The zone local times are shown in ("Europe/Oslo" unless --tz). */
const char *cli_zone(void);

/*
 * The record walk of the list commands: fn for every record of kind at
 * this hub, and, when the command was given --all-hubs, then for every
 * record of kind in the mirror of other districts (rec borrowed for the
 * call, as with kp_txn_each()). With --all-hubs it first prints on stderr
 * (not with --json) how fresh the mirror is. At central's store
 * --all-hubs is refused (KP_EINVAL, after a message).
 */
int cli_sync_each(struct cli *cli, kp_txn *txn, char kind, kp_record_fn fn,
		  void *arg);

/* ---- shared with central's web API (central/cweb.c) ---- */

/* A local week, Monday 00:00 to Sunday 24:00 in the zone in use. */
struct cli_week {
	int64_t from, to; /* Monday 00:00 and the next Monday 00:00 */
	char monday[KP_TIME_STRLEN], sunday[KP_TIME_STRLEN]; /* "2026-11-23" */
	int number;					     /* ISO week */
};

/* The week that holds instant t. */
int cli_week_of(int64_t t, struct cli_week *w);

/*
 * Central's hub registry as 'knute hubs --json' prints it: one object per
 * hub (id, name, online, last_seen, applied_seq, head_seq, backlog,
 * dead_letters, mirror_seq, incarnation), in hub id order, appended to
 * rows. A hub is online when it was seen at most online_s seconds before
 * now. With extra, each object also has "seen_s" (the UTC second it was
 * last seen, 0 for never) and "up_s" (the UTC second its current or last
 * session started, 0 when the registry does not know). KP_ECORRUPT for an
 * entry that does not decode.
 */
int cli_hubs_json(kp_txn *txn, int64_t now, int online_s, bool extra,
		  json_t *rows);

/*
 * Called by cli_overview_json() for every live record central holds,
 * after the overview counted it: rec is the record as central holds it
 * (volunteers in their projection), district the overview's object of
 * the record's hub; both are borrowed for the call. A non-zero return
 * stops the walk and is returned.
 */
typedef int (*cli_overview_fn)(const struct kp_id *id, const json_t *rec,
			       json_t *district, void *arg);

/*
 * The districts of 'knute overview --json' for week, in hub id order:
 * *list is a new array the caller owns (NULL on failure). fn, when not
 * NULL, sees every record as well, so a caller can add figures of its own
 * in the same walk. Inside a read transaction at central's store.
 */
int cli_overview_json(kp_txn *txn, const struct cli_week *week,
		      cli_overview_fn fn, void *arg, json_t **list);

#endif
