/*
 * cmd_node.c - knute init and knute status.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "cmd_sync.h"
#include "codec.h"
#include "knute/error.h"
#include "knute/ktime.h"

static int s_init(struct cli *cli)
{
	const char *hub = cli_opt(cli, "hub");
	bool central = cli_flag(cli, "central");
	json_t *name;
	int rc;

	if (cli->npos)
		return cli_fail(cli, KP_EINVAL, "unexpected argument '%s'",
				cli->pos[0]);
	if (!hub == !central)
		return cli_fail(cli, KP_EINVAL,
				"give either --hub ID (a district hub) or "
				"--central (the municipality's coordinator)");
	if (hub && !kp_hub_id_valid(hub))
		return cli_fail(cli, KP_EINVAL,
				"hub id '%s' is not valid: use 1 to %d of "
				"a-z, 0-9 and '-', e.g. 'fjell' or 'assiden'",
				hub, KP_HUB_ID_MAX);
	if ((rc = cli_text(cli, "name", KP_NAME_MAX, &name)))
		return rc == KP_ENOTFOUND
			   ? cli_fail(cli, KP_EINVAL,
				      "give the node a name: --name "
				      "\"Knutepunkt Fjell\"")
			   : rc;
	rc = kp_store_create(cli->data, hub, json_string_value(name));
	json_decref(name);
	if (rc == KP_EEXIST)
		return cli_fail(cli, rc,
				"%s already holds a knutepunkt store; choose "
				"another directory (nothing was changed)",
				cli->data);
	if (rc)
		return cli_fail(cli, rc, "cannot create a store in %s: %s",
				cli->data, kp_strerror(rc));
	if (cli->json) {
		kp_store *store;
		if ((rc = kp_store_open(cli->data, &store)))
			return cli_store_fail(cli, rc);
		cli_print_json(json_pack("{ssssss}", "id",
					 hub ? hub : "central", "role",
					 hub ? "hub" : "central", "incarnation",
					 kp_store_incarnation(store)));
		kp_store_close(&store);
	} else {
		printf("created %s store '%s' in %s\n", hub ? "hub" : "central",
		       hub ? hub : "central", cli->data);
	}
	return KP_OK;
}

struct s_status {
	uint64_t counts[KP_NKINDS];
	uint64_t head;
	struct cli_link link; /* at a hub */
	/* at central */
	uint64_t hubs, online, mlog_head, dead;
	int64_t now;
};

static const char *const s_plural[KP_NKINDS] = {
    "rooms",	  "bookings",	 "activities",
    "volunteers", "assignments", "attendance records"};

/* At central: count the records of every hub per kind, from the keys
 * alone (hub, NUL, kind letter, number). */
static int s_central_record(const void *key, size_t klen, const void *val,
			    size_t vlen, void *arg)
{
	struct s_status *st = arg;
	struct kp_id id;
	(void)val;
	(void)vlen;
	if (kp_key_id(key, klen, &id))
		return KP_OK; /* not a record key: nothing to count */
	for (int i = 0; i < KP_NKINDS; i++)
		if (kp_kinds[i] == id.kind)
			st->counts[i]++;
	return KP_OK;
}

static int s_central_hub(const void *key, size_t klen, const void *val,
			 size_t vlen, void *arg)
{
	struct s_status *st = arg;
	json_t *o;
	(void)key;
	(void)klen;
	st->hubs++;
	if (kp_codec_decode(val, vlen, &o) == KP_OK) {
		int64_t seen = kp_rec_int(o, "seen", 0);
		if (seen > 0 && st->now - seen <= 6)
			st->online++;
		json_decref(o);
	}
	return KP_OK;
}

