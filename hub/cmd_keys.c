/*
 * cmd_keys.c - the CurveZMQ keys of knute-central --curve (see
 * cmd_keys.h and docs/security.md).
 *
 * Where the keys live:
 *   every store   meta curve_public, curve_secret: its own key pair
 *                 (kp_txn_curve_keys()); the secret is never printed
 *   central       table keys: hub id -> {key, added}, the hubs' public
 *                 keys it accepts; meta keys_gen: a counter every change
 *                 moves, which a running knute-central polls
 *   a hub         meta curve_central: central's public key, the one
 *                 server key the hub trusts ("" or absent: none)
 */
#include "cmd_keys.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zmq.h>

#include "codec.h"
#include "knute/error.h"
#include "knute/ktime.h"

/* ---- checks ---- */

/* A public key as 'knute keys show' prints it: 40 characters of Z85
 * that decode. Prints why and returns KP_EINVAL when it is not. */
static int s_key_check(struct cli *cli, const char *key)
{
	uint8_t bin[32];
	size_t len = strlen(key);

	if (len != KP_CURVE_KEY_LEN)
		return cli_fail(cli, KP_EINVAL,
				"the key '%.60s%s' is %zu characters long; a "
				"public key is %d characters of Z85 text: copy "
				"it whole from 'knute keys show'",
				key, len > 60 ? "..." : "", len,
				KP_CURVE_KEY_LEN);
	if (!zmq_z85_decode(bin, key))
		return cli_fail(cli, KP_EINVAL,
				"the key '%s' is not Z85 text (only 0-9, a-z, "
				"A-Z and .-:+=^!/*?&<>()[]{}@%%$# occur in "
				"one): copy it exactly as 'knute keys show' "
				"prints it",
				key);
	return KP_OK;
}

static int s_need_central(struct cli *cli)
{
	if (kp_store_is_central(cli->store))
		return KP_OK;
	return cli_fail(cli, KP_EINVAL,
			"'knute keys %s' is for central's store, and %s holds "
			"hub %s's: give --data the central directory (at a "
			"hub, 'knute keys central KEY' trusts central's key)",
			cli->cmd->verb, cli->data, kp_store_hub(cli->store));
}

static int s_need_hub(struct cli *cli)
{
	if (!kp_store_is_central(cli->store))
		return KP_OK;
	return cli_fail(cli, KP_EINVAL,
			"'knute keys central' is for a hub's store, and %s "
			"holds central's: run it with --data of the hub (at "
			"central, 'knute keys add HUB KEY' registers a hub)",
			cli->data);
}

static int s_args(struct cli *cli, int want, const char *usage)
{
	if (cli->npos == want)
		return KP_OK;
	if (cli->npos > want)
		return cli_fail(cli, KP_EINVAL,
				"unexpected argument '%s': the form is 'knute "
				"keys %s'",
				cli->pos[want], usage);
	return cli_fail(cli, KP_EINVAL,
			"missing argument: the form is 'knute "
			"keys %s'",
			usage);
}

static int s_hub_check(struct cli *cli, const char *hub)
{
	if (kp_hub_id_valid(hub))
		return KP_OK;
	return cli_fail(cli, KP_EINVAL,
			"hub id '%s' is not valid: use 1 to %d of a-z, 0-9 "
			"and '-', e.g. 'fjell' or 'assiden'",
			hub, KP_HUB_ID_MAX);
}

/* ---- keys show ---- */

static int s_own_fn(kp_txn *txn, void *arg)
{
	return kp_txn_curve_keys(txn, arg, NULL);
}

static int s_show(struct cli *cli)
{
	char pub[KP_CURVE_KEY_LEN + 1];
	bool central = kp_store_is_central(cli->store);
	int rc;

	if ((rc = s_args(cli, 0, "show")))
		return rc;
	/* A store made before keys existed gets its pair now; one that may
	 * only be read can still show a pair it has. */
	rc = kp_store_write(cli->store, s_own_fn, pub);
	if (rc == KP_EREADONLY)
		rc = kp_store_read(cli->store, s_own_fn, pub);
	if (rc == KP_ENOTFOUND)
		return cli_fail(cli, KP_EREADONLY,
				"%s has no key pair yet and cannot be written: "
				"run 'knute keys show' as the user that owns "
				"it",
				cli->data);
	if (rc)
		return cli_store_fail(cli, rc);
	if (cli->json) {
		cli_print_json(json_pack(
		    "{ss ss ss}", "id",
		    central ? "central" : kp_store_hub(cli->store), "role",
		    central ? "central" : "hub", "public_key", pub));
		return KP_OK;
	}
	printf("%s\n", pub);
	return KP_OK;
}

