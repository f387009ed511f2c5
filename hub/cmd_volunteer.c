/*
 * cmd_volunteer.c - knute volunteer add | list | show | update | erase.
 *
 * A volunteer's name, phone, e-mail, birth year and police certificate are
 * personal data (model.h, kp_personal_fields): they stay at the hub unless
 * the volunteer consented, and 'volunteer erase' removes them for good,
 * from the record and from every oplog entry that carried them.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "cli.h"
#include "knute/error.h"
#include "knute/ktime.h"
#include "rules.h"

/* Room for the canonical text of any weekly-hours spec. */
#define S_WEEK_STRLEN (KP_TEXT_MAX + 1)

struct s_op {
	struct cli *cli;
	struct kp_id id;
	json_t *rec;
	json_t *lines;	    /* show: one line per assignment, for people */
	int64_t no_shows;   /* show: attendance records with "no-show" */
	struct kp_id *gone; /* erase: the volunteer's assignments */
	size_t ngone, capgone;
};

/* Today's local date, "YYYY-MM-DD"; buf has KP_TIME_STRLEN bytes. */
static void s_today(char *buf)
{
	int y, m, d;
	kp_local_parts(kp_now(), &y, &m, &d, NULL, NULL);
	kp_date_format(y, m, d, buf);
}

/* The date option name into buf (KP_TIME_STRLEN bytes): a real date, not
 * after today. KP_ENOTFOUND when it was not given. */
static int s_past_date(struct cli *cli, const char *name, char *buf)
{
	const char *v = cli_opt(cli, name);
	char today[KP_TIME_STRLEN];
	int y, m, d;

	if (!v)
		return KP_ENOTFOUND;
	if (kp_date_parse(v, &y, &m, &d))
		return cli_fail(cli, KP_EINVAL,
				"--%s '%.40s' is not a date: write YYYY-MM-DD, "
				"e.g. 2026-09-01",
				name, v);
	kp_date_format(y, m, d, buf);
	s_today(today);
	if (strcmp(buf, today) > 0)
		return cli_fail(cli, KP_EINVAL,
				"--%s %s is in the future: give the date it "
				"happened (today is %s)",
				name, buf, today);
	return KP_OK;
}

/* The police certificate options: both, or merged with the one rec holds
 * already. */
static int s_police_opts(struct cli *cli, json_t *rec)
{
	const json_t *old = json_object_get(rec, "police");
	json_t *police, *role = NULL;
	char shown[KP_TIME_STRLEN];
	int rc;

	if (!cli_opt(cli, "police-role") && !cli_opt(cli, "police-shown"))
		return KP_OK;
	rc = cli_text(cli, "police-role", KP_NAME_MAX, &role);
	if (rc && rc != KP_ENOTFOUND)
		return rc;
	if (role && json_string_length(role) == 0) {
		json_decref(role);
		return cli_fail(cli, KP_EINVAL,
				"--police-role is empty: name the role the "
				"certificate was shown for, e.g. "
				"\"leksehjelper\"");
	}
	rc = s_past_date(cli, "police-shown", shown);
	if (rc && rc != KP_ENOTFOUND) {
		json_decref(role);
		return rc;
	}
	police = json_is_object(old) ? json_deep_copy(old) : json_object();
	if (!police) {
		json_decref(role);
		return KP_ENOMEM;
	}
	if (role)
		json_object_set_new(police, "role", role);
	if (rc == KP_OK)
		json_object_set_new(police, "shown", json_string(shown));
	if (!json_object_get(police, "role") ||
	    !json_object_get(police, "shown")) {
		json_decref(police);
		return cli_fail(cli, KP_EINVAL,
				"a police certificate needs the role and the "
				"date it was shown: --police-role ROLE "
				"--police-shown YYYY-MM-DD");
	}
	json_object_set_new(rec, "police", police);
	return KP_OK;
}

