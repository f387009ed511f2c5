#!/bin/sh
# knute init and knute room add | list | show | update | close | reopen |
# remove, run for real in a temporary directory. One line per case:
# "PASS name" or "FAIL name: why".
. "$(dirname "$0")/lib.sh"

# ---- init ----
if "$K" init --data "$D" --hub fjell --name "Knutepunkt Fjell" >"$T/out" 2>"$T/err"; then
	pass init
else
	fail init "exit $?: $(cat "$T/err")"
fi
"$K" init --data "$D" --hub fjell --name "Igjen" >"$T/out" 2>"$T/err"
rc=$?
if [ $rc -ne 0 ] && grep -q "already" "$T/err" && [ "$(head_seq)" = 0 ]; then
	pass init_twice_refused
else
	fail init_twice_refused "exit $rc: $(cat "$T/err")"
fi
"$K" init --data "$T/bad" --hub Fjell --name "X" >/dev/null 2>"$T/err"
rc=$?
if [ $rc -eq 2 ] && grep -q "^knute: .*hub id" "$T/err" && [ ! -e "$T/bad/data.mdb" ]; then
	pass init_bad_hub_id
else
	fail init_bad_hub_id "exit $rc: $(cat "$T/err")"
fi

# ---- add ----
out=$("$K" --data "$D" room add --name "Storsalen" --capacity 80 \
	--facilities "projektor, kjøkken, piano" 2>"$T/err")
rc=$?
if [ $rc -eq 0 ] && [ "$out" = "fjell:r1" ]; then
	pass room_add_prints_id
else
	fail room_add_prints_id "exit $rc, printed '$out': $(cat "$T/err")"
fi

NAME="Møterommet Ærfugl – Åssiden øst"
export NAME
"$K" --data "$D" room add --name "$NAME" --capacity 12 --json >"$T/add.json" 2>"$T/err"
rc=$?
if [ $rc -eq 0 ] && is_json "$T/add.json" &&
	jcheck "$T/add.json" 'v["id"] == "fjell:r2" and v["name"] == os.environ["NAME"] and v["capacity"] == 12 and v["kind"] == "room" and v["hub"] == "fjell"'; then
	pass room_add_json
else
	fail room_add_json "exit $rc: $(cat "$T/add.json" "$T/err")"
fi

out=$("$K" room add --name "Kjøkkenet" --capacity 0 --data "$D" 2>"$T/err")
rc=$?
if [ $rc -eq 0 ] && [ "$out" = "fjell:r3" ]; then
	pass room_add_options_after_verb
else
	fail room_add_options_after_verb "exit $rc, printed '$out': $(cat "$T/err")"
fi

"$K" --data "$D" room add --capacity 10 >/dev/null 2>"$T/err"
rc=$?
if [ $rc -eq 2 ] && grep -q -- "--name" "$T/err"; then
	pass room_add_needs_name
else
	fail room_add_needs_name "exit $rc: $(cat "$T/err")"
fi
"$K" --data "$D" room add --name "Uten plass" >/dev/null 2>"$T/err"
rc=$?
if [ $rc -eq 2 ] && grep -q -- "--capacity" "$T/err"; then
	pass room_add_needs_capacity
else
	fail room_add_needs_capacity "exit $rc: $(cat "$T/err")"
fi

# ---- list ----
"$K" --data "$D" room list >"$T/list" 2>"$T/err"
rc=$?
if [ $rc -eq 0 ] && grep -q "^fjell:r1 .*Storsalen .*80" "$T/list" &&
	grep -q "$NAME" "$T/list" && grep -q "^fjell:r3 .*Kjøkkenet" "$T/list" &&
	[ "$(wc -l <"$T/list")" -eq 4 ]; then
	pass room_list_table
else
	fail room_list_table "exit $rc: $(cat "$T/list" "$T/err")"
