#!/bin/sh
# knute volunteer add | list | show | update | erase: the stored fields,
# the filters, the police certificate, consent, erasure of personal data,
# and bad input that must exit 2 (or 4) and write nothing.
. "$(dirname "$0")/lib.sh"
export KNUTE_DATA="$D"

"$K" init --data "$D" --hub fjell --name "Knutepunkt Fjell" >/dev/null

# ---- add ----
run volunteer add --name "Kari Nordmann" --phone "+47 912 34 567" \
	--email kari@example.no --birth-year 1985 --org "Røde Kors" \
	--skills "leksehjelp, matte" --languages "norsk, engelsk" \
	--available "thu 16:00-20:00, tue 17:00-19:00"
if [ $rc -eq 0 ] && [ "$(cat "$T/out")" = "fjell:v1" ]; then
	pass volunteer_add_prints_id
else
	fail volunteer_add_prints_id "rc=$rc out=$(cat "$T/out") $(cat "$T/err")"
fi

run volunteer show v1 --json
if grep -q '"availability": "tue 17:00-19:00, thu 16:00-20:00"' "$T/out" &&
	grep -q '"birth_year": 1985' "$T/out" &&
	grep -q '"share": false' "$T/out" && ! grep -q '"date"' "$T/out" &&
	grep -q '"no_shows": 0' "$T/out"; then
	pass volunteer_fields_stored
else
	fail volunteer_fields_stored "$(cat "$T/out")"
fi

run volunteer add --name "Ahmed Yusuf" --org Frivilligsentralen \
	--skills "språkkafé, matte" --languages "arabisk, norsk, somali" \
	--available "wed 17:00-21:00, tue 18:00-20:00" --consent --json
today=$(TZ=Europe/Oslo date +%F)
if [ $rc -eq 0 ] && grep -q '"id": "fjell:v2"' "$T/out" &&
	grep -q '"share": true' "$T/out" &&
	grep -q "\"date\": \"$today\"" "$T/out"; then
	pass volunteer_add_json_consent_today
else
	fail volunteer_add_json_consent_today "rc=$rc $(cat "$T/out") $(cat "$T/err")"
fi

run volunteer add --name "Solveig Åsheim" --skills leksehjelp \
	--languages "norsk, polsk" --no-consent --consent-date 2026-01-15 \
	--police-role leksehjelper --police-shown 2025-11-03
if [ $rc -eq 0 ] && "$K" volunteer show v3 --json >"$T/out" &&
	grep -q '"date": "2026-01-15"' "$T/out" &&
	grep -q '"role": "leksehjelper"' "$T/out" &&
	grep -q '"shown": "2025-11-03"' "$T/out"; then
	pass volunteer_police_and_consent_date
else
	fail volunteer_police_and_consent_date "rc=$rc $(cat "$T/err") $(cat "$T/out")"
fi

# ---- list and filters ----
ids() { "$K" volunteer list --json "$@" | sed -n 's/.*"id": "\(fjell:v[0-9]*\)".*/\1/p' | tr '\n' ' '; }
got=$(ids)
if [ "$got" = "fjell:v1 fjell:v2 fjell:v3 " ]; then
	pass volunteer_list_all
else
	fail volunteer_list_all "got '$got'"
fi
got=$(ids --skill leksehjelp)
if [ "$got" = "fjell:v1 fjell:v3 " ]; then
	pass volunteer_filter_skill
else
	fail volunteer_filter_skill "got '$got'"
fi
got=$(ids --language ARABISK)
if [ "$got" = "fjell:v2 " ]; then
	pass volunteer_filter_language_any_case
else
	fail volunteer_filter_language_any_case "got '$got'"
fi
got=$(ids --available "tue 18:00-19:00")
got2=$(ids --available "tue 17:00-19:00")
got3=$(ids --available "tue 18:00-19:00, wed 18:00-20:00")
if [ "$got" = "fjell:v1 fjell:v2 " ] && [ "$got2" = "fjell:v1 " ] &&
	[ "$got3" = "fjell:v2 " ]; then
	pass volunteer_filter_available
