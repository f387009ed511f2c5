/*
 * cmd_room.c - knute room add | list | show | update | remove | close |
 * reopen.
 */
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "cmd_sync.h"
#include "knute/error.h"
#include "knute/ktime.h"

struct s_op {
	struct cli *cli;
	struct kp_id id;
	json_t *rec;
};

/* Fill rec from the options; with creating, name and capacity are
 * required. */
static int s_room_opts(struct cli *cli, json_t *rec, bool creating)
{
	const char *open = cli_opt(cli, "open");
	int64_t capacity;
	int rc;

	if ((rc = cli_set_text(cli, rec, "name", "name", KP_NAME_MAX)) ||
	    (rc = cli_set_list(cli, rec, "facilities", "facilities")) ||
	    (rc = cli_set_text(cli, rec, "notes", "notes", KP_TEXT_MAX)))
		return rc;
	rc = cli_int(cli, "capacity", 0, 100000, &capacity);
	if (rc == KP_OK)
		json_object_set_new(rec, "capacity", json_integer(capacity));
	else if (rc != KP_ENOTFOUND)
		return rc;
	if (open) {
		struct kp_week week;
		char err[KP_ERR_MAX], canon[1024];
		if (kp_week_parse(open, &week, err, sizeof err))
			return cli_fail(cli, KP_EINVAL, "--open: %s", err);
		if (kp_week_format(&week, canon, sizeof canon))
			return cli_fail(cli, KP_EINVAL,
					"--open has too many spans");
		json_object_set_new(rec, "open", json_string(canon));
	}
	if (creating && !json_object_get(rec, "name"))
		return cli_fail(cli, KP_EINVAL,
				"a room needs a name: --name \"Storsalen\"");
	if (creating && !json_object_get(rec, "capacity"))
		return cli_fail(
		    cli, KP_EINVAL,
		    "a room needs a capacity: --capacity N (people)");
	return KP_OK;
}

static int s_validate(struct cli *cli, const json_t *rec)
{
	char err[KP_ERR_MAX];
	if (kp_model_validate(KP_ROOM, rec, err))
		return cli_fail(cli, KP_EINVAL, "%s", err);
	return KP_OK;
}

static int s_add_txn(kp_txn *txn, void *arg)
{
	struct s_op *op = arg;
	int rc = kp_txn_new_id(txn, KP_ROOM, &op->id);
	return rc ? rc : kp_txn_put(txn, &op->id, op->rec);
}

static void s_print_id(struct cli *cli, const struct kp_id *id, json_t *rec)
{
	char text[KP_ID_STRLEN];
	if (cli->json) {
		cli_print_json(json_incref(rec));
		return;
	}
	kp_id_format(id, text);
	printf("%s\n", text);
}

static int s_add(struct cli *cli)
{
	struct s_op op = {.cli = cli, .rec = json_object()};
	int rc;
	if (cli->npos)
		rc = cli_fail(cli, KP_EINVAL, "unexpected argument '%s'",
			      cli->pos[0]);
	else if (!(rc = s_room_opts(cli, op.rec, true)) &&
		 !(rc = s_validate(cli, op.rec)) &&
		 !(rc = kp_store_write(cli->store, s_add_txn, &op)))
		s_print_id(cli, &op.id, op.rec);
	json_decref(op.rec);
	return rc;
}

/* Fetch op->id into op->rec, or say it is not there. */
static int s_fetch(kp_txn *txn, struct s_op *op)
{
	char text[KP_ID_STRLEN];
	int rc = kp_txn_get(txn, &op->id, &op->rec);
	if (rc == KP_ENOTFOUND) {
		kp_id_format(&op->id, text);
		return cli_fail(op->cli, rc,
				"no room %s here: 'knute room list' shows the "
				"rooms",
				text);
	}
	return rc;
}

static int s_list_row(const struct kp_id *id, json_t *rec, void *arg)
{
	void **out = arg;
	struct cli *cli = out[0];
	(void)id;
	if (cli->json) {
		json_array_append(out[1], rec);
	} else {
		char cap[16];
		char facilities[256];
		snprintf(cap, sizeof cap, "%lld",
			 (long long)kp_rec_int(rec, "capacity", 0));
		cli_join(json_object_get(rec, "facilities"), facilities,
			 sizeof facilities);
		const char *row[] = {kp_rec_str(rec, "hub", ""),
				     kp_rec_str(rec, "id", ""),
				     kp_rec_str(rec, "name", ""),
				     cap,
				     kp_rec_str(rec, "open", "always"),
				     facilities};
		cli_table_row(out[2],
			      cli_flag(cli, "all-hubs") ? row : row + 1);
	}
	return KP_OK;
}

