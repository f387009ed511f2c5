/*
 * cmd_activity.c - knute activity add | list | show | update | cancel |
 * assign | unassign | attend.
 *
 * An activity is a weekly (or one-off) schedule with an organiser. When it
 * has a room, its occurrences hold slots in that room under the clash rule
 * of rules.c, exactly as a booking's do: the slots are taken, moved and
 * released in the same write transaction as the record, so a refused change
 * leaves both as they were.
 *
 * Volunteers are assigned to the whole series or to one occurrence (an
 * assignment record), and their attendance is recorded per occurrence (one
 * attendance record per volunteer, activity and occurrence; recording it
 * again changes its status).
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
	json_t *rec; /* add: the new record; else the one read */
	bool skip;   /* --skip-clashes */
	struct kp_clashes clashes;
	json_t *assignments;   /* show: the activity's assignments */
	json_t *attendance;    /* show: its attendance records */
	json_t *names;	       /* show: volunteer id -> name */
	size_t moved, dropped; /* update: single-date assignments */
};

/* ---- shared helpers ---- */

/* Fetch id into *rec, or say that there is no such record. */
static int s_get(kp_txn *txn, struct cli *cli, const struct kp_id *id,
		 json_t **rec)
{
	char text[KP_ID_STRLEN];
	int rc;

	*rec = NULL;
	rc = kp_txn_get(txn, id, rec);
	if (rc == KP_ENOTFOUND) {
		kp_id_format(id, text);
		return cli_fail(
		    cli, rc, "no %s %s here: 'knute %s list' shows them",
		    kp_kind_name(id->kind), text, kp_kind_name(id->kind));
	}
	return rc;
}

/* Check option name against list; set field when it is one of them. */
static int s_enum_opt(struct cli *cli, json_t *rec, const char *name,
		      const char *field, const char *const *list,
		      const char *what)
{
	const char *v = cli_opt(cli, name);
	char choices[256] = "";

	if (!v)
		return KP_OK;
	if (kp_in_list(list, v)) {
		json_object_set_new(rec, field, json_string(v));
		return KP_OK;
	}
	for (const char *const *c = list; *c; c++) {
		size_t used = strlen(choices);
		snprintf(choices + used, sizeof choices - used, "%s%s",
			 c == list ? "" : ", ", *c);
	}
	return cli_fail(cli, KP_EINVAL,
			"--%s '%.40s' is not a %s: use one of %s", name, v,
			what, choices);
}

/* --room ID (or "none" to give the room up) into rec's "room". */
static int s_room_opt(struct cli *cli, json_t *rec)
{
	const char *v = cli_opt(cli, "room");
	char err[KP_ERR_MAX], text[KP_ID_STRLEN];
	struct kp_id id;

	if (!v)
		return KP_OK;
	if (!strcmp(v, "none")) {
		json_object_del(rec, "room");
		return KP_OK;
	}
	if (kp_id_parse(v, cli_request_local_hub(cli), KP_ROOM, &id, err))
		return cli_fail(cli, KP_EINVAL, "--room: %s", err);
	kp_id_format(&id, text);
	json_object_set_new(rec, "room", json_string(text));
	return KP_OK;
}

/* Fill rec from the options; with creating, title, organiser, category,
 * target and the times are required. */
static int s_activity_opts(struct cli *cli, json_t *rec, bool creating)
{
	bool police = cli_flag(cli, "police-required");
	bool no_police = cli_flag(cli, "no-police-required");
	int64_t needed;
	int rc;

	if ((rc = cli_set_text(cli, rec, "title", "title", KP_NAME_MAX)) ||
	    (rc = cli_set_text(cli, rec, "organiser", "organiser",
			       KP_NAME_MAX)) ||
	    (rc = cli_set_text(cli, rec, "description", "description",
			       KP_TEXT_MAX)) ||
	    (rc = s_enum_opt(cli, rec, "category", "category", kp_categories,
			     "category")) ||
	    (rc = s_enum_opt(cli, rec, "target", "target", kp_targets,
			     "target group")) ||
	    (rc = s_room_opt(cli, rec)) ||
	    (rc = cli_set_list(cli, rec, "skills", "skills")))
		return rc;
	if (!json_object_get(rec, "title"))
		return cli_fail(cli, KP_EINVAL,
				"an activity needs a title: --title "
				"\"Leksehjelp 5.-7. trinn\"");
	if (!kp_rec_str(rec, "title", "")[0])
		return cli_fail(cli, KP_EINVAL,
				"--title is empty: give the activity a title");
	if (!json_object_get(rec, "organiser") ||
	    !kp_rec_str(rec, "organiser", "")[0])
		return cli_fail(cli, KP_EINVAL,
				"say who runs it: --organiser \"Røde Kors\"");
	if (!json_object_get(rec, "category"))
		return cli_fail(cli, KP_EINVAL,
				"give the category: --category leksehjelp, "
				"språkkafé, møteplass, ungdomsklubb, trening, "
				"kultur or annet");
	if (!json_object_get(rec, "target"))
		return cli_fail(cli, KP_EINVAL,
				"give the target group: --target barn, ungdom, "
				"voksne, eldre or alle");
	rc = cli_int(cli, "volunteers-needed", 0, 1000, &needed);
	if (rc == KP_OK)
		json_object_set_new(rec, "volunteers_needed",
				    json_integer(needed));
	else if (rc != KP_ENOTFOUND)
		return rc;
	if (police && no_police)
		return cli_fail(cli, KP_EINVAL,
				"give --police-required or "
				"--no-police-required, not both");
	if (police || no_police || creating)
		json_object_set_new(rec, "police_required",
				    json_boolean(police));
	if (creating)
		json_object_set_new(rec, "status", json_string("active"));
	return cli_series_opts(cli, rec, creating);
}