fi
# Columns line up by characters, not bytes: the CAPACITY column starts at
# the same character in every row.
if python3 -c 'import sys
rows = open(sys.argv[1], encoding="utf-8").read().splitlines()
cols = {r.index(c) for r, c in zip(rows, ["CAPACITY", "80", "12", "0 "])}
sys.exit(0 if len(cols) == 1 else 1)' "$T/list"; then
	pass room_list_aligned
else
	fail room_list_aligned "$(cat "$T/list")"
fi

"$K" --data "$D" room list --json >"$T/list.json" 2>"$T/err"
rc=$?
if [ $rc -eq 0 ] && is_json "$T/list.json" &&
	jcheck "$T/list.json" 'isinstance(v, list) and len(v) == 3 and all("id" in r for r in v) and [r["id"] for r in v] == ["fjell:r1", "fjell:r2", "fjell:r3"] and v[0]["facilities"] == ["projektor", "kjøkken", "piano"]'; then
	pass room_list_json
else
	fail room_list_json "exit $rc: $(cat "$T/list.json" "$T/err")"
fi

"$K" --json room list --data "$D" >"$T/list2.json" 2>"$T/err"
if cmp -s "$T/list.json" "$T/list2.json"; then
	pass room_list_global_options_anywhere
else
	fail room_list_global_options_anywhere "$(cat "$T/list2.json" "$T/err")"
fi

KNUTE_DATA="$D" "$K" room list --json >"$T/list3.json" 2>"$T/err"
if cmp -s "$T/list.json" "$T/list3.json"; then
	pass room_list_knute_data
else
	fail room_list_knute_data "$(cat "$T/list3.json" "$T/err")"
fi

# ---- show ----
"$K" --data "$D" room show r2 >"$T/show" 2>"$T/err"
rc=$?
if [ $rc -eq 0 ] && grep -q "fjell:r2" "$T/show" && grep -q "$NAME" "$T/show" &&
	grep -q "12" "$T/show"; then
	pass room_show
else
	fail room_show "exit $rc: $(cat "$T/show" "$T/err")"
fi
"$K" --data "$D" room show fjell:r2 --json >"$T/show.json" 2>"$T/err"
rc=$?
if [ $rc -eq 0 ] && is_json "$T/show.json" &&
	jcheck "$T/show.json" 'v["id"] == "fjell:r2" and v["name"] == os.environ["NAME"]'; then
	pass room_show_json_full_id
else
	fail room_show_json_full_id "exit $rc: $(cat "$T/show.json" "$T/err")"
fi
"$K" --data "$D" room show r99 >/dev/null 2>"$T/err"
rc=$?
if [ $rc -eq 4 ] && grep -q "^knute: .*fjell:r99" "$T/err"; then
	pass room_show_unknown
else
	fail room_show_unknown "exit $rc: $(cat "$T/err")"
fi

# ---- update ----
NEWNAME="Storsalen på Strømsø"
export NEWNAME
"$K" --data "$D" room update r1 --name "$NEWNAME" --capacity 60 \
	--open "mon-fri 08:00-22:00, sat 10:00-16:00" >"$T/out" 2>"$T/err"
rc=$?
"$K" --data "$D" room show r1 --json >"$T/show.json" 2>>"$T/err"
if [ $rc -eq 0 ] &&
	jcheck "$T/show.json" 'v["name"] == os.environ["NEWNAME"] and v["capacity"] == 60 and v["open"] == "mon-fri 08:00-22:00, sat 10:00-16:00" and v["facilities"] == ["projektor", "kjøkken", "piano"]'; then
	pass room_update
else
	fail room_update "exit $rc: $(cat "$T/show.json" "$T/err")"
fi
"$K" --data "$D" room update r1 --open "tue 17:00-21:00, mon 08:00-12:00, wed 08:00-12:00" >/dev/null 2>"$T/err"
"$K" --data "$D" room show r1 --json >"$T/show.json"
if jcheck "$T/show.json" 'v["open"] == "mon 08:00-12:00, tue 17:00-21:00, wed 08:00-12:00"'; then
	pass room_update_open_canonical
