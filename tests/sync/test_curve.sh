#!/bin/sh
# CurveZMQ between hubs and central (docs/security.md): keys on the
# command line, knute-central --curve accepting only registered hub keys,
# each for its own hub, revocation while running, and plain sync as
# before without --curve.
. "$(dirname "$0")/lib.sh"

# central_start_curve: central with --curve (lib.sh's central_start has
# no options).
central_start_curve() {
	"$KC" --data "$C" --listen "$EP" --curve 2>>"$T/central.log" &
	echo $! >"$T/central.pid"
}

# The secret key of a store, read past knute (it never prints it).
secret_of() {
	mdb_dump -p -s meta "$1" 2>/dev/null |
		awk '/^ curve_secret$/ { getline; sub(/^ /, ""); print; exit }'
}

# booking N HUB: one booking on day N of December 2026 at HUB.
booking() {
	hk "$2" booking add --room r1 --from "2026-12-$1 17:00" \
		--to "2026-12-$1 18:00" --org "Røde Kors" >/dev/null
}


# in_log FILE TEXT: TEXT (fixed) is in the log.
in_log() { grep -qF "$2" "$T/$1.log"; }

central_init
for h in fjell assiden konnerud; do
	hub_init $h "Knutepunkt $h"
	hk $h room add --name "Storsalen" --capacity 80 >/dev/null
done
CK=$("$K" --data "$C" keys show)
export CK
FK=$(hk fjell keys show)
AK=$(hk assiden keys show)

# ---- the command line ----