static int s_validate(struct cli *cli, const json_t *rec)
{
	char err[KP_ERR_MAX];
	if (kp_model_validate(KP_ACTIVITY, rec, err))
		return cli_fail(cli, KP_EINVAL, "%s", err);
	return KP_OK;
}

static void s_print_result(struct cli *cli, const struct kp_id *id, json_t *rec,
			   const struct kp_clashes *c)
{
	char text[KP_ID_STRLEN];
	if (cli->json) {
		cli_print_json(json_incref(rec));
	} else {
		kp_id_format(id, text);
		printf("%s\n", text);
	}
	if (c && c->n) {
		fprintf(stderr,
			"knute: the room is held on %zu dates; %zu that clash "
			"were skipped:\n",
			c->booked, c->n);
		cli_print_clashes(c);
	}
}

/* ---- add ---- */

static int s_add(struct cli *cli)
{
	struct kp_op op = {.rec = json_object(), .id.kind = KP_ACTIVITY};
	const char *hub; /* at central's store: the hub asked */
	int rc;

	op.skip = cli_flag(cli, "skip-clashes");
	if (!op.rec)
		return KP_ENOMEM;
	if ((rc = cli_request_hub(cli, &hub)))
		goto out;
	if (cli->npos) {
		rc = cli_fail(cli, KP_EINVAL, "unexpected argument '%s'",
			      cli->pos[0]);
		goto out;
	}
	if ((rc = s_activity_opts(cli, op.rec, true)) ||
	    (rc = s_validate(cli, op.rec)) ||
	    (rc = cli_series_check(cli, op.rec)))
		goto out;
	if (hub) {
		rc = cli_request_submit(cli, hub, KP_ACTIVITY,
					json_incref(op.rec));
		goto out;
	}
	rc = kp_store_write(cli->store, kp_op_add_txn, &op);
	if (rc) {
		rc = cli_refused(cli, "activity", rc, op.rec, &op.clashes);
		goto out;
	}
	s_print_result(cli, &op.id, op.rec, &op.clashes);
out:
	kp_op_free(&op);
	return rc;
}

/* ---- list ---- */

struct s_list {
	struct cli *cli;
	const char *category, *target;
	json_t *out;
	struct cli_table *table;
};

static int s_list_row(const struct kp_id *id, json_t *rec, void *arg)
{
	struct s_list *l = arg;
	char when[80], repeat[80];
	(void)id;

	if ((l->category &&
	     strcmp(kp_rec_str(rec, "category", ""), l->category)) ||
	    (l->target && strcmp(kp_rec_str(rec, "target", ""), l->target)))
		return KP_OK;
	if (l->cli->json)
		return json_array_append(l->out, rec) ? KP_ENOMEM : KP_OK;
	cli_series_text(rec, when, sizeof when, repeat, sizeof repeat);
	const char *row[] = {kp_rec_str(rec, "hub", ""),
			     kp_rec_str(rec, "id", ""),
			     kp_rec_str(rec, "title", ""),
			     kp_rec_str(rec, "organiser", ""),
			     kp_rec_str(rec, "category", ""),
			     kp_rec_str(rec, "target", ""),
			     when,
			     repeat,
			     kp_rec_str(rec, "room", "-"),
			     kp_rec_str(rec, "status", "active")};
	cli_table_row(l->table, cli_flag(l->cli, "all-hubs") ? row : row + 1);
	return KP_OK;
}

static int s_list_txn(kp_txn *txn, void *arg)
{
	struct s_list *l = arg;
	return cli_sync_each(l->cli, txn, KP_ACTIVITY, s_list_row, arg);
}

static int s_list(struct cli *cli)
{
	static const char *const head[] = {
	    "HUB",    "ID",   "TITLE",	 "ORGANISER", "CATEGORY",
	    "TARGET", "WHEN", "REPEATS", "ROOM",      "STATUS"};
	bool all = cli_flag(cli, "all-hubs");
	struct s_list l = {
	    .cli = cli,
	    .category = cli_opt(cli, "category"),
	    .target = cli_opt(cli, "target"),
	    .out = json_array(),
	    .table = cli_table_new(all ? 10 : 9, all ? head : head + 1)};
	json_t *scratch = json_object();
	int rc;

	if (!l.out || !l.table || !scratch) {
		rc = KP_ENOMEM;
		goto out;
	}
	if (cli->npos) {
		rc = cli_fail(cli, KP_EINVAL, "unexpected argument '%s'",
			      cli->pos[0]);
		goto out;
	}
	/* The filters take the same values as add; check them the same way. */
	if ((rc = s_enum_opt(cli, scratch, "category", "category",
			     kp_categories, "category")) ||
	    (rc = s_enum_opt(cli, scratch, "target", "target", kp_targets,
			     "target group")))
		goto out;
	rc = kp_store_read(cli->store, s_list_txn, &l);
	if (rc == KP_OK) {
		if (cli->json)
			cli_print_json(json_incref(l.out));
		else
			cli_table_print(l.table);
	}
out:
	json_decref(scratch);
	json_decref(l.out);
	cli_table_free(&l.table);
	return rc;
}

