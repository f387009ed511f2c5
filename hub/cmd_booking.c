/*
 * cmd_booking.c - knute booking add | list | show | cancel.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "cmd_requests.h"
#include "cmd_sync.h"
#include "knute/error.h"
#include "knute/ktime.h"
#include "ops.h"
#include "rules.h"

struct s_op {
	struct cli *cli;
	struct kp_id id;
	json_t *rec;
	bool skip;
	struct kp_clashes clashes;
};

static int s_add(struct cli *cli)
{
	struct kp_op op = {.rec = json_object(), .id.kind = KP_BOOKING};
	json_t *room = NULL;
	char err[KP_ERR_MAX], idtext[KP_ID_STRLEN];
	struct kp_id room_id;
	const char *hub; /* at central's store: the hub asked */
	int rc;

	op.skip = cli_flag(cli, "skip-clashes");
	if ((rc = cli_request_hub(cli, &hub)))
		goto out;
	if (cli->npos) {
		rc = cli_fail(cli, KP_EINVAL, "unexpected argument '%s'",
			      cli->pos[0]);
		goto out;
	}
	if ((rc = cli_text(cli, "room", 100, &room))) {
		if (rc == KP_ENOTFOUND)
			rc = cli_fail(cli, KP_EINVAL,
				      "say which room: --room ID ('knute room "
				      "list' shows them)");
		goto out;
	}
	if (kp_id_parse(json_string_value(room), cli_request_local_hub(cli),
			KP_ROOM, &room_id, err)) {
		rc = cli_fail(cli, KP_EINVAL, "--room: %s", err);
		goto out;
	}
	kp_id_format(&room_id, idtext);
	json_object_set_new(op.rec, "room", json_string(idtext));
	if (!cli_opt(cli, "org")) {
		rc = cli_fail(cli, KP_EINVAL,
			      "say who books: --org \"Røde Kors\"");
		goto out;
	}
	if ((rc = cli_set_text(cli, op.rec, "org", "org", KP_NAME_MAX)) ||
	    (rc = cli_set_text(cli, op.rec, "contact", "contact",
			       KP_NAME_MAX)) ||
	    (rc = cli_set_text(cli, op.rec, "purpose", "purpose",
			       KP_TEXT_MAX)) ||
	    (rc = cli_series_opts(cli, op.rec, true)))
		goto out;
	json_object_set_new(
	    op.rec, "status",
	    json_string(cli_flag(cli, "pending") ? "pending" : "confirmed"));
	if (kp_model_validate(KP_BOOKING, op.rec, err)) {
		rc = cli_fail(cli, KP_EINVAL, "%s", err);
		goto out;
	}
	if ((rc = cli_series_check(cli, op.rec)))
		goto out;
	if (hub) {
		rc = cli_request_submit(cli, hub, KP_BOOKING,
					json_incref(op.rec));
		goto out;
	}
	rc = kp_store_write(cli->store, kp_op_add_txn, &op);
	if (rc) {
		rc = cli_refused(cli, "booking", rc, op.rec, &op.clashes);
		goto out;
	}
	if (cli->json) {
		cli_print_json(json_incref(op.rec));
	} else {
		kp_id_format(&op.id, idtext);
		printf("%s\n", idtext);
	}
	if (op.clashes.n) {
		fprintf(stderr,
			"knute: booked %zu dates, skipped %zu that "
			"clash:\n",
			op.clashes.booked, op.clashes.n);
		cli_print_clashes(&op.clashes);
	}
out:
	json_decref(room);
	kp_op_free(&op);
	return rc;
}

struct s_list {
	struct cli *cli;
	const char *room;
	json_t *out;
	struct cli_table *table;
};

static int s_list_row(const struct kp_id *id, json_t *rec, void *arg)
{
	struct s_list *l = arg;
	char when[80], repeat[80];
	(void)id;
	if (l->room && strcmp(kp_rec_str(rec, "room", ""), l->room))
		return KP_OK;
	if (l->cli->json) {
		json_array_append(l->out, rec);
		return KP_OK;
	}
	cli_series_text(rec, when, sizeof when, repeat, sizeof repeat);
	const char *row[] = {kp_rec_str(rec, "hub", ""),
			     kp_rec_str(rec, "id", ""),
			     kp_rec_str(rec, "room", ""),
			     when,
			     repeat,
			     kp_rec_str(rec, "org", ""),
			     kp_rec_str(rec, "status", "")};
	cli_table_row(l->table, cli_flag(l->cli, "all-hubs") ? row : row + 1);
	return KP_OK;
}

static int s_list_txn(kp_txn *txn, void *arg)
{
	struct s_list *l = arg;
	return cli_sync_each(l->cli, txn, KP_BOOKING, s_list_row, arg);
}

