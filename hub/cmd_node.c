/*
 * cmd_node.c - knute init and knute status.
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"
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
};

static int s_count(kp_txn *txn, void *arg)
{
	struct s_status *st = arg;
	int rc;
	for (int i = 0; i < KP_NKINDS; i++)
		if ((rc = kp_txn_count(txn, kp_kinds[i], &st->counts[i])))
			return rc;
	st->head = kp_txn_head_seq(txn);
	return KP_OK;
}

static int s_status(struct cli *cli)
{
	struct s_status st = {0};
	int rc = kp_store_read(cli->store, s_count, &st);
	if (rc)
		return rc;
	if (cli->json) {
		json_t *counts = json_object();
		for (int i = 0; i < KP_NKINDS; i++)
			json_object_set_new(
			    counts, kp_kind_name(kp_kinds[i]),
			    json_integer((json_int_t)st.counts[i]));
		cli_print_json(json_pack(
		    "{sssssssssssIsIso}", "id",
		    kp_store_is_central(cli->store) ? "central"
						    : kp_store_hub(cli->store),
		    "hub", kp_store_hub(cli->store), "name",
		    kp_store_name(cli->store), "role",
		    kp_store_is_central(cli->store) ? "central" : "hub",
		    "incarnation", kp_store_incarnation(cli->store), "head_seq",
		    (json_int_t)st.head, "acked_seq", (json_int_t)0, "records",
		    counts));
		return KP_OK;
	}
	printf("hub:          %s (%s)\n",
	       kp_store_is_central(cli->store) ? "central"
					       : kp_store_hub(cli->store),
	       kp_store_name(cli->store));
	printf("incarnation:  %s\n", kp_store_incarnation(cli->store));
	printf("oplog head:   %" PRIu64 "\n", st.head);
	static const char *const plural[KP_NKINDS] = {
	    "rooms",	  "bookings",	 "activities",
	    "volunteers", "assignments", "attendance records"};
	printf("records:     ");
	for (int i = 0; i < KP_NKINDS; i++)
		printf("%s %" PRIu64 " %s", i ? "," : "", st.counts[i],
		       plural[i]);
	printf("\n");
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
     "Show the hub id, incarnation, record counts per kind and the oplog "
     "head seq. With --json: an object with at least hub, head_seq and "
     "acked_seq.",
     false},
    {0},
};