/* ---- show ---- */

struct s_show {
	struct s_op *op;
	kp_txn *txn;
	char id[KP_ID_STRLEN];
};

/* Remember the name of volunteer text for the human view. */
static int s_name_of(struct s_show *s, const char *text)
{
	struct kp_id vid;
	char err[KP_ERR_MAX];
	json_t *vol = NULL;
	int rc;

	if (json_object_get(s->op->names, text))
		return KP_OK;
	if (kp_id_parse(text, NULL, KP_VOLUNTEER, &vid, err))
		return KP_OK;
	rc = kp_txn_get(s->txn, &vid, &vol);
	if (rc && rc != KP_ENOTFOUND)
		return rc;
	rc = json_object_set_new(
	    s->op->names, text,
	    json_string(kp_rec_str(vol, "name", "(erased)")));
	json_decref(vol);
	return rc ? KP_ENOMEM : KP_OK;
}

static int s_show_row(const struct kp_id *id, json_t *rec, void *arg)
{
	struct s_show *s = arg;
	json_t *into =
	    id->kind == KP_ASSIGNMENT ? s->op->assignments : s->op->attendance;
	if (strcmp(kp_rec_str(rec, "activity", ""), s->id))
		return KP_OK;
	if (json_array_append(into, rec))
		return KP_ENOMEM;
	return s_name_of(s, kp_rec_str(rec, "volunteer", ""));
}

static int s_show_txn(kp_txn *txn, void *arg)
{
	struct s_op *op = arg;
	struct s_show s = {.op = op, .txn = txn};
	int rc;

	json_decref(op->rec);
	json_array_clear(op->assignments);
	json_array_clear(op->attendance);
	kp_id_format(&op->id, s.id);
	if ((rc = s_get(txn, op->cli, &op->id, &op->rec)) ||
	    (rc = kp_txn_each(txn, KP_ASSIGNMENT, s_show_row, &s)))
		return rc;
	return kp_txn_each(txn, KP_ATTENDANCE, s_show_row, &s);
}

/* Attendance in time order, then by volunteer. */
static int s_by_occurrence(const void *a, const void *b)
{
	const json_t *x = *(json_t *const *)a, *y = *(json_t *const *)b;
	int64_t ox = kp_rec_int(x, "occurrence", 0);
	int64_t oy = kp_rec_int(y, "occurrence", 0);
	if (ox != oy)
		return ox < oy ? -1 : 1;
	return strcmp(kp_rec_str(x, "volunteer", ""),
		      kp_rec_str(y, "volunteer", ""));
}

static void s_show_people(const struct s_op *op)
{
	size_t n = json_array_size(op->attendance), i;
	json_t **sorted = n ? calloc(n, sizeof *sorted) : NULL;
	char when[KP_TIME_STRLEN], last[KP_TIME_STRLEN] = "";
	json_t *a;

	printf("assigned:%s\n",
	       json_array_size(op->assignments) ? "" : "     nobody yet");
	json_array_foreach(op->assignments, i, a)
	{
		const char *v = kp_rec_str(a, "volunteer", "");
		if (json_object_get(a, "occurrence"))
			cli_time_field(a, "occurrence", when);
		else
			snprintf(when, sizeof when, "whole series");
		printf("  %-14s %-28s %s\n", v, kp_rec_str(op->names, v, ""),
		       when);
	}
	printf("attendance:%s\n", n ? "" : "   none recorded");
	if (n && !sorted)
		return;
	json_array_foreach(op->attendance, i, a) sorted[i] = a;
	if (n)
		qsort(sorted, n, sizeof *sorted, s_by_occurrence);
	for (i = 0; i < n; i++) {
		const char *v = kp_rec_str(sorted[i], "volunteer", "");
		cli_time_field(sorted[i], "occurrence", when);
		if (strcmp(when, last))
			printf("  %s\n", when);
		snprintf(last, sizeof last, "%s", when);
		printf("    %-14s %-28s %s\n", v, kp_rec_str(op->names, v, ""),
		       kp_rec_str(sorted[i], "status", ""));
	}
	free(sorted);
}

