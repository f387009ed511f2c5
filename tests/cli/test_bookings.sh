#!/bin/sh
# knute booking add | list | show | cancel and the clash rule, through the
# fixed command-line contract of DESIGN.md section 8, in a temporary
# directory. One line per case: "PASS name" or "FAIL name: why".
. "$(dirname "$0")/lib.sh"
# book ROOM FROM TO ORG [OPTIONS]: booking add, id on stdout, stderr in
# $T/err, exit status kept.
book() {
	room=$1 from=$2 to=$3 org=$4
	shift 4
	"$K" --data "$D" booking add --room "$room" --from "$from" --to "$to" \
		--org "$org" "$@" 2>"$T/err"
}

# ---- the contract ----
"$K" init --data "$D" --hub fjell --name "Knutepunkt Fjell" >/dev/null 2>"$T/err"
rc=$?
"$K" --data "$D" status --json >"$T/status.json" 2>>"$T/err"
if [ $rc -eq 0 ] &&
	jcheck "$T/status.json" 'v["hub"] == "fjell" and v["head_seq"] == 0 and v["acked_seq"] == 0'; then
	pass contract_init_and_status
else
	fail contract_init_and_status "exit $rc: $(cat "$T/status.json" "$T/err")"
fi

R1=$("$K" --data "$D" room add --name "Storsalen" --capacity 80 2>"$T/err")
R2=$("$K" --data "$D" room add --name "Møterommet" --capacity 12 2>>"$T/err")
if [ "$R1" = "fjell:r1" ] && [ "$R2" = "fjell:r2" ]; then
	pass contract_room_add_prints_id
else
	fail contract_room_add_prints_id "printed '$R1' '$R2': $(cat "$T/err")"
fi

B1=$("$K" --data "$D" booking add --room "$R1" --from "2026-12-01 17:00" \
	--to "2026-12-01 19:00" --org "Røde Kors" 2>"$T/err")
rc=$?
if [ $rc -eq 0 ] && [ "$B1" = "fjell:b1" ]; then
	pass contract_booking_add_prints_id
else
	fail contract_booking_add_prints_id "exit $rc, printed '$B1': $(cat "$T/err")"
fi

"$K" --data "$D" booking show b1 --json >"$T/b1.json" 2>"$T/err"
# 2026-12-01 17:00 in Oslo (CET) is 16:00 UTC.
if jcheck "$T/b1.json" 'v["id"] == "fjell:b1" and v["room"] == "fjell:r1" and v["org"] == "Røde Kors" and v["start"] == 1796140800 and v["end"] == 1796148000 and v["status"] == "confirmed"'; then
	pass booking_stored_in_utc
else
	fail booking_stored_in_utc "$(cat "$T/b1.json" "$T/err")"
fi

"$K" --data "$D" booking list >"$T/list" 2>"$T/err"
rc=$?
if [ $rc -eq 0 ] && grep -q "^fjell:b1 .*fjell:r1 .*2026-12-01 17:00-19:00 .*Røde Kors" "$T/list"; then
	pass contract_booking_list
else
	fail contract_booking_list "exit $rc: $(cat "$T/list" "$T/err")"
fi

"$K" --data "$D" status --json >"$T/status.json" 2>"$T/err"
if jcheck "$T/status.json" 'v["hub"] == "fjell" and v["head_seq"] == 3 and "acked_seq" in v and v["records"]["booking"] == 1'; then
	pass contract_status_json
else
	fail contract_status_json "$(cat "$T/status.json" "$T/err")"
fi

# Global options after the noun and verb, and KNUTE_DATA.
B=$("$K" booking add --room r2 --from "2026-12-01 08:00" --to "2026-12-01 09:00" \
	--org "Blå Kors" --data "$D" 2>"$T/err")
rc=$?
if [ $rc -eq 0 ] && [ "$B" = "fjell:b2" ]; then
	pass global_data_after_verb
else
	fail global_data_after_verb "exit $rc, printed '$B': $(cat "$T/err")"
fi
KNUTE_DATA="$D" "$K" booking list --json >"$T/list.json" 2>"$T/err"
rc=$?
if [ $rc -eq 0 ] &&
	jcheck "$T/list.json" '[b["id"] for b in v] == ["fjell:b1", "fjell:b2"]'; then
	pass knute_data_env
