#!/bin/sh
# knute activity add | list | show | update | cancel | assign | unassign |
# attend: the schedule and its room under the clash rule, the police
# certificate rule, attendance and the no-show count, and bad input that
# must exit 2 and write nothing.
. "$(dirname "$0")/lib.sh"
export KNUTE_DATA="$D"
# check NAME STATUS WHY: pass when STATUS is 0, else fail with WHY.
check() {
	if [ "$2" = 0 ]; then pass "$1"; else fail "$1" "$3"; fi
}

"$K" init --data "$D" --hub fjell --name "Knutepunkt Fjell" >/dev/null
"$K" room add --name Storsalen --capacity 40 >/dev/null          # r1
"$K" room add --name Lillesalen --capacity 12 \
	--open "mon-fri 08:00-22:00" >/dev/null                   # r2
# Blå Kors holds Storsalen on Thursday 3 December 16:00-18:00.
"$K" booking add --room r1 --from "2026-12-03 16:00" \
	--to "2026-12-03 18:00" --org "Blå Kors" >/dev/null      # b1
"$K" volunteer add --name "Kari Nordmann" --skills leksehjelp >/dev/null
"$K" volunteer add --name "Ola Haugen" --police-role leksehjelper \
	--police-shown 2026-08-15 >/dev/null

# Leksehjelp with Røde Kors, Tuesdays and Thursdays 17-19 in December and
# January.
lekse() {
	run activity add --title Leksehjelp --organiser "Røde Kors" \
		--category leksehjelp --target barn --from "2026-12-01 17:00" \
		--to "2026-12-01 19:00" --weekly --until 2027-01-31 \
		--days tue,thu "$@"
}

# ---- add ----
run activity add --title "Språkkafé på Fjell" --organiser \
	Frivilligsentralen --category språkkafé --target voksne \
	--from "2026-12-02 18:00" --to "2026-12-02 20:00" --weekly \
	--until 2027-03-31 --volunteers-needed 3 --skills "norsk, arabisk" \
	--description "Prat på norsk over en kopp kaffe."
if [ $rc -eq 0 ] && [ "$(cat "$T/out")" = "fjell:a1" ]; then
	pass activity_add_prints_id
else
	fail activity_add_prints_id "rc=$rc $(cat "$T/out") $(cat "$T/err")"
fi
run activity show a1 --json
if grep -q '"status": "active"' "$T/out" &&
	grep -q '"police_required": false' "$T/out" &&
	grep -q '"volunteers_needed": 3' "$T/out" &&
	grep -q '"days": "wed"' "$T/out" &&
	grep -q '"category": "språkkafé"' "$T/out"; then
	pass activity_fields_stored
else
	fail activity_fields_stored "$(cat "$T/out")"
fi

# ---- a room clash names the booking; nothing is written ----
before=$(head_seq)
lekse --room r1 --police-required
if [ $rc -eq 3 ] && grep -q "fjell:b1" "$T/err" &&
	grep -q "Blå Kors" "$T/err" && grep -q "2026-12-03" "$T/err" &&
	[ "$(head_seq)" = "$before" ]; then
	pass activity_room_clash_exit_3
else
	fail activity_room_clash_exit_3 "rc=$rc $(cat "$T/err")"
fi
lekse --room r1 --police-required --skip-clashes --json
if [ $rc -eq 0 ] && grep -q '"id": "fjell:a2"' "$T/out" &&
	grep -q "2026-12-03 17:00-19:00 clashes with booking fjell:b1" \
		"$T/err" && grep -q '"cancelled"' "$T/out"; then
	pass activity_skip_clashes
else
	fail activity_skip_clashes "rc=$rc $(cat "$T/err")"
fi
# The activity now holds Storsalen on Tuesdays 17-19: a booking that
# overlaps is refused naming it, one back to back is fine.
run booking add --room r1 --from "2026-12-08 18:00" --to "2026-12-08 20:00" \
	--org "Kirkens Bymisjon"