else
	fail room_update_open_canonical "$(cat "$T/show.json" "$T/err")"
fi
before=$(head_seq)
"$K" --data "$D" room update r1 --capacity -5 >/dev/null 2>"$T/err"
rc=$?
"$K" --data "$D" room show r1 --json >"$T/show.json"
if [ $rc -eq 2 ] && [ "$(head_seq)" = "$before" ] && jcheck "$T/show.json" 'v["capacity"] == 60'; then
	pass room_update_bad_value_changes_nothing
else
	fail room_update_bad_value_changes_nothing "exit $rc: $(cat "$T/err")"
fi
"$K" --data "$D" room update r77 --capacity 5 >/dev/null 2>"$T/err"
rc=$?
if [ $rc -eq 4 ] && [ "$(head_seq)" = "$before" ]; then
	pass room_update_unknown
else
	fail room_update_unknown "exit $rc: $(cat "$T/err")"
fi
"$K" --data "$D" room update r1 --open "mon-fri 22:00-08:00" >/dev/null 2>"$T/err"
rc=$?
if [ $rc -eq 2 ] && grep -q -- "^knute: --open" "$T/err" && [ "$(head_seq)" = "$before" ]; then
	pass room_update_bad_open
else
	fail room_update_bad_open "exit $rc: $(cat "$T/err")"
fi

# ---- close and reopen ----
"$K" --data "$D" room close r2 --from 2026-12-24 --to 2026-12-26 --reason "Julestengt" >/dev/null 2>"$T/err"
rc=$?
"$K" --data "$D" room close r2 --from 2027-04-01 >/dev/null 2>>"$T/err"
"$K" --data "$D" room show r2 --json >"$T/show.json"
"$K" --data "$D" room show r2 >"$T/show"
if [ $rc -eq 0 ] &&
	jcheck "$T/show.json" 'v["closures"] == [{"from": "2026-12-24", "to": "2026-12-26", "reason": "Julestengt"}, {"from": "2027-04-01", "to": "2027-04-01"}]' &&
	grep -q "2026-12-24 to 2026-12-26 Julestengt" "$T/show"; then
	pass room_close
else
	fail room_close "exit $rc: $(cat "$T/show.json" "$T/err")"
fi
before=$(head_seq)
"$K" --data "$D" room close r2 --from 2026-12-26 --to 2026-12-24 >/dev/null 2>"$T/err"
rc=$?
if [ $rc -eq 2 ] && grep -q "^knute: " "$T/err" && [ "$(head_seq)" = "$before" ]; then
	pass room_close_to_before_from
else
	fail room_close_to_before_from "exit $rc: $(cat "$T/err")"
fi
"$K" --data "$D" room close r2 --from 24.12.2026 >/dev/null 2>"$T/err"
rc=$?
if [ $rc -eq 2 ] && [ "$(head_seq)" = "$before" ]; then
	pass room_close_bad_date
else
	fail room_close_bad_date "exit $rc: $(cat "$T/err")"
fi
"$K" --data "$D" room reopen r2 --from 2026-12-24 >/dev/null 2>"$T/err"
rc=$?
"$K" --data "$D" room show r2 --json >"$T/show.json"
if [ $rc -eq 0 ] && jcheck "$T/show.json" 'v["closures"] == [{"from": "2027-04-01", "to": "2027-04-01"}]'; then
	pass room_reopen
else
	fail room_reopen "exit $rc: $(cat "$T/show.json" "$T/err")"
fi
before=$(head_seq)
"$K" --data "$D" room reopen r2 --from 2026-12-24 >/dev/null 2>"$T/err"
rc=$?
if [ $rc -eq 4 ] && [ "$(head_seq)" = "$before" ]; then
	pass room_reopen_no_such_closure