else
	fail knute_data_env "exit $rc: $(cat "$T/list.json" "$T/err")"
fi
# --data wins over KNUTE_DATA.
KNUTE_DATA="$T/nowhere" "$K" --data "$D" booking list --json >"$T/list2.json" 2>"$T/err"
if cmp -s "$T/list.json" "$T/list2.json"; then
	pass data_option_beats_env
else
	fail data_option_beats_env "$(cat "$T/err")"
fi

"$K" --data "$D" booking list --room r2 --json >"$T/list.json" 2>"$T/err"
"$K" --data "$D" booking list --room fjell:r1 >"$T/list" 2>>"$T/err"
if jcheck "$T/list.json" '[b["id"] for b in v] == ["fjell:b2"]' &&
	grep -q "^fjell:b1" "$T/list" && ! grep -q "^fjell:b2" "$T/list"; then
	pass booking_list_by_room
else
	fail booking_list_by_room "$(cat "$T/list.json" "$T/list" "$T/err")"
fi

# ---- the clash rule ----
before=$(head_seq)
out=$(book r1 "2026-12-01 18:00" "2026-12-01 20:00" "Kirkens Bymisjon")
rc=$?
if [ $rc -eq 3 ] && [ -z "$out" ] && grep -q "^knute: .*fjell:b1" "$T/err" &&
	grep -q "Røde Kors" "$T/err" && grep -q "17:00-19:00" "$T/err" &&
	[ "$(head_seq)" = "$before" ]; then
	pass clash_exits_3_and_names_booking
else
	fail clash_exits_3_and_names_booking "exit $rc: $(cat "$T/err")"
fi
if [ "$(wc -l <"$T/err")" -eq 1 ]; then
	pass clash_message_one_line
else
	fail clash_message_one_line "$(cat "$T/err")"
fi

out=$(book r1 "2026-12-01 19:00" "2026-12-01 21:00" "Kirkens Bymisjon")
rc=$?
out2=$(book r1 "2026-12-01 15:00" "2026-12-01 17:00" "Blå Kors")
rc2=$?
if [ $rc -eq 0 ] && [ $rc2 -eq 0 ] && [ "$out" = "fjell:b3" ] && [ "$out2" = "fjell:b4" ]; then
	pass back_to_back_allowed
else
	fail back_to_back_allowed "exit $rc/$rc2: $(cat "$T/err")"
fi
book r1 "2026-12-01 20:59" "2026-12-01 22:00" "X" >/dev/null
rc=$?
if [ $rc -eq 3 ] && grep -q "fjell:b3" "$T/err"; then
	pass one_minute_overlap_refused
else
	fail one_minute_overlap_refused "exit $rc: $(cat "$T/err")"
fi
book r1 "2026-12-01 14:00" "2026-12-01 22:00" "X" >/dev/null
rc=$?
if [ $rc -eq 3 ]; then
	pass containing_refused
else
	fail containing_refused "exit $rc: $(cat "$T/err")"
fi

# A pending booking holds its slot.
P=$(book r2 "2026-12-02 10:00" "2026-12-02 12:00" "Frivilligsentralen" --pending)
rc=$?
"$K" --data "$D" booking show "$P" --json >"$T/p.json" 2>/dev/null
book r2 "2026-12-02 11:00" "2026-12-02 13:00" "Røde Kors" >/dev/null
rc2=$?
if [ $rc -eq 0 ] && jcheck "$T/p.json" 'v["status"] == "pending"' &&
	[ $rc2 -eq 3 ] && grep -q "$P" "$T/err" && grep -q "Frivilligsentralen" "$T/err"; then
	pass pending_holds_slot
else
	fail pending_holds_slot "exit $rc/$rc2, id '$P': $(cat "$T/err")"
fi

# ---- weekly series ----
# Tuesdays and Thursdays 17:00-19:00 in Møterommet through December.
W=$(book r2 "2026-12-01 17:00" "2026-12-01 19:00" "Frivilligsentralen" \
	--weekly --until 2026-12-31 --days tue,thu)