if [ $rc -eq 3 ] && grep -q "activity fjell:a2 (Røde Kors" "$T/err"; then
	pass activity_holds_its_room
else
	fail activity_holds_its_room "rc=$rc $(cat "$T/err")"
fi
run booking add --room r1 --from "2026-12-08 19:00" --to "2026-12-08 21:00" \
	--org "Kirkens Bymisjon"
check activity_back_to_back_fine $rc "rc=$rc $(cat "$T/err")"
run activity add --title Kveldsklubb --organiser "Blå Kors" --category \
	ungdomsklubb --target ungdom --from "2026-12-05 18:00" \
	--to "2026-12-05 20:00" --room r2
if [ $rc -eq 3 ] && grep -q "opening hours" "$T/err"; then
	pass activity_room_hours_exit_3
else
	fail activity_room_hours_exit_3 "rc=$rc $(cat "$T/err")"
fi
run activity add --title Sjakk --organiser "Fjell sjakklubb" --category \
	annet --target alle --from "2026-12-01 17:00" --to "2026-12-01 18:00" \
	--room r9
if [ $rc -eq 4 ] && grep -q "no room fjell:r9" "$T/err"; then
	pass activity_unknown_room_exit_4
else
	fail activity_unknown_room_exit_4 "rc=$rc $(cat "$T/err")"
fi

# ---- list and filters ----
ids() { "$K" activity list --json "$@" | sed -n 's/.*"id": "\(fjell:a[0-9]*\)".*/\1/p' | tr '\n' ' '; }
a=$(ids)
b=$(ids --category leksehjelp)
c=$(ids --target voksne)
d=$(ids --category leksehjelp --target voksne)
if [ "$a" = "fjell:a1 fjell:a2 " ] && [ "$b" = "fjell:a2 " ] &&
	[ "$c" = "fjell:a1 " ] && [ "$d" = "" ]; then
	pass activity_list_filters
else
	fail activity_list_filters "'$a' '$b' '$c' '$d'"
fi
run activity list
if [ $rc -eq 0 ] && grep -q "Språkkafé på Fjell" "$T/out" &&
	grep -q "weekly tue,thu until 2027-01-31" "$T/out"; then
	pass activity_list_table
else
	fail activity_list_table "$(cat "$T/out")"
fi
run activity list --category fotball
if [ $rc -eq 2 ] && grep -q "leksehjelp, språkkafé, møteplass" "$T/err"; then
	pass activity_list_bad_category
else
	fail activity_list_bad_category "rc=$rc $(cat "$T/err")"
fi

# ---- the police certificate rule ----
before=$(head_seq)
run activity assign a2 --volunteer v1
if [ $rc -eq 2 ] && grep -q "politiattest" "$T/err" &&
	grep -q "knute volunteer update fjell:v1 --police-role ROLE --police-shown DATE" "$T/err" &&
	[ "$(head_seq)" = "$before" ]; then
	pass activity_assign_police_refused
else
	fail activity_assign_police_refused "rc=$rc $(cat "$T/err")"
fi
"$K" volunteer update v1 --police-role leksehjelper \
	--police-shown 2026-09-01 >/dev/null
run activity assign a2 --volunteer v1
check activity_assign_after_police_shown $rc "rc=$rc $(cat "$T/err")"
run activity assign a2 --volunteer v1
if [ $rc -eq 2 ] && grep -q "already assigned" "$T/err"; then
	pass activity_assign_duplicate_refused
else
	fail activity_assign_duplicate_refused "rc=$rc $(cat "$T/err")"
fi
run activity assign a2 --volunteer v1 --date 2026-12-08
if [ $rc -eq 2 ] && grep -q "whole series" "$T/err"; then
	pass activity_assign_covered_by_series
else
	fail activity_assign_covered_by_series "rc=$rc $(cat "$T/err")"
fi
run activity assign a2 --volunteer v2 --date 2026-12-09
if [ $rc -eq 4 ] && grep -q "does not take place on 2026-12-09" "$T/err"; then
	pass activity_assign_no_occurrence