static int s_list_txn(kp_txn *txn, void *arg)
{
	return cli_sync_each(((void **)arg)[0], txn, KP_ROOM, s_list_row, arg);
}

static int s_list(struct cli *cli)
{
	static const char *const head[] = {"HUB",      "ID",   "NAME",
					   "CAPACITY", "OPEN", "FACILITIES"};
	bool all = cli_flag(cli, "all-hubs");
	void *state[3] = {cli, json_array(),
			  cli_table_new(all ? 6 : 5, all ? head : head + 1)};
	int rc = kp_store_read(cli->store, s_list_txn, state);
	if (rc == KP_OK) {
		if (cli->json)
			cli_print_json(json_incref(state[1]));
		else
			cli_table_print(state[2]);
	}
	json_decref(state[1]);
	cli_table_free((struct cli_table **)&state[2]);
	return rc;
}

static int s_show_txn(kp_txn *txn, void *arg)
{
	return s_fetch(txn, arg);
}

static int s_show(struct cli *cli)
{
	struct s_op op = {.cli = cli};
	int rc = cli_id_arg(cli, KP_ROOM, &op.id);
	if (rc || (rc = kp_store_read(cli->store, s_show_txn, &op)))
		return rc;
	if (cli->json) {
		cli_print_json(op.rec);
		return KP_OK;
	}
	printf("room:        %s\n", kp_rec_str(op.rec, "id", ""));
	printf("name:        %s\n", kp_rec_str(op.rec, "name", ""));
	printf("capacity:    %lld\n",
	       (long long)kp_rec_int(op.rec, "capacity", 0));
	printf("open:        %s\n", kp_rec_str(op.rec, "open", "always"));
	{
		size_t i;
		json_t *c;
		json_array_foreach(json_object_get(op.rec, "closures"), i, c)
		    printf("closed:      %s to %s %s\n",
			   kp_rec_str(c, "from", ""), kp_rec_str(c, "to", ""),
			   kp_rec_str(c, "reason", ""));
	}
	json_decref(op.rec);
	return KP_OK;
}

static int s_update_txn(kp_txn *txn, void *arg)
{
	struct s_op *op = arg;
	int rc;
	if ((rc = s_fetch(txn, op)) ||
	    (rc = s_room_opts(op->cli, op->rec, false)) ||
	    (rc = s_validate(op->cli, op->rec)))
		return rc;
	return kp_txn_put(txn, &op->id, op->rec);
}

/* Run fn on the room named by the argument and print the result. */
static int s_change(struct cli *cli, kp_txn_fn fn)
{
	struct s_op op = {.cli = cli};
	int rc = cli_id_arg(cli, KP_ROOM, &op.id);
	if (rc == KP_OK) {
		rc = kp_store_write(cli->store, fn, &op);
		if (rc == KP_OK)
			s_print_id(cli, &op.id, op.rec);
	}
	json_decref(op.rec);
	return rc;
}

static int s_update(struct cli *cli)
{
	return s_change(cli, s_update_txn);
}

static int s_close_txn(kp_txn *txn, void *arg)
{
	struct s_op *op = arg;
	struct cli *cli = op->cli;
	const char *from = cli_opt(cli, "from"), *to = cli_opt(cli, "to");
	int y, m, d, rc;
	json_t *closure, *reason = NULL, *list;

	if (!from)
		return cli_fail(cli, KP_EINVAL,
				"give the first closed day: --from YYYY-MM-DD");
	if (!to)
		to = from;
	if (kp_date_parse(from, &y, &m, &d) || kp_date_parse(to, &y, &m, &d))
		return cli_fail(cli, KP_EINVAL,
				"--from and --to must be dates YYYY-MM-DD");
	if (strcmp(from, to) > 0)
		return cli_fail(cli, KP_EINVAL, "--to %s is before --from %s",
				to, from);
	rc = cli_text(cli, "reason", KP_NAME_MAX, &reason);
	if (rc && rc != KP_ENOTFOUND)
		return rc;
	if ((rc = s_fetch(txn, op)))
		return rc;
	closure = json_pack("{ssss}", "from", from, "to", to);
	if (reason)
		json_object_set_new(closure, "reason", reason);
	list = json_object_get(op->rec, "closures");
	if (!list) {
		json_object_set_new(op->rec, "closures", json_array());
		list = json_object_get(op->rec, "closures");
	}
	json_array_append_new(list, closure);
	if ((rc = s_validate(cli, op->rec)))
		return rc;
	return kp_txn_put(txn, &op->id, op->rec);
}