static int s_show(struct cli *cli)
{
	struct s_op op = {.cli = cli,
			  .assignments = json_array(),
			  .attendance = json_array(),
			  .names = json_object()};
	char when[80], repeat[80], buf[512], t[KP_TIME_STRLEN];
	size_t i;
	json_t *c;
	int rc;

	if (!op.assignments || !op.attendance || !op.names) {
		rc = KP_ENOMEM;
		goto out;
	}
	if ((rc = cli_id_arg(cli, KP_ACTIVITY, &op.id)) ||
	    (rc = kp_store_read(cli->store, s_show_txn, &op)))
		goto out;
	if (cli->json) {
		json_object_set(op.rec, "assignments", op.assignments);
		json_object_set(op.rec, "attendance", op.attendance);
		cli_print_json(json_incref(op.rec));
		goto out;
	}
	cli_series_text(op.rec, when, sizeof when, repeat, sizeof repeat);
	printf("activity:     %s\n", kp_rec_str(op.rec, "id", ""));
	printf("title:        %s\n", kp_rec_str(op.rec, "title", ""));
	printf("organiser:    %s\n", kp_rec_str(op.rec, "organiser", ""));
	printf("category:     %s\n", kp_rec_str(op.rec, "category", ""));
	printf("target:       %s\n", kp_rec_str(op.rec, "target", ""));
	printf("when:         %s\n", when);
	printf("repeats:      %s\n", repeat);
	printf("room:         %s\n", kp_rec_str(op.rec, "room", "-"));
	if (json_object_get(op.rec, "volunteers_needed"))
		printf("volunteers:   %lld needed, %zu assigned\n",
		       (long long)kp_rec_int(op.rec, "volunteers_needed", 0),
		       json_array_size(op.assignments));
	cli_join(json_object_get(op.rec, "skills"), buf, sizeof buf);
	if (buf[0])
		printf("skills:       %s\n", buf);
	printf("politiattest: %s\n",
	       kp_rec_bool(op.rec, "police_required", false) ? "required"
							     : "not required");
	printf("status:       %s\n", kp_rec_str(op.rec, "status", "active"));
	if (json_object_get(op.rec, "description"))
		printf("description:  %s\n",
		       kp_rec_str(op.rec, "description", ""));
	json_array_foreach(json_object_get(op.rec, "cancelled"), i, c)
	{
		kp_time_format(json_integer_value(c), t);
		printf("not held:     %s\n", t);
	}
	s_show_people(&op);
out:
	json_decref(op.rec);
	json_decref(op.assignments);
	json_decref(op.attendance);
	json_decref(op.names);
	return rc;
}

/* ---- update ---- */

/* True when the fields that place the activity in a room differ. */
static bool s_placement_changed(const json_t *a, const json_t *b)
{
	static const char *const fields[] = {"start", "end",  "weekly", "days",
					     "until", "room", NULL};
	for (const char *const *f = fields; *f; f++) {
		const json_t *x = json_object_get(a, *f);
		const json_t *y = json_object_get(b, *f);
		if ((x || y) && !(x && y && json_equal(x, y)))
			return true;
	}
	return false;
}

/* The first assigned volunteer who has shown no police certificate, for
 * an activity that now requires one. */
struct s_uncertified {
	kp_txn *txn;
	const json_t *activity;
	char id[KP_ID_STRLEN];
	char volunteer[KP_ID_STRLEN];
	char name[KP_NAME_MAX + 1];
};

static int s_uncertified_row(const struct kp_id *id, json_t *rec, void *arg)
{
	struct s_uncertified *u = arg;
	struct kp_id vid;
	char err[KP_ERR_MAX];
	json_t *vol = NULL;
	int rc;
	(void)id;

	if (strcmp(kp_rec_str(rec, "activity", ""), u->id) ||
	    kp_id_parse(kp_rec_str(rec, "volunteer", ""), NULL, KP_VOLUNTEER,
			&vid, err))
		return KP_OK;
	rc = kp_txn_get(u->txn, &vid, &vol);
	if (rc == KP_ENOTFOUND)
		return KP_OK;
	if (rc)
		return rc;
	rc = kp_police_check(vol, u->activity);
	if (rc == KP_EPOLICE) {
		snprintf(u->volunteer, sizeof u->volunteer, "%s",
			 kp_rec_str(rec, "volunteer", ""));
		snprintf(u->name, sizeof u->name, "%s",
			 kp_rec_str(vol, "name", ""));
	}
	json_decref(vol);
	return rc;
}

/* The activity's single-date assignments follow a new schedule: each
 * moves to the new occurrence on its local date, or is deleted when the
 * activity no longer takes place that day. */
struct s_remap {
	char id[KP_ID_STRLEN];
	json_t *found; /* copies of the assignments with an occurrence */
};

static int s_remap_row(const struct kp_id *id, json_t *rec, void *arg)
{
	struct s_remap *r = arg;
	(void)id;
	if (strcmp(kp_rec_str(rec, "activity", ""), r->id) ||
	    !json_is_integer(json_object_get(rec, "occurrence")))
		return KP_OK;
	return json_array_append(r->found, rec) ? KP_ENOMEM : KP_OK;
}

