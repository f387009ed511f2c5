#!/bin/sh
# Bad input on the command line (the issue's "Bad input" list): each gets a
# one-line "knute: ..." message on stderr that names the problem, the exit
# code of DESIGN.md section 8 (2 bad input, 4 not found), nothing on
# stdout, and nothing written (the oplog head does not move).
. "$(dirname "$0")/lib.sh"

"$K" init --data "$D" --hub fjell --name "Knutepunkt Fjell" >/dev/null
"$K" --data "$D" room add --name "Storsalen" --capacity 80 >/dev/null
"$K" --data "$D" booking add --room r1 --from "2026-12-01 17:00" \
	--to "2026-12-01 19:00" --org "Røde Kors" >/dev/null
if [ "$(head_seq)" = 2 ]; then
	pass setup
else
	fail setup "head_seq is '$(head_seq)', expected 2"
fi

BOOK="booking add --room r1 --org Frivilligsentralen"

# ---- bad dates and times ----
expect bad_date_month 2 "--from '2026-13-01 17:00'" \
	--data "$D" $BOOK --from "2026-13-01 17:00" --to "2026-12-01 19:00"
expect bad_date_day 2 "2026-02-30" \
	--data "$D" $BOOK --from "2026-02-30 17:00" --to "2026-03-01 19:00"
expect bad_date_words 2 "YYYY-MM-DD HH:MM" \
	--data "$D" $BOOK --from "i morgen" --to "2026-12-01 19:00"
expect bad_time_hour 2 "--to" \
	--data "$D" $BOOK --from "2026-12-01 17:00" --to "2026-12-01 25:00"
expect bad_time_missing 2 "--from" \
	--data "$D" $BOOK --from "2026-12-01" --to "2026-12-01 19:00"
expect bad_time_skipped_in_spring 2 "--from" \
	--data "$D" $BOOK --from "2027-03-28 02:30" --to "2027-03-28 04:00"
expect bad_until_date 2 "--until" \
	--data "$D" $BOOK --from "2026-12-01 10:00" --to "2026-12-01 11:00" --weekly --until 15.06.2027
expect bad_days 2 "--days" \
	--data "$D" $BOOK --from "2026-12-01 10:00" --to "2026-12-01 11:00" --weekly --until 2027-06-15 --days tirsdag
expect weekly_without_until 2 "--until" \
	--data "$D" $BOOK --from "2026-12-01 10:00" --to "2026-12-01 11:00" --weekly
expect until_without_weekly 2 "--weekly" \
	--data "$D" $BOOK --from "2026-12-01 10:00" --to "2026-12-01 11:00" --until 2027-06-15
expect until_before_from 2 "--until 2026-11-01" \
	--data "$D" $BOOK --from "2026-12-01 10:00" --to "2026-12-01 11:00" --weekly --until 2026-11-01
expect series_too_long 2 "at most 1000" \
	--data "$D" $BOOK --from "2026-12-01 10:00" --to "2026-12-01 11:00" --weekly --until 2060-12-01
expect missing_from 2 "--from" \
	--data "$D" booking add --room r1 --org X --to "2026-12-01 19:00"
expect room_close_bad_date 2 "YYYY-MM-DD" \
	--data "$D" room close r1 --from 2026-12-32

# ---- end before start ----
expect end_before_start 2 "must be after the start" \
	--data "$D" $BOOK --from "2026-12-01 19:00" --to "2026-12-01 17:00"
expect end_equals_start 2 "must be after the start" \
	--data "$D" $BOOK --from "2026-12-01 19:00" --to "2026-12-01 19:00"

# ---- unknown room or id ----
expect booking_unknown_room 4 "fjell:r9" \
	--data "$D" booking add --room r9 --from "2026-12-02 17:00" --to "2026-12-02 19:00" --org "Blå Kors"
expect booking_room_of_other_hub 2 "konnerud:r1" \
	--data "$D" booking add --room konnerud:r1 --from "2026-12-02 17:00" --to "2026-12-02 19:00" --org "Blå Kors"
expect booking_room_not_a_room_id 2 "not a room id" \
	--data "$D" booking add --room b1 --from "2026-12-02 17:00" --to "2026-12-02 19:00" --org "Blå Kors"
expect booking_room_malformed 2 "--room" \
	--data "$D" booking add --room "rom 1" --from "2026-12-02 17:00" --to "2026-12-02 19:00" --org "Blå Kors"
expect room_show_unknown 4 "fjell:r99" --data "$D" room show r99
expect booking_show_unknown 4 "fjell:b99" --data "$D" booking show b99
expect booking_show_other_hub 4 "konnerud:b1" --data "$D" booking show konnerud:b1
expect booking_cancel_unknown 4 "fjell:b99" --data "$D" booking cancel b99
expect room_update_unknown 4 "fjell:r99" --data "$D" room update r99 --capacity 5
expect room_remove_unknown 4 "fjell:r99" --data "$D" room remove r99
expect show_malformed_id 2 "not a booking id" --data "$D" booking show fjell:x1
expect show_zero_id 2 "" --data "$D" booking show b0
expect show_wrong_kind 2 "room id" --data "$D" booking show r1
expect show_without_id 2 "id" --data "$D" room show
expect show_two_ids 2 "r2" --data "$D" room show r1 r2
expect booking_list_unknown_room_form 2 "--room" --data "$D" booking list --room x

# ---- numbers ----
expect negative_capacity 2 "--capacity '-1'" --data "$D" room add --name "Lillesalen" --capacity -1
expect capacity_not_a_number 2 "--capacity 'ti'" --data "$D" room add --name "Lillesalen" --capacity ti
expect capacity_too_big 2 "--capacity" --data "$D" room add --name "Lillesalen" --capacity 1000000000
expect capacity_trailing 2 "--capacity" --data "$D" room add --name "Lillesalen" --capacity 12b
expect capacity_empty 2 "--capacity" --data "$D" room add --name "Lillesalen" --capacity ""