rc=$?
"$K" --data "$D" booking show "$W" --json >"$T/w.json" 2>/dev/null
if [ $rc -eq 0 ] && [ -n "$W" ] &&
	jcheck "$T/w.json" 'v["weekly"] is True and v["days"] == "tue,thu" and v["until"] == "2026-12-31"'; then
	pass weekly_days_until
else
	fail weekly_days_until "exit $rc, id '$W': $(cat "$T/w.json" "$T/err")"
fi
book r2 "2026-12-10 18:00" "2026-12-10 20:00" "Blå Kors" >/dev/null
rc=$?
book r2 "2026-12-09 18:00" "2026-12-09 20:00" "Blå Kors" >/dev/null
rc2=$?
book r2 "2027-01-05 17:00" "2027-01-05 19:00" "Blå Kors" >/dev/null
rc3=$?
if [ $rc -eq 3 ] && [ $rc2 -eq 0 ] && [ $rc3 -eq 0 ]; then
	pass weekly_holds_named_days_only
else
	fail weekly_holds_named_days_only "thu $rc, wed $rc2, after until $rc3"
fi

# --weekly alone repeats on the weekday of --from (a Friday here).
F=$(book r1 "2026-12-04 10:00" "2026-12-04 11:00" "Kirkens Bymisjon" --weekly --until 2026-12-25)
"$K" --data "$D" booking show "$F" --json >"$T/f.json" 2>/dev/null
book r1 "2026-12-18 10:30" "2026-12-18 11:30" "X" >/dev/null
rc=$?
if jcheck "$T/f.json" 'v["days"] == "fri"' && [ $rc -eq 3 ]; then
	pass weekly_on_weekday_of_from
else
	fail weekly_on_weekday_of_from "exit $rc: $(cat "$T/f.json")"
fi

# A series that clashes on some dates is refused whole, each date listed.
before=$(head_seq)
book r2 "2026-12-01 18:00" "2026-12-01 18:30" "Blå Kors" --weekly --until 2026-12-15 >/dev/null
rc=$?
if [ $rc -eq 3 ] && grep -q "^knute: booking refused: 3 of its dates clash" "$T/err" &&
	grep -q "2026-12-01 18:00-18:30 clashes with booking $W (Frivilligsentralen, 2026-12-01 17:00-19:00)" "$T/err" &&
	grep -q "2026-12-08 18:00-18:30 clashes with booking $W" "$T/err" &&
	grep -q "2026-12-15 18:00-18:30 clashes with booking $W" "$T/err" &&
	[ "$(head_seq)" = "$before" ]; then
	pass series_clash_refused_whole
else
	fail series_clash_refused_whole "exit $rc: $(cat "$T/err")"
fi
# Two of four Tuesdays taken in Storsalen: refused, both listed, and the
# two free Tuesdays are still free afterwards.
X1=$(book r1 "2026-12-08 10:00" "2026-12-08 11:00" "Kirkens Bymisjon")
X2=$(book r1 "2026-12-22 10:30" "2026-12-22 12:00" "Blå Kors")
before=$(head_seq)
book r1 "2026-12-01 10:00" "2026-12-01 11:00" "Røde Kors" --weekly --until 2026-12-22 >/dev/null
rc=$?
if [ $rc -eq 3 ] && [ "$(grep -c "clashes with" "$T/err")" -eq 2 ] &&
	grep -q "2026-12-08 10:00-11:00 clashes with booking $X1 (Kirkens Bymisjon" "$T/err" &&
	grep -q "2026-12-22 10:00-11:00 clashes with booking $X2 (Blå Kors" "$T/err" &&
	[ "$(head_seq)" = "$before" ]; then
	pass series_clash_lists_each_date
else
	fail series_clash_lists_each_date "exit $rc: $(cat "$T/err")"
fi
book r1 "2026-12-01 10:00" "2026-12-01 11:00" "Røde Kors" >/dev/null
rc=$?
book r1 "2026-12-15 10:00" "2026-12-15 11:00" "Røde Kors" >/dev/null
rc2=$?
if [ $rc -eq 0 ] && [ $rc2 -eq 0 ]; then
	pass series_clash_left_nothing
else
	fail series_clash_left_nothing "1 Dec $rc, 15 Dec $rc2: $(cat "$T/err")"
fi