static int s_remap(kp_txn *txn, struct s_op *op, const json_t *rec)
{
	struct s_remap r = {.found = json_array()};
	char err[KP_ERR_MAX];
	size_t i;
	json_t *a;
	int rc;

	op->moved = op->dropped = 0;
	if (!r.found)
		return KP_ENOMEM;
	kp_id_format(&op->id, r.id);
	if ((rc = kp_txn_each(txn, KP_ASSIGNMENT, s_remap_row, &r)))
		goto out;
	json_array_foreach(r.found, i, a)
	{
		struct kp_id aid;
		int64_t occ = kp_rec_int(a, "occurrence", 0), start, end;
		int y, m, d;

		if (kp_id_parse(kp_rec_str(a, "id", ""), NULL, KP_ASSIGNMENT,
				&aid, err)) {
			rc = KP_ECORRUPT;
			goto out;
		}
		kp_local_parts(occ, &y, &m, &d, NULL, NULL);
		rc = kp_occurrence_on(rec, y, m, d, &start, &end);
		if (rc == KP_ENOTFOUND) {
			if ((rc = kp_txn_delete(txn, &aid)))
				goto out;
			op->dropped++;
		} else if (rc) {
			goto out;
		} else if (start != occ) {
			json_object_set_new(a, "occurrence",
					    json_integer(start));
			if ((rc = kp_txn_put(txn, &aid, a)))
				goto out;
			op->moved++;
		}
	}
	rc = KP_OK;
out:
	json_decref(r.found);
	return rc;
}

static int s_update_txn(kp_txn *txn, void *arg)
{
	struct s_op *op = arg;
	struct cli *cli = op->cli;
	json_t *old = NULL, *rec = NULL;
	int rc;

	kp_clashes_free(&op->clashes);
	json_decref(op->rec);
	op->rec = NULL;
	if ((rc = s_get(txn, cli, &op->id, &old)))
		goto out;
	if (!strcmp(kp_rec_str(old, "status", ""), "cancelled")) {
		rc = cli_fail(cli, KP_EINVAL,
			      "activity %s is cancelled: add a new one "
			      "instead",
			      kp_rec_str(old, "id", ""));
		goto out;
	}
	if (!(rec = json_deep_copy(old))) {
		rc = KP_ENOMEM;
		goto out;
	}
	if ((rc = s_activity_opts(cli, rec, false)) ||
	    (rc = s_validate(cli, rec)))
		goto out;
	if (s_placement_changed(old, rec)) {
		/* The occurrences skipped before belong to the old schedule
		 * or room; the new one is checked afresh. */
		json_object_del(rec, "cancelled");
		if ((rc = cli_series_check(cli, rec)) ||
		    (rc = kp_release_room(txn, &op->id, old)))
			goto out;
		if (json_object_get(rec, "room") &&
		    (rc = kp_hold_room(txn, &op->id, rec, op->skip,
				       &op->clashes))) {
			rc =
			    cli_refused(cli, "activity", rc, rec, &op->clashes);
			goto out;
		}
		if ((rc = s_remap(txn, op, rec)))
			goto out;
	}
	if (kp_rec_bool(rec, "police_required", false) &&
	    !kp_rec_bool(old, "police_required", false)) {
		struct s_uncertified u = {.txn = txn, .activity = rec};
		kp_id_format(&op->id, u.id);
		rc = kp_txn_each(txn, KP_ASSIGNMENT, s_uncertified_row, &u);
		if (rc == KP_EPOLICE) {
			rc = cli_fail(cli, rc,
				      "activity %s cannot require a police "
				      "certificate (politiattest) yet: "
				      "assigned volunteer %s (%s) has shown "
				      "none: record it with 'knute volunteer "
				      "update %s --police-role ROLE "
				      "--police-shown DATE', or unassign them",
				      u.id, u.volunteer, u.name, u.volunteer);
			goto out;
		}
		if (rc)
			goto out;
	}
	if ((rc = kp_txn_put(txn, &op->id, rec)))
		goto out;
	op->rec = rec;
	rec = NULL;
out:
	json_decref(old);
	json_decref(rec);
	return rc;
}

static int s_update(struct cli *cli)
{
	struct s_op op = {.cli = cli};
	int rc = cli_id_arg(cli, KP_ACTIVITY, &op.id);

	op.skip = cli_flag(cli, "skip-clashes");
	if (rc == KP_OK && cli->nopts == (cli->json ? 1 : 0))
		rc = cli_fail(cli, KP_EINVAL,
			      "nothing to change: give the options to change "
			      "(see 'knute activity update --help')");
	if (rc == KP_OK &&
	    (rc = kp_store_write(cli->store, s_update_txn, &op)) == KP_OK) {
		s_print_result(cli, &op.id, op.rec, &op.clashes);
		if (op.moved || op.dropped)
			fprintf(stderr,
				"knute: single-date assignments follow the "
				"new schedule: %zu moved, %zu removed (no "
				"occurrence on their date any more)\n",
				op.moved, op.dropped);
	}
	json_decref(op.rec);
	kp_clashes_free(&op.clashes);
	return rc;
}

/* ---- cancel ---- */

static int s_cancel_txn(kp_txn *txn, void *arg)
{
	struct s_op *op = arg;
	int rc;

	json_decref(op->rec);
	op->rec = NULL;
	if ((rc = s_get(txn, op->cli, &op->id, &op->rec)))
		return rc;
	if (!strcmp(kp_rec_str(op->rec, "status", ""), "cancelled"))
		return cli_fail(op->cli, KP_EINVAL,
				"activity %s is cancelled already",
				kp_rec_str(op->rec, "id", ""));
	if ((rc = kp_release_room(txn, &op->id, op->rec)))
		return rc;
	json_object_set_new(op->rec, "status", json_string("cancelled"));
	return kp_txn_put(txn, &op->id, op->rec);
}