static int s_count(kp_txn *txn, void *arg)
{
	struct s_status *st = arg;
	char buf[32];
	int rc;

	if (kp_store_is_central(kp_txn_store(txn))) {
		if ((rc = kp_txn_teach(txn, KP_T_RECORDS, NULL, 0, NULL, 0,
				       s_central_record, st)) ||
		    (rc = kp_txn_teach(txn, KP_T_HUBS, NULL, 0, NULL, 0,
				       s_central_hub, st)) ||
		    (rc = kp_txn_tcount(txn, KP_T_DEAD, &st->dead)))
			return rc;
		if (kp_txn_meta_get(txn, "mlog_head", buf, sizeof buf) == KP_OK)
			st->mlog_head = strtoull(buf, NULL, 10);
		return KP_OK;
	}
	for (int i = 0; i < KP_NKINDS; i++)
		if ((rc = kp_txn_count(txn, kp_kinds[i], &st->counts[i])))
			return rc;
	st->head = kp_txn_head_seq(txn);
	return cli_link_read(txn, &st->link);
}

static json_t *s_counts_json(const struct s_status *st)
{
	json_t *counts = json_object();
	for (int i = 0; counts && i < KP_NKINDS; i++)
		json_object_set_new(counts, kp_kind_name(kp_kinds[i]),
				    json_integer((json_int_t)st->counts[i]));
	return counts;
}

static void s_print_counts(const struct s_status *st)
{
	printf("records:      ");
	for (int i = 0; i < KP_NKINDS; i++)
		printf("%s%" PRIu64 " %s", i ? ", " : "", st->counts[i],
		       s_plural[i]);
	printf("\n");
}

static int s_status_central(struct cli *cli, const struct s_status *st)
{
	if (cli->json) {
		cli_print_json(json_pack(
		    "{sssssssssssIsIsIsIso}", "id", "central", "hub", "",
		    "name", kp_store_name(cli->store), "role", "central",
		    "incarnation", kp_store_incarnation(cli->store), "hubs",
		    (json_int_t)st->hubs, "hubs_online", (json_int_t)st->online,
		    "mlog_head", (json_int_t)st->mlog_head, "dead_letters",
		    (json_int_t)st->dead, "records", s_counts_json(st)));
		return KP_OK;
	}
	printf("central:      %s\n", kp_store_name(cli->store));
	printf("incarnation:  %s\n", kp_store_incarnation(cli->store));
	printf("hubs:         %" PRIu64 " (%" PRIu64
	       " online; 'knute hubs' lists them)\n",
	       st->hubs, st->online);
	s_print_counts(st);
	printf("mlog head:    %" PRIu64 "\n", st->mlog_head);
	printf("dead letters: %" PRIu64 "%s\n", st->dead,
	       st->dead ? " ('knute deadletters' lists them)" : "");
	return KP_OK;
}