# --skip-clashes books the free dates and lists the skipped ones.
S=$(book r2 "2026-12-03 12:00" "2026-12-03 18:00" "Røde Kors" --weekly \
	--until 2027-01-07 --days thu --skip-clashes)
rc=$?
"$K" --data "$D" booking show "$S" --json >"$T/s.json" 2>/dev/null
# Thursdays 3 Dec to 7 Jan: 6 dates; 3, 10, 17, 24, 31 Dec clash with the
# Tuesday/Thursday series (17:00-19:00); 7 Jan is free.
if [ $rc -eq 0 ] && [ -n "$S" ] && grep -q "booked 1 dates, skipped 5" "$T/err" &&
	grep -q "2026-12-24 12:00-18:00 clashes with booking $W" "$T/err" &&
	jcheck "$T/s.json" 'len(v["cancelled"]) == 5'; then
	pass skip_clashes_books_free_dates
else
	fail skip_clashes_books_free_dates "exit $rc, id '$S': $(cat "$T/err" "$T/s.json")"
fi
book r2 "2027-01-07 13:00" "2027-01-07 14:00" "X" >/dev/null
rc=$?
cp "$T/err" "$T/err1"
book r2 "2026-12-10 12:00" "2026-12-10 13:00" "X" >/dev/null
rc2=$?
if [ $rc -eq 3 ] && grep -q "$S" "$T/err1" && [ $rc2 -eq 0 ]; then
	pass skip_clashes_holds_only_free_dates
else
	fail skip_clashes_holds_only_free_dates "7 Jan $rc, 10 Dec $rc2"
fi

# ---- cancelling ----
# One occurrence: 15 Dec of the Tuesday/Thursday series.
"$K" --data "$D" booking cancel "$W" --date 2026-12-15 >/dev/null 2>"$T/err"
rc=$?
book r2 "2026-12-15 17:00" "2026-12-15 19:00" "Blå Kors" >/dev/null
rc2=$?
book r2 "2026-12-17 17:00" "2026-12-17 19:00" "Blå Kors" >/dev/null
rc3=$?
"$K" --data "$D" booking show "$W" >"$T/show" 2>/dev/null
if [ $rc -eq 0 ] && [ $rc2 -eq 0 ] && [ $rc3 -eq 3 ] &&
	grep -q "^cancelled: 2026-12-15 17:00" "$T/show" && grep -q "^status: *confirmed" "$T/show"; then
	pass cancel_one_occurrence
else
	fail cancel_one_occurrence "cancel $rc, 15th $rc2, 17th $rc3: $(cat "$T/show")"
fi
"$K" --data "$D" booking cancel "$W" --date 2026-12-16 >/dev/null 2>"$T/err"
rc=$?
if [ $rc -eq 4 ] && grep -q "^knute: .*2026-12-16" "$T/err"; then
	pass cancel_date_without_occurrence
else
	fail cancel_date_without_occurrence "exit $rc: $(cat "$T/err")"
fi
"$K" --data "$D" booking cancel "$W" --date 2026-12-15 >/dev/null 2>"$T/err"
rc=$?
if [ $rc -eq 4 ]; then
	pass cancel_same_date_twice
else
	fail cancel_same_date_twice "exit $rc: $(cat "$T/err")"
fi

# The rest of the series from 22 Dec: the 22nd on are free, the 17th not.
"$K" --data "$D" booking cancel "$W" --from-date 2026-12-22 >/dev/null 2>"$T/err"
rc=$?
"$K" --data "$D" booking show "$W" --json >"$T/w.json" 2>/dev/null
book r2 "2026-12-22 17:00" "2026-12-22 19:00" "Blå Kors" >/dev/null
rc2=$?
book r2 "2026-12-29 17:00" "2026-12-29 19:00" "Blå Kors" >/dev/null
rc3=$?
book r2 "2026-12-17 18:00" "2026-12-17 19:00" "Blå Kors" >/dev/null
rc4=$?
if [ $rc -eq 0 ] && jcheck "$T/w.json" 'v["until"] == "2026-12-21" and v["status"] == "confirmed"' &&
	[ $rc2 -eq 0 ] && [ $rc3 -eq 0 ] && [ $rc4 -eq 3 ]; then
	pass cancel_from_date