static int s_cancel(struct cli *cli)
{
	struct s_op op = {.cli = cli};
	char text[KP_ID_STRLEN];
	int rc = cli_id_arg(cli, KP_ACTIVITY, &op.id);

	if (rc == KP_OK &&
	    (rc = kp_store_write(cli->store, s_cancel_txn, &op)) == KP_OK) {
		if (cli->json) {
			cli_print_json(json_incref(op.rec));
		} else {
			kp_id_format(&op.id, text);
			printf("%s cancelled\n", text);
		}
	}
	json_decref(op.rec);
	return rc;
}

/* ---- assign, unassign, attend ---- */

struct s_people {
	struct cli *cli;
	struct kp_id activity, volunteer;
	char act_text[KP_ID_STRLEN], vol_text[KP_ID_STRLEN];
	const char *date; /* --date as given, or NULL */
	int y, m, d;
	const char *status; /* attend: --status */
	json_t *rec;	    /* the record written */
	struct kp_id out;   /* its id */
	bool updated;	    /* attend: an existing record was changed */
};

/* The positional activity id, --volunteer and --date. */
static int s_people_args(struct cli *cli, struct s_people *p, bool need_date)
{
	const char *vol = cli_opt(cli, "volunteer");
	char err[KP_ERR_MAX];
	int rc;

	if ((rc = cli_id_arg(cli, KP_ACTIVITY, &p->activity)))
		return rc;
	if (!vol)
		return cli_fail(cli, KP_EINVAL,
				"say which volunteer: --volunteer ID ('knute "
				"volunteer list' shows them)");
	if (kp_id_parse(vol, kp_store_hub(cli->store), KP_VOLUNTEER,
			&p->volunteer, err))
		return cli_fail(cli, KP_EINVAL, "--volunteer: %s", err);
	kp_id_format(&p->activity, p->act_text);
	kp_id_format(&p->volunteer, p->vol_text);
	p->date = cli_opt(cli, "date");
	if (!p->date && need_date)
		return cli_fail(cli, KP_EINVAL,
				"say which occurrence: --date YYYY-MM-DD (a "
				"date the activity takes place)");
	if (p->date && kp_date_parse(p->date, &p->y, &p->m, &p->d))
		return cli_fail(cli, KP_EINVAL,
				"--date '%.40s' is not a date: write "
				"YYYY-MM-DD, e.g. 2026-12-01",
				p->date);
	return KP_OK;
}

/* The start of the occurrence on --date. */
static int s_occurrence(struct s_people *p, const json_t *activity,
			int64_t *start)
{
	int64_t end;
	int rc = kp_occurrence_on(activity, p->y, p->m, p->d, start, &end);
	if (rc == KP_ENOTFOUND)
		return cli_fail(p->cli, rc,
				"activity %s does not take place on %s: "
				"'knute activity show %s' shows its schedule",
				p->act_text, p->date, p->act_text);
	return rc;
}

/* Assignment or attendance records of one volunteer and activity. */
struct s_match {
	const struct s_people *p;
	bool has_occ;
	int64_t occ;
	bool series; /* an assignment for the whole series */
	bool exact;  /* one for exactly this occurrence (or the
		      * series, when has_occ is false) */
	struct kp_id exact_id;
};

static int s_match_row(const struct kp_id *id, json_t *rec, void *arg)
{
	struct s_match *m = arg;
	const json_t *occ = json_object_get(rec, "occurrence");

	if (strcmp(kp_rec_str(rec, "volunteer", ""), m->p->vol_text) ||
	    strcmp(kp_rec_str(rec, "activity", ""), m->p->act_text))
		return KP_OK;
	if (!json_is_integer(occ)) {
		m->series = true;
		if (!m->has_occ) {
			m->exact = true;
			m->exact_id = *id;
		}
	} else if (m->has_occ && json_integer_value(occ) == m->occ) {
		m->exact = true;
		m->exact_id = *id;
	}
	return KP_OK;
}

/* Fetch the activity and the volunteer named by p. */
static int s_pair(kp_txn *txn, struct s_people *p, json_t **activity,
		  json_t **volunteer)
{
	int rc;
	*volunteer = NULL;
	if ((rc = s_get(txn, p->cli, &p->activity, activity)))
		return rc;
	return s_get(txn, p->cli, &p->volunteer, volunteer);
}

static int s_write_rec(kp_txn *txn, struct s_people *p, char kind, json_t *rec)
{
	char err[KP_ERR_MAX];
	int rc;

	if (kp_model_validate(kind, rec, err))
		return cli_fail(p->cli, KP_EINVAL, "%s", err);
	if (!p->updated && (rc = kp_txn_new_id(txn, kind, &p->out)))
		return rc;
	if ((rc = kp_txn_put(txn, &p->out, rec)))
		return rc;
	p->rec = json_incref(rec);
	return KP_OK;
}