if [ ${#CK} -eq 40 ] && [ ${#FK} -eq 40 ] && [ "$CK" != "$FK" ] && [ "$FK" != "$AK" ]; then
	pass keys_show_prints_a_key
else
	fail keys_show_prints_a_key "central '$CK', fjell '$FK'"
fi
"$K" --data "$C" keys show --json >"$T/ks.json" 2>&1
check keys_show_json jcheck "$T/ks.json" 'v["public_key"] == os.environ.get("CK", v["public_key"]) and v["role"] == "central"'

# expect_key NAME CODE PATTERN ARGS...: knute ARGS exits with CODE and says
# PATTERN on stderr, and the key table did not change.
expect_key() {
	_n=$1 _c=$2 _p=$3
	shift 3
	_before=$("$K" --data "$C" keys list --json 2>/dev/null)
	"$K" "$@" >"$T/out" 2>"$T/err"
	_rc=$?
	_after=$("$K" --data "$C" keys list --json 2>/dev/null)
	if [ $_rc -ne "$_c" ]; then
		fail "$_n" "exit $_rc, want $_c: $(cat "$T/err")"
	elif ! grep -qF -- "$_p" "$T/err"; then
		fail "$_n" "stderr lacks '$_p': $(cat "$T/err")"
	elif [ "$(wc -l <"$T/err")" -ne 1 ] || [ -s "$T/out" ]; then
		fail "$_n" "want one line on stderr and nothing on stdout"
	elif [ "$_before" != "$_after" ]; then
		fail "$_n" "the key table changed"
	else
		pass "$_n"
	fi
}

check keys_add "$K" --data "$C" keys add fjell "$FK"
expect_key keys_add_short_key 2 "is 39 characters long" --data "$C" keys add assiden "$(echo "$AK" | cut -c2-)"
expect_key keys_add_non_z85 2 "is not Z85 text" --data "$C" keys add assiden "\"$(echo "$AK" | cut -c2-)"
expect_key keys_add_bad_hub 2 "hub id 'Åssiden' is not valid" --data "$C" keys add "Åssiden" "$AK"
expect_key keys_add_key_of_other_hub 2 "registered for hub fjell already" --data "$C" keys add assiden "$FK"
expect_key keys_add_central_own_key 2 "central's own public key" --data "$C" keys add assiden "$CK"
expect_key keys_add_at_hub 2 "is for central's store" --data "$T/fjell" keys add assiden "$AK"
expect_key keys_add_missing_key 2 "missing argument" --data "$C" keys add assiden
expect_key keys_unknown_verb 2 "'keys' needs a verb" --data "$C" keys rotate fjell
expect_key keys_central_at_central 2 "is for a hub's store" --data "$C" keys central "$CK"
expect_key keys_revoke_unknown 4 "has no registered key" --data "$C" keys revoke konnerud

"$K" --data "$C" keys list --json >"$T/kl.json" 2>&1
check keys_list_json jcheck "$T/kl.json" 'len(v) == 1 and v[0]["id"] == "fjell" and len(v[0]["key"]) == 40 and v[0]["added"].endswith("Z")'
"$K" --data "$C" keys add fjell "$FK" >"$T/out" 2>&1
check keys_add_same_again grep -q "has this key already" "$T/out"

for h in fjell assiden konnerud; do
	hk $h keys central "$CK" >/dev/null || fail keys_central_$h "exit $?"
done
[ "$(hk fjell keys central)" = "$CK" ] && pass keys_central_shows_key ||
	fail keys_central_shows_key "$(hk fjell keys central)"

# ---- central --curve ----

central_start_curve
hub_start fjell
hub_start assiden
booking 01 fjell
booking 01 assiden
check curve_registered_hub_syncs wait_for 20 synced fjell
check curve_central_logs_no_plain_warning sh -c "! grep -q 'not authenticated' '$T/central.log'"
sleep 1
if [ -z "$(central_applied assiden)" ] || [ "$(central_applied assiden)" = 0 ]; then
	pass curve_unregistered_hub_refused
else
	fail curve_unregistered_hub_refused "central applied seq $(central_applied assiden) of assiden"
fi
check curve_central_logs_refusal wait_for 5 in_log central "is not registered at central"
check curve_hub_logs_clear_line wait_for 5 in_log assiden "central did not accept this hub's key: register it with knute keys add"
n=$(grep -c "central did not accept this hub's key" "$T/assiden.log")
[ "$n" -eq 1 ] && pass curve_hub_logs_once || fail curve_hub_logs_once "$n lines"
hk assiden status >"$T/st" 2>&1
check curve_refused_hub_status_unreachable grep -q "reachable: *no" "$T/st"

# assiden's key registered as fjell's: assiden's HELLO names assiden, the
# key belongs to fjell.
hub_stop fjell
"$K" --data "$C" keys revoke fjell >/dev/null
"$K" --data "$C" keys add fjell "$AK" >/dev/null
check curve_hello_other_hub_refused wait_for 10 in_log central "HELLO names hub assiden, but this connection's key is registered for hub fjell"
sleep 1
[ -z "$(central_applied assiden)" ] && pass curve_impostor_writes_nothing ||
	fail curve_impostor_writes_nothing "central applied $(central_applied assiden) for assiden"
hub_stop assiden
"$K" --data "$C" keys add fjell "$FK" >"$T/out" 2>&1
check keys_add_replaces grep -q "replaced hub fjell's key" "$T/out"

# Revoke while fjell runs: its session ends and new bookings stay home.
hub_start fjell
booking 02 fjell
check curve_fjell_back wait_for 20 synced fjell
"$K" --data "$C" keys revoke fjell >/dev/null
check curve_revoke_ends_session wait_for 5 in_log central "hub fjell: its key was revoked at central; session ended"
applied=$(central_applied fjell)
booking 03 fjell
sleep 3
[ "$(central_applied fjell)" = "$applied" ] && pass curve_revoked_changes_stay_home ||
	fail curve_revoked_changes_stay_home "central applied $(central_applied fjell), was $applied"
check curve_revoked_hub_logs wait_for 10 in_log fjell "central did not accept this hub's key"
"$K" --data "$C" keys add fjell "$FK" >/dev/null
check curve_readd_resumes wait_for 20 synced fjell

# A hub that trusts a wrong central key never syncs.
hub_stop fjell
hk konnerud keys central "$FK" >/dev/null
"$K" --data "$C" keys add konnerud "$(hk konnerud keys show)" >/dev/null
hub_start konnerud
booking 01 konnerud
sleep 4
[ -z "$(central_applied konnerud)" ] && pass curve_wrong_central_key_never_syncs ||
	fail curve_wrong_central_key_never_syncs "central applied $(central_applied konnerud)"
check curve_wrong_central_key_logged in_log konnerud "the secure handshake with central broke off"
hk konnerud keys central "$CK" >/dev/null
hub_stop konnerud
hub_start konnerud
check curve_right_central_key_syncs wait_for 20 synced konnerud
check curve_verify_through_curve hk konnerud verify
hub_stop konnerud

# The secret keys appear in no output and no log.
for d in "$C" "$T/fjell"; do
	s=$(secret_of "$d")
	if [ ${#s} -ne 40 ]; then
		fail "secret_key_hidden_$(basename "$d")" "no secret key in meta"
		continue
	fi
	{
		"$K" --data "$d" keys show
		"$K" --data "$d" keys show --json
		"$K" --data "$d" status --json
		"$K" --data "$d" keys list --json
		"$K" --data "$d" keys central
		"$K" --data "$d" keys --help
		cat "$T"/*.log
	} >"$T/all.out" 2>&1
	if grep -qF -- "$s" "$T/all.out"; then
		fail "secret_key_hidden_$(basename "$d")" "the secret key was printed"
	else
		pass "secret_key_hidden_$(basename "$d")"
	fi
done

# ---- without --curve: plain, as before ----
central_stop
: >"$T/central.log"
central_start
hk assiden keys central --clear >/dev/null
hub_start assiden
booking 04 assiden
check plain_hub_syncs wait_for 20 synced assiden
check plain_central_warns in_log central "connections are not authenticated"