else
	fail volunteer_filter_available "got '$got' / '$got2' / '$got3'"
fi
got=$(ids --skill matte --language norsk --available "tue 18:30-19:00")
got2=$(ids --skill matte --language somali --available "thu 17:00-18:00")
if [ "$got" = "fjell:v1 fjell:v2 " ] && [ "$got2" = "" ]; then
	pass volunteer_filters_all_must_match
else
	fail volunteer_filters_all_must_match "got '$got' / '$got2'"
fi
run volunteer list --skill leksehjelp
if [ $rc -eq 0 ] && grep -q "Kari Nordmann" "$T/out" &&
	grep -q "Solveig Åsheim" "$T/out" && ! grep -q "Ahmed" "$T/out" &&
	grep -q "leksehjelper (2025-11-03)" "$T/out"; then
	pass volunteer_list_table
else
	fail volunteer_list_table "$(cat "$T/out")"
fi
run volunteer list --available "tue 25:00-26:00"
if [ $rc -eq 2 ] && grep -q "^knute: --available" "$T/err"; then
	pass volunteer_filter_bad_hours
else
	fail volunteer_filter_bad_hours "rc=$rc $(cat "$T/err")"
fi

# ---- show ----
run volunteer show v1
if [ $rc -eq 0 ] && grep -q "^name: *Kari Nordmann" "$T/out" &&
	grep -q "^no-shows: *0" "$T/out" &&
	grep -q "no certificate shown" "$T/out"; then
	pass volunteer_show
else
	fail volunteer_show "rc=$rc $(cat "$T/out")"
fi
run volunteer show v99
if [ $rc -eq 4 ] && grep -q "^knute: no volunteer fjell:v99" "$T/err"; then
	pass volunteer_show_missing_exit_4
else
	fail volunteer_show_missing_exit_4 "rc=$rc $(cat "$T/err")"
fi

# ---- update ----
run volunteer update v1 --phone "+47 400 00 001" --police-role \
	"trener barn" --police-shown 2026-03-02 --consent
if [ $rc -eq 0 ] && "$K" volunteer show v1 --json >"$T/out" &&
	grep -q '"phone": "+47 400 00 001"' "$T/out" &&
	grep -q '"email": "kari@example.no"' "$T/out" &&
	grep -q '"role": "trener barn"' "$T/out" &&
	grep -q '"share": true' "$T/out"; then
	pass volunteer_update_keeps_the_rest
else
	fail volunteer_update_keeps_the_rest "rc=$rc $(cat "$T/err") $(cat "$T/out")"
fi
run volunteer update v1 --available ""
if [ $rc -eq 0 ] && ! "$K" volunteer show v1 --json | grep -q availability; then
	pass volunteer_update_clears_availability
else
	fail volunteer_update_clears_availability "rc=$rc $(cat "$T/err")"
fi
run volunteer update v99 --phone 1
if [ $rc -eq 4 ]; then
	pass volunteer_update_missing_exit_4
else
	fail volunteer_update_missing_exit_4 "rc=$rc $(cat "$T/err")"
fi

# ---- bad input: exit 2, one "knute:" line, nothing on stdout, nothing
# written ----
long=$(head -c 201 /dev/zero | tr '\0' 'a')
bad_utf8=$(printf 'Kari \377')
bad volunteer_bad_no_name volunteer add --phone 123
bad volunteer_bad_empty_name volunteer add --name ""
bad volunteer_bad_name_too_long volunteer add --name "$long"
bad volunteer_bad_utf8 volunteer add --name "$bad_utf8"
bad volunteer_bad_utf8_skills volunteer add --name Ola --skills "$bad_utf8"
bad volunteer_bad_birth_year volunteer add --name Ola --birth-year 1850
bad volunteer_bad_police_date volunteer add --name Ola --police-role \
	leksehjelper --police-shown 2026-02-30
bad volunteer_bad_police_future volunteer add --name Ola --police-role \
	leksehjelper --police-shown 2999-01-01
bad volunteer_bad_police_half volunteer add --name Ola --police-shown \
	2026-01-01