static int s_list(struct cli *cli)
{
	static const char *const head[] = {"HUB",     "ID",  "ROOM",  "WHEN",
					   "REPEATS", "ORG", "STATUS"};
	bool all = cli_flag(cli, "all-hubs");
	struct s_list l = {
	    .cli = cli,
	    .out = json_array(),
	    .table = cli_table_new(all ? 7 : 6, all ? head : head + 1)};
	char err[KP_ERR_MAX], room[KP_ID_STRLEN];
	const char *room_opt = cli_opt(cli, "room");
	int rc;

	if (room_opt) {
		struct kp_id rid;
		if (kp_id_parse(room_opt, kp_store_hub(cli->store), KP_ROOM,
				&rid, err)) {
			rc = cli_fail(cli, KP_EINVAL, "--room: %s", err);
			goto out;
		}
		kp_id_format(&rid, room);
		l.room = room;
	}
	rc = kp_store_read(cli->store, s_list_txn, &l);
	if (rc == KP_OK) {
		if (cli->json)
			cli_print_json(json_incref(l.out));
		else
			cli_table_print(l.table);
	}
out:
	json_decref(l.out);
	cli_table_free(&l.table);
	return rc;
}

static int s_fetch(kp_txn *txn, struct s_op *op)
{
	char text[KP_ID_STRLEN];
	int rc = kp_txn_get(txn, &op->id, &op->rec);
	if (rc == KP_ENOTFOUND) {
		kp_id_format(&op->id, text);
		return cli_fail(op->cli, rc,
				"no booking %s here: 'knute booking list' "
				"shows the bookings",
				text);
	}
	return rc;
}

static int s_show_txn(kp_txn *txn, void *arg)
{
	return s_fetch(txn, arg);
}

static int s_show(struct cli *cli)
{
	struct s_op op = {.cli = cli};
	char when[80], repeat[80], t[KP_TIME_STRLEN];
	size_t i;
	json_t *c;
	int rc = cli_id_arg(cli, KP_BOOKING, &op.id);

	if (rc || (rc = kp_store_read(cli->store, s_show_txn, &op)))
		return rc;
	if (cli->json) {
		cli_print_json(op.rec);
		return KP_OK;
	}
	cli_series_text(op.rec, when, sizeof when, repeat, sizeof repeat);
	printf("booking:   %s\n", kp_rec_str(op.rec, "id", ""));
	printf("room:      %s\n", kp_rec_str(op.rec, "room", ""));
	printf("org:       %s\n", kp_rec_str(op.rec, "org", ""));
	if (json_object_get(op.rec, "contact"))
		printf("contact:   %s\n", kp_rec_str(op.rec, "contact", ""));
	if (json_object_get(op.rec, "purpose"))
		printf("purpose:   %s\n", kp_rec_str(op.rec, "purpose", ""));
	printf("when:      %s\n", when);
	printf("repeats:   %s\n", repeat);
	printf("status:    %s\n", kp_rec_str(op.rec, "status", ""));
	json_array_foreach(json_object_get(op.rec, "cancelled"), i, c)
	{
		kp_time_format(json_integer_value(c), t);
		printf("cancelled: %s\n", t);
	}
	json_decref(op.rec);
	return KP_OK;
}

/* The day before date, as text. */
static int s_day_before(const char *date, char *out)
{
	int y, m, d;
	int64_t midnight;
	if (kp_date_parse(date, &y, &m, &d) ||
	    kp_date_start(y, m, d, &midnight))
		return KP_EINVAL;
	kp_local_parts(midnight - 1, &y, &m, &d, NULL, NULL);
	kp_date_format(y, m, d, out);
	return KP_OK;
}