else
	fail activity_assign_no_occurrence "rc=$rc $(cat "$T/err")"
fi
run activity assign a2 --volunteer v2 --date 2026-12-08
check activity_assign_one_date $rc "rc=$rc $(cat "$T/err")"
run activity assign a2 --volunteer v9
if [ $rc -eq 4 ] && grep -q "no volunteer fjell:v9" "$T/err"; then
	pass activity_assign_unknown_volunteer
else
	fail activity_assign_unknown_volunteer "rc=$rc $(cat "$T/err")"
fi
# An activity cannot start requiring a certificate that an assigned
# volunteer has not shown.
"$K" volunteer add --name "Nils Berg" >/dev/null                 # v3
"$K" activity assign a1 --volunteer v3 >/dev/null
before=$(head_seq)
run activity update a1 --police-required
if [ $rc -eq 2 ] && grep -q "fjell:v3" "$T/err" &&
	[ "$(head_seq)" = "$before" ]; then
	pass activity_update_police_refused
else
	fail activity_update_police_refused "rc=$rc $(cat "$T/err")"
fi
run activity unassign a1 --volunteer v3
run2=$rc
run activity update a1 --police-required
if [ $run2 -eq 0 ] && [ $rc -eq 0 ]; then
	pass activity_unassign_then_require
else
	fail activity_unassign_then_require "rc=$run2/$rc $(cat "$T/err")"
fi

# ---- attendance and the no-show count ----
run activity attend a2 --volunteer v2 --date 2026-12-10 --status present
if [ $rc -eq 2 ] && grep -q "not assigned" "$T/err"; then
	pass activity_attend_needs_assignment
else
	fail activity_attend_needs_assignment "rc=$rc $(cat "$T/err")"
fi
"$K" activity attend a2 --volunteer v1 --date 2026-12-01 \
	--status no-show >"$T/t1"
"$K" activity attend a2 --volunteer v1 --date 2026-12-08 \
	--status no-show >/dev/null
"$K" activity attend a2 --volunteer v2 --date 2026-12-08 \
	--status present >/dev/null
"$K" activity attend a2 --volunteer v1 --date 2026-12-10 \
	--status excused >/dev/null
run volunteer show v1 --json
if grep -q '"no_shows": 2' "$T/out"; then
	pass activity_no_show_count
else
	fail activity_no_show_count "$(cat "$T/out")"
fi
# A second call for the same occurrence changes the record.
run activity attend a2 --volunteer v1 --date 2026-12-01 --status excused
n=$("$K" status --json | sed -n 's/.*"attendance": \([0-9]*\).*/\1/p')
if [ $rc -eq 0 ] && [ "$(cat "$T/out")" = "$(cat "$T/t1")" ] && [ "$n" = 4 ] &&
	"$K" volunteer show v1 | grep -q "^no-shows: *1"; then
	pass activity_attend_updates
else
	fail activity_attend_updates "rc=$rc n=$n $(cat "$T/out") vs $(cat "$T/t1")"
fi
run activity attend a2 --volunteer v1 --date 2026-12-03 --status present
if [ $rc -eq 4 ]; then
	pass activity_attend_skipped_date_exit_4
else
	fail activity_attend_skipped_date_exit_4 "rc=$rc $(cat "$T/err")"
fi
run activity attend a2 --volunteer v1 --date 2026-12-15 --status late
if [ $rc -eq 2 ] && grep -q "present, no-show or excused" "$T/err"; then
	pass activity_attend_bad_status
else
	fail activity_attend_bad_status "rc=$rc $(cat "$T/err")"
fi
run activity show a2
if [ $rc -eq 0 ] && grep -q "fjell:v1 *Kari Nordmann *whole series" "$T/out" &&
	grep -q "fjell:v2 *Ola Haugen *2026-12-08 17:00" "$T/out" &&
	grep -A2 "^  2026-12-08 17:00" "$T/out" | grep -q "Kari Nordmann *no-show" &&
	grep -A2 "^  2026-12-08 17:00" "$T/out" | grep -q "Ola Haugen *present" &&
	grep -q "^not held: *2026-12-03 17:00" "$T/out"; then
	pass activity_show_people