bad volunteer_bad_consent_both volunteer add --name Ola --consent \
	--no-consent
bad volunteer_bad_consent_date_alone volunteer add --name Ola \
	--consent-date 2026-01-01
bad volunteer_bad_available volunteer add --name Ola --available \
	"tirsdag 17-19"
bad volunteer_bad_email volunteer add --name Ola --email ola.example.no
bad volunteer_bad_unknown_option volunteer add --name Ola --shoe-size 44
bad volunteer_bad_update_utf8 volunteer update v1 --name "$bad_utf8"
bad volunteer_bad_update_empty_name volunteer update v1 --name ""
bad volunteer_bad_id volunteer show b1
run volunteer add --name "$bad_utf8"
if grep -q "not valid UTF-8" "$T/err"; then
	pass volunteer_utf8_message
else
	fail volunteer_utf8_message "$(cat "$T/err")"
fi

# ---- erase: the record, its assignments, and the personal data in the
# oplog are gone ----
run volunteer add --name "Ingrid Solbakken" --phone "+47 913 55 101" \
	--email ingrid.solbakken@example.no --birth-year 1990 \
	--police-role leksehjelper --police-shown 2026-01-10 --skills matte
vid=$(cat "$T/out")
"$K" activity add --title "Leksehjelp" --organiser "Røde Kors" \
	--category leksehjelp --target barn --from "2026-12-01 17:00" \
	--to "2026-12-01 19:00" --weekly --until 2027-01-31 --days tue,thu \
	--police-required >/dev/null
"$K" activity assign a1 --volunteer "$vid" >/dev/null
"$K" volunteer update "$vid" --phone "+47 913 55 102" >/dev/null
"$K" activity assign a1 --volunteer v3 >/dev/null
"$K" activity attend a1 --volunteer "$vid" --date 2026-12-01 \
	--status present >/dev/null
if mdb_dump -a -p "$D" | grep -q "Solbakken"; then
	pass volunteer_erase_precondition_name_stored
else
	fail volunteer_erase_precondition_name_stored "name not in the dump"
fi
before=$(head_seq)
run volunteer erase "$vid"
if [ $rc -eq 0 ] && grep -q "erased" "$T/out"; then
	pass volunteer_erase
else
	fail volunteer_erase "rc=$rc $(cat "$T/err")"
fi
run volunteer show "$vid"
if [ $rc -eq 4 ]; then
	pass volunteer_erase_show_exit_4
else
	fail volunteer_erase_show_exit_4 "rc=$rc"
fi
dump=$(mdb_dump -a -p "$D")
if ! echo "$dump" | grep -q "Solbakken" &&
	! echo "$dump" | grep -q "913 55 10" &&
	! echo "$dump" | grep -q "ingrid.solbakken"; then
	pass volunteer_erase_scrubs_store
else
	fail volunteer_erase_scrubs_store "personal data left in mdb_dump"
fi
n=$("$K" activity show a1 --json | grep -c "\"volunteer\": \"$vid\"")
m=$("$K" activity show a1 --json | grep -c '"volunteer": "fjell:v3"')
# Only the attendance record (no personal data) still names the id.
if [ "$n" = 1 ] && [ "$m" = 1 ]; then
	pass volunteer_erase_deletes_assignments
else
	fail volunteer_erase_deletes_assignments "left $n references, v3 $m"
fi
after=$(head_seq)
if [ "$after" -gt "$before" ] && "$K" volunteer list | grep -q "Kari"; then
	pass volunteer_erase_keeps_others
else
	fail volunteer_erase_keeps_others "head $before -> $after"
fi
run volunteer erase "$vid"
if [ $rc -eq 4 ] && [ "$(head_seq)" = "$after" ]; then
	pass volunteer_erase_twice_exit_4
else
	fail volunteer_erase_twice_exit_4 "rc=$rc"
fi

# ---- help ----
run volunteer add --help
if [ $rc -eq 0 ] && grep -q "politiattest" "$T/out" &&
	grep -q "^usage: volunteer add" "$T/out"; then
	pass volunteer_help
else
	fail volunteer_help "rc=$rc"
fi