static int s_close(struct cli *cli)
{
	return s_change(cli, s_close_txn);
}

static int s_reopen_txn(kp_txn *txn, void *arg)
{
	struct s_op *op = arg;
	const char *from = cli_opt(op->cli, "from");
	json_t *list, *c;
	size_t i, removed = 0;
	int rc;

	if (!from)
		return cli_fail(op->cli, KP_EINVAL,
				"say which closure to lift: --from YYYY-MM-DD "
				"(its first day)");
	if ((rc = s_fetch(txn, op)))
		return rc;
	list = json_object_get(op->rec, "closures");
	for (i = json_array_size(list); i-- > 0;) {
		c = json_array_get(list, i);
		if (!strcmp(kp_rec_str(c, "from", ""), from)) {
			json_array_remove(list, i);
			removed++;
		}
	}
	if (!removed)
		return cli_fail(op->cli, KP_ENOTFOUND,
				"the room has no closure starting %s: 'knute "
				"room show ID' lists them",
				from);
	return kp_txn_put(txn, &op->id, op->rec);
}

static int s_reopen(struct cli *cli)
{
	return s_change(cli, s_reopen_txn);
}

static int s_remove_txn(kp_txn *txn, void *arg)
{
	struct s_op *op = arg;
	struct kp_slot held;
	char with[KP_ID_STRLEN];
	int rc;

	if ((rc = s_fetch(txn, op)))
		return rc;
	rc = kp_txn_slot_find(txn, op->id.n, INT64_MIN / 2, INT64_MAX / 2,
			      &held);
	if (rc == KP_ECLASH) {
		kp_id_format(&held.owner, with);
		return cli_fail(op->cli, KP_EINVAL,
				"the room still has bookings (e.g. %s %s): "
				"cancel them first",
				kp_kind_name(held.owner.kind), with);
	}
	return rc ? rc : kp_txn_delete(txn, &op->id);
}

static int s_remove(struct cli *cli)
{
	return s_change(cli, s_remove_txn);
}

const struct cli_command cli_room_commands[] = {
    {"room", "add", s_add, "name capacity facilities open notes",
     "room add --name NAME --capacity N [--facilities LIST] [--open HOURS]",
     "Register a room; prints its id.\n"
     "  --facilities  comma-separated: \"projektor, kjøkken, piano\"\n"
     "  --open        weekly opening hours: \"mon-fri 08:00-22:00, sat "
     "10:00-16:00\"\n"
     "                (no --open: the room is open at all times)",
     false},
    {"room", "list", s_list, "all-hubs", "room list [--all-hubs]",
     "List the hub's rooms. --all-hubs adds other districts' rooms from the "
     "mirror (also offline), with a HUB column, and says on stderr how "
     "fresh the mirror is.",
     false},
    {"room", "show", s_show, "", "room show ID", "Show one room.", false},
    {"room", "update", s_update, "name capacity facilities open notes",
     "room update ID [--name NAME] [--capacity N] [--facilities LIST] "
     "[--open HOURS]",
     "Change a room. Bookings already made are kept as they are.", false},
    {"room", "remove", s_remove, "", "room remove ID",
     "Remove a room that has no bookings left.", false},
    {"room", "close", s_close, "from to reason",
     "room close ID --from DATE [--to DATE] [--reason TEXT]",
     "Close a room for whole days (inclusive); new bookings on those days "
     "are refused.",
     false},
    {"room", "reopen", s_reopen, "from", "room reopen ID --from DATE",
     "Lift the closure that starts on DATE.", false},
    {0},
};