static int s_assign_txn(kp_txn *txn, void *arg)
{
	struct s_people *p = arg;
	struct s_match m = {.p = p};
	json_t *act = NULL, *vol = NULL, *rec = NULL;
	int rc;

	json_decref(p->rec);
	p->rec = NULL;
	if ((rc = s_pair(txn, p, &act, &vol)))
		goto out;
	if (!strcmp(kp_rec_str(act, "status", ""), "cancelled")) {
		rc = cli_fail(p->cli, KP_EINVAL,
			      "activity %s is cancelled: nobody can be "
			      "assigned to it",
			      p->act_text);
		goto out;
	}
	if (kp_police_check(vol, act) == KP_EPOLICE) {
		rc = cli_fail(p->cli, KP_EPOLICE,
			      "activity %s (%s) requires a police certificate "
			      "(politiattest); volunteer %s (%s) has shown "
			      "none: record it with 'knute volunteer update "
			      "%s --police-role ROLE --police-shown DATE'",
			      p->act_text, kp_rec_str(act, "title", ""),
			      p->vol_text, kp_rec_str(vol, "name", ""),
			      p->vol_text);
		goto out;
	}
	if (p->date && (rc = s_occurrence(p, act, &m.occ)))
		goto out;
	m.has_occ = p->date != NULL;
	if ((rc = kp_txn_each(txn, KP_ASSIGNMENT, s_match_row, &m)))
		goto out;
	if (m.series || m.exact) {
		char what[80];
		if (m.series)
			snprintf(what, sizeof what, "the whole series");
		else
			snprintf(what, sizeof what, "the occurrence on %s",
				 p->date);
		rc = cli_fail(p->cli, KP_EEXIST,
			      "volunteer %s is already assigned to %s of "
			      "activity %s: 'knute activity show %s' lists "
			      "the assignments",
			      p->vol_text, what, p->act_text, p->act_text);
		goto out;
	}
	rec = json_pack("{ssss}", "volunteer", p->vol_text, "activity",
			p->act_text);
	if (!rec) {
		rc = KP_ENOMEM;
		goto out;
	}
	if (m.has_occ)
		json_object_set_new(rec, "occurrence", json_integer(m.occ));
	rc = s_write_rec(txn, p, KP_ASSIGNMENT, rec);
out:
	json_decref(act);
	json_decref(vol);
	json_decref(rec);
	return rc;
}

static void s_print_people(struct cli *cli, struct s_people *p)
{
	char text[KP_ID_STRLEN];
	if (cli->json) {
		cli_print_json(json_incref(p->rec));
		return;
	}
	kp_id_format(&p->out, text);
	printf("%s\n", text);
}

static int s_assign(struct cli *cli)
{
	struct s_people p = {.cli = cli};
	int rc = s_people_args(cli, &p, false);

	if (rc == KP_OK &&
	    (rc = kp_store_write(cli->store, s_assign_txn, &p)) == KP_OK)
		s_print_people(cli, &p);
	json_decref(p.rec);
	return rc;
}

static int s_unassign_txn(kp_txn *txn, void *arg)
{
	struct s_people *p = arg;
	struct s_match m = {.p = p};
	json_t *act = NULL;
	int rc;

	if ((rc = s_get(txn, p->cli, &p->activity, &act)))
		goto out;
	if (p->date && (rc = s_occurrence(p, act, &m.occ)))
		goto out;
	m.has_occ = p->date != NULL;
	if ((rc = kp_txn_each(txn, KP_ASSIGNMENT, s_match_row, &m)))
		goto out;
	if (!m.exact) {
		rc = cli_fail(p->cli, KP_ENOTFOUND,
			      "volunteer %s is not assigned to %s%s of "
			      "activity %s: 'knute activity show %s' lists "
			      "the assignments",
			      p->vol_text,
			      p->date ? "the occurrence on "
				      : "the whole "
					"series",
			      p->date ? p->date : "", p->act_text, p->act_text);
		goto out;
	}
	p->out = m.exact_id;
	rc = kp_txn_delete(txn, &m.exact_id);
out:
	json_decref(act);
	return rc;
}

static int s_unassign(struct cli *cli)
{
	struct s_people p = {.cli = cli};
	char text[KP_ID_STRLEN];
	int rc = s_people_args(cli, &p, false);

	if (rc == KP_OK &&
	    (rc = kp_store_write(cli->store, s_unassign_txn, &p)) == KP_OK) {
		kp_id_format(&p.out, text);
		if (cli->json)
			cli_print_json(
			    json_pack("{sssb}", "id", text, "deleted", 1));
		else
			printf("%s removed\n", text);
	}
	return rc;
}

/* The rule itself is kp_op_attend() (ops.c), shared with the web API. */
static int s_attend(struct cli *cli)
{
	struct s_people p = {.cli = cli, .status = cli_opt(cli, "status")};
	struct kp_attend a = {.options = true};
	int rc = s_people_args(cli, &p, true);

	if (rc == KP_OK &&
	    (!p.status || !kp_in_list(kp_attendance_states, p.status)))
		rc = cli_fail(cli, KP_EINVAL,
			      "give the attendance: --status present, no-show "
			      "or excused");
	if (rc)
		return rc;
	a.activity = p.activity;
	a.volunteer = p.volunteer;
	a.year = p.y;
	a.month = p.m;
	a.day = p.d;
	a.status = p.status;
	rc = kp_op_attend(cli->store, &a);
	if (rc == KP_OK) {
		p.rec = a.rec;
		p.out = a.id;
		s_print_people(cli, &p);
	} else if (a.err[0]) {
		rc = cli_fail(cli, rc, "%s", a.err);
	}
	kp_attend_free(&a);
	return rc;
}