/* --consent / --no-consent [--consent-date DATE]. */
static int s_consent_opts(struct cli *cli, json_t *rec, bool creating)
{
	bool yes = cli_flag(cli, "consent"), no = cli_flag(cli, "no-consent");
	char date[KP_TIME_STRLEN];
	int rc;

	if (yes && no)
		return cli_fail(cli, KP_EINVAL,
				"give --consent or --no-consent, not both");
	if (!yes && !no) {
		if (cli_opt(cli, "consent-date"))
			return cli_fail(cli, KP_EINVAL,
					"--consent-date goes with --consent "
					"or --no-consent");
		if (creating)
			json_object_set_new(rec, "consent",
					    json_pack("{sb}", "share", 0));
		return KP_OK;
	}
	rc = s_past_date(cli, "consent-date", date);
	if (rc == KP_ENOTFOUND)
		s_today(date);
	else if (rc)
		return rc;
	json_object_set_new(rec, "consent",
			    json_pack("{sbss}", "share", yes, "date", date));
	return KP_OK;
}

/* Fill rec from the options; with creating, the name is required. */
static int s_volunteer_opts(struct cli *cli, json_t *rec, bool creating)
{
	const char *avail = cli_opt(cli, "available");
	const char *email;
	char today[KP_TIME_STRLEN];
	int64_t year;
	int rc;

	if ((rc = cli_set_text(cli, rec, "name", "name", KP_NAME_MAX)) ||
	    (rc = cli_set_text(cli, rec, "phone", "phone", 40)) ||
	    (rc = cli_set_text(cli, rec, "email", "email", KP_NAME_MAX)) ||
	    (rc = cli_set_text(cli, rec, "org", "org", KP_NAME_MAX)) ||
	    (rc = cli_set_list(cli, rec, "skills", "skills")) ||
	    (rc = cli_set_list(cli, rec, "languages", "languages")))
		return rc;
	if (!json_object_get(rec, "name"))
		return cli_fail(cli, KP_EINVAL,
				"a volunteer needs a name: --name \"Kari "
				"Nordmann\"");
	if (!kp_rec_str(rec, "name", "")[0])
		return cli_fail(cli, KP_EINVAL,
				"--name is empty: give the volunteer's name");
	email = kp_rec_str(rec, "email", "");
	if (email[0] && !strchr(email, '@'))
		return cli_fail(cli, KP_EINVAL,
				"--email '%.60s' is not an e-mail address "
				"(name@example.no)",
				email);
	s_today(today);
	rc = cli_int(cli, "birth-year", 1900, atoi(today), &year);
	if (rc == KP_OK)
		json_object_set_new(rec, "birth_year", json_integer(year));
	else if (rc != KP_ENOTFOUND)
		return rc;
	if (avail) {
		struct kp_week week;
		char err[KP_ERR_MAX], canon[S_WEEK_STRLEN];
		if (kp_week_parse(avail, &week, err, sizeof err))
			return cli_fail(cli, KP_EINVAL, "--available: %s", err);
		if (kp_week_format(&week, canon, sizeof canon))
			return cli_fail(cli, KP_EINVAL,
					"--available has too many spans");
		if (canon[0])
			json_object_set_new(rec, "availability",
					    json_string(canon));
		else
			json_object_del(rec, "availability");
	}
	if ((rc = s_police_opts(cli, rec)) ||
	    (rc = s_consent_opts(cli, rec, creating)))
		return rc;
	return KP_OK;
}