/* ---- at central: keys add, revoke, list ---- */

struct s_reg {
	const char *hub, *key;
	char owner[KP_HUB_ID_MAX + 1];	/* the hub that has key already */
	char old[KP_CURVE_KEY_LEN + 1]; /* hub's key before */
	bool own_key;			/* key is central's own */
	struct kp_buf buf;
};

/* The key of one registry value, "" when it does not decode. */
static void s_value_key(const void *val, size_t len, char *key)
{
	json_t *o;
	key[0] = 0;
	if (kp_codec_decode(val, len, &o) == KP_OK) {
		snprintf(key, KP_CURVE_KEY_LEN + 1, "%s",
			 kp_rec_str(o, "key", ""));
		json_decref(o);
	}
}

static int s_owner_one(const void *k, size_t klen, const void *v, size_t vlen,
		       void *arg)
{
	struct s_reg *r = arg;
	char key[KP_CURVE_KEY_LEN + 1];
	s_value_key(v, vlen, key);
	if (!strcmp(key, r->key) &&
	    (klen != strlen(r->hub) || memcmp(k, r->hub, klen))) {
		snprintf(r->owner, sizeof r->owner, "%.*s", (int)klen,
			 (const char *)k);
		return 1;
	}
	return KP_OK;
}

static int s_gen_bump(kp_txn *txn)
{
	uint64_t gen;
	char v[24];
	int rc = kp_txn_meta_u64(txn, "keys_gen", &gen);
	if (rc)
		return rc;
	snprintf(v, sizeof v, "%" PRIu64, gen + 1);
	return kp_txn_meta_put(txn, "keys_gen", v);
}

static int s_add_fn(kp_txn *txn, void *arg)
{
	struct s_reg *r = arg;
	char own[KP_CURVE_KEY_LEN + 1];
	const void *val;
	size_t len;
	json_t *o;
	int rc;

	r->owner[0] = r->old[0] = 0;
	r->own_key = false;
	if ((rc = kp_txn_curve_keys(txn, own, NULL)))
		return rc;
	if (!strcmp(own, r->key)) {
		r->own_key = true;
		return KP_EINVAL;
	}
	rc = kp_txn_teach(txn, KP_T_KEYS, NULL, 0, NULL, 0, s_owner_one, r);
	if (rc == 1)
		return KP_EINVAL;
	if (rc)
		return rc;
	rc = kp_txn_tget(txn, KP_T_KEYS, r->hub, strlen(r->hub), &val, &len);
	if (rc == KP_OK)
		s_value_key(val, len, r->old);
	else if (rc != KP_ENOTFOUND)
		return rc;
	if (!strcmp(r->old, r->key))
		return KP_OK; /* registered already: nothing to write */
	if (!(o = json_pack("{ss sI}", "key", r->key, "added",
			    (json_int_t)kp_now())))
		return KP_ENOMEM;
	r->buf.len = 0;
	rc = kp_codec_encode(o, &r->buf);
	json_decref(o);
	if (rc || (rc = kp_txn_tput(txn, KP_T_KEYS, r->hub, strlen(r->hub),
				    r->buf.data, r->buf.len, 0)))
		return rc;
	return s_gen_bump(txn);
}

static int s_add(struct cli *cli)
{
	struct s_reg r = {0};
	int rc;

	if ((rc = s_need_central(cli)) ||
	    (rc = s_args(cli, 2, "add HUB PUBLIC_KEY")))
		return rc;
	r.hub = cli->pos[0];
	r.key = cli->pos[1];
	if ((rc = s_hub_check(cli, r.hub)) || (rc = s_key_check(cli, r.key)))
		return rc;
	rc = kp_store_write(cli->store, s_add_fn, &r);
	kp_buf_free(&r.buf);
	if (rc == KP_EINVAL && r.own_key)
		return cli_fail(cli, rc,
				"that key is central's own public key, not a "
				"hub's: run 'knute keys show' at the hub %s "
				"and register the key it prints",
				r.hub);
	if (rc == KP_EINVAL)
		return cli_fail(cli, rc,
				"the key is registered for hub %s already; a "
				"key belongs to one hub: give %s its own key "
				"('knute keys show' at that hub), or revoke "
				"%s's first ('knute keys revoke %s')",
				r.owner, r.hub, r.owner, r.owner);
	if (rc)
		return cli_store_fail(cli, rc);
	if (cli->json) {
		cli_print_json(json_pack("{ss ss ss sb sb}", "id", r.hub, "hub",
					 r.hub, "key", r.key, "replaced",
					 r.old[0] && strcmp(r.old, r.key),
					 "changed", strcmp(r.old, r.key) != 0));
		return KP_OK;
	}
	if (!strcmp(r.old, r.key))
		printf("hub %s has this key already (nothing changed)\n",
		       r.hub);
	else if (r.old[0])
		printf("replaced hub %s's key: central no longer accepts the "
		       "old one (%s)\n",
		       r.hub, r.old);
	else
		printf("registered hub %s's key: knute-central --curve "
		       "accepts it\n",
		       r.hub);
	return KP_OK;
}