static int s_cancel_txn(kp_txn *txn, void *arg)
{
	struct s_op *op = arg;
	struct cli *cli = op->cli;
	const char *date = cli_opt(cli, "date");
	const char *from = cli_opt(cli, "from-date");
	int y, m, d, rc;

	if ((rc = s_fetch(txn, op)))
		return rc;
	if (!strcmp(kp_rec_str(op->rec, "status", ""), "cancelled"))
		return cli_fail(cli, KP_EINVAL,
				"the booking is cancelled "
				"already");
	if (date) {
		/* One occurrence: its slot is freed, the rest stay. */
		int64_t start, end;
		json_t *list;
		if (kp_date_parse(date, &y, &m, &d))
			return cli_fail(cli, KP_EINVAL,
					"--date '%s' is not a date YYYY-MM-DD",
					date);
		rc = kp_occurrence_on(op->rec, y, m, d, &start, &end);
		if (rc == KP_ENOTFOUND)
			return cli_fail(cli, rc,
					"the booking has no occurrence on %s "
					"('knute booking show ID' lists it)",
					date);
		if (rc ||
		    (rc = kp_release_one(txn, &op->id, op->rec, start, end)))
			return rc;
		list = json_object_get(op->rec, "cancelled");
		if (!list) {
			json_object_set_new(op->rec, "cancelled", json_array());
			list = json_object_get(op->rec, "cancelled");
		}
		json_array_append_new(list, json_integer(start));
	} else if (from) {
		/* The rest of a series: it now ends the day before. */
		char before[KP_TIME_STRLEN], first[KP_TIME_STRLEN];
		if (!kp_rec_bool(op->rec, "weekly", false))
			return cli_fail(cli, KP_EINVAL,
					"--from-date is for weekly series; "
					"cancel a single booking without it");
		if (s_day_before(from, before))
			return cli_fail(cli, KP_EINVAL,
					"--from-date '%s' is not a date "
					"YYYY-MM-DD",
					from);
		kp_local_parts(kp_rec_int(op->rec, "start", 0), &y, &m, &d,
			       NULL, NULL);
		kp_date_format(y, m, d, first);
		if (strcmp(before, first) < 0) {
			if ((rc = kp_release_room(txn, &op->id, op->rec)))
				return rc;
			json_object_set_new(op->rec, "status",
					    json_string("cancelled"));
		} else {
			int64_t cut;
			kp_date_parse(from, &y, &m, &d);
			if ((rc = kp_date_start(y, m, d, &cut)) ||
			    (rc = kp_release_after(txn, &op->id, op->rec, cut)))
				return rc;
			json_object_set_new(op->rec, "until",
					    json_string(before));
		}
	} else {
		if ((rc = kp_release_room(txn, &op->id, op->rec)))
			return rc;
		json_object_set_new(op->rec, "status",
				    json_string("cancelled"));
	}
	return kp_txn_put(txn, &op->id, op->rec);
}

static int s_cancel(struct cli *cli)
{
	struct s_op op = {.cli = cli};
	char text[KP_ID_STRLEN];
	int rc = cli_id_arg(cli, KP_BOOKING, &op.id);
	if (rc)
		return rc;
	if (cli_opt(cli, "date") && cli_opt(cli, "from-date"))
		return cli_fail(cli, KP_EINVAL,
				"give --date (one occurrence) or --from-date "
				"(the rest of the series), not both");
	rc = kp_store_write(cli->store, s_cancel_txn, &op);
	if (rc == KP_OK) {
		if (cli->json) {
			cli_print_json(json_incref(op.rec));
		} else {
			kp_id_format(&op.id, text);
			printf("%s %s\n", text,
			       kp_rec_str(op.rec, "status", ""));
		}
	}
	json_decref(op.rec);
	return rc;
}

const struct cli_command cli_booking_commands[] = {
    {"booking", "add", s_add,
     "room from to org contact purpose pending weekly until days "
     "skip-clashes hub wait",
     "booking add --room ID --from TIME --to TIME --org ORG [--weekly "
     "--until DATE [--days DAYS]]",
     "Book a room; prints the new id. Times are local (Europe/Oslo unless "
     "--tz): \"2026-12-01 17:00\".\n"
     "  --contact, --purpose  free text\n"
     "  --pending             a pending booking, which holds its slot\n"
     "  --weekly --until DATE repeat every week to DATE (inclusive), on "
     "the weekday of --from\n"
     "  --days tue,thu        or on these weekdays\n"
     "  --skip-clashes        book the free dates of a series and list "
     "the skipped ones\n"
     "  --hub ID [--wait S]   at central's store: ask hub ID to book its "
     "room (--room r1 is ID's r1); prints the request id and its state "
     "and, with --wait, waits up to S seconds for the hub's answer "
     "(exit 0 accepted, 3 refused, 1 still pending)\n"
     "A booking that overlaps another (intervals are half-open: back to "
     "back is fine), falls outside the room's opening hours or on a "
     "closure is refused with exit code 3, naming the clash.",
     false},
    {"booking", "list", s_list, "room all-hubs",
     "booking list [--room ID] [--all-hubs]",
     "List the hub's bookings. --all-hubs adds other districts' bookings "
     "from the mirror (without their contact person), with a HUB column.",
     false},
    {"booking", "show", s_show, "", "booking show ID",
     "Show one booking with its cancelled dates.", false},
    {"booking", "cancel", s_cancel, "date from-date",
     "booking cancel ID [--date DATE | --from-date DATE]",
     "Cancel a booking (its slots are freed). --date cancels the "
     "occurrence on one date; --from-date cancels the rest of a weekly "
     "series from that date on.",
     false},
    {0},
};