#define S_ACTIVITY_OPTS                                                        \
	"title organiser category target from to weekly until days room "      \
	"volunteers-needed skills police-required no-police-required "         \
	"description skip-clashes"

#define S_ACTIVITY_HELP                                                        \
	"  --category C          leksehjelp, språkkafé, møteplass, "        \
	"ungdomsklubb, trening, kultur or annet\n"                             \
	"  --target G            barn, ungdom, voksne, eldre or alle\n"        \
	"  --from TIME --to TIME the first occurrence, local time: "           \
	"\"2026-12-01 17:00\"\n"                                               \
	"  --weekly --until DATE repeat every week to DATE (inclusive), on "   \
	"the weekday of --from\n"                                              \
	"  --days tue,thu        or on these weekdays\n"                       \
	"  --room ID             hold the room for every occurrence, under "   \
	"the clash rule (exit 3 on a clash, naming it)\n"                      \
	"  --skip-clashes        hold the free dates of a series and list "    \
	"the skipped ones\n"                                                   \
	"  --volunteers-needed N, --skills LIST, --description TEXT\n"         \
	"  --police-required     volunteers must have shown a police "         \
	"certificate (politiattest)\n"

const struct cli_command cli_activity_commands[] = {
    {"activity", "add", s_add, S_ACTIVITY_OPTS " hub wait",
     "activity add --title T --organiser ORG --category C --target G "
     "--from TIME --to TIME [--weekly --until DATE [--days DAYS]] [--room "
     "ID] [--volunteers-needed N] [--skills LIST] [--police-required] "
     "[--description TEXT] [--hub ID [--wait S]]",
     "Add an activity; prints the new id (with --json the "
     "record).\n" S_ACTIVITY_HELP
     "  --hub ID [--wait S]   at central's store: ask hub ID to add it "
     "(--room r1 is ID's r1); prints the request id and its state and, "
     "with --wait, waits up to S seconds for the hub's answer (exit 0 "
     "accepted, 3 refused, 1 still pending)\n"
     "Example: knute activity add --title \"Leksehjelp 5.-7. trinn\" "
     "--organiser \"Røde Kors\" --category leksehjelp --target barn "
     "--from \"2026-12-01 17:00\" --to \"2026-12-01 19:00\" --weekly "
     "--until 2027-06-15 --days tue,thu --room r1 --police-required",
     false},
    {"activity", "list", s_list, "category target all-hubs",
     "activity list [--category C] [--target G] [--all-hubs]",
     "List the hub's activities, optionally of one category or target "
     "group. --all-hubs adds other districts' activities from the mirror "
     "(also offline), with a HUB column, and says on stderr how fresh the "
     "mirror is.",
     false},
    {"activity", "show", s_show, "", "activity show ID",
     "Show one activity, the volunteers assigned to it and, per "
     "occurrence, the attendance recorded. With --json the record with "
     "\"assignments\" and \"attendance\" arrays.",
     false},
    {"activity", "update", s_update, S_ACTIVITY_OPTS,
     "activity update ID [same options as add] [--no-police-required] "
     "[--room none]",
     "Change an activity; fields not given are kept. When the schedule or "
     "the room changes, the old slots are released and the new ones held "
     "in the same step; a clash refuses the change (exit 3) and keeps "
     "the old. Single-date assignments move to the new time on their date, "
     "or are removed when the activity no longer takes place that day. "
     "--room none gives the room up. Requiring a police "
     "certificate is refused while an assigned volunteer has shown "
     "none.\n" S_ACTIVITY_HELP,
     false},
    {"activity", "cancel", s_cancel, "", "activity cancel ID",
     "Cancel an activity: its status becomes cancelled and its room slots "
     "are freed.",
     false},
    {"activity", "assign", s_assign, "volunteer date",
     "activity assign ACTIVITY --volunteer V [--date DATE]",
     "Assign a volunteer to the whole series, or with --date to the one "
     "occurrence on that date. Refused (exit 2) when the activity "
     "requires a police certificate (politiattest) and the volunteer has "
     "shown none, and when the assignment exists already.",
     false},
    {"activity", "unassign", s_unassign, "volunteer date",
     "activity unassign ACTIVITY --volunteer V [--date DATE]",
     "Remove an assignment made with 'activity assign' (the same "
     "--date, or none for the series).",
     false},
    {"activity", "attend", s_attend, "volunteer date status",
     "activity attend ACTIVITY --volunteer V --date DATE --status "
     "present|no-show|excused",
     "Record a volunteer's attendance at the occurrence on DATE. The "
     "volunteer must be assigned to it or to the series. Recording it "
     "again changes the record; 'volunteer show' counts the no-shows.",
     false},
    {0},
};