# ---- strings over their limit ----
long201=$(python3 -c 'print("a" * 201)')
long_ae=$(python3 -c 'print("æ" * 101)')
long2001=$(python3 -c 'print("ø" * 1001)')
long_word=$(python3 -c 'print("p" * 101)')
expect name_over_limit 2 "the limit is 200" --data "$D" room add --name "$long201" --capacity 5
expect name_over_limit_in_bytes 2 "202 bytes" --data "$D" room add --name "$long_ae" --capacity 5
expect org_over_limit 2 "--org" \
	--data "$D" booking add --room r1 --from "2026-12-02 17:00" --to "2026-12-02 19:00" --org "$long201"
expect purpose_over_limit 2 "--purpose" \
	--data "$D" $BOOK --from "2026-12-02 17:00" --to "2026-12-02 19:00" --purpose "$long2001"
expect facility_word_over_limit 2 "--facilities" --data "$D" room add --name "Rom" --capacity 5 --facilities "piano, $long_word"
expect reason_over_limit 2 "--reason" --data "$D" room close r1 --from 2026-12-24 --reason "$long201"

# ---- invalid UTF-8 ----
bad=$(printf 'Rom \377')
expect utf8_name 2 "UTF-8" --data "$D" room add --name "$bad" --capacity 5
expect utf8_org 2 "UTF-8" \
	--data "$D" booking add --room r1 --from "2026-12-02 17:00" --to "2026-12-02 19:00" --org "$bad"
expect utf8_contact 2 "UTF-8" \
	--data "$D" $BOOK --from "2026-12-02 17:00" --to "2026-12-02 19:00" --contact "$bad"
expect utf8_facilities 2 "--facilities" --data "$D" room add --name "Rom" --capacity 5 --facilities "piano, $bad"
expect utf8_notes 2 "UTF-8" --data "$D" room update r1 --notes "$bad"
expect utf8_reason 2 "UTF-8" --data "$D" room close r1 --from 2026-12-24 --reason "$bad"
expect utf8_room_id 2 "" \
	--data "$D" booking add --room "$bad" --from "2026-12-02 17:00" --to "2026-12-02 19:00" --org X
expect utf8_show_id 2 "" --data "$D" room show "$bad"
# A lone continuation byte inside an otherwise Norwegian name.
bad2=$(printf 'Str\303\270ms\370')
expect utf8_name_latin1 2 "UTF-8" --data "$D" room add --name "$bad2" --capacity 5

# ---- options, commands, data directory ----
expect unknown_option 2 "--bogus" --data "$D" room add --name "Rom" --capacity 5 --bogus 1
expect misspelt_option 2 "--capasity" --data "$D" room add --name "Rom" --capasity 5
expect option_of_other_command 2 "--org" --data "$D" room add --name "Rom" --capacity 5 --org X
expect option_without_value 2 "--capacity" --data "$D" room add --name "Rom" --capacity
expect unknown_command 2 "rooms" --data "$D" rooms list
expect unknown_verb 2 "delete" --data "$D" room delete r1
expect unexpected_argument 2 "ekstra" --data "$D" room add ekstra --name "Rom" --capacity 5
expect unknown_tz 2 "Europe/Drammen" --data "$D" --tz Europe/Drammen booking list
expect missing_data 2 "--data" room list
expect missing_data_empty 2 "--data" --data "" room list
expect init_without_name 2 "--name" init --data "$T/ny" --hub fjell
expect init_without_hub 2 "--hub" init --data "$T/ny" --name "Knutepunkt Fjell"
expect init_hub_and_central 2 "--central" init --data "$T/ny" --hub fjell --central --name X
expect init_bad_hub 2 "fjell!" init --data "$T/ny" --hub "fjell!" --name X
if [ ! -e "$T/ny/data.mdb" ]; then
	pass init_errors_create_nothing
else
	fail init_errors_create_nothing "$T/ny/data.mdb exists"
fi
expect room_remove_with_bookings 2 "fjell:b1" --data "$D" room remove r1

# ---- an uninitialised or missing data directory ----
mkdir "$T/empty"
for dir in "$T/empty" "$T/missing"; do
	for cmd in "room list" "status" "booking add --room r1 --from 2026-12-01T17:00 --to 2026-12-01T19:00 --org X"; do
		"$K" --data "$dir" $cmd >"$T/out" 2>"$T/err"
		rc=$?
		name="uninitialised_$(basename "$dir")_$(echo "$cmd" | cut -d' ' -f1)"
		if [ $rc -ne 0 ] && grep -q "^knute: .*knute init" "$T/err" &&
			[ "$(wc -l <"$T/err")" -eq 1 ] && [ ! -e "$dir/data.mdb" ]; then
			pass "$name"
		else
			fail "$name" "exit $rc: $(cat "$T/err")"
		fi
	done
done
if [ ! -e "$T/missing" ]; then
	pass uninitialised_dir_not_created
else
	fail uninitialised_dir_not_created "$T/missing was created"
fi

# Nothing at all was written by any of the above.
"$K" --data "$D" status --json >"$T/status.json"
if python3 -c 'import json,sys
v = json.load(sys.stdin)
sys.exit(0 if v["head_seq"] == 2 and v["records"]["room"] == 1 and v["records"]["booking"] == 1 else 1)' <"$T/status.json"; then
	pass nothing_written
else
	fail nothing_written "$(cat "$T/status.json")"
fi