else
	fail activity_show_people "$(cat "$T/out")"
fi
run activity show a2 --json
if grep -q '"assignments": \[' "$T/out" && grep -q '"attendance": \[' "$T/out"; then
	pass activity_show_json
else
	fail activity_show_json "$(cat "$T/out")"
fi

# ---- update: the room follows the schedule ----
before=$(head_seq)
run activity update a2 --from "2026-12-01 15:00" --to "2026-12-01 17:00"
if [ $rc -eq 3 ] && grep -q "fjell:b1" "$T/err" &&
	[ "$(head_seq)" = "$before" ] &&
	"$K" activity show a2 --json | grep -q '"cancelled"'; then
	pass activity_update_clash_keeps_old
else
	fail activity_update_clash_keeps_old "rc=$rc $(cat "$T/err")"
fi
run activity update a2 --from "2026-12-01 17:30" --to "2026-12-01 19:00" \
	--skip-clashes
if [ $rc -eq 0 ]; then
	pass activity_update_moves
else
	fail activity_update_moves "rc=$rc $(cat "$T/err")"
fi
# 17:00-17:30 on Tuesdays is free again; 17:30-19:00 is held.
run booking add --room r1 --from "2026-12-15 17:00" --to "2026-12-15 17:30" \
	--org "Åssiden IF"
r1=$rc
run booking add --room r1 --from "2026-12-15 18:30" --to "2026-12-15 19:00" \
	--org "Åssiden IF"
if [ $r1 -eq 0 ] && [ $rc -eq 3 ]; then
	pass activity_update_releases_old_slots
else
	fail activity_update_releases_old_slots "rc=$r1/$rc $(cat "$T/err")"
fi
run activity show a2
if grep -q "fjell:v2 *Ola Haugen *2026-12-08 17:30" "$T/out"; then
	pass activity_update_moves_assignments
else
	fail activity_update_moves_assignments "$(cat "$T/out")"
fi
run activity update a2 --room none
r1=$rc
run booking add --room r1 --from "2026-12-15 18:30" --to "2026-12-15 19:00" \
	--org "Åssiden IF"
if [ $r1 -eq 0 ] && [ $rc -eq 0 ]; then
	pass activity_update_room_none
else
	fail activity_update_room_none "rc=$r1/$rc $(cat "$T/err")"
fi
run activity update a2 --room r1 --title "Leksehjelp 5.-7. trinn"
if [ $rc -eq 3 ] && grep -q "fjell:b" "$T/err"; then
	pass activity_update_room_clash
else
	fail activity_update_room_clash "rc=$rc $(cat "$T/err")"
fi
run activity update a2 --title "Leksehjelp 5.-7. trinn" --target ungdom
if [ $rc -eq 0 ] && "$K" activity show a2 --json | grep -q '"target": "ungdom"' &&
	"$K" activity show a2 --json | grep -q '"title": "Leksehjelp 5.-7. trinn"'; then
	pass activity_update_fields
else
	fail activity_update_fields "rc=$rc $(cat "$T/err")"
fi

# ---- cancel frees the slots ----
"$K" activity add --title Møteplass --organiser "Kirkens Bymisjon" \
	--category møteplass --target alle --from "2026-12-07 12:00" \
	--to "2026-12-07 14:00" --weekly --until 2026-12-28 --room r1 \
	>"$T/out" 2>&1
aid=$(cat "$T/out")
run activity cancel "$aid"
r1=$rc
run booking add --room r1 --from "2026-12-14 12:00" --to "2026-12-14 14:00" \
	--org "Konnerud IL"
if [ $r1 -eq 0 ] && [ $rc -eq 0 ] &&
	"$K" activity show "$aid" --json | grep -q '"status": "cancelled"'; then
	pass activity_cancel_frees_slots
else
	fail activity_cancel_frees_slots "aid=$aid rc=$r1/$rc $(cat "$T/err")"