static int s_status(struct cli *cli)
{
	struct s_status st = {.now = kp_now()};
	const struct cli_link *l = &st.link;
	uint64_t pending;
	char when[KP_TIME_STRLEN], note[300];
	const char *rest;
	int rc;

	if (cli->npos)
		return cli_fail(cli, KP_EINVAL, "unexpected argument '%s'",
				cli->pos[0]);
	if ((rc = kp_store_read(cli->store, s_count, &st)))
		return rc;
	if (kp_store_is_central(cli->store))
		return s_status_central(cli, &st);
	pending = st.head > l->acked ? st.head - l->acked : 0;
	if (cli->json) {
		json_t *mirror_state =
		    l->mirror_state[0]	? json_string(l->mirror_state)
		    : l->mirror_records ? json_string("ok")
					: json_string("never");
		char at[KP_TIME_STRLEN];
		json_t *contact = json_null(), *updated = json_null();
		if (l->contact > 0) {
			kp_time_format_utc(l->contact, at);
			contact = json_string(at);
		}
		if (l->mirror_at > 0) {
			kp_time_format_utc(l->mirror_at, at);
			updated = json_string(at);
		}
		cli_print_json(json_pack(
		    "{ss ss ss ss ss sI sI sI s{so sb so ss} s{sI so so sI} "
		    "sI so}",
		    "id", kp_store_hub(cli->store), "hub",
		    kp_store_hub(cli->store), "name", kp_store_name(cli->store),
		    "role", "hub", "incarnation",
		    kp_store_incarnation(cli->store), "head_seq",
		    (json_int_t)st.head, "acked_seq", (json_int_t)l->acked,
		    "pending", (json_int_t)pending, "central", "address",
		    l->central_addr[0] ? json_string(l->central_addr)
				       : json_null(),
		    "reachable", l->reachable, "last_contact", contact,
		    "session", l->session[0] ? l->session : "none", "mirror",
		    "seq", (json_int_t)l->down_seq, "updated", updated, "state",
		    mirror_state, "records", (json_int_t)l->mirror_records,
		    "dead_letters", (json_int_t)l->dead, "records",
		    s_counts_json(&st)));
		return KP_OK;
	}
	printf("hub:          %s (%s)\n", kp_store_hub(cli->store),
	       kp_store_name(cli->store));
	printf("incarnation:  %s\n", kp_store_incarnation(cli->store));
	printf("oplog head:   %" PRIu64 "\n", st.head);
	s_print_counts(&st);
	if (l->central_addr[0])
		printf("central:      %s\n", l->central_addr);
	else
		printf("central:      not set: start knute-hub --data %s "
		       "--central tcp://HOST:PORT\n",
		       cli->data);
	if (l->contact > 0)
		cli_time_secs(l->contact, when);
	printf("reachable:    %s%s%s%s%s\n", l->reachable ? "yes" : "no",
	       l->contact > 0 ? ", last contact " : "",
	       l->contact > 0 ? when : "", l->contact > 0 ? " " : "",
	       l->contact > 0 ? cli_zone() : "");
	if (!l->reachable && l->contact <= 0)
		printf("              (central never answered this hub)\n");
	printf("acked seq:    %" PRIu64 "\n", l->acked);
	printf("pending:      %" PRIu64 " %s not yet at central\n", pending,
	       pending == 1 ? "change" : "changes");
	cli_mirror_note(l, note, sizeof note);
	/* The note without its "mirror...: " lead, which the label says. */
	rest = strchr(note, ':') ? strchr(note, ':') + 2 : note;
	if (!strncmp(note, "mirror: ", 8))
		printf("mirror:       %s\n", rest);
	else
		printf("mirror:       seq %" PRIu64 ", %s\n", l->down_seq,
		       rest);
	printf("dead letters: %" PRIu64 "%s\n", l->dead,
	       l->dead ? " ('knute deadletters' lists them)" : "");
	return KP_OK;
}

const struct cli_command cli_node_commands[] = {
    {"init", NULL, s_init, "hub central name",
     "init --data DIR (--hub ID | --central) --name NAME",
     "Create a new store in DIR: a district hub's with --hub (its id: "
     "a-z, 0-9, '-'), or the municipality's coordinator's with --central.\n"
     "The store gets a random incarnation id. DIR is created if missing; "
     "a DIR that holds a store already is left alone.\n"
     "Example: knute init --data /var/lib/knute --hub fjell --name "
     "\"Knutepunkt Fjell\"",
     true},
    {"status", NULL, s_status, "", "status",
     "At a hub: the hub id, incarnation, record counts per kind, the oplog "
     "head, central's address, whether central is reachable (a session is "
     "up and central spoke within 5 s) and when it last did, the highest "
     "seq central acknowledged, the changes still pending, how fresh the "
     "mirror of other districts is, and the dead letters.\n"
     "At central: the name, incarnation, hubs, records per kind of all "
     "hubs, the municipality log's head and the dead letters.\n"
     "With --json (at a hub): an object with hub, name, incarnation, "
     "head_seq, acked_seq, pending, central {address, reachable, "
     "last_contact}, mirror {seq, updated, state, records}, dead_letters "
     "and records (counts per kind).",
     false},
    {0},
};
