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

#endif