fi
run activity cancel "$aid"
check activity_cancel_twice_refused "$([ $rc -eq 2 ] && echo 0 || echo 1)" "rc=$rc"
run activity assign "$aid" --volunteer v2
check activity_assign_cancelled_refused "$([ $rc -eq 2 ] && echo 0 || echo 1)" "rc=$rc"
run activity show a99
check activity_show_missing_exit_4 "$([ $rc -eq 4 ] && echo 0 || echo 1)" "rc=$rc"

# ---- a weekly activity keeps its local time across the DST change ----
"$K" activity add --title Trening --organiser "Strømsø IL" --category \
	trening --target eldre --from "2026-10-20 17:00" --to "2026-10-20 18:00" \
	--weekly --until 2026-11-03 >"$T/out"
dst=$(cat "$T/out")
"$K" activity assign "$dst" --volunteer v2 --date 2026-10-27 >/dev/null
"$K" activity attend "$dst" --volunteer v2 --date 2026-10-27 \
	--status present >/dev/null
if "$K" activity show "$dst" | grep -q "^  2026-10-27 17:00"; then
	pass activity_occurrence_after_dst
else
	fail activity_occurrence_after_dst "$("$K" activity show "$dst")"
fi

# ---- bad input: exit 2, one "knute:" line, nothing on stdout, nothing
# written ----
long=$(head -c 201 /dev/zero | tr '\0' 'a')
bad_utf8=$(printf 'Lekse\377')
A="--organiser Frivilligsentralen --category leksehjelp --target barn"
W="--from 2026-12-01T17:00 --to 2026-12-01T19:00"
# shellcheck disable=SC2086
{
	bad activity_bad_category activity add --title X --organiser Y \
		--category fotball --target barn $W
	if grep -q "leksehjelp, språkkafé, møteplass, ungdomsklubb, trening, kultur, annet" "$T/err"; then
		pass activity_bad_category_lists_choices
	else
		fail activity_bad_category_lists_choices "$(cat "$T/err")"
	fi
	bad activity_bad_target activity add --title X $A --target gamle $W
	bad activity_bad_no_title activity add $A $W
	bad activity_bad_no_from activity add --title X $A --to "2026-12-01 19:00"
	bad activity_bad_date activity add --title X $A --from "2026-13-01 17:00" \
		--to "2026-12-01 19:00"
	bad activity_bad_dst_gap activity add --title X $A \
		--from "2027-03-28 02:30" --to "2027-03-28 04:00"
	bad activity_bad_end_before_start activity add --title X $A \
		--from "2026-12-01 19:00" --to "2026-12-01 17:00"
	bad activity_bad_weekly_no_until activity add --title X $A $W --weekly
	bad activity_bad_until_before_start activity add --title X $A $W \
		--weekly --until 2026-11-01
	bad activity_bad_until activity add --title X $A $W --weekly \
		--until 2027-02-30
	bad activity_bad_days activity add --title X $A $W --weekly \
		--until 2027-01-01 --days tirsdag
	bad activity_bad_utf8 activity add --title "$bad_utf8" $A $W
	bad activity_bad_title_too_long activity add --title "$long" $A $W
	bad activity_bad_needed activity add --title X $A $W \
		--volunteers-needed -1
	bad activity_bad_room_id activity add --title X $A $W --room b1
	bad activity_bad_update_utf8 activity update a1 --organiser "$bad_utf8"
	bad activity_bad_update_category activity update a1 --category fotball
	bad activity_bad_update_nothing activity update a1
	bad activity_bad_assign_no_volunteer activity assign a1
	bad activity_bad_assign_date activity assign a1 --volunteer v2 \
		--date 2026-12-32
	bad activity_bad_attend_no_date activity attend a1 --volunteer v1 \
		--status present
	bad activity_bad_unknown_option activity add --title X $A $W --colour red
}

run activity attend --help
if [ $rc -eq 0 ] && grep -q "^usage: activity attend" "$T/out"; then
	pass activity_help
else
	fail activity_help "rc=$rc"
fi