else
	fail cancel_from_date "cancel $rc, 22nd $rc2, 29th $rc3, 17th $rc4: $(cat "$T/w.json")"
fi

# The whole booking.
"$K" --data "$D" booking cancel "$B1" >"$T/out" 2>"$T/err"
rc=$?
"$K" --data "$D" booking show "$B1" --json >"$T/b1.json" 2>/dev/null
out=$(book r1 "2026-12-01 17:00" "2026-12-01 19:00" "Kirkens Bymisjon")
rc2=$?
if [ $rc -eq 0 ] && grep -q "fjell:b1 cancelled" "$T/out" &&
	jcheck "$T/b1.json" 'v["status"] == "cancelled"' && [ $rc2 -eq 0 ]; then
	pass cancel_whole
else
	fail cancel_whole "cancel $rc, rebook $rc2: $(cat "$T/err")"
fi
before=$(head_seq)
"$K" --data "$D" booking cancel "$B1" >/dev/null 2>"$T/err"
rc=$?
if [ $rc -eq 2 ] && grep -q "already" "$T/err" && [ "$(head_seq)" = "$before" ]; then
	pass cancel_twice_refused
else
	fail cancel_twice_refused "exit $rc: $(cat "$T/err")"
fi
"$K" --data "$D" booking cancel "$W" --date 2026-12-01 --from-date 2026-12-08 >/dev/null 2>"$T/err"
rc=$?
if [ $rc -eq 2 ]; then
	pass cancel_date_and_from_date_refused
else
	fail cancel_date_and_from_date_refused "exit $rc: $(cat "$T/err")"
fi

# ---- opening hours and closures ----
"$K" --data "$D" room add --name "Kjøkkenet" --capacity 10 \
	--open "mon-fri 08:00-22:00, sat 10:00-16:00" >/dev/null 2>"$T/err"
R3=fjell:r3
out=$(book $R3 "2026-12-01 20:00" "2026-12-01 22:00" "Blå Kors")
rc=$?
if [ $rc -eq 0 ]; then
	pass ending_at_closing_allowed
else
	fail ending_at_closing_allowed "exit $rc: $(cat "$T/err")"
fi
before=$(head_seq)
book $R3 "2026-12-01 22:00" "2026-12-01 23:00" "Blå Kors" >/dev/null
rc=$?
book $R3 "2026-12-06 12:00" "2026-12-06 13:00" "Blå Kors" >/dev/null
rc2=$?
book $R3 "2026-12-05 15:00" "2026-12-05 17:00" "Blå Kors" >/dev/null
rc3=$?
if [ $rc -eq 3 ] && [ $rc2 -eq 3 ] && [ $rc3 -eq 3 ] && grep -q "opening hours" "$T/err" &&
	[ "$(head_seq)" = "$before" ]; then
	pass outside_opening_hours_exits_3
else
	fail outside_opening_hours_exits_3 "22:00 $rc, sunday $rc2, sat 15-17 $rc3: $(cat "$T/err")"
fi
"$K" --data "$D" room close $R3 --from 2026-12-24 --to 2026-12-26 --reason "Julestengt" >/dev/null 2>"$T/err"
before=$(head_seq)
book $R3 "2026-12-24 10:00" "2026-12-24 12:00" "Kirkens Bymisjon" >/dev/null
rc=$?
if [ $rc -eq 3 ] && grep -q "closure" "$T/err" && grep -q "Julestengt" "$T/err" &&
	[ "$(head_seq)" = "$before" ]; then
	pass closure_exits_3
else
	fail closure_exits_3 "exit $rc: $(cat "$T/err")"
fi
out=$(book $R3 "2026-12-23 10:00" "2026-12-23 12:00" "Kirkens Bymisjon")
rc=$?
if [ $rc -eq 0 ]; then
	pass day_before_closure_open
else
	fail day_before_closure_open "exit $rc: $(cat "$T/err")"
fi

# ---- time zones ----
# With --tz UTC, 17:00 is 17:00 UTC (18:00 in Oslo).
U=$("$K" --data "$D" --tz UTC booking add --room r1 --from "2026-12-08 17:00" \
	--to "2026-12-08 18:00" --org "Røde Kors" 2>"$T/err")