static int s_revoke_fn(kp_txn *txn, void *arg)
{
	struct s_reg *r = arg;
	const void *val;
	size_t len;
	int rc =
	    kp_txn_tget(txn, KP_T_KEYS, r->hub, strlen(r->hub), &val, &len);
	if (rc)
		return rc;
	s_value_key(val, len, r->old);
	if ((rc = kp_txn_tdel(txn, KP_T_KEYS, r->hub, strlen(r->hub))))
		return rc;
	return s_gen_bump(txn);
}

static int s_revoke(struct cli *cli)
{
	struct s_reg r = {0};
	int rc;

	if ((rc = s_need_central(cli)) || (rc = s_args(cli, 1, "revoke HUB")))
		return rc;
	r.hub = cli->pos[0];
	if ((rc = s_hub_check(cli, r.hub)))
		return rc;
	rc = kp_store_write(cli->store, s_revoke_fn, &r);
	if (rc == KP_ENOTFOUND)
		return cli_fail(cli, rc,
				"hub %s has no registered key ('knute keys "
				"list' shows those that have; nothing changed)",
				r.hub);
	if (rc)
		return cli_store_fail(cli, rc);
	if (cli->json)
		cli_print_json(json_pack("{ss ss ss}", "id", r.hub, "hub",
					 r.hub, "revoked", r.old));
	else
		printf("revoked hub %s's key: knute-central --curve refuses "
		       "it from now on and ends its session\n",
		       r.hub);
	return KP_OK;
}

struct s_list {
	json_t *items;
};

static int s_list_one(const void *k, size_t klen, const void *v, size_t vlen,
		      void *arg)
{
	struct s_list *l = arg;
	char hub[KP_HUB_ID_MAX + 1], at[KP_TIME_STRLEN] = "";
	json_t *o;

	snprintf(hub, sizeof hub, "%.*s", (int)klen, (const char *)k);
	if (kp_codec_decode(v, vlen, &o))
		return KP_OK; /* not ours to judge: listed without it */
	if (kp_rec_int(o, "added", 0) > 0)
		kp_time_format_utc(kp_rec_int(o, "added", 0), at);
	json_array_append_new(
	    l->items,
	    json_pack("{ss ss ss sI ss}", "id", hub, "hub", hub, "key",
		      kp_rec_str(o, "key", ""), "added_at",
		      (json_int_t)kp_rec_int(o, "added", 0), "added", at));
	json_decref(o);
	return KP_OK;
}

static int s_list_fn(kp_txn *txn, void *arg)
{
	return kp_txn_teach(txn, KP_T_KEYS, NULL, 0, NULL, 0, s_list_one, arg);
}

static int s_list(struct cli *cli)
{
	static const char *const head[] = {"HUB", "KEY", "ADDED"};
	struct s_list l = {json_array()};
	struct cli_table *t;
	size_t i;
	json_t *o;
	int rc;

	if ((rc = s_need_central(cli)) || (rc = s_args(cli, 0, "list"))) {
		json_decref(l.items);
		return rc;
	}
	if (!l.items)
		return KP_ENOMEM;
	if ((rc = kp_store_read(cli->store, s_list_fn, &l))) {
		json_decref(l.items);
		return cli_store_fail(cli, rc);
	}
	if (cli->json) {
		cli_print_json(l.items);
		return KP_OK;
	}
	t = cli_table_new(3, head);
	json_array_foreach(l.items, i, o)
	{
		char when[KP_TIME_STRLEN] = "";
		if (json_integer_value(json_object_get(o, "added_at")) > 0)
			kp_time_format(
			    json_integer_value(json_object_get(o, "added_at")),
			    when);
		const char *row[] = {kp_rec_str(o, "hub", ""),
				     kp_rec_str(o, "key", ""), when};
		cli_table_row(t, row);
	}
	cli_table_print(t);
	cli_table_free(&t);
	json_decref(l.items);
	return KP_OK;
}

/* ---- at a hub: keys central ---- */

struct s_trust {
	const char *key; /* NULL: only read; "": clear */
	char old[KP_CURVE_KEY_LEN + 1];
};