static int s_validate(struct cli *cli, const json_t *rec)
{
	char err[KP_ERR_MAX];
	if (kp_model_validate(KP_VOLUNTEER, rec, err))
		return cli_fail(cli, KP_EINVAL, "%s", err);
	return KP_OK;
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

static int s_add_txn(kp_txn *txn, void *arg)
{
	struct s_op *op = arg;
	int rc = kp_txn_new_id(txn, KP_VOLUNTEER, &op->id);
	return rc ? rc : kp_txn_put(txn, &op->id, op->rec);
}

static int s_add(struct cli *cli)
{
	struct s_op op = {.cli = cli, .rec = json_object()};
	int rc;

	if (!op.rec)
		return KP_ENOMEM;
	if (cli->npos)
		rc = cli_fail(cli, KP_EINVAL, "unexpected argument '%s'",
			      cli->pos[0]);
	else if (!(rc = s_volunteer_opts(cli, op.rec, true)) &&
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
	int rc;

	json_decref(op->rec);
	op->rec = NULL;
	rc = kp_txn_get(txn, &op->id, &op->rec);
	if (rc == KP_ENOTFOUND) {
		kp_id_format(&op->id, text);
		return cli_fail(op->cli, rc,
				"no volunteer %s here (erased, or never "
				"added): 'knute volunteer list' shows them",
				text);
	}
	return rc;
}

/* ---- list ---- */

struct s_list {
	struct cli *cli;
	const char *skill, *language;
	bool has_want;
	struct kp_week want;
	json_t *out;
	struct cli_table *table;
};

static bool s_has_word(const json_t *list, const char *word)
{
	size_t i;
	json_t *item;
	json_array_foreach(
	    list, i,
	    item) if (json_is_string(item) &&
		      !strcasecmp(json_string_value(item), word)) return true;
	return false;
}

static bool s_available(const json_t *rec, const struct kp_week *want)
{
	struct kp_week have;
	char err[KP_ERR_MAX];
	const char *spec = kp_rec_str(rec, "availability", NULL);
	return spec && kp_week_parse(spec, &have, err, sizeof err) == KP_OK &&
	       kp_week_contains(&have, want);
}

static int s_list_row(const struct kp_id *id, json_t *rec, void *arg)
{
	struct s_list *l = arg;
	char skills[256], languages[256], police[KP_NAME_MAX + 40];
	const json_t *p = json_object_get(rec, "police");
	(void)id;

	if ((l->skill &&
	     !s_has_word(json_object_get(rec, "skills"), l->skill)) ||
	    (l->language &&
	     !s_has_word(json_object_get(rec, "languages"), l->language)) ||
	    (l->has_want && !s_available(rec, &l->want)))
		return KP_OK;
	if (l->cli->json)
		return json_array_append(l->out, rec) ? KP_ENOMEM : KP_OK;
	cli_join(json_object_get(rec, "skills"), skills, sizeof skills);
	cli_join(json_object_get(rec, "languages"), languages,
		 sizeof languages);
	if (json_is_object(p))
		snprintf(police, sizeof police, "%s (%s)",
			 kp_rec_str(p, "role", ""), kp_rec_str(p, "shown", ""));
	else
		snprintf(police, sizeof police, "-");
	const char *row[] = {kp_rec_str(rec, "id", ""),
			     kp_rec_str(rec, "name", ""),
			     kp_rec_str(rec, "org", ""),
			     skills,
			     languages,
			     kp_rec_str(rec, "availability", ""),
			     police};
	cli_table_row(l->table, row);
	return KP_OK;
}

static int s_list_txn(kp_txn *txn, void *arg)
{
	return kp_txn_each(txn, KP_VOLUNTEER, s_list_row, arg);
}

static int s_list(struct cli *cli)
{
	static const char *const head[] = {"ID",
					   "NAME",
					   "ORG",
					   "SKILLS",
					   "LANGUAGES",
					   "AVAILABLE",
					   "POLICE CERTIFICATE"};
	struct s_list l = {.cli = cli,
			   .skill = cli_opt(cli, "skill"),
			   .language = cli_opt(cli, "language"),
			   .out = json_array(),
			   .table = cli_table_new(7, head)};
	const char *avail = cli_opt(cli, "available");
	char err[KP_ERR_MAX];
	int rc;

	if (!l.out || !l.table) {
		rc = KP_ENOMEM;
		goto out;
	}
	if (cli->npos) {
		rc = cli_fail(cli, KP_EINVAL, "unexpected argument '%s'",
			      cli->pos[0]);
		goto out;
	}
	if ((l.skill && !l.skill[0]) || (l.language && !l.language[0])) {
		rc = cli_fail(cli, KP_EINVAL,
			      "--skill and --language need a word, e.g. "
			      "--skill leksehjelp --language arabisk");
		goto out;
	}
	if (avail) {
		if (kp_week_parse(avail, &l.want, err, sizeof err)) {
			rc = cli_fail(cli, KP_EINVAL, "--available: %s", err);
			goto out;
		}
		if (l.want.nspans == 0) {
			rc = cli_fail(cli, KP_EINVAL,
				      "--available needs the hours wanted, "
				      "e.g. \"tue 17:00-19:00\"");
			goto out;
		}
		l.has_want = true;
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

/* ---- show ---- */

static int s_count_no_show(const struct kp_id *id, json_t *rec, void *arg)
{
	struct s_op *op = arg;
	char text[KP_ID_STRLEN];
	(void)id;
	kp_id_format(&op->id, text);
	if (!strcmp(kp_rec_str(rec, "volunteer", ""), text) &&
	    !strcmp(kp_rec_str(rec, "status", ""), "no-show"))
		op->no_shows++;
	return KP_OK;
}

/* Collect a line per assignment of the volunteer, with the activity's
 * title and the date or "whole series". */
struct s_assigned {
	struct s_op *op;
	kp_txn *txn;
};

static int s_assigned_row(const struct kp_id *id, json_t *rec, void *arg)
{
	struct s_assigned *a = arg;
	char text[KP_ID_STRLEN], when[KP_TIME_STRLEN], line[512],
	    err[KP_ERR_MAX];
	struct kp_id act_id;
	json_t *act = NULL;
	const json_t *occ = json_object_get(rec, "occurrence");
	(void)id;

	kp_id_format(&a->op->id, text);
	if (strcmp(kp_rec_str(rec, "volunteer", ""), text))
		return KP_OK;
	if (kp_id_parse(kp_rec_str(rec, "activity", ""), NULL, KP_ACTIVITY,
			&act_id, err) == KP_OK)
		kp_txn_get(a->txn, &act_id, &act);
	if (json_is_integer(occ))
		kp_time_format(json_integer_value(occ), when);
	else
		snprintf(when, sizeof when, "whole series");
	snprintf(line, sizeof line, "%s  %s  %s",
		 kp_rec_str(rec, "activity", ""), kp_rec_str(act, "title", "?"),
		 when);
	json_decref(act);
	return json_array_append_new(a->op->lines, json_string(line))
		   ? KP_ENOMEM
		   : KP_OK;
}

static int s_show_txn(kp_txn *txn, void *arg)
{
	struct s_op *op = arg;
	struct s_assigned a = {op, txn};
	int rc;

	op->no_shows = 0;
	json_array_clear(op->lines);
	if ((rc = s_fetch(txn, op)) ||
	    (rc = kp_txn_each(txn, KP_ATTENDANCE, s_count_no_show, op)))
		return rc;
	return kp_txn_each(txn, KP_ASSIGNMENT, s_assigned_row, &a);
}

static int s_show(struct cli *cli)
{
	struct s_op op = {.cli = cli, .lines = json_array()};
	const json_t *police, *consent;
	char buf[256];
	size_t i;
	json_t *line;
	int rc;

	if (!op.lines)
		return KP_ENOMEM;
	if ((rc = cli_id_arg(cli, KP_VOLUNTEER, &op.id)) ||
	    (rc = kp_store_read(cli->store, s_show_txn, &op)))
		goto out;
	if (cli->json) {
		json_object_set_new(op.rec, "no_shows",
				    json_integer(op.no_shows));
		cli_print_json(json_incref(op.rec));
		goto out;
	}
	printf("volunteer:   %s\n", kp_rec_str(op.rec, "id", ""));
	printf("name:        %s\n", kp_rec_str(op.rec, "name", ""));
	if (json_object_get(op.rec, "phone"))
		printf("phone:       %s\n", kp_rec_str(op.rec, "phone", ""));
	if (json_object_get(op.rec, "email"))
		printf("email:       %s\n", kp_rec_str(op.rec, "email", ""));
	if (json_object_get(op.rec, "birth_year"))
		printf("born:        %lld\n",
		       (long long)kp_rec_int(op.rec, "birth_year", 0));
	if (json_object_get(op.rec, "org"))
		printf("org:         %s\n", kp_rec_str(op.rec, "org", ""));
	cli_join(json_object_get(op.rec, "skills"), buf, sizeof buf);
	printf("skills:      %s\n", buf[0] ? buf : "-");
	cli_join(json_object_get(op.rec, "languages"), buf, sizeof buf);
	printf("languages:   %s\n", buf[0] ? buf : "-");
	printf("available:   %s\n", kp_rec_str(op.rec, "availability", "-"));
	police = json_object_get(op.rec, "police");
	if (json_is_object(police))
		printf("police:      certificate shown %s for the role %s\n",
		       kp_rec_str(police, "shown", ""),
		       kp_rec_str(police, "role", ""));
	else
		printf("police:      no certificate shown\n");
	consent = json_object_get(op.rec, "consent");
	if (kp_rec_bool(consent, "share", false))
		printf("consent:     shares with the municipality (since %s)\n",
		       kp_rec_str(consent, "date", "?"));
	else if (json_object_get(consent, "date"))
		printf("consent:     does not share (said so %s)\n",
		       kp_rec_str(consent, "date", "?"));
	else
		printf("consent:     not asked; nothing is shared\n");
	printf("no-shows:    %lld\n", (long long)op.no_shows);
	printf("assigned:%s\n", json_array_size(op.lines) ? "" : "    -");
	json_array_foreach(op.lines, i, line)
	    printf("  %s\n", json_string_value(line));
out:
	json_decref(op.rec);
	json_decref(op.lines);
	return rc;
}

/* ---- update ---- */

static int s_update_txn(kp_txn *txn, void *arg)
{
	struct s_op *op = arg;
	int rc;
	if ((rc = s_fetch(txn, op)) ||
	    (rc = s_volunteer_opts(op->cli, op->rec, false)) ||
	    (rc = s_validate(op->cli, op->rec)))
		return rc;
	return kp_txn_put(txn, &op->id, op->rec);
}

static int s_update(struct cli *cli)
{
	struct s_op op = {.cli = cli};
	int rc = cli_id_arg(cli, KP_VOLUNTEER, &op.id);
	if (rc == KP_OK && cli->nopts == (cli->json ? 1 : 0))
		rc = cli_fail(cli, KP_EINVAL,
			      "nothing to change: give the options to change "
			      "(see 'knute volunteer update --help')");
	if (rc == KP_OK &&
	    (rc = kp_store_write(cli->store, s_update_txn, &op)) == KP_OK)
		s_print_id(cli, &op.id, op.rec);
	json_decref(op.rec);
	return rc;
}

/* ---- erase ---- */

static int s_collect(const struct kp_id *id, json_t *rec, void *arg)
{
	struct s_op *op = arg;
	char text[KP_ID_STRLEN];

	kp_id_format(&op->id, text);
	if (strcmp(kp_rec_str(rec, "volunteer", ""), text))
		return KP_OK;
	if (op->ngone == op->capgone) {
		size_t cap = op->capgone ? op->capgone * 2 : 8;
		struct kp_id *grown = realloc(op->gone, cap * sizeof *grown);
		if (!grown)
			return KP_ENOMEM;
		op->gone = grown;
		op->capgone = cap;
	}
	op->gone[op->ngone++] = *id;
	return KP_OK;
}

static int s_erase_txn(kp_txn *txn, void *arg)
{
	struct s_op *op = arg;
	int rc;

	op->ngone = 0;
	if ((rc = s_fetch(txn, op)) ||
	    (rc = kp_txn_each(txn, KP_ASSIGNMENT, s_collect, op)))
		return rc;
	/* The walk is over before anything is deleted under it. */
	for (size_t i = 0; i < op->ngone; i++)
		if ((rc = kp_txn_delete(txn, &op->gone[i])))
			return rc;
	return kp_volunteer_erase(txn, &op->id);
}

static int s_erase(struct cli *cli)
{
	struct s_op op = {.cli = cli};
	char text[KP_ID_STRLEN];
	int rc = cli_id_arg(cli, KP_VOLUNTEER, &op.id);

	if (rc == KP_OK &&
	    (rc = kp_store_write(cli->store, s_erase_txn, &op)) == KP_OK) {
		kp_id_format(&op.id, text);
		if (cli->json)
			cli_print_json(json_pack(
			    "{sssbsI}", "id", text, "erased", 1,
			    "assignments_removed", (json_int_t)op.ngone));
		else
			printf("%s erased (%zu assignment%s removed)\n", text,
			       op.ngone, op.ngone == 1 ? "" : "s");
	}
	json_decref(op.rec);
	free(op.gone);
	return rc;
}

#define S_VOLUNTEER_OPTS                                                       \
	"name phone email birth-year org skills languages available "          \
	"police-role police-shown consent no-consent consent-date"

#define S_VOLUNTEER_HELP                                                       \
	"  --phone, --email, --org  contact and organisation (\"Røde "        \
	"Kors\")\n"                                                            \
	"  --birth-year Y           e.g. 1987\n"                               \
	"  --skills LIST            comma-separated: \"leksehjelp, "           \
	"matte\"\n"                                                            \
	"  --languages LIST         comma-separated: \"norsk, arabisk\"\n"     \
	"  --available HOURS        weekly availability: \"tue "               \
	"17:00-19:00, thu 16:00-20:00\"\n"                                     \
	"  --police-role ROLE --police-shown DATE\n"                           \
	"                           a police certificate (politiattest) "      \
	"was shown for ROLE on DATE\n"                                         \
	"                           (only that it was shown is kept, never "   \
	"the certificate)\n"                                                   \
	"  --consent | --no-consent consent to share the personal fields "     \
	"with the municipality\n"                                              \
	"  --consent-date DATE      when it was given (default: today)\n"

const struct cli_command cli_volunteer_commands[] = {
    {"volunteer", "add", s_add, S_VOLUNTEER_OPTS,
     "volunteer add --name NAME [--phone P] [--email E] [--birth-year Y] "
     "[--org ORG] [--skills LIST] [--languages LIST] [--available HOURS] "
     "[--police-role ROLE --police-shown DATE] [--consent | --no-consent "
     "[--consent-date DATE]]",
     "Register a volunteer; prints the new id (with --json the "
     "record).\n" S_VOLUNTEER_HELP
     "Without --consent nothing personal is shared (consent "
     "{\"share\": false}).\n"
     "Example: knute volunteer add --name \"Kari Nordmann\" --org "
     "Frivilligsentralen --skills leksehjelp --available \"tue "
     "17:00-19:00\"",
     false},
    {"volunteer", "list", s_list, "skill language available",
     "volunteer list [--skill X] [--language Y] [--available HOURS]",
     "List the hub's volunteers. Filters, all of which must match:\n"
     "  --skill X          has the skill X (case does not matter)\n"
     "  --language Y       speaks Y\n"
     "  --available HOURS  is available for all of HOURS, e.g. \"tue "
     "17:00-19:00\"",
     false},
    {"volunteer", "show", s_show, "", "volunteer show ID",
     "Show one volunteer, the activities they are assigned to, and their "
     "no-show count (with --json the field \"no_shows\").",
     false},
    {"volunteer", "update", s_update, S_VOLUNTEER_OPTS,
     "volunteer update ID [--name NAME] [--phone P] ... [same options as "
     "add]",
     "Change a volunteer; fields not given are kept. An empty --available "
     "\"\" clears the availability.\n" S_VOLUNTEER_HELP,
     false},
    {"volunteer", "erase", s_erase, "", "volunteer erase ID",
     "Erase a volunteer for good (the right to erasure): the record and "
     "their assignments are deleted, and their personal fields (name, "
     "phone, e-mail, birth year, police certificate) are removed from "
     "the hub's change log too. Attendance records stay, without a "
     "name. This cannot be undone.",
     false},
    {0},
};