rc=$?
"$K" --data "$D" booking show "$U" --json >"$T/u.json" 2>/dev/null
"$K" --data "$D" booking show "$U" >"$T/u" 2>/dev/null
if [ $rc -eq 0 ] && jcheck "$T/u.json" 'v["start"] == 1796749200 and v["end"] == 1796752800' &&
	grep -q "2026-12-08 18:00-19:00" "$T/u"; then
	pass tz_changes_reading_of_from
else
	fail tz_changes_reading_of_from "exit $rc: $(cat "$T/u.json" "$T/u" "$T/err")"
fi
"$K" --data "$D" booking show "$U" --tz UTC >"$T/u" 2>/dev/null
if grep -q "2026-12-08 17:00-18:00" "$T/u"; then
	pass tz_changes_display
else
	fail tz_changes_display "$(cat "$T/u")"
fi
# The same slot in Oslo time clashes with it.
book r1 "2026-12-08 18:30" "2026-12-08 19:30" "X" >/dev/null
rc=$?
if [ $rc -eq 3 ] && grep -q "$U" "$T/err"; then
	pass tz_booking_clashes_in_local_time
else
	fail tz_booking_clashes_in_local_time "exit $rc: $(cat "$T/err")"
fi

# Daylight saving: a weekly 17:00 booking stays at 17:00 local on both
# sides of 25 Oct 2026 (and 28 Mar 2027).
A=$(book r1 "2026-10-20 17:00" "2026-10-20 19:00" "Frivilligsentralen" --weekly --until 2026-11-03)
rc=$?
S2=$(book r1 "2027-03-23 17:00" "2027-03-23 19:00" "Frivilligsentralen" --weekly --until 2027-04-06)
rc2=$?
book r1 "2026-10-27 18:30" "2026-10-27 19:30" "X" >/dev/null
c1=$?
book r1 "2026-10-27 16:00" "2026-10-27 17:00" "X" >/dev/null
c2=$?
book r1 "2027-03-30 18:30" "2027-03-30 19:30" "X" >/dev/null
c3=$?
book r1 "2027-03-30 19:00" "2027-03-30 20:00" "X" >/dev/null
c4=$?
if [ $rc -eq 0 ] && [ $rc2 -eq 0 ] && [ $c1 -eq 3 ] && [ $c2 -eq 0 ] && [ $c3 -eq 3 ] && [ $c4 -eq 0 ]; then
	pass dst_weekly_keeps_local_time
else
	fail dst_weekly_keeps_local_time "series $rc/$rc2, probes $c1 $c2 $c3 $c4"
fi

# ---- JSON output ----
"$K" --data "$D" booking list --json >"$T/all.json" 2>"$T/err"
if jcheck "$T/all.json" 'isinstance(v, list) and len(v) > 10 and all(b["id"].startswith("fjell:b") and b["kind"] == "booking" for b in v)'; then
	pass booking_list_json
else
	fail booking_list_json "$(head -c 300 "$T/all.json") $(cat "$T/err")"
fi
out=$("$K" --data "$D" booking add --room r1 --from "2027-02-02 10:00" --to "2027-02-02 11:00" \
	--org "Røde Kors" --contact "Kari Nordmann" --purpose "Førstehjelpskurs" --json 2>"$T/err")
echo "$out" >"$T/add.json"
if jcheck "$T/add.json" 'v["id"].startswith("fjell:b") and v["contact"] == "Kari Nordmann" and v["purpose"] == "Førstehjelpskurs"'; then
	pass booking_add_json
else
	fail booking_add_json "$out $(cat "$T/err")"
fi
"$K" booking --help >/dev/null 2>&1
rc=$?
"$K" booking add --help >"$T/out" 2>&1
rc2=$?
if [ $rc -ne 0 ] && [ $rc2 -eq 0 ] && grep -q "usage: booking add" "$T/out"; then
	pass booking_help
else
	fail booking_help "exit $rc/$rc2: $(cat "$T/out")"
fi

# A weekly series whose --days never fall before --until has no dates: it
# is refused like an activity with no dates, and holds nothing.
expect weekly_without_dates 2 "no dates" --data "$D" booking add --room r1 \
	--from "2027-02-03 17:00" --to "2027-02-03 19:00" --weekly --days tue \
	--until 2027-02-08 --org "Røde Kors"