static int s_trust_fn(kp_txn *txn, void *arg)
{
	struct s_trust *t = arg;
	int rc = kp_txn_meta_get(txn, "curve_central", t->old, sizeof t->old);
	if (rc == KP_ENOTFOUND)
		t->old[0] = 0;
	else if (rc)
		return rc;
	if (!t->key || !strcmp(t->key, t->old))
		return KP_OK;
	/* The hub's own pair too: the daemon needs it to connect. */
	if ((rc = kp_txn_curve_keys(txn, NULL, NULL)))
		return rc;
	return kp_txn_meta_put(txn, "curve_central", t->key);
}

static int s_central(struct cli *cli)
{
	struct s_trust t = {0};
	bool clear = cli_flag(cli, "clear");
	int rc;

	if ((rc = s_need_hub(cli)))
		return rc;
	if (clear && cli->npos)
		return cli_fail(cli, KP_EINVAL,
				"give either central's PUBLIC_KEY or --clear, "
				"not both");
	if (cli->npos > 1)
		return cli_fail(cli, KP_EINVAL,
				"unexpected argument '%s': the form is 'knute "
				"keys central PUBLIC_KEY' (or --clear)",
				cli->pos[1]);
	if (cli->npos) {
		if ((rc = s_key_check(cli, cli->pos[0])))
			return rc;
		t.key = cli->pos[0];
	} else if (clear) {
		t.key = "";
	}
	rc = t.key ? kp_store_write(cli->store, s_trust_fn, &t)
		   : kp_store_read(cli->store, s_trust_fn, &t);
	if (rc)
		return cli_store_fail(cli, rc);
	if (cli->json) {
		const char *now = t.key ? t.key : t.old;
		cli_print_json(
		    json_pack("{ss ss so}", "id", kp_store_hub(cli->store),
			      "hub", kp_store_hub(cli->store), "central_key",
			      now[0] ? json_string(now) : json_null()));
		return KP_OK;
	}
	if (!t.key)
		printf(t.old[0] ? "%s\n"
				: "none: this hub connects to central without "
				  "CurveZMQ ('knute keys central KEY' sets "
				  "central's key)\n",
		       t.old);
	else if (!t.key[0])
		printf("%s", t.old[0]
				 ? "cleared: knute-hub connects to central "
				   "without CurveZMQ from its next "
				   "connection\n"
				 : "no central key was set (nothing "
				   "changed)\n");
	else
		printf("%s: knute-hub connects to central with CurveZMQ and "
		       "this key from its next connection\n",
		       strcmp(t.old, t.key)
			   ? "trusted central's key"
			   : "central's key is this one already");
	return KP_OK;
}

const struct cli_command cli_keys_commands[] = {
    {"keys", "show", s_show, "", "keys show",
     "Print this store's CurveZMQ public key (40 characters of Z85 text).\n"
     "At a hub: the key to register at central (knute keys add HUB KEY). "
     "At central: the key every hub must trust (knute keys central KEY).\n"
     "The key pair is made by knute init; a store made before gets it "
     "now. The secret key stays in the store and is never printed.\n"
     "With --json: {id, role, public_key}.",
     false},
    {"keys", "add", s_add, "", "keys add HUB PUBLIC_KEY",
     "At central: accept HUB's public key (what 'knute keys show' printed "
     "at the hub). One key per hub: a new key replaces the old one, which "
     "is refused from then on. A key may not belong to two hubs.\n"
     "knute-central --curve takes the change within a second.\n"
     "Example: knute --data /var/lib/knute/central keys add fjell "
     "'rq:rM>}U?@Lns47E1%kR.o@n%FcmmsL/@{H8]yf7'",
     false},
    {"keys", "revoke", s_revoke, "", "keys revoke HUB",
     "At central: stop accepting HUB's key. A running knute-central --curve "
     "refuses new connections with it within a second and ends the hub's "
     "session. Its records at central stay.",
     false},
    {"keys", "list", s_list, "", "keys list",
     "At central: the registered hub keys: hub, key and when it was added "
     "(local time).\nWith --json: an array of {id, hub, key, added (UTC), "
     "added_at (unix seconds)}.",
     false},
    {"keys", "central", s_central, "clear",
     "keys central [PUBLIC_KEY | --clear]",
     "At a hub: trust central's public key (what 'knute keys show' printed "
     "at central). knute-hub then connects with CurveZMQ, as a client with "
     "this hub's own key pair, and only to a central that holds the "
     "matching secret key. --clear removes it (plain connections again). "
     "Without arguments: print the key the hub trusts.\n"
     "The daemon takes a change with its next connection; restart "
     "knute-hub to take it at once.",
     false},
    {0},
};