else
	fail room_reopen_no_such_closure "exit $rc: $(cat "$T/err")"
fi

# ---- remove ----
b=$("$K" --data "$D" booking add --room r3 --from "2026-12-01 17:00" \
	--to "2026-12-01 19:00" --org "Røde Kors" 2>"$T/err")
before=$(head_seq)
"$K" --data "$D" room remove r3 >/dev/null 2>"$T/err"
rc=$?
if [ $rc -ne 0 ] && grep -q "^knute: .*$b" "$T/err" &&
	[ "$(head_seq)" = "$before" ] && "$K" --data "$D" room show r3 >/dev/null 2>&1; then
	pass room_remove_refused_with_bookings
else
	fail room_remove_refused_with_bookings "exit $rc, booking '$b': $(cat "$T/err")"
fi
"$K" --data "$D" booking cancel "$b" >/dev/null 2>"$T/err"
"$K" --data "$D" room remove r3 >/dev/null 2>"$T/err"
rc=$?
"$K" --data "$D" room show r3 >/dev/null 2>&1
rc_show=$?
"$K" --data "$D" room list --json >"$T/list.json"
if [ $rc -eq 0 ] && [ $rc_show -eq 4 ] &&
	jcheck "$T/list.json" '[r["id"] for r in v] == ["fjell:r1", "fjell:r2"]'; then
	pass room_remove_after_cancel
else
	fail room_remove_after_cancel "exit $rc, show $rc_show: $(cat "$T/err")"
fi
"$K" --data "$D" room remove r3 >/dev/null 2>"$T/err"
rc=$?
if [ $rc -eq 4 ]; then
	pass room_remove_twice
else
	fail room_remove_twice "exit $rc: $(cat "$T/err")"
fi
# A removed room's number is not handed out again.
out=$("$K" --data "$D" room add --name "Nytt rom" --capacity 4 2>"$T/err")
if [ "$out" = "fjell:r4" ]; then
	pass room_ids_not_reused
else
	fail room_ids_not_reused "printed '$out'"
fi

# ---- Norwegian text, every field ----
FAC="kjøkken, høyttaler, rullestolrampe"
NOTES="Nøkkel hos vaktmester på Konnerud. «Husk å låse» – ÆØÅ æøå é ü"
export NOTES
"$K" --data "$D" room add --name "Øvingsrommet" --capacity 8 --facilities "$FAC" \
	--notes "$NOTES" >/dev/null 2>"$T/err"
"$K" --data "$D" room show r5 --json >"$T/show.json" 2>>"$T/err"
if jcheck "$T/show.json" 'v["name"] == "Øvingsrommet" and v["facilities"] == ["kjøkken", "høyttaler", "rullestolrampe"] and v["notes"] == os.environ["NOTES"]'; then
	pass norwegian_text_round_trip
else
	fail norwegian_text_round_trip "$(cat "$T/show.json" "$T/err")"
fi

# ---- help ----
"$K" room add --help >"$T/out" 2>"$T/err"
rc=$?
if [ $rc -eq 0 ] && grep -q "^usage: room add" "$T/out"; then
	pass room_help
else
	fail room_help "exit $rc: $(cat "$T/out" "$T/err")"
fi
"$K" room >/dev/null 2>"$T/err"
rc=$?
if [ $rc -eq 2 ] && grep -q "^knute: 'room' needs a verb" "$T/err"; then
	pass room_without_verb
else
	fail room_without_verb "exit $rc: $(cat "$T/err")"
fi

# Every write above was logged once: 13 writes, 4 rooms left.
"$K" --data "$D" status --json >"$T/status.json"
if jcheck "$T/status.json" 'v["hub"] == "fjell" and v["records"]["room"] == 4 and v["head_seq"] == 13'; then
	pass status_counts
else
	fail status_counts "$(cat "$T/status.json")"
fi
